#!/usr/bin/env python
"""Journey throughput: how many motor-claim step submissions per second Wayline serves over
HTTP, beside a bare-write baseline measured in the same run on the same server.

A program, not a test. For each database it:

1. makes a fresh data folder (and, for PostgreSQL, a fresh database), runs `wayline migrate`,
   then starts `wayline serve` (one uvicorn process) in demo mode with the baseline route on;
2. warms up, then measures closed-loop peak rates: N virtual customers, each with its own
   cookie jar and connection, signed in as the demo customers round robin, send requests back
   to back: first `POST /bench/write` (one bare database write through the same stack), then
   complete motor claims (start → policy → incident → photos (with an upload) → settlement
   (cash, with an estimate upload) → payment-details → submit), counting the
   `POST /api/v1/journeys/{id}/steps/{step}` calls that return 200 (with `--rounds`, both are
   measured again, alternately, and the best of each is the peak);
3. runs an open-loop phase: step submissions sent at a constant rate of half the measured peak,
   each one's latency measured from the time it was scheduled to be sent (so a slow server
   cannot slow the load down and hide its own latency: no coordinated omission);
4. reports CPU use of the server process, of this load generator and of the whole machine.

    python benchmarks/journey_throughput.py --database both --customers 16 --duration 15

Results: a markdown table on stdout, and JSON in benchmarks/results/ (not committed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from reporting import clock_ticks, process_cpu_seconds

try:  # optional: `pip install -e '.[bench]'`; /proc is read otherwise (Linux)
    import psutil
except ImportError:  # pragma: no cover - depends on the environment
    psutil = None

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DEMO_CUSTOMERS = ("alex", "sam", "jordan")
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES_DATABASE = "wayline_bench"
TARGETS = {"sqlite": 0.40, "postgres": 0.30}
OPEN_LOOP_P99_TARGET_MS = 50.0


# --- CPU accounting ---------------------------------------------------------------------------


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine, summed over its cores."""
    if psutil is not None:
        times = psutil.cpu_times()
        idle = times.idle + getattr(times, "iowait", 0.0)
        total = sum(times)
        return total - idle, total
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:9]]
    total = sum(values)
    idle = values[3] + values[4]
    return (total - idle) / clock_ticks(), total / clock_ticks()


@dataclass
class CpuMeter:
    """CPU used during one phase, as a percentage of one core (200% = both cores here)."""

    server_pid: int
    wall: float = 0.0
    server: float = 0.0
    generator: float = 0.0
    machine_busy: float = 0.0

    @contextlib.contextmanager
    def measure(self) -> Iterator[CpuMeter]:
        wall0 = time.perf_counter()
        server0 = process_cpu_seconds(self.server_pid)
        generator0 = process_cpu_seconds(os.getpid())
        busy0, _total0 = machine_cpu_seconds()
        yield self
        self.wall = time.perf_counter() - wall0
        self.server = process_cpu_seconds(self.server_pid) - server0
        self.generator = process_cpu_seconds(os.getpid()) - generator0
        self.machine_busy = machine_cpu_seconds()[0] - busy0

    def as_dict(self) -> dict[str, float]:
        def pct(seconds: float) -> float:
            return round(100 * seconds / self.wall, 1) if self.wall else 0.0

        return {
            "server_cpu_pct": pct(self.server),
            "generator_cpu_pct": pct(self.generator),
            "machine_cpu_pct": pct(self.machine_busy),
            "other_cpu_pct": pct(max(0.0, self.machine_busy - self.server - self.generator)),
            "cores": os.cpu_count() or 1,
        }


# --- recording --------------------------------------------------------------------------------


@dataclass
class Sample:
    scheduled: float  # when the request was due (closed loop: when it was sent)
    sent: float
    done: float
    status: int  # 0: the request failed without a response


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    other: dict[str, int] = field(default_factory=dict)  # non-step requests by kind and status
    failures: list[str] = field(default_factory=list)

    def count(self, kind: str, status: int) -> None:
        key = f"{kind} {status}"
        self.other[key] = self.other.get(key, 0) + 1

    def fail(self, message: str) -> None:
        if len(self.failures) < 20:
            self.failures.append(message)


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), int(-(-fraction * len(sorted_values) // 1))))
    return sorted_values[rank - 1]


def summarise(recorder: Recorder, start: float, end: float, open_loop: bool) -> dict[str, Any]:
    """Rate of 200s completed inside [start, end] and their latency percentiles in ms."""
    inside = [s for s in recorder.samples if start <= s.scheduled and s.done <= end]
    ok = [s for s in inside if s.status == 200]
    errors: dict[str, int] = {}
    for s in inside:
        if s.status != 200:
            errors[str(s.status)] = errors.get(str(s.status), 0) + 1
    latencies = sorted(1000 * (s.done - s.scheduled) for s in ok)
    result: dict[str, Any] = {
        "duration_s": round(end - start, 2),
        "requests_ok": len(ok),
        "errors": errors,
        "rate_per_s": round(len(ok) / (end - start), 1),
    }
    for name, fraction in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        value = percentile(latencies, fraction)
        result[f"{name}_ms"] = round(value, 2) if value is not None else None
    result["max_ms"] = round(latencies[-1], 2) if latencies else None
    if open_loop:
        # How late the generator itself sent requests (part of the latency above).
        lag = sorted(1000 * (s.sent - s.scheduled) for s in ok)
        service = sorted(1000 * (s.done - s.sent) for s in ok)
        result["send_lag_p99_ms"] = round(percentile(lag, 0.99) or 0.0, 2)
        result["service_p99_ms"] = round(percentile(service, 0.99) or 0.0, 2)
    return result


# --- the virtual customers --------------------------------------------------------------------


def tiny_png() -> bytes:
    """A valid 1×1 PNG: what the photo and estimate questions accept, sniffed by content."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xc0\x40\x20"))
        + chunk(b"IEND", b"")
    )


PNG = tiny_png()
# Yesterday in UTC: the server checks "not in the future" against its own UTC date.
INCIDENT_DATE = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()


class ClaimFailed(Exception):
    pass


class VirtualCustomer:
    """One customer on one keep-alive connection, with its own session cookie."""

    def __init__(self, base_url: str, sign_in: str):
        self.sign_in = sign_in
        self.client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(60.0),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )

    async def open(self) -> None:
        response = await self.client.post("/auth/demo", json={"customer": self.sign_in})
        if response.status_code != 204:
            raise ClaimFailed(f"sign-in as {self.sign_in}: {response.status_code}")
        # API clients echo the CSRF cookie in a header on state-changing requests.
        token = self.client.cookies.get("wayline_csrf")
        if token:
            self.client.headers["X-CSRF-Token"] = token

    async def close(self) -> None:
        await self.client.aclose()


class Claim:
    """A motor claim driven through the API: cash settlement, so every step of the brief's
    path (policy, incident, photos, settlement, payment-details) is submitted."""

    def __init__(self, customer: VirtualCustomer, recorder: Recorder):
        self.customer = customer
        self.recorder = recorder
        self.id = ""
        self.revision = 0
        self.body: dict[str, Any] = {}
        self.documents: dict[str, str] = {}

    async def _call(self, kind: str, expect: int, method: str, url: str, **kwargs: Any) -> dict:
        response = await self.customer.client.request(method, url, **kwargs)
        self.recorder.count(kind, response.status_code)
        if response.status_code != expect:
            raise ClaimFailed(f"{kind}: {response.status_code} {response.text[:300]}")
        return response.json()

    async def begin(self) -> None:
        self.body = await self._call(
            "start", 201, "POST", "/api/v1/journeys", json={"type": "motor-claim"}
        )
        self.id = self.body["id"]
        self.revision = self.body["revision"]

    @property
    def next_step(self) -> str | None:
        """The step to submit next, or None once only the declaration is left."""
        current = self.body.get("current_step") or {}
        name = current.get("name")
        return None if name in (None, "check-answers") else name

    async def prepare(self, step: str) -> None:
        """Uploads a step's answers need, sent before the step (not timed as a step)."""
        wanted = {"photos": "damage_photos", "settlement": "estimate_document"}.get(step)
        if wanted and wanted not in self.documents:
            document = await self._call(
                "upload",
                201,
                "POST",
                f"/api/v1/journeys/{self.id}/documents",
                files={"file": (f"{wanted}.png", PNG, "image/png")},
                data={"field": wanted},
            )
            self.documents[wanted] = document["id"]

    def answers(self, step: str) -> dict[str, Any]:
        fields = {f["name"]: f for f in self.body["current_step"]["fields"]}
        if step == "policy":
            chosen = fields["policy_number"]
            return {"policy_number": chosen["value"] or chosen["options"][0]["value"]}
        if step == "incident":
            return {
                "incident_date": INCIDENT_DATE,
                "incident_time": "08:15",
                "incident_type": "collision_object",
                "incident_postcode": "SW1A 1AA",
                "description": "Reversed into a bollard in a car park at walking pace.",
                "driveable": True,
            }
        if step == "photos":
            return {"damage_photos": [self.documents["damage_photos"]]}
        if step == "settlement":
            return {
                "settlement": "cash",
                "estimate_amount": "850.50",
                "estimate_document": [self.documents["estimate_document"]],
            }
        if step == "payment-details":
            payout = fields["payout_account"]
            if payout["applies"] and payout["value"]:
                return {"payout_account": payout["value"]}
            return {
                "account_holder": "Sam Patel",
                "sort_code": "30-94-57",
                "account_number": "00733445",
            }
        raise ClaimFailed(f"unexpected step {step}")

    async def submit_step(self, step: str, scheduled: float | None = None) -> Sample:
        """The timed request: POST /api/v1/journeys/{id}/steps/{step}."""
        payload = {"answers": self.answers(step), "revision": self.revision}
        sent = time.perf_counter()
        try:
            response = await self.customer.client.post(
                f"/api/v1/journeys/{self.id}/steps/{step}", json=payload
            )
        except httpx.HTTPError as error:
            sample = Sample(scheduled or sent, sent, time.perf_counter(), 0)
            self.recorder.samples.append(sample)
            raise ClaimFailed(f"step {step}: {type(error).__name__}") from error
        sample = Sample(scheduled or sent, sent, time.perf_counter(), response.status_code)
        self.recorder.samples.append(sample)
        if response.status_code != 200:
            raise ClaimFailed(f"step {step}: {response.status_code} {response.text[:300]}")
        self.body = response.json()
        self.revision = self.body["revision"]
        return sample

    async def finish(self) -> None:
        body = await self._call(
            "submit",
            200,
            "POST",
            f"/api/v1/journeys/{self.id}/submit",
            json={"revision": self.revision, "declaration": True},
        )
        if body.get("status") != "submitted":
            raise ClaimFailed(f"submit: status {body.get('status')}")


# --- load shapes ------------------------------------------------------------------------------


async def closed_loop_claims(customers: list[VirtualCustomer], recorder: Recorder, until: float):
    """Each customer completes claims back to back until the deadline."""

    async def run(customer: VirtualCustomer) -> None:
        while time.perf_counter() < until:
            claim = Claim(customer, recorder)
            try:
                await claim.begin()
                while (step := claim.next_step) is not None:
                    await claim.prepare(step)
                    if time.perf_counter() >= until:
                        return
                    await claim.submit_step(step)
                await claim.finish()
            except (ClaimFailed, httpx.HTTPError) as error:
                recorder.fail(str(error))
                await asyncio.sleep(0.01)

    await asyncio.gather(*(run(c) for c in customers))


async def closed_loop_bare_writes(
    customers: list[VirtualCustomer], recorder: Recorder, until: float
):
    async def run(customer: VirtualCustomer) -> None:
        while time.perf_counter() < until:
            sent = time.perf_counter()
            try:
                response = await customer.client.post("/bench/write")
                status = response.status_code
            except httpx.HTTPError as error:
                recorder.fail(f"bench/write: {type(error).__name__}")
                status = 0
            recorder.samples.append(Sample(sent, sent, time.perf_counter(), status))

    await asyncio.gather(*(run(c) for c in customers))


async def open_loop_steps(
    customers: list[VirtualCustomer], recorder: Recorder, rate: float, start: float, end: float
) -> None:
    """Step submissions at a constant arrival rate. Claims wait in a queue, each ready with
    its next step (started, uploads done); at every scheduled instant one is taken and its
    step sent. Between its steps a claim does its other requests (uploads, submit, start the
    next claim) untimed, as a customer would. If no claim is ready, or the generator is late,
    the wait counts in that step's latency."""
    ready: asyncio.Queue[Claim] = asyncio.Queue()

    async def replenish(customer: VirtualCustomer) -> None:
        while True:
            claim = Claim(customer, recorder)
            try:
                await claim.begin()
                await claim.prepare(claim.next_step or "")
            except (ClaimFailed, httpx.HTTPError) as error:
                recorder.fail(str(error))
                await asyncio.sleep(0.05)
                continue
            ready.put_nowait(claim)
            return

    async def fire(scheduled: float) -> None:
        claim = await ready.get()
        step = claim.next_step
        assert step is not None
        try:
            await claim.submit_step(step, scheduled=scheduled)
            if claim.next_step is None:
                await claim.finish()
                await replenish(claim.customer)
            else:
                await claim.prepare(claim.next_step)
                ready.put_nowait(claim)
        except (ClaimFailed, httpx.HTTPError) as error:
            recorder.fail(str(error))
            await replenish(claim.customer)

    await asyncio.gather(*(replenish(c) for c in customers))
    tasks: set[asyncio.Task] = set()
    sent = 0
    while True:
        scheduled = start + sent / rate
        if scheduled >= end:
            break
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(fire(scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        sent += 1
    if tasks:
        await asyncio.wait(tasks, timeout=60)


# --- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wayline_command() -> list[str]:
    script = Path(sys.executable).with_name("wayline")
    return [str(script)] if script.exists() else [sys.executable, "-m", "wayline.cli"]


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


class Server:
    """`wayline migrate`, then `wayline serve` (one uvicorn process) in a fresh data folder."""

    def __init__(self, database_url: str | None, home: Path, log_level: str):
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "WAYLINE_HOME": str(home),
            "WAYLINE_DEMO": "true",
            "WAYLINE_BENCHMARK_ENDPOINT": "true",
            "WAYLINE_SECRET_KEY": secrets.token_urlsafe(32),
            "WAYLINE_JOURNEYS_DIR": str(ROOT / "journeys"),
            "WAYLINE_LOG_LEVEL": log_level,
            "WAYLINE_RATE_LIMITS": "off",  # the benchmark is the script the limits stop
        }
        if database_url:
            self.env["WAYLINE_DATABASE_URL"] = database_url
        else:
            self.env.pop("WAYLINE_DATABASE_URL", None)
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = home / "server.log"

    def start(self) -> None:
        subprocess.run(
            [*wayline_command(), "migrate"],
            env=self.env,
            cwd=self.home,
            check=True,
            capture_output=True,
        )
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*wayline_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                cwd=self.home,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"wayline serve exited:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise SystemExit(f"wayline serve did not become ready:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- one database -----------------------------------------------------------------------------


async def _phase(
    meter: CpuMeter, body: Callable[[float, float], Awaitable[None]], duration: float
) -> tuple[float, float]:
    start = time.perf_counter() + 0.05
    end = start + duration
    with meter.measure():
        await body(start, end)
    return start, end


def _cpu_per_request(phase: dict[str, Any]) -> float | None:
    """Server CPU milliseconds per counted request: less sensitive than rates to what else
    runs on the machine."""
    if not phase["requests_ok"]:
        return None
    cpu_s = phase["server_cpu_pct"] / 100 * phase["duration_s"]
    return round(1000 * cpu_s / phase["requests_ok"], 3)


async def measure(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    assert server.process is not None
    customers = [
        VirtualCustomer(server.url, DEMO_CUSTOMERS[i % len(DEMO_CUSTOMERS)])
        for i in range(args.customers)
    ]
    await asyncio.gather(*(c.open() for c in customers))
    pid = server.process.pid
    result: dict[str, Any] = {"rounds": []}
    try:
        log(f"  warm-up {args.warmup:g}s")
        warm = Recorder()
        await closed_loop_bare_writes(customers, warm, time.perf_counter() + args.warmup / 3)
        await closed_loop_claims(customers, warm, time.perf_counter() + args.warmup)

        for number in range(1, args.rounds + 1):
            round_: dict[str, Any] = {}
            log(f"  round {number}: bare writes, closed loop, {args.customers} clients")
            baseline, meter = Recorder(), CpuMeter(pid)
            writes = partial(closed_loop_bare_writes, customers, baseline)
            start, end = await _phase(meter, lambda s, e, run=writes: run(e), args.duration)
            round_["baseline"] = {**summarise(baseline, start, end, False), **meter.as_dict()}
            round_["baseline"]["failures"] = baseline.failures

            log(f"  round {number}: step submissions, closed loop, {args.customers} customers")
            steps, meter = Recorder(), CpuMeter(pid)
            claims = partial(closed_loop_claims, customers, steps)
            start, end = await _phase(meter, lambda s, e, run=claims: run(e), args.duration)
            round_["steps"] = {**summarise(steps, start, end, False), **meter.as_dict()}
            round_["steps"]["other_requests"] = steps.other
            round_["steps"]["failures"] = steps.failures
            round_["steps"]["claims_submitted"] = steps.other.get("submit 200", 0)
            for phase in round_.values():
                phase["server_cpu_ms_per_request"] = _cpu_per_request(phase)
            result["rounds"].append(round_)

        # The peak of each, over the rounds.
        result["baseline"] = max(
            (r["baseline"] for r in result["rounds"]), key=lambda p: p["rate_per_s"]
        )
        result["steps"] = max((r["steps"] for r in result["rounds"]), key=lambda p: p["rate_per_s"])
        peak = result["steps"]["rate_per_s"]
        if args.open_loop and peak > 0:
            rate = peak * args.open_loop_fraction
            log(f"  step submissions, open loop at {rate:.0f}/s, {args.duration:g}s")
            offered, meter = Recorder(), CpuMeter(pid)
            start, end = await _phase(
                meter,
                lambda s, e: open_loop_steps(customers, offered, rate, s, e),
                args.duration,
            )
            result["open_loop"] = {
                "offered_rate_per_s": round(rate, 1),
                **summarise(offered, start, end, True),
                **meter.as_dict(),
                "failures": offered.failures,
            }
    finally:
        await asyncio.gather(*(c.close() for c in customers))
    baseline_rate = result["baseline"]["rate_per_s"]
    result["ratio"] = round(peak / baseline_rate, 3) if baseline_rate else None
    # The same ratio from server CPU per request: what the server could do with a core to itself.
    step_cpu = result["steps"]["server_cpu_ms_per_request"]
    write_cpu = result["baseline"]["server_cpu_ms_per_request"]
    result["cpu_ratio"] = round(write_cpu / step_cpu, 3) if step_cpu and write_cpu else None
    return result


def run_database(name: str, args: argparse.Namespace) -> dict[str, Any]:
    log(f"{name}:")
    home = Path(tempfile.mkdtemp(prefix=f"wayline-bench-{name}-"))
    database_url = None
    if name == "postgres":
        database_url = fresh_postgres(args.postgres_admin_url, args.postgres_database)
    server = Server(database_url, home, args.log_level)
    try:
        server.start()
        result = asyncio.run(measure(server, args), debug=False)
    finally:
        server.stop()
        if args.keep_home:
            log(f"  data folder kept: {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)
    result["target_ratio"] = TARGETS[name]
    phases = [*(p for r in result["rounds"] for p in r.values()), result.get("open_loop", {})]
    failures = [f for phase in phases for f in phase.get("failures", [])]
    if failures:
        log(f"  {len(failures)} failed requests or claims (more in the JSON), first: {failures[0]}")
    return result


# --- reporting --------------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 100 else f"{value:.2f}"
    return str(value)


def markdown(report: dict[str, Any]) -> str:
    rows = [
        "| database | phase | rate /s | p50 ms | p95 ms | p99 ms | server CPU | "
        "server CPU ms/request | generator CPU | machine CPU | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, result in report["databases"].items():
        offered = result.get("open_loop", {}).get("offered_rate_per_s", 0)
        labels = {
            "baseline": "bare write, closed loop (peak)",
            "steps": "step submission, closed loop (peak)",
            "open_loop": f"step submission, open loop at {offered:g}/s",
        }
        for phase, label in labels.items():
            data = result.get(phase)
            if not data:
                continue
            rows.append(
                f"| {name} | {label} | {_fmt(data['rate_per_s'])} | {_fmt(data['p50_ms'])} | "
                f"{_fmt(data['p95_ms'])} | {_fmt(data['p99_ms'])} | {data['server_cpu_pct']}% | "
                f"{_fmt(data.get('server_cpu_ms_per_request'))} | "
                f"{data['generator_cpu_pct']}% | {data['machine_cpu_pct']}% | "
                f"{sum(data['errors'].values())} |"
            )
    rows += [
        "",
        "| database | peak steps /s | bare writes /s | ratio (target) | ratio by server CPU | "
        "open-loop p99 (target ≤ 50 ms) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, result in report["databases"].items():
        ratio, target = result.get("ratio") or 0.0, result["target_ratio"]
        verdict = "met" if ratio >= target else "not met"
        open_p99 = result.get("open_loop", {}).get("p99_ms")
        p99 = "–"
        if open_p99 is not None:
            met = "met" if open_p99 <= OPEN_LOOP_P99_TARGET_MS else "not met"
            p99 = f"{open_p99:.1f} ms ({met})"
        cpu_ratio = result.get("cpu_ratio")
        rows.append(
            f"| {name} | {_fmt(result['steps']['rate_per_s'])} | "
            f"{_fmt(result['baseline']['rate_per_s'])} | "
            f"{ratio * 100:.1f}% ({target * 100:.0f}%: {verdict}) | "
            f"{f'{cpu_ratio * 100:.1f}%' if cpu_ratio else '–'} | {p99} |"
        )
    rows.append("")
    rows.append(
        f"CPU is in % of one core; this machine has {report['machine']['cores']} cores, shared "
        "by the server, the load generator and anything else running (machine CPU)."
    )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Motor-claim step submissions per second over HTTP, beside a bare-write "
        "baseline measured in the same run."
    )
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--customers", type=int, default=16, help="concurrent virtual customers")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per phase")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="closed-loop rounds (bare writes, then steps); the best of each is the peak",
    )
    parser.add_argument(
        "--open-loop-fraction",
        type=float,
        default=0.5,
        help="open-loop offered load as a fraction of the measured closed-loop peak",
    )
    parser.add_argument("--no-open-loop", dest="open_loop", action="store_false")
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
    parser.add_argument("--log-level", default="INFO", help="the server's WAYLINE_LOG_LEVEL")
    parser.add_argument("--keep-home", action="store_true", help="keep the data folder")
    parser.add_argument("--output", type=Path, default=RESULTS, help="folder for the JSON")
    args = parser.parse_args(argv)
    if args.customers < 1 or args.duration <= 0 or args.rounds < 1:
        parser.error("--customers, --duration and --rounds must be positive")

    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()

    names = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    started = datetime.now(UTC)
    report: dict[str, Any] = {
        "benchmark": "journey_throughput",
        "started_at": started.isoformat(),
        "settings": {
            "customers": args.customers,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "rounds": args.rounds,
            "open_loop_fraction": args.open_loop_fraction,
            "log_level": args.log_level,
            "path": "start, policy, incident, upload, photos, upload, settlement (cash), "
            "payment-details, submit",
        },
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        },
        "databases": {},
    }
    for name in names:
        report["databases"][name] = run_database(name, args)
    table = markdown(report)
    print(table)
    args.output.mkdir(parents=True, exist_ok=True)
    out = args.output / f"journey_throughput-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
