#!/usr/bin/env python
"""In-process: what a step submission costs Wayline's service layer itself, called directly
(no HTTP, no server), against a bare SQLAlchemy Core insert transaction on the same database in
the same run (issue 9's target: at most 4×).

A program, not a test. It:

1. makes a fresh SQLite database in a temporary folder (Wayline's default: a file in WAL mode),
   and wires Wayline as the demo does (the in-process demo data sources), logging at INFO as
   production does, to a file;
2. alternates, for `--rounds` rounds:
   - **bare inserts**: `--inserts` transactions, each one SQLAlchemy Core INSERT into a table of
     the benchmark's own, through the same engine Wayline writes with;
   - **step submissions**: `--claims` motor claims on the theft branch (policy, incident,
     police, photos with no photo), the service called directly. Each claim is started first,
     untimed; only the four step submissions are counted;
3. reports the CPU time (this process's, `time.process_time`) per insert and per step as the
   median over the rounds, their ratio against the target, the wall time beside it, and each
   step's own median;
4. with `--profile`, one more round of steps under cProfile, and its top cumulative entries
   (cProfile slows Python code down, so the shares are its shape, not its speed).

The service's API is being reshaped (issue 9 splits JourneyService into commands and queries):
every call into Wayline is in ONE function, `wayline_adapter`, so pointing the benchmark at
the new API means changing that function only.

    python benchmarks/engine_throughput.py --claims 200 --rounds 5

Results: markdown on stdout, JSON in benchmarks/results/ (not committed).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from reporting import git_commit
from sqlalchemy import JSON, Column, DateTime, Engine, Integer, MetaData, Table, insert

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
RATIO_TARGET = 4.0  # CPU per step ≤ 4 × CPU per bare insert transaction
CUSTOMER = "alex"  # a demo customer with one active comprehensive policy
INCIDENT_DATE = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
# The theft branch of the motor claim: no uploads, the same answers as the HTTP benchmark's.
THEFT_ANSWERS: dict[str, dict[str, Any]] = {
    "policy": {"policy_number": "MTR-100001"},
    "incident": {
        "incident_date": INCIDENT_DATE,
        "incident_time": "23:40",
        "incident_type": "theft",
        "incident_postcode": "SW1A 1AA",
        "description": "The car was taken from the street outside our house overnight.",
    },
    "police": {"crime_reference": "CR-2026-118822"},
    "photos": {"damage_photos": []},
}


# --- the one place that knows Wayline's API ---------------------------------------------------


@dataclass(frozen=True)
class Journey:
    """What the benchmark needs to know of a journey after a command."""

    id: str
    revision: int
    next_step: str | None  # None once no step is left before check answers


@dataclass(frozen=True)
class Wayline:
    """Wayline as the benchmark drives it."""

    start: Callable[[str], Journey]  # customer → a new motor claim
    submit_step: Callable[[str, Journey, str, dict[str, Any]], Journey]  # customer, … → after
    engine: Engine  # the database Wayline writes to


def wayline_adapter(
    home: Path, log_stream: TextIO, log_level: str, key_provider: str = "local"
) -> Wayline:
    """Wayline wired on a fresh SQLite database in `home`, as the demo wires it:
    `bootstrap.build`, then the commands `start` / `submit_step` and the query that draws the
    API's view of their result (runtime/commands, runtime/queries). This is the only function
    to change when the command API changes."""
    from wayline.bootstrap import build
    from wayline.config import Settings
    from wayline.observability.logging import configure

    configure(log_level, stream=log_stream)
    settings = Settings(
        home=home, demo=True, journeys_dir=ROOT / "journeys", key_provider=key_provider
    )
    try:  # issue 9: the demo's in-process sources are wired in by the edge that runs it
        from wayline.sandbox.wiring import demo_options
    except ImportError:  # before it, `build` fell back to them by itself
        options: dict[str, Any] = {}
    else:
        options = demo_options()
    components = build(settings, migrate=True, **options)
    commands, queries = components.commands, components.queries

    def seen(changed: Any) -> Journey:
        # The API's answer is the view drawn after the commit: drawn here too, as it costs.
        body = queries.view_of(changed)
        current = (body.get("current_step") or {}).get("name")
        return Journey(body["id"], body["revision"], current if current in THEFT_ANSWERS else None)

    def start(customer: str) -> Journey:
        return seen(commands.start(customer, "motor-claim"))

    def submit_step(customer: str, journey: Journey, step: str, answers: dict) -> Journey:
        return seen(commands.submit_step(customer, journey.id, step, answers, journey.revision))

    return Wayline(start, submit_step, components.store.engine)


# --- measuring --------------------------------------------------------------------------------

metadata = MetaData()
bench_inserts = Table(
    "bench_inserts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("body", JSON, nullable=False),
)


@dataclass
class Timed:
    """CPU and wall seconds of a number of operations."""

    count: int = 0
    cpu: float = 0.0
    wall: float = 0.0

    def add(self, cpu: float, wall: float) -> None:
        self.count += 1
        self.cpu += cpu
        self.wall += wall

    def per_op_ms(self) -> tuple[float, float]:
        return 1000 * self.cpu / max(self.count, 1), 1000 * self.wall / max(self.count, 1)


def bare_inserts(engine: Engine, count: int) -> Timed:
    """`count` transactions of one INSERT each, as the HTTP baseline does."""
    statement = insert(bench_inserts)
    timed = Timed()
    for _ in range(count):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        with engine.begin() as connection:
            connection.execute(statement, {"at": datetime.now(UTC), "body": {"n": 1}})
        timed.add(time.process_time() - cpu0, time.perf_counter() - wall0)
    return timed


def step_submissions(wayline: Wayline, claims: int) -> tuple[Timed, dict[str, Timed]]:
    """`claims` theft claims, started untimed, then their steps timed one by one."""
    journeys = [wayline.start(CUSTOMER) for _ in range(claims)]
    timed, by_step = Timed(), {step: Timed() for step in THEFT_ANSWERS}
    for journey in journeys:
        while journey.next_step is not None:
            step = journey.next_step
            cpu0, wall0 = time.process_time(), time.perf_counter()
            journey = wayline.submit_step(CUSTOMER, journey, step, THEFT_ANSWERS[step])
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            timed.add(cpu, wall)
            by_step[step].add(cpu, wall)
    if timed.count != claims * len(THEFT_ANSWERS):
        raise SystemExit(f"expected {claims * len(THEFT_ANSWERS)} steps, made {timed.count}")
    return timed, by_step


def profile_steps(wayline: Wayline, claims: int, top: int) -> list[dict[str, Any]]:
    """One round of steps under cProfile: the top entries by cumulative time, per step."""
    journeys = [wayline.start(CUSTOMER) for _ in range(claims)]
    profiler = cProfile.Profile()
    steps = 0
    for journey in journeys:
        while journey.next_step is not None:
            step = journey.next_step
            profiler.enable()
            journey = wayline.submit_step(CUSTOMER, journey, step, THEFT_ANSWERS[step])
            profiler.disable()
            steps += 1
    stats = pstats.Stats(profiler, stream=io.StringIO())
    entries = []
    for (filename, line, function), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        entries.append(
            {
                "function": f"{function} ({short_path(filename)}:{line})",
                "calls_per_step": round(calls / steps, 2),
                "cumulative_ms_per_step": round(1000 * cumulative / steps, 3),
                "own_ms_per_step": round(1000 * own / steps, 3),
            }
        )
    entries.sort(key=lambda e: e["cumulative_ms_per_step"], reverse=True)
    return entries[:top]


def short_path(filename: str) -> str:
    """A path from its package on (site-packages/…, src/…), as py-spy shows them."""
    if filename.startswith(str(ROOT) + "/") and "/src/" not in filename:
        return filename[len(str(ROOT)) + 1 :]
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in filename:
            tail = filename.split(marker, 1)[1]
            return tail.split("/", 1)[1] if marker == "/lib/python3" and "/" in tail else tail
    return filename


def median_ms(values: list[tuple[float, float]]) -> dict[str, float]:
    return {
        "cpu_ms": round(statistics.median(v[0] for v in values), 4),
        "wall_ms": round(statistics.median(v[1] for v in values), 4),
        "cpu_ms_min": round(min(v[0] for v in values), 4),
        "cpu_ms_max": round(max(v[0] for v in values), 4),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="wayline-engine-bench-"))
    log_path = home / "wayline.log"
    try:
        with log_path.open("w") as log_stream:
            wayline = wayline_adapter(home, log_stream, args.log_level)
            metadata.create_all(wayline.engine)
            log("warm-up")
            bare_inserts(wayline.engine, max(10, args.inserts // 10))
            step_submissions(wayline, max(2, args.claims // 10))
            inserts: list[tuple[float, float]] = []
            steps: list[tuple[float, float]] = []
            by_step: dict[str, list[tuple[float, float]]] = {s: [] for s in THEFT_ANSWERS}
            for number in range(1, args.rounds + 1):
                log(f"round {number}: {args.inserts} bare inserts, {args.claims} claims' steps")
                inserts.append(bare_inserts(wayline.engine, args.inserts).per_op_ms())
                timed, each = step_submissions(wayline, args.claims)
                steps.append(timed.per_op_ms())
                for step, step_timed in each.items():
                    by_step[step].append(step_timed.per_op_ms())
            profile = None
            if args.profile:
                log(f"profile: {args.claims} claims' steps under cProfile")
                profile = profile_steps(wayline, args.claims, args.profile_top)
    finally:
        if args.keep_home:
            log(f"data folder kept: {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)
    insert_ms, step_ms = median_ms(inserts), median_ms(steps)
    ratio = step_ms["cpu_ms"] / insert_ms["cpu_ms"] if insert_ms["cpu_ms"] else None
    return {
        "insert": insert_ms,
        "step": step_ms,
        "steps": {step: median_ms(values) for step, values in by_step.items()},
        "rounds": {"inserts": inserts, "steps": steps},
        "ratio": round(ratio, 2) if ratio is not None else None,
        "target_ratio": RATIO_TARGET,
        "met": None if ratio is None else ratio <= RATIO_TARGET,
        "profile": profile,
    }


# --- reporting --------------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def markdown(report: dict[str, Any]) -> str:
    r = report["result"]
    verdict = "–" if r["met"] is None else ("**met**" if r["met"] else "**not met**")
    rows = [
        "| operation | CPU ms (median of rounds) | min – max | wall ms (median) |",
        "| --- | ---: | ---: | ---: |",
        _row("bare insert transaction", r["insert"]),
        _row("step submission (theft branch, all four)", r["step"]),
        *(_row(f"… step `{step}`", values) for step, values in r["steps"].items()),
        "",
        "| target | measured | verdict |",
        "| --- | --- | --- |",
        f"| CPU per step ≤ {RATIO_TARGET:g}× CPU per bare insert | "
        f"{r['step']['cpu_ms']:.3f} ms vs {r['insert']['cpu_ms']:.3f} ms: "
        f"{r['ratio']:.1f}× | {verdict} |",
    ]
    if r["profile"]:
        rows += [
            "",
            "cProfile of one round of steps (slowed by the profiler; read the shape):",
            "",
            "| cumulative ms per step | own ms per step | calls per step | function |",
            "| ---: | ---: | ---: | --- |",
            *(
                f"| {e['cumulative_ms_per_step']:.3f} | {e['own_ms_per_step']:.3f} | "
                f"{e['calls_per_step']:g} | `{e['function']}` |"
                for e in r["profile"]
            ),
        ]
    return "\n".join(rows)


def _row(label: str, values: dict[str, float]) -> str:
    return (
        f"| {label} | {values['cpu_ms']:.3f} | {values['cpu_ms_min']:.3f} – "
        f"{values['cpu_ms_max']:.3f} | {values['wall_ms']:.3f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="A step submission through the service, in-process, against a bare insert."
    )
    parser.add_argument("--claims", type=int, default=200, help="claims per round (4 steps each)")
    parser.add_argument("--inserts", type=int, default=2000, help="bare inserts per round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds; medians")
    parser.add_argument("--profile", action="store_true", help="cProfile one more round")
    parser.add_argument("--profile-top", type=int, default=30)
    parser.add_argument("--log-level", default="INFO", help="Wayline's log level (to a file)")
    parser.add_argument("--keep-home", action="store_true", help="keep the data folder")
    parser.add_argument("--output", type=Path, default=RESULTS, help="folder for the JSON")
    args = parser.parse_args(argv)
    if min(args.claims, args.inserts, args.rounds) < 1:
        parser.error("--claims, --inserts and --rounds must be positive")
    started = datetime.now(UTC)
    report = {
        "benchmark": "engine_throughput",
        "started_at": started.isoformat(),
        "commit": git_commit(),
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": list(os.getloadavg()),
        },
        "result": run(args),
    }
    report["machine"]["load_average_at_end"] = list(os.getloadavg())
    print(markdown(report))
    args.output.mkdir(parents=True, exist_ok=True)
    out = args.output / f"engine_throughput-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
