#!/usr/bin/env python
"""Effect worker: how soon an effect starts after the commit that queued it, and how many
effects one worker process drains per second, with the notification provider answering in
~50 ms.

A program, not a test. It:

1. makes a fresh database (PostgreSQL: drops and recreates its own database; SQLite: a file in
   a temporary folder) and migrates it;
2. starts the partner simulators (`wayline.sandbox`) in their own process, the notification
   provider with `--latency-ms` of added latency;
3. starts ONE worker: on PostgreSQL a separate process (an entry point in this file, `_worker`),
   woken by LISTEN/NOTIFY as `wayline worker` is; on SQLite a thread of this process sharing
   its Store, as the demo runs it (a SQLite worker in another process is only woken by its poll).
   Its one handler, kind "ping", sends one message to the notification provider through the
   real connector (`Partners.send_message`, so PartnerClient with its retries, breaker, metric,
   span and log line) with the effect's idempotency key;
4. open-loop phases: producer threads commit effects through `Store.write()` +
   `enqueue_effects` (`--per-commit` per transaction) at a constant rate, each commit at its
   scheduled instant whatever the worker is doing; the time each commit returned is recorded
   client-side, by effect key;
5. a drain phase: `--effects` effects queued in one transaction, then drained;
6. reads the effects back and reports the start delay (below), the drain rate (effects done
   per second from the first start to the last finish, from the table's started_at and
   updated_at), CPU of the worker, the simulators, this producer and the whole machine, and
   the worker's claims and transactions per effect (counted by wrapping its `claim` and
   listening for its commits, outside the Worker class), and what bounds the drain rate.

`--profile FILE` runs the worker process under py-spy (`pip install py-spy`; not a project
dependency) and writes raw collapsed stacks of the thread holding the GIL.

Start delay is measured three ways, all on the machine's one wall clock:

* claimed: `effects.started_at` (set by the claiming transaction) − the producer's commit
  returning. The commit happened slightly before it returned, so this errs low by the time the
  producer took to see its COMMIT acknowledged;
* handler: when the ping handler was entered (recorded by the worker) − commit returned; this
  adds the hand-over to the worker's thread pool and is what the target is judged on;
* from created_at: handler entered − `effects.created_at`, which the producer sets just before
  it opens the transaction: an upper bound that includes the transaction itself.

    .venv/bin/python benchmarks/effect_worker.py --database postgres
    .venv/bin/python benchmarks/effect_worker.py --database sqlite --rate 100 --effects 2000

Results: a markdown table on stdout, JSON in benchmarks/results/ (not committed), and the
database's part ("### PostgreSQL" or "### SQLite") of the "## Effect worker" section of
docs/performance.md, replaced on rerun, the rest of the file untouched (`--no-docs` to skip).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reporting import clock_ticks, process_cpu_seconds, write_docs_subsection
from sqlalchemy import func, select

from wayline.ids import new_id
from wayline.journeys.engine import EffectRequest
from wayline.store import tables
from wayline.store.database import Store, aware, make_engine
from wayline.store.outbox import enqueue as enqueue_effects

try:  # optional: `pip install -e '.[bench]'`; /proc is read otherwise (Linux)
    import psutil
except ImportError:  # pragma: no cover - depends on the environment
    psutil = None

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DOCS = ROOT / "docs" / "performance.md"
SECTION = "## Effect worker"
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES_DATABASE = "wayline_bench_effects"
KIND = "ping"
TARGET_P50_MS = 10.0
TARGET_P99_MS = 100.0
TARGET_DRAIN_PER_S = 200.0


# --- the worker under test ----------------------------------------------------------------------


@dataclass
class Record:
    """What the worker saw, by wall clock: by effect key, when its handler was entered and
    returned and when its slot was freed (its outcome committed); each claim (when, how many
    effects it got); each of the worker's commits."""

    entered: dict[str, float] = field(default_factory=dict)
    returned: dict[str, float] = field(default_factory=dict)
    freed: dict[str, float] = field(default_factory=dict)
    claims: list[tuple[float, int]] = field(default_factory=list)
    commits: list[float] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(
            {
                "entered": self.entered,
                "returned": self.returned,
                "freed": self.freed,
                "claims": self.claims,
                "commits": self.commits,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Record:
        data = json.loads(text)
        claims = [(at, n) for at, n in data["claims"]]
        return cls(data["entered"], data["returned"], data["freed"], claims, data["commits"])


def make_worker(
    store: Store, notify_url: str, concurrency: int, record: Record, shared: bool = False
) -> Any:
    """A Worker whose one handler sends a message through the real notification connector,
    instrumented (outside the Worker) to count its claims and commits."""
    from sqlalchemy import event

    from wayline.connectors.config import load_partner_configs
    from wayline.connectors.partners import Partners
    from wayline.runtime.clock import SystemClock
    from wayline.runtime.worker import Effect, Worker

    configs = load_partner_configs(ROOT / "connectors.yaml", {"notification_provider": notify_url})
    partners = Partners({"notification_provider": configs["notification_provider"]})

    def ping(effect: Effect) -> None:
        record.entered.setdefault(effect.key, time.time())
        partners.send_message(effect.key, "sms", "+447700900123", "ping")
        record.returned.setdefault(effect.key, time.time())

    worker = Worker(store, SystemClock(), {KIND: ping}, concurrency=concurrency)
    claim = worker.claim

    def counted_claim(limit: int | None = None) -> list[Effect]:
        claimed = claim(limit)
        record.claims.append((time.time(), len(claimed)))
        return claimed

    worker.claim = counted_claim  # type: ignore[method-assign]
    run = worker._run

    def timed_run(effect: Effect) -> None:
        run(effect)
        record.freed.setdefault(effect.key, time.time())

    worker._run = timed_run  # type: ignore[method-assign]

    def committed(_connection: Any) -> None:
        name = threading.current_thread().name  # a worker thread shares the producer's engine
        if not shared or name == "bench-worker" or name.startswith("effect"):
            record.commits.append(time.time())

    event.listen(store.engine, "commit", committed)
    return worker


def worker_main(argv: list[str]) -> int:
    """`_worker`: one worker process, as `wayline worker` runs (LISTEN/NOTIFY, logs on stdout).
    On SIGTERM it finishes what it holds and writes when each handler was entered."""
    from wayline.observability.logging import configure
    from wayline.runtime.worker import Wakeup

    parser = argparse.ArgumentParser(prog="effect_worker.py _worker")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--notify-url", required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--poll", type=float, default=0.5)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--record", type=Path, required=True)
    args = parser.parse_args(argv)
    configure(args.log_level)
    record = Record()
    store = Store(make_engine(args.database_url))
    worker = make_worker(store, args.notify_url, args.concurrency, record)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    wakeup = Wakeup(store)
    try:
        worker.run_forever(wakeup, stop, poll=args.poll)
    finally:
        wakeup.close()
        args.record.write_text(record.to_json())
    return 0


def sandbox_main(argv: list[str]) -> int:
    """`_sandbox`: the partner simulators in their own process; prints their URLs as JSON and
    runs until its stdin closes."""
    from wayline.sandbox.faults import FaultSettings
    from wayline.sandbox.server import Sandbox

    parser = argparse.ArgumentParser(prog="effect_worker.py _sandbox")
    parser.add_argument("--latency-ms", type=float, required=True)
    args = parser.parse_args(argv)
    faults = {"notification_provider": FaultSettings(latency_ms=args.latency_ms)}
    sandbox = Sandbox(faults=faults).start()
    print(json.dumps(sandbox.urls()), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        sys.stdin.read()
    sandbox.stop()
    return 0


class WorkerUnderTest:
    """The one worker: a process (PostgreSQL) or a thread of this process (SQLite)."""

    def __init__(self, mode: str, store: Store, database_url: str, notify_url: str, args, home):
        self.mode = mode
        self.store = store
        self.database_url = database_url
        self.notify_url = notify_url
        self.args = args
        self.home = home
        self.recorded = Record()
        self.process: subprocess.Popen[bytes] | None = None
        self.pid = 0  # the worker's Python process (under py-spy when profiling)
        self.thread: threading.Thread | None = None
        self.stop_event = threading.Event()
        self.wakeup: Any = None
        self.record = home / "record.json"
        self.log_file: Any = None
        self.log_path = home / "worker.log"

    def start(self) -> None:
        if self.mode == "process":
            command = [
                sys.executable,
                __file__,
                "_worker",
                "--database-url",
                self.database_url,
                "--notify-url",
                self.notify_url,
                "--concurrency",
                str(self.args.concurrency),
                "--poll",
                str(self.args.poll),
                "--log-level",
                self.args.log_level,
                "--record",
                str(self.record),
            ]
            if self.args.profile:  # py-spy (pip install py-spy) samples the worker throughout
                spy = Path(sys.executable).with_name("py-spy")
                command = [
                    str(spy if spy.exists() else "py-spy"),
                    *("record", "--format", "raw", "--rate", "200", "--nonblocking", "--gil"),
                    *("--output", str(self.args.profile.resolve()), "--"),
                    *command,
                ]
            with self.log_path.open("wb") as log_file:
                self.process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
            self.pid = self.process.pid
            if self.args.profile:
                self.pid = self._child_of(self.process.pid)
            return
        from wayline.observability.logging import configure
        from wayline.runtime.worker import Wakeup

        # The demo's worker logs to the server's stdout; here to a file, so stdout stays ours
        # (configure() binds whatever sys.stdout is when it is called).
        self.log_file = self.log_path.open("w")
        with contextlib.redirect_stdout(self.log_file):
            configure(self.args.log_level)
        worker = make_worker(
            self.store, self.notify_url, self.args.concurrency, self.recorded, shared=True
        )
        self.wakeup = Wakeup(self.store)

        def run() -> None:
            worker.run_forever(self.wakeup, self.stop_event, poll=self.args.poll)

        self.thread = threading.Thread(target=run, name="bench-worker", daemon=True)
        self.thread.start()

    @staticmethod
    def _child_of(pid: int) -> int:
        if psutil is None:
            raise SystemExit("--profile needs psutil")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            children = psutil.Process(pid).children()
            if children:
                return children[0].pid
            time.sleep(0.05)
        raise SystemExit("py-spy did not start the worker")

    def cpu_seconds(self) -> float:
        """CPU the worker has used: its process, or the threads of this one that it runs."""
        if self.process is not None:
            return process_cpu_seconds(self.pid)
        ours = {
            t.native_id
            for t in threading.enumerate()
            if t.name == "bench-worker" or t.name.startswith("effect")
        }
        total = 0.0
        for tid in ours:
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/self/task/{tid}/stat").read_text()
                values = stat[stat.rindex(")") + 2 :].split()
                total += (int(values[11]) + int(values[12])) / clock_ticks()
        return total

    def stop(self) -> Record:
        if self.process is not None:
            if self.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGTERM)  # under py-spy, py-spy then writes
                try:
                    self.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            if self.record.exists():
                return Record.from_json(self.record.read_text())
            log(f"the worker left no record; its log ends:\n{self.log_tail()}")
            return Record()
        self.stop_event.set()
        self.store.effects_queued.set()
        if self.thread is not None:
            self.thread.join(timeout=30)
        if self.wakeup is not None:
            self.wakeup.close()
        if self.log_file is not None:
            self.log_file.flush()
        return self.recorded

    def alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return self.thread is not None and self.thread.is_alive()

    def log_tail(self, lines: int = 20) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class SandboxProcess:
    def __init__(self, latency_ms: float, home: Path):
        self.latency_ms = latency_ms
        self.log_path = home / "sandbox.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.urls: dict[str, str] = {}

    def start(self) -> None:
        with self.log_path.open("wb") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, __file__, "_sandbox", "--latency-ms", str(self.latency_ms)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_file,
            )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the sandbox did not start:\n{self.log_path.read_text()}")
        self.urls = json.loads(line)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- CPU accounting -----------------------------------------------------------------------------


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine, summed over its cores."""
    if psutil is not None:
        times = psutil.cpu_times()
        return sum(times) - times.idle - getattr(times, "iowait", 0.0)
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:9]]
    return (sum(values) - values[3] - values[4]) / clock_ticks()


@dataclass
class CpuMeter:
    """CPU used over a phase, in % of one core (200% = both cores of a 2-core machine)."""

    worker: WorkerUnderTest
    sandbox_pid: int
    readings: dict[str, float] = field(default_factory=dict)

    def _read(self) -> dict[str, float]:
        return {
            "wall": time.perf_counter(),
            "worker": self.worker.cpu_seconds(),
            "sandbox": process_cpu_seconds(self.sandbox_pid),
            "this": process_cpu_seconds(os.getpid()),
            "machine": machine_cpu_seconds(),
        }

    def begin(self) -> None:
        self.readings = self._read()

    def end(self, effects: int) -> dict[str, Any]:
        now = self._read()
        delta = {k: now[k] - self.readings[k] for k in now}
        wall = delta["wall"] or 1e-9
        producer = delta["this"] - (delta["worker"] if self.worker.process is None else 0.0)
        return {
            "cpu_wall_s": round(wall, 2),
            "worker_cpu_pct": round(100 * delta["worker"] / wall, 1),
            "worker_cpu_ms_per_effect": round(1000 * delta["worker"] / effects, 3)
            if effects
            else None,
            "sandbox_cpu_pct": round(100 * delta["sandbox"] / wall, 1),
            "producer_cpu_pct": round(100 * producer / wall, 1),
            "machine_cpu_pct": round(100 * delta["machine"] / wall, 1),
            "load_average": [round(v, 2) for v in os.getloadavg()],
        }


# --- the producer -------------------------------------------------------------------------------


@dataclass
class Commit:
    scheduled: float  # when the producer meant to commit (time.time())
    began: float  # just before the transaction opened: the effects' created_at
    returned: float  # when COMMIT returned to the producer


def commit_effects(store: Store, keys: list[str]) -> tuple[float, float]:
    """One transaction queuing one effect per key, as a journey command does."""
    began = time.time()
    now = datetime.fromtimestamp(began, UTC)
    requests = tuple(EffectRequest(KIND, key, {"n": 1}) for key in keys)
    with store.write() as connection:
        enqueue_effects(connection, new_id(), requests, now)
    return began, time.time()


def open_loop(
    store: Store, prefix: str, rate: float, duration: float, per_commit: int, threads: int
) -> dict[str, Commit]:
    """Commit `rate` effects a second for `duration` seconds, `per_commit` per transaction, each
    transaction at its scheduled instant (threads take the next slot as they come free, so a
    slow commit delays no other)."""
    commits_per_s = rate / per_commit
    total = int(duration * commits_per_s)
    start = time.time() + 0.2
    slots = itertools.count()
    results: dict[str, Commit] = {}
    lock = threading.Lock()
    errors: list[str] = []

    def produce() -> None:
        while True:
            slot = next(slots)
            if slot >= total:
                return
            scheduled = start + slot / commits_per_s
            delay = scheduled - time.time()
            if delay > 0:
                time.sleep(delay)
            keys = [f"{prefix}:{slot}:{k}" for k in range(per_commit)]
            try:
                began, returned = commit_effects(store, keys)
            except Exception as error:  # report, keep the load steady
                errors.append(f"{type(error).__name__}: {error}"[:200])
                continue
            with lock:
                for key in keys:
                    results[key] = Commit(scheduled, began, returned)

    pool = [threading.Thread(target=produce, name=f"producer-{i}") for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if errors:
        log(f"  {len(errors)} commits failed, e.g. {errors[0]}")
    return results


def bulk(store: Store, prefix: str, count: int, batch: int) -> dict[str, Commit]:
    results: dict[str, Commit] = {}
    for first in range(0, count, batch):
        keys = [f"{prefix}:{i}" for i in range(first, min(count, first + batch))]
        began, returned = commit_effects(store, keys)
        for key in keys:
            results[key] = Commit(began, began, returned)
    return results


def wait_done(store: Store, worker: WorkerUnderTest, expected: int, timeout: float) -> None:
    """Until every effect queued so far is done (`expected` in all) or the timeout."""
    e = tables.effects.c
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with store.read() as connection:
            done = connection.execute(
                select(func.count()).select_from(tables.effects).where(e.status == "done")
            ).scalar_one()
        if done >= expected:
            return
        if not worker.alive():
            raise SystemExit(f"the worker died:\n{worker.log_tail()}")
        time.sleep(0.1)
    log(f"  timed out: {done} of {expected} effects done")


def rows_of(store: Store, prefix: str) -> list[Any]:
    e = tables.effects.c
    with store.read() as connection:
        return connection.execute(
            select(e.key, e.status, e.attempts, e.created_at, e.started_at, e.updated_at).where(
                e.key.like(f"{prefix}:%")
            )
        ).all()


# --- statistics ---------------------------------------------------------------------------------


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), int(-(-fraction * len(sorted_values) // 1))))
    return sorted_values[rank - 1]


def distribution(values: list[float]) -> dict[str, float | None]:
    ordered = sorted(values)
    out: dict[str, float | None] = {}
    for name, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        value = percentile(ordered, fraction)
        out[name] = round(value, 2) if value is not None else None
    out["max"] = round(ordered[-1], 2) if ordered else None
    return out


def stamp(moment: datetime | None) -> float:
    value = aware(moment)
    assert value is not None
    return value.timestamp()


def summarise(
    rows: list[Any], commits: dict[str, Commit], record: Record, window: tuple[float, float]
) -> dict[str, Any]:
    entered = record.entered
    done = [r for r in rows if r.status == "done"]
    claimed, handler, created, commit_ms, lag_ms = [], [], [], [], []
    for row in done:
        commit = commits.get(row.key)
        if commit is None:
            continue
        claimed.append(1000 * (stamp(row.started_at) - commit.returned))
        created.append(1000 * (stamp(row.started_at) - stamp(row.created_at)))
        if row.key in entered:
            handler.append(1000 * (entered[row.key] - commit.returned))
            created[-1] = 1000 * (entered[row.key] - stamp(row.created_at))
        commit_ms.append(1000 * (commit.returned - commit.began))
        lag_ms.append(1000 * max(0.0, commit.began - commit.scheduled))
    starts = [stamp(r.started_at) for r in done]
    finishes = [stamp(r.updated_at) for r in done]
    span = (max(finishes) - min(starts)) if done else 0.0
    # How long each effect held one of the worker's slots, from the claim's clock reading
    # (started_at) to its outcome committed, in three parts: to the handler (the claiming
    # transaction, the hand-over to a thread), the handler (the partner call), to done (the
    # transaction recording it, the log line). Without the worker's record: to updated_at.
    slot_ms, parts = [], {"to_handler": [], "handler": [], "to_done": []}
    for row in done:
        began = stamp(row.started_at)
        entered_at, returned_at = record.entered.get(row.key), record.returned.get(row.key)
        freed_at = record.freed.get(row.key)
        if entered_at is None or returned_at is None or freed_at is None:
            slot_ms.append(1000 * (stamp(row.updated_at) - began))
            continue
        slot_ms.append(1000 * (freed_at - began))
        parts["to_handler"].append(1000 * (entered_at - began))
        parts["handler"].append(1000 * (returned_at - entered_at))
        parts["to_done"].append(1000 * (freed_at - returned_at))
    commit_times = [c.returned for c in commits.values()]
    offered_span = (max(commit_times) - min(commit_times)) if len(commit_times) > 1 else 0.0
    return {
        "effects": len(commits),
        "done": len(done),
        "not_done": len(rows) - len(done) + (len(commits) - len(rows)),
        "retried": sum(1 for r in done if r.attempts > 1),
        "committed_per_s": round(len(commits) / offered_span, 1) if offered_span else None,
        "drain_per_s": round(len(done) / span, 1) if span else None,
        "first_start_to_last_done_s": round(span, 3),
        "slot_ms": distribution(slot_ms),
        "slot_mean_ms": round(sum(slot_ms) / len(slot_ms), 2) if slot_ms else None,
        "slot_parts_mean_ms": {
            name: round(sum(values) / len(values), 2) if values else None
            for name, values in parts.items()
        },
        "start_delay_claimed_ms": distribution(claimed),
        "start_delay_handler_ms": distribution(handler),
        "start_delay_from_created_at_ms": distribution(created),
        "commit_duration_ms": distribution(commit_ms),
        "producer_lag_ms": distribution(lag_ms),
        "handler_records": len(handler),
        **worker_work(record, window, len(done)),
    }


def worker_work(record: Record, window: tuple[float, float], effects: int) -> dict[str, Any]:
    """The worker's claims and commits during the phase, per effect."""
    begin, end = window
    claims = [n for at, n in record.claims if begin <= at <= end]
    commits = sum(1 for at in record.commits if begin <= at <= end)
    per = (lambda value: round(value / effects, 2)) if effects else (lambda value: None)
    return {
        "claims": len(claims),
        "empty_claims": sum(1 for n in claims if n == 0),
        "effects_per_claim": round(sum(claims) / sum(1 for n in claims if n), 2)
        if any(claims)
        else None,
        "claims_per_effect": per(len(claims)),
        "worker_commits_per_effect": per(commits),
    }


# --- the run ------------------------------------------------------------------------------------


def fresh_postgres(admin_url: str, database: str) -> str:
    """Drop and recreate the benchmark's own database; return its URL."""
    import psycopg

    if not database.replace("_", "").isalnum():
        raise SystemExit(f"refusing an odd database name: {database!r}")
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{database}"')
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{database}"


def run(args: argparse.Namespace) -> dict[str, Any]:
    from wayline.store.migrate import upgrade

    home = Path(tempfile.mkdtemp(prefix="wayline-bench-effects-"))
    if args.database == "postgres":
        database_url = fresh_postgres(args.postgres_admin_url, args.postgres_database)
    else:
        database_url = f"sqlite:///{home / 'wayline.db'}"
    mode = args.worker or ("process" if args.database == "postgres" else "thread")
    engine = make_engine(database_url)
    upgrade(engine)
    store = Store(engine)
    run_id = new_id()[-8:]
    report: dict[str, Any] = {"worker_mode": mode, "phases": {}}
    sandbox = SandboxProcess(args.latency_ms, home)
    sandbox.start()
    assert sandbox.process is not None
    worker = WorkerUnderTest(
        mode, store, database_url, sandbox.urls["notification_provider"], args, home
    )
    queued = 0
    phases: list[tuple[str, dict[str, Commit], dict[str, Any]]] = []
    try:
        worker.start()
        meter = CpuMeter(worker, sandbox.process.pid)
        log(f"{args.database}: worker {mode}, concurrency {args.concurrency}; warm-up")
        warm = open_loop(store, f"bench:{run_id}:warm", 50, args.warmup, 1, args.producers)
        queued += len(warm)
        wait_done(store, worker, queued, 60)
        for rate in args.rate:
            name = f"open loop {rate:g}/s"
            prefix = f"bench:{run_id}:rate{rate:g}"
            log(f"  {name} for {args.duration:g}s, {args.per_commit} per commit")
            meter.begin()
            begin = time.time()
            commits = open_loop(store, prefix, rate, args.duration, args.per_commit, args.producers)
            queued += len(commits)
            wait_done(store, worker, queued, 120)
            extra = {"prefix": prefix, "window": (begin, time.time()), **meter.end(len(commits))}
            phases.append((name, commits, extra))
            time.sleep(1.0)
        if args.effects:
            name = f"drain {args.effects}"
            prefix = f"bench:{run_id}:bulk"
            log(f"  bulk: {args.effects} effects in transactions of {args.bulk_batch}, drained")
            one_commit = args.bulk_batch >= args.effects
            if not one_commit:
                meter.begin()  # the worker starts on the first batch while the rest are queued
            begin = time.time()
            commits = bulk(store, prefix, args.effects, args.bulk_batch)
            if one_commit:
                meter.begin()  # the worker sees nothing until the one commit: CPU from there
            queued += len(commits)
            wait_done(store, worker, queued, 600)
            extra = {"prefix": prefix, "window": (begin, time.time()), **meter.end(len(commits))}
            phases.append((name, commits, extra))
    finally:
        record = worker.stop()
        sandbox.stop()
    for name, commits, extra in phases:
        prefix, window = extra.pop("prefix"), extra.pop("window")
        summary = summarise(rows_of(store, prefix), commits, record, window)
        report["phases"][name] = {**summary, **extra}
    engine.dispose()
    if args.keep_home:
        log(f"  data folder kept: {home}")
    else:
        shutil.rmtree(home, ignore_errors=True)
    return report


# --- reporting ----------------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def markdown(report: dict[str, Any]) -> str:
    s = report["settings"]
    mode = report["runs"][0]["worker_mode"]
    rows = [
        f"{DATABASE_TITLES[report['database']]}; the worker a {mode} "
        f"{'of its own' if mode == 'process' else 'of the producer'}; partner latency "
        f"{s['latency_ms']:g} ms; {s['per_commit']} effect(s) per commit in the open-loop "
        f"phases, from {s['producers']} producer threads; {s['effects']} effects queued in "
        f"transactions of {s['bulk_batch']} for the drain.",
        "",
        "| concurrency | phase | effects | committed /s | start delay p50 / p95 / p99 / max ms "
        "(handler entered − commit) | claimed p50 / p99 ms | from created_at p99 ms | "
        "drained /s | worker CPU | worker CPU ms/effect | claims/effect (empty) | "
        "worker commits/effect | sandbox CPU | producer CPU | machine CPU | not done / retried |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: | ---: | ---: |",
    ]
    notes = []
    for run_ in report["runs"]:
        for name, p in run_["phases"].items():
            h, c, k = (
                p["start_delay_handler_ms"],
                p["start_delay_claimed_ms"],
                p["start_delay_from_created_at_ms"],
            )
            committed = "bulk" if name.startswith("drain") else f"{p['committed_per_s'] or 0:.0f}"
            rows.append(
                f"| {run_['concurrency']} | {name} | {p['effects']} | {committed} | "
                f"{_ms(h['p50'])} / {_ms(h['p95'])} / {_ms(h['p99'])} / {_ms(h['max'])} | "
                f"{_ms(c['p50'])} / {_ms(c['p99'])} | {_ms(k['p99'])} | "
                f"{p['drain_per_s'] or 0:.0f} | {p['worker_cpu_pct']}% | "
                f"{p['worker_cpu_ms_per_effect']} | {p['claims_per_effect']} "
                f"({p['empty_claims']}) | {p['worker_commits_per_effect']} | "
                f"{p['sandbox_cpu_pct']}% | {p['producer_cpu_pct']}% | "
                f"{p['machine_cpu_pct']}% | {p['not_done']} / {p['retried']} |"
            )
        notes += [f"* Concurrency {run_['concurrency']}. {verdict(report, run_)}"]
        bounds = ceilings(report, run_)
        if bounds:
            notes += [f"  {bounds}"]
    return "\n".join([*rows, "", *notes])


def verdict(report: dict[str, Any], run_: dict[str, Any]) -> str:
    """The targets, judged on the open-loop phases' handler start delays and the drain."""
    parts = []
    for name, p in run_["phases"].items():
        h = p["start_delay_handler_ms"]
        if name.startswith("open loop") and h["p50"] is not None:
            ok = h["p50"] <= TARGET_P50_MS and h["p99"] <= TARGET_P99_MS
            parts.append(
                f"{name}: p50 {h['p50']:.1f} ms, p99 {h['p99']:.1f} ms "
                f"({'met' if ok else 'not met'})"
            )
        if name.startswith("drain") and p["drain_per_s"]:
            ok = p["drain_per_s"] >= TARGET_DRAIN_PER_S
            judged = "met" if ok else "not met"
            if report["database"] != "postgres":
                judged = "the target is for PostgreSQL"
            parts.append(f"{name}: {p['drain_per_s']:.0f}/s ({judged})")
    return (
        f"Targets (start p50 ≤ {TARGET_P50_MS:g} ms and p99 ≤ {TARGET_P99_MS:g} ms; drain ≥ "
        f"{TARGET_DRAIN_PER_S:g}/s on PostgreSQL): " + "; ".join(parts) + "."
    )


def ceilings(report: dict[str, Any], run_: dict[str, Any]) -> str:
    """What bounds the drain rate, from the drain phase's own figures."""
    drain = next((p for n, p in run_["phases"].items() if n.startswith("drain")), None)
    if not drain or not drain["slot_mean_ms"] or not drain["worker_cpu_ms_per_effect"]:
        return ""
    concurrency = run_["concurrency"]
    slots = 1000 * concurrency / drain["slot_mean_ms"]
    cpu = 1000 / drain["worker_cpu_ms_per_effect"]
    split = drain["slot_parts_mean_ms"]
    detail = ""
    if None not in split.values():
        detail = (
            f": {split['to_handler']:.1f} ms from the claim to the handler, "
            f"{split['handler']:.1f} ms in the handler (the partner answers in "
            f"{report['settings']['latency_ms']:g} ms), {split['to_done']:.1f} ms to commit it "
            "done"
        )
    return (
        f"Bounds on the drain rate: {concurrency} slots each held "
        f"{drain['slot_mean_ms']:.0f} ms on average{detail}, allowing {slots:.0f}/s; the "
        f"worker used {drain['worker_cpu_ms_per_effect']:.2f} ms of CPU per effect, so a core "
        f"to itself (a Python process uses about one) would allow {cpu:.0f}/s; it got "
        f"{drain['worker_cpu_pct']:.0f}% of a core while the machine was "
        f"{drain['machine_cpu_pct']:.0f}% busy (of {100 * (report['machine']['cores'] or 1)}%)."
    )


def rerun_command(report: dict[str, Any]) -> str:
    s = report["settings"]
    rates = " ".join(f"--rate {r:g}" for r in s["rates"])
    concurrencies = " ".join(f"--concurrency {c}" for c in s["concurrency"])
    return (
        f".venv/bin/python benchmarks/effect_worker.py --database {report['database']} "
        f"{concurrencies} --latency-ms {s['latency_ms']:g} {rates} --duration {s['duration_s']:g} "
        f"--effects {s['effects']}"
    )


DATABASE_TITLES = {"postgres": "PostgreSQL", "sqlite": "SQLite"}

SECTION_INTRO = f"""{SECTION}

Target (issue 4): with partners answering in 50 ms, effects start within p50 10 ms and p99
100 ms of the commit that caused them, and one worker process drains at least 200 effects per
second on PostgreSQL.

Measured by `benchmarks/effect_worker.py`: one worker, whose handler (kind `ping`) sends one
message to the sandbox's notification provider (answering in 50 ms) through the real
connector with the effect's idempotency key. On PostgreSQL the worker is a process of its own,
woken by LISTEN/NOTIFY; on SQLite it is a thread of the producer's process, as in the demo. A
producer commits effects through `Store.write()` and `enqueue_effects`, one per transaction, at
a steady open-loop rate (each commit at its scheduled instant whatever the worker does), then
queues a batch in one transaction for the drain rate.

* Start delay: from the producer's COMMIT returning (recorded client-side, by effect key) to
  the worker entering the handler. "Claimed" stops at `effects.started_at` instead (the
  claiming transaction's clock reading, just before it runs); "from created_at" starts at the
  effect's `created_at`, which the producer sets just before opening its transaction (an upper
  bound: it includes the producer's whole transaction).
* Drain rate: effects done per second from the first `started_at` to the last `updated_at`.
* CPU in % of one core, over the phase; "worker CPU ms/effect" is the worker's CPU divided by
  the effects of the phase. "Claims/effect (empty)" counts the worker's claiming transactions
  (and those that found nothing); "worker commits/effect" all its transactions.
"""


def docs_subsection(report: dict[str, Any], table: str) -> str:
    m = report["machine"]
    title = DATABASE_TITLES[report["database"]]
    where = ""
    if report["database"] == "postgres":
        where = (
            f" (PostgreSQL at `{POSTGRES_ADMIN_URL}` or `--postgres-admin-url`; the run drops "
            f"and recreates its own database `{POSTGRES_DATABASE}`)"
        )
    load = " / ".join(f"{v:.1f}" for v in m["load_average_at_start"])
    return f"""### {title}

Run at {report["started_at"][:16].replace("T", " ")} UTC on a {m["cores"]}-core machine shared by \
the worker, the partner simulators, the producer and PostgreSQL, and by other work at the time \
(load average {load} at the start; "machine CPU" shows how busy it was during each phase). \
Python {m["python"]}, {m["platform"]}.

{table}

Rerun{where}:

    {rerun_command(report)}
"""


def write_docs(report: dict[str, Any], subsection: str) -> None:
    title = f"### {DATABASE_TITLES[report['database']]}"
    write_docs_subsection(SECTION, SECTION_INTRO, title, subsection)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_worker":
        return worker_main(argv[1:])
    if argv and argv[0] == "_sandbox":
        return sandbox_main(argv[1:])
    parser = argparse.ArgumentParser(
        description="Effect start delay after commit and drain rate of one worker process."
    )
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--effects", type=int, default=5000, help="effects for the drain phase")
    parser.add_argument(
        "--concurrency",
        type=int,
        action="append",
        help="the worker's concurrency (repeatable: a whole run each; default 16, the setting's)",
    )
    parser.add_argument("--latency-ms", type=float, default=50.0, help="partner latency")
    parser.add_argument(
        "--rate",
        type=float,
        action="append",
        help="open-loop effects per second (repeatable; default 100 and 250)",
    )
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per open loop")
    parser.add_argument("--per-commit", type=int, default=1, help="effects per transaction")
    parser.add_argument("--producers", type=int, default=4, help="producer threads")
    parser.add_argument("--bulk-batch", type=int, default=5000, help="effects per bulk commit")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds at 50/s")
    parser.add_argument("--poll", type=float, default=0.5, help="the worker's idle poll")
    parser.add_argument(
        "--worker",
        choices=("process", "thread"),
        help="default: a process on PostgreSQL, a thread on SQLite (as the demo runs it)",
    )
    parser.add_argument("--log-level", default="INFO", help="the worker's log level")
    parser.add_argument(
        "--postgres-admin-url",
        default=os.environ.get("WAYLINE_BENCH_POSTGRES_ADMIN_URL", POSTGRES_ADMIN_URL),
        help="a PostgreSQL URL allowed to create the benchmark's database",
    )
    parser.add_argument(
        "--postgres-database",
        default=POSTGRES_DATABASE,
        help="the database to drop and recreate for the run (never point this at real data)",
    )
    parser.add_argument(
        "--profile", type=Path, help="record a py-spy profile of the worker process here (raw)"
    )
    parser.add_argument("--keep-home", action="store_true", help="keep the temporary folder")
    parser.add_argument("--no-docs", dest="docs", action="store_false", help="leave docs alone")
    parser.add_argument("--output", type=Path, default=RESULTS, help="folder for the JSON")
    parser.add_argument(
        "--report",
        type=Path,
        help="measure nothing: print (and put in the docs) the results saved in this JSON file",
    )
    args = parser.parse_args(argv)
    if args.report:
        report = json.loads(args.report.read_text())
        table = markdown(report)
        print(table)
        if args.docs:
            write_docs(report, docs_subsection(report, table))
            log(f"wrote the {DATABASE_TITLES[report['database']]} part of '{SECTION}' in {DOCS}")
        return 0
    args.rate = args.rate or [100.0, 250.0]
    concurrencies = args.concurrency or [16]
    if min(args.rate) <= 0 or args.duration <= 0 or min(concurrencies) < 1 or args.effects < 0:
        parser.error("rates, --duration and --concurrency must be positive")

    started = datetime.now(UTC)
    report: dict[str, Any] = {
        "benchmark": "effect_worker",
        "started_at": started.isoformat(),
        "database": args.database,
        "settings": {
            "concurrency": concurrencies,
            "latency_ms": args.latency_ms,
            "rates": args.rate,
            "duration_s": args.duration,
            "per_commit": args.per_commit,
            "producers": args.producers,
            "effects": args.effects,
            "bulk_batch": args.bulk_batch,
            "log_level": args.log_level,
        },
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
        },
    }
    report["runs"] = []
    for concurrency in concurrencies:
        one = argparse.Namespace(**{**vars(args), "concurrency": concurrency})
        report["runs"].append({"concurrency": concurrency, **run(one)})
    table = markdown(report)
    print(table)
    args.output.mkdir(parents=True, exist_ok=True)
    out = args.output / f"effect_worker-{args.database}-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {out}")
    if args.docs:
        write_docs(report, docs_subsection(report, table))
        log(f"wrote the {DATABASE_TITLES[args.database]} part of '{SECTION}' in {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
