#!/usr/bin/env python
"""Event relay: how many journey events one relay publishes per second to NATS JetStream, and
how soon an event is published after the commit that recorded it.

Targets (issue 14): one relay publishes at least 2,000 events/s to JetStream; at 500 events/s
committed, p99 commit-to-publish is at most 100 ms.

A program, not a test. It makes a fresh database (SQLite: a file in a temporary folder;
PostgreSQL: its own database `wayline_bench_events`, dropped and recreated) and a JetStream
stream of its own (deleted afterwards), then runs two phases with ONE relay (a thread of this
process, `Relay.run_forever`, polling every 10 ms when idle):

1. drain: `--events` events already committed (`--journeys` journeys, ten events a
   transaction) are published; the rate is events / (last confirmation − first claim);
2. open loop: a producer thread commits `--per-commit` events per transaction (one by
   default; a step submission writes one to three) at `--rate` events per second for
   `--duration` seconds, each commit at its scheduled instant, and records when its COMMIT
   returned; the relay's bus records when JetStream confirmed each event. Commit-to-publish is
   the difference (one wall clock).

    .venv/bin/python benchmarks/event_relay.py --database postgres
    .venv/bin/python benchmarks/event_relay.py --database sqlite

Results: a table on stdout, JSON in benchmarks/results/ (`--output`), and the database's part
of the "## Event relay" section of docs/performance.md (`--no-docs` to skip).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import psycopg
from reporting import write_docs_subsection
from sqlalchemy import insert

from wayline.events.buses.nats import NatsBus
from wayline.events.envelope import CloudEvent, Naming
from wayline.events.relay import Relay
from wayline.journeys.engine import Event
from wayline.runtime.clock import SystemClock
from wayline.store import Store, tables
from wayline.store import events as event_log
from wayline.store.database import make_engine
from wayline.store.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Event relay"
INTRO = f"""{SECTION}

Targets (issue 14): one relay publishes at least 2,000 events/s to NATS JetStream; at 500
events/s committed, p99 commit-to-publish is at most 100 ms.

Measured by `benchmarks/event_relay.py` with one relay (a thread of the benchmark's process,
polling every 10 ms when idle) publishing binary-mode CloudEvents to a JetStream stream of its
own on the machine's NATS server. Drain: events already committed (ten a transaction, across
many journeys) published as fast as the relay can; the rate runs from its first claim to the
last confirmation. Open loop: a producer thread commits one event a transaction at a steady
rate; commit-to-publish runs from the producer's COMMIT returning to JetStream confirming the
event (one wall clock).
"""


class Timed(NatsBus):
    """The NATS bus, noting when JetStream confirmed each event (by journey and step)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.confirmed: dict[tuple[str, str], float] = {}

    def publish(self, events: Sequence[CloudEvent], replay: str | None = None) -> list[str]:
        done = super().publish(events, replay)
        now = time.time()
        ids = set(done)
        for event in events:
            if event.id in ids:
                self.confirmed[(event.subject, str(event.data.get("step")))] = now
        return done


def database(kind: str, admin: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix='wayline-events-')}/bench.db"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute('DROP DATABASE IF EXISTS "wayline_bench_events" WITH (FORCE)')
        connection.execute('CREATE DATABASE "wayline_bench_events"')
    return admin.rsplit("/", 1)[0] + "/wayline_bench_events"


def journeys(store: Store, count: int) -> list[str]:
    ids = [f"bench{n:06d}" for n in range(count)]
    now = datetime.now(UTC)
    with store.write() as connection:
        connection.execute(
            insert(tables.journeys),
            [
                {"id": i, "journey": "motor-claim", "version": "bench", "customer_id": "bench",
                 "status": "in_progress", "revision": 1, "state": {}, "created_at": now,
                 "updated_at": now}
                for i in ids
            ],
        )  # fmt: skip
    return ids


def event(step: str) -> Event:
    return Event("step.completed", datetime.now(UTC), step, ("field",))


def drain(store: Store, bus: Timed, ids: list[str], count: int) -> dict[str, Any]:
    for start in range(0, count, 10):
        journey = ids[(start // 10) % len(ids)]
        batch = tuple(event(f"d{n}") for n in range(start, min(start + 10, count)))
        with store.write() as connection:
            event_log.append(connection, journey, batch)
    relay = Relay(store, bus, SystemClock(), Naming(), batch=500)
    began, cpu = time.time(), time.process_time()
    published = relay.run_once()
    ended = max(bus.confirmed.values())
    cpu_ms = (time.process_time() - cpu) * 1000 / published  # the relay alone runs now
    return {
        "events": published,
        "seconds": ended - began,
        "per_second": published / (ended - began),
        "relay_cpu_ms_per_event": cpu_ms,
    }


def open_loop(
    store: Store, bus: Timed, ids: list[str], rate: float, seconds: float, per_commit: int = 1
) -> dict:
    relay = Relay(store, bus, SystemClock(), Naming(), batch=500)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run_forever, args=(stop, 0.01), daemon=True)
    thread.start()
    committed: dict[tuple[str, str], float] = {}
    total = int(rate * seconds) // per_commit * per_commit
    began = time.perf_counter()
    for n in range(total // per_commit):
        due = began + n * per_commit / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        journey, steps = ids[n % len(ids)], [f"o{n}.{i}" for i in range(per_commit)]
        with store.write() as connection:
            event_log.append(connection, journey, tuple(event(step) for step in steps))
        at = time.time()
        committed.update(((journey, step), at) for step in steps)
    achieved = total / (time.perf_counter() - began)
    deadline = time.time() + 30
    while time.time() < deadline and not all(key in bus.confirmed for key in committed):
        time.sleep(0.05)
    stop.set()
    thread.join(10)
    delays = sorted(
        (bus.confirmed[key] - at) * 1000 for key, at in committed.items() if key in bus.confirmed
    )
    return {
        "rate": rate,
        "per_commit": per_commit,
        "committed_per_second": achieved,
        "events": total,
        "published": len(delays),
        "p50_ms": statistics.median(delays),
        "p95_ms": delays[int(0.95 * (len(delays) - 1))],
        "p99_ms": delays[int(0.99 * (len(delays) - 1))],
        "max_ms": delays[-1],
    }


def stream_count(url: str, stream: str, delete: bool = False) -> int:
    async def run() -> int:
        connection = await nats.connect(url)
        jetstream = connection.jetstream()
        count = (await jetstream.stream_info(stream)).state.messages
        if delete:
            await jetstream.delete_stream(stream)
        await connection.close()
        return int(count)

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--postgres-admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    parser.add_argument("--events", type=int, default=20_000, help="Events in the drain.")
    parser.add_argument("--journeys", type=int, default=200)
    parser.add_argument("--rate", type=float, default=500, help="Events/s in the open loop.")
    parser.add_argument("--duration", type=float, default=20, help="Open-loop seconds.")
    parser.add_argument(
        "--per-commit", type=int, default=1, help="Events each open-loop transaction commits."
    )
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--no-docs", action="store_true")
    options = parser.parse_args()

    engine = make_engine(database(options.database, options.postgres_admin_url))
    upgrade(engine)
    store = Store(engine)
    tag = secrets.token_hex(3)
    stream, prefix = f"WAYLINE_BENCH_{tag}", f"bench{tag}"
    bus = Timed(options.nats, stream=stream, prefix=prefix)
    ids = journeys(store, options.journeys)
    started = datetime.now(UTC)
    drained = drain(store, bus, ids, options.events)
    looped = open_loop(store, bus, ids, options.rate, options.duration, options.per_commit)
    in_stream = stream_count(options.nats, stream, delete=True)
    bus.close()
    engine.dispose()
    result = {"database": options.database, "started": started.isoformat(), "drain": drained,
              "open_loop": looped, "messages_in_stream": in_stream,
              "expected_in_stream": options.events + looped["events"]}  # fmt: skip
    options.output.mkdir(parents=True, exist_ok=True)
    name = f"event_relay-{options.database}-{started:%Y%m%dT%H%M%S}.json"
    (options.output / name).write_text(json.dumps(result, indent=2))
    report = render(result, options)
    sys.stdout.write(report)
    if not options.no_docs:
        title = "### PostgreSQL" if options.database == "postgres" else "### SQLite"
        write_docs_subsection(SECTION, INTRO, title, f"{title}\n\n{report}")


def render(result: dict[str, Any], options: argparse.Namespace) -> str:
    drained, looped = result["drain"], result["open_loop"]
    met_rate = "met" if drained["per_second"] >= 2000 else "not met"
    met_p99 = (
        "met"
        if looped["p99_ms"] <= 100 and looped["published"] == looped["events"]
        else ("not met")
    )
    load = " / ".join(f"{n:.1f}" for n in __import__("os").getloadavg())
    return (
        f"Run at {result['started'][:16].replace('T', ' ')} UTC on a {__import__('os').cpu_count()}"
        f"-core machine shared by the relay, the producer, the database and NATS (load average "
        f"{load} at the end). Python {platform.python_version()}.\n\n"
        "| phase | events | committed /s | published /s | commit-to-publish p50 / p95 / p99 / "
        "max ms | in stream |\n| --- | ---: | ---: | ---: | ---: | ---: |\n"
        f"| drain | {drained['events']} | bulk | {drained['per_second']:.0f} | | |\n"
        f"| open loop {looped['rate']:.0f}/s, {looped['per_commit']} a commit | "
        f"{looped['events']} | "
        f"{looped['committed_per_second']:.0f} | | {looped['p50_ms']:.1f} / {looped['p95_ms']:.1f}"
        f" / {looped['p99_ms']:.1f} / {looped['max_ms']:.1f} | "
        f"{result['messages_in_stream']} of {result['expected_in_stream']} |\n\n"
        f"* Targets: >= 2,000 events/s published by one relay: {drained['per_second']:.0f}/s "
        f"({met_rate}); the relay used {drained['relay_cpu_ms_per_event']:.3f} ms of CPU per "
        f"event while draining, so a core to itself would allow "
        f"{1000 / drained['relay_cpu_ms_per_event']:.0f}/s; p99 commit-to-publish <= 100 ms "
        f"at {looped['rate']:.0f}/s: "
        f"{looped['p99_ms']:.1f} ms ({met_p99}).\n\n"
        f"Rerun:\n\n    .venv/bin/python benchmarks/event_relay.py --database {options.database}"
        f" --events {options.events} --journeys {options.journeys} --rate {options.rate:.0f}"
        f" --duration {options.duration:.0f} --per-commit {options.per_commit}\n"
    )


if __name__ == "__main__":
    main()
