#!/usr/bin/env python
"""Insights' two targets: ingest at 20,000 events a second or more into DuckDB, and the funnel
over 1,000,000 events within a second.

A program, not a test. It:

1. **ingest from the database**: writes `--ingest-events` synthetic events (journeys walking a
   six-step funnel, some refused on a field, some dropping off, most sent and decided) with
   their journeys into a fresh SQLite database, through the store's own tables, untimed; then
   times `wayline.insights.ingest` taking them all in from the events table (the same
   `EventFeed` the CLI and pages use) into a fresh DuckDB file: events per second, wall time;
2. **the funnel at scale**: fills another DuckDB file with `--funnel-events` events of the same
   shape straight through the warehouse (`Warehouse.add`, timed too: the warehouse's own
   rate without the database read), then times the funnel question (and the others, for the
   record) over them, `--repeats` times: the median and the worst.

    python benchmarks/insights.py                      # 100,000 ingested, 1,000,000 queried
    python benchmarks/insights.py --funnel-events 200000  # quicker

Results: markdown on stdout, JSON in benchmarks/results/ (not committed).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from wayline.insights import queries  # noqa: E402
from wayline.insights.ingest import ingest  # noqa: E402
from wayline.insights.queries import Scope, Terms  # noqa: E402
from wayline.insights.records import EventRecord  # noqa: E402
from wayline.insights.warehouse import open_warehouse  # noqa: E402

STEPS = ("policy", "incident", "police", "photos", "settlement", "check-answers")
START = datetime(2026, 6, 1, tzinfo=UTC)
INGEST_TARGET = 20_000  # events a second
FUNNEL_TARGET = 1.0  # seconds


def journeys(randomly: random.Random) -> Iterator[list[tuple[str, str, int, dict[str, Any]]]]:
    """Endless journeys, each as its events: (type, step, seconds after its start, data)."""
    while True:
        events: list[tuple[str, str, int, dict[str, Any]]] = []
        events.append(("journey.started", "", 0, {"next": STEPS[0]}))
        at = 0
        for i, step in enumerate(STEPS[:-1]):
            at += randomly.randint(20, 400)
            if randomly.random() < 0.2:
                errors = [{"field": f"{step}_field", "message": f"Enter the {step} answer"}]
                events.append(("answers.refused", step, at, {"errors": errors}))
                at += randomly.randint(5, 60)
            if randomly.random() < 0.08:
                break  # left on this step
            events.append(("step.completed", step, at, {"next": STEPS[i + 1]}))
        else:
            at += randomly.randint(20, 200)
            events.append(("journey.submitted", "", at, {"reference": "CLM-X"}))
            at += randomly.randint(60, 3600)
            outcome = randomly.choice(("approved", "referred", "not_covered"))
            events.append(("decision.made", "", at, {"outcome": outcome, "reasons": ["r"]}))
        yield events


def records(count: int, seed: int = 14) -> Iterator[EventRecord]:
    """`count` events of journeys spread over eight weeks, two versions."""
    randomly = random.Random(seed)
    number = 0
    for j, events in enumerate(journeys(randomly)):
        start = START + timedelta(seconds=randomly.randint(0, 8 * 7 * 86400))
        version = "v1" if j % 2 else "v2"
        for type_, step, offset, data in events:
            number += 1
            at = start + timedelta(seconds=offset)
            body: dict[str, Any] = {"type": type_, "at": at.isoformat(), "data": data}
            if step:
                body["step"] = step
            yield EventRecord(number, f"j{j}", "motor-claim", version, type_, at, body)
            if number == count:
                return


def fill_database(url: str, count: int) -> int:
    """The events and their journeys in a fresh database, through the store's tables."""
    from wayline.store import tables
    from wayline.store.database import make_engine
    from wayline.store.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    seen: set[str] = set()
    journey_rows, event_rows = [], []
    for record in records(count):
        if record.journey_id not in seen:
            seen.add(record.journey_id)
            journey_rows.append(
                {
                    "id": record.journey_id,
                    "journey": record.journey,
                    "version": record.version,
                    "customer_id": "bench",
                    "status": "in_progress",
                    "revision": 1,
                    "state": {},
                    "created_at": record.at,
                    "updated_at": record.at,
                }
            )
        event_rows.append(
            {
                "journey_id": record.journey_id,
                "type": record.type,
                "at": record.at,
                "body": record.body,
            }
        )
    with engine.begin() as connection:
        connection.execute(tables.journeys.insert(), journey_rows)
        connection.execute(tables.events.insert(), event_rows)
    engine.dispose()
    return len(event_rows)


def bench_ingest(folder: Path, count: int) -> dict[str, float]:
    from wayline.store import Store
    from wayline.store.database import make_engine
    from wayline.store.event_feed import EventFeed

    url = f"sqlite:///{folder / 'wayline.db'}"
    written = fill_database(url, count)
    engine = make_engine(url)
    with open_warehouse(folder / "ingest.duckdb") as warehouse:
        started, cpu = time.perf_counter(), time.process_time()
        done = ingest(warehouse, EventFeed(Store(engine)))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    engine.dispose()
    assert done.added == written, (done.added, written)
    return {
        "events": written,
        "seconds": wall,
        "cpu_seconds": cpu,  # this process's, DuckDB's threads included
        "events_per_second": written / wall,
    }


def bench_funnel(folder: Path, count: int, repeats: int) -> dict[str, Any]:
    batch: list[EventRecord] = []
    with open_warehouse(folder / "funnel.duckdb") as warehouse:
        started = time.perf_counter()
        for record in records(count):
            batch.append(record)
            if len(batch) == 10_000:
                warehouse.add("bench", batch)
                batch = []
        warehouse.add("bench", batch)
        fill = time.perf_counter() - started
        scope = Scope(
            as_of=START + timedelta(weeks=10),
            default_abandon_after=timedelta(days=30),
            journey="motor-claim",
            terms={"motor-claim": Terms(timedelta(days=30), timedelta(minutes=15))},
        )
        queries.prepare(warehouse, scope)
        timings: dict[str, list[float]] = {}
        cpu: dict[str, list[float]] = {}
        for _ in range(repeats):
            for name in queries.QUESTIONS:
                began, began_cpu = time.perf_counter(), time.process_time()
                rows = queries.ask(warehouse, name, scope)
                timings.setdefault(name, []).append(time.perf_counter() - began)
                cpu.setdefault(name, []).append(time.process_time() - began_cpu)
                if name == "funnel":
                    assert rows, "the funnel found nothing"
    return {
        "events": count,
        "fill_seconds": fill,
        "fill_events_per_second": count / fill,
        "questions": {
            name: {
                "median": statistics.median(times),
                "worst": max(times),
                "cpu_median": statistics.median(cpu[name]),  # all of DuckDB's threads
            }
            for name, times in timings.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ingest-events", type=int, default=100_000)
    parser.add_argument("--funnel-events", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wayline-insights-bench-") as tmp:
        folder = Path(tmp)
        ingested = bench_ingest(folder, args.ingest_events)
        funnel = bench_funnel(folder, args.funnel_events, args.repeats)
    result = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "ingest": ingested,
        "funnel": funnel,
    }
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (out / f"insights-{stamp}.json").write_text(json.dumps(result, indent=2))
    ok = "meets" if ingested["events_per_second"] >= INGEST_TARGET else "MISSES"
    print("| measure | figure | target |\n| --- | --- | --- |")
    print(
        f"| ingest from SQLite, {ingested['events']:,} events | "
        f"{ingested['events_per_second']:,.0f} events/s ({ingested['seconds']:.2f} s wall, "
        f"{ingested['cpu_seconds']:.2f} s CPU) | "
        f"≥ {INGEST_TARGET:,}/s: {ok} |"
    )
    print(
        f"| warehouse add alone, {funnel['events']:,} events | "
        f"{funnel['fill_events_per_second']:,.0f} events/s | |"
    )
    for name, figure in funnel["questions"].items():
        target = ""
        if name == "funnel":
            met = "meets" if figure["worst"] <= FUNNEL_TARGET else "MISSES"
            target = f"≤ {FUNNEL_TARGET:.0f} s: {met}"
        print(
            f"| {name} over {funnel['events']:,} events | median {figure['median'] * 1000:.0f} ms, "
            f"worst {figure['worst'] * 1000:.0f} ms (CPU {figure['cpu_median'] * 1000:.0f} ms) "
            f"| {target} |"
        )


if __name__ == "__main__":
    main()
