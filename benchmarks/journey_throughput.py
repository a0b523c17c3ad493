#!/usr/bin/env python
"""Journey throughput over HTTP: what a motor-claim step submission costs Wayline's server,
against a bare-write baseline served the same way in the same run (issue 9's targets).

A program, not a test. For each database (SQLite, PostgreSQL) it:

1. makes a fresh data folder (and, for PostgreSQL, a fresh database of its own), runs
   `wayline migrate`, then starts two servers on the same database, each one uvicorn process
   with the same settings: `wayline serve` in demo mode (rate limits off: the benchmark is the
   script they exist to stop), and the baseline, benchmarks/baseline_app.py: a minimal
   Starlette app with none of Wayline's middleware, whose `POST /write` is one SQLAlchemy Core
   INSERT in its own transaction;
2. signs in N virtual customers (the demo customers, round robin), each with its own cookies
   and keep-alive connection, through the benchmark's own lean HTTP client (load_client.py:
   httpx would spend as much CPU per request as a cheap route costs the server);
3. warms both servers up, then measures closed-loop peaks (every customer sends its next
   request as soon as the last one answers):
   - **bare writes**: `POST /write` on the baseline;
   - **step submissions** on the theft branch of the motor claim (policy, incident, police,
     photos with no photo: no uploads), `POST /api/v1/journeys/{id}/steps/{step}`. Claims are
     started before the phase (untimed, and outside its CPU count), so the server's CPU in the
     phase is the step submissions' alone; a customer that runs out starts one inline, which
     is counted and reported (its cost then falls on the steps: the figure errs high);
   with `--rounds R` both are measured R times, alternately, and the best rate of each is the
   peak;
4. an **open-loop** phase: step submissions at a constant rate of half the step peak, each
   one's latency counted from when it was due to be sent (no coordinated omission: a slow
   server or a late generator cannot hide latency);
5. **uploads** on their own: `--upload-clients` customers upload a 12-megapixel phone photo
   (sample_photo.py, ~4 MB JPEG with EXIF) to claims' `damage_photos`, closed loop: uploads/s
   and server CPU per photo;
6. with `--profile`, two more phases under py-spy (profiles.py; not measured for the figures):
   the step load, for the top cumulative and own entries of the server and its CPU by layer;
   and the upload load, for where a photo's time goes (decode, hashes, EXIF, display copy,
   storage, multipart parsing, recording).

Every phase reports the CPU of the server under load, of this load generator and of the whole
machine (psutil if installed, /proc otherwise), in % of one core. Targets (printed met or not):
server CPU per step ≤ 3× the baseline's CPU per write; peak steps/s ≥ 30% of the baseline's
peak writes/s; open-loop p99 at half the peak ≤ 50 ms.

    python benchmarks/journey_throughput.py --database both --customers 16 --duration 15
    python benchmarks/journey_throughput.py --database sqlite --profile

Results: markdown on stdout, JSON in benchmarks/results/ (not committed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import profiles
from load_client import HttpFailure, Session, multipart
from reporting import clock_ticks, git_commit, process_cpu_seconds
from sample_photo import phone_photo

try:  # optional: `pip install -e '.[bench]'`; /proc is read otherwise (Linux)
    import psutil
except ImportError:  # pragma: no cover - depends on the environment
    psutil = None

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BASELINE_APP = Path(__file__).resolve().with_name("baseline_app.py")
DEMO_CUSTOMERS = ("alex", "sam", "jordan")
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES_DATABASE = "wayline_bench"
THEFT_STEPS = ("policy", "incident", "police", "photos")
PHOTOS_PER_CLAIM = 10  # damage_photos takes up to 10
# Issue 9's targets.
CPU_RATIO_TARGET = 3.0  # server CPU per step ≤ 3 × the baseline's CPU per write
PEAK_RATIO_TARGET = 0.30  # peak steps/s ≥ 30% of the baseline's peak writes/s
OPEN_LOOP_P99_TARGET_MS = 50.0


# --- CPU accounting ---------------------------------------------------------------------------


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine so far, summed over its cores."""
    if psutil is not None:
        times = psutil.cpu_times()
        return sum(times) - times.idle - getattr(times, "iowait", 0.0)
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:9]]
    return (sum(values) - values[3] - values[4]) / clock_ticks()


@dataclass
class CpuMeter:
    """CPU used during one phase by the server under load, this generator and the machine."""

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
        busy0 = machine_cpu_seconds()
        yield self
        self.wall = time.perf_counter() - wall0
        self.server = process_cpu_seconds(self.server_pid) - server0
        self.generator = process_cpu_seconds(os.getpid()) - generator0
        self.machine_busy = machine_cpu_seconds() - busy0

    def as_dict(self) -> dict[str, float]:
        """Each in % of one core (200% is both cores of a 2-core machine)."""

        def pct(seconds: float) -> float:
            return round(100 * seconds / self.wall, 1) if self.wall else 0.0

        return {
            "server_cpu_s": round(self.server, 3),
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
    status: int  # 0: no response


@dataclass
class Recorder:
    """The timed requests of one phase, the untimed ones by kind, and the first failures."""

    samples: list[Sample] = field(default_factory=list)
    other: dict[str, int] = field(default_factory=dict)
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
    rank = max(1, min(len(sorted_values), math.ceil(fraction * len(sorted_values))))
    return sorted_values[rank - 1]


def summarise(
    recorder: Recorder, start: float, end: float, ok_status: int = 200, open_loop: bool = False
) -> dict[str, Any]:
    """Rate of successful requests due and done inside [start, end], latency percentiles in
    ms, the other statuses, and how many succeeded in the whole phase (those still in flight at
    `end` finish inside the phase's CPU count, so CPU per request is divided by all of them)."""
    inside = [s for s in recorder.samples if start <= s.scheduled and s.done <= end]
    ok = [s for s in inside if s.status == ok_status]
    in_phase = sum(1 for s in recorder.samples if s.scheduled >= start and s.status == ok_status)
    errors: dict[str, int] = {}
    for s in inside:
        if s.status != ok_status:
            errors[str(s.status)] = errors.get(str(s.status), 0) + 1
    latencies = sorted(1000 * (s.done - s.scheduled) for s in ok)
    result: dict[str, Any] = {
        "duration_s": round(end - start, 2),
        "requests_ok": len(ok),
        "requests_ok_in_phase": in_phase,
        "errors": errors,
        "rate_per_s": round(len(ok) / (end - start), 1),
    }
    for name, fraction in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        value = percentile(latencies, fraction)
        result[f"{name}_ms"] = round(value, 2) if value is not None else None
    result["max_ms"] = round(latencies[-1], 2) if latencies else None
    if open_loop:  # how late the generator itself sent (part of the latency above)
        lag = sorted(1000 * (s.sent - s.scheduled) for s in ok)
        service = sorted(1000 * (s.done - s.sent) for s in ok)
        result["send_lag_p99_ms"] = round(percentile(lag, 0.99) or 0.0, 2)
        result["service_p99_ms"] = round(percentile(service, 0.99) or 0.0, 2)
    return result


# --- the virtual customers and their claims ---------------------------------------------------

# Yesterday in UTC: the server checks "not in the future" against its own UTC date.
INCIDENT_DATE = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()


class ClaimFailed(Exception):
    pass


class VirtualCustomer:
    """One signed-in customer: its own session cookie and keep-alive connections to Wayline,
    a session without cookies to the baseline, and the claims it has started and not finished."""

    def __init__(self, wayline_port: int, baseline_port: int, sign_in: str):
        self.sign_in = sign_in
        self.wayline = Session("127.0.0.1", wayline_port)
        self.baseline = Session("127.0.0.1", baseline_port)
        self.claims: deque[Claim] = deque()

    async def open(self) -> None:
        response = await self.wayline.request(
            "POST", "/auth/demo", json_body={"customer": self.sign_in}
        )
        if response.status != 204:
            raise ClaimFailed(f"sign-in as {self.sign_in}: {response.status} {response.text}")
        # API clients echo the CSRF cookie in a header on state-changing requests.
        token = self.wayline.cookies.get("wayline_csrf")
        if token:
            self.wayline.headers["X-CSRF-Token"] = token

    async def close(self) -> None:
        await self.wayline.close()
        await self.baseline.close()


class Claim:
    """A motor claim for a stolen car, driven through the API: policy, incident (theft), police,
    photos (none: a theft needs no photo), then it waits at check answers, unsent."""

    def __init__(self, customer: VirtualCustomer, recorder: Recorder):
        self.customer = customer
        self.recorder = recorder
        self.id = ""
        self.revision = 0
        self.body: dict[str, Any] = {}
        self.photos = 0  # uploaded so far (the upload phase)

    async def begin(self) -> None:
        response = await self.customer.wayline.request(
            "POST", "/api/v1/journeys", json_body={"type": "motor-claim"}
        )
        self.recorder.count("start", response.status)
        if response.status != 201:
            raise ClaimFailed(f"start: {response.status} {response.text[:300]}")
        self.body = response.json()
        self.id = self.body["id"]
        self.revision = self.body["revision"]

    @property
    def next_step(self) -> str | None:
        """The step to submit next, or None once only check answers is left."""
        current = self.body.get("current_step") or {}
        name = current.get("name")
        return name if name in THEFT_STEPS else None

    def answers(self, step: str) -> dict[str, Any]:
        fields = {f["name"]: f for f in self.body["current_step"]["fields"]}
        if step == "policy":
            chosen = fields["policy_number"]
            return {"policy_number": chosen["value"] or chosen["options"][0]["value"]}
        if step == "incident":
            return {
                "incident_date": INCIDENT_DATE,
                "incident_time": "23:40",
                "incident_type": "theft",
                "incident_postcode": "SW1A 1AA",
                "description": "The car was taken from the street outside our house overnight.",
            }
        if step == "police":
            return {"crime_reference": "CR-2026-118822"}
        if step == "photos":
            return {"damage_photos": []}
        raise ClaimFailed(f"unexpected step {step}")

    async def submit_step(self, step: str, scheduled: float | None = None) -> Sample:
        """The timed request: POST /api/v1/journeys/{id}/steps/{step}."""
        payload = {"answers": self.answers(step), "revision": self.revision}
        sent = time.perf_counter()
        try:
            response = await self.customer.wayline.request(
                "POST", f"/api/v1/journeys/{self.id}/steps/{step}", json_body=payload
            )
        except HttpFailure as failure:
            self.recorder.samples.append(Sample(scheduled or sent, sent, time.perf_counter(), 0))
            raise ClaimFailed(f"step {step}: {failure}") from failure
        sample = Sample(scheduled or sent, sent, time.perf_counter(), response.status)
        self.recorder.samples.append(sample)
        if response.status != 200:
            raise ClaimFailed(f"step {step}: {response.status} {response.text[:300]}")
        self.body = response.json()
        self.revision = self.body["revision"]
        return sample

    async def upload_photo(self, body: bytes, content_type: str) -> Sample:
        """The timed request of the upload phase: one photo for damage_photos."""
        sent = time.perf_counter()
        try:
            response = await self.customer.wayline.request(
                "POST",
                f"/api/v1/journeys/{self.id}/documents",
                body=body,
                content_type=content_type,
            )
        except HttpFailure as failure:
            self.recorder.samples.append(Sample(sent, sent, time.perf_counter(), 0))
            raise ClaimFailed(f"upload: {failure}") from failure
        sample = Sample(sent, sent, time.perf_counter(), response.status)
        self.recorder.samples.append(sample)
        self.photos += 1
        if response.status != 201:
            raise ClaimFailed(f"upload: {response.status} {response.text[:300]}")
        return sample


async def start_claims(customers: list[VirtualCustomer], per_customer: int) -> int:
    """Top every customer's stock of started claims up to `per_customer` (untimed); returns
    how many were started."""
    recorder = Recorder()

    async def top_up(customer: VirtualCustomer) -> int:
        started = 0
        while len(customer.claims) < per_customer:
            claim = Claim(customer, recorder)
            await claim.begin()
            customer.claims.append(claim)
            started += 1
        return started

    return sum(await asyncio.gather(*(top_up(c) for c in customers)))


def claims_needed(rate: float, duration: float, customers: int) -> int:
    """Started claims each customer needs for `duration` s of steps at `rate`/s in all (four
    steps a claim), with a margin of 2×: a customer that runs out starts one inline, whose CPU
    would fall on the steps, while a claim started in advance costs only time between phases."""
    return math.ceil(max(rate, 1.0) * duration * 2 / len(THEFT_STEPS) / customers) + 1


# --- load shapes ------------------------------------------------------------------------------


async def next_claim(customer: VirtualCustomer, recorder: Recorder) -> Claim:
    """The customer's next started claim with a step left; one is started (and counted) when
    none is left."""
    while customer.claims:
        claim = customer.claims[0]
        if claim.next_step is not None:
            claim.recorder = recorder
            return claim
        customer.claims.popleft()
    claim = Claim(customer, recorder)
    await claim.begin()
    recorder.count("started inline", 0)
    customer.claims.append(claim)
    return claim


async def closed_loop_steps(customers: list[VirtualCustomer], recorder: Recorder, until: float):
    """Each customer submits its claims' steps back to back until the deadline."""

    async def run(customer: VirtualCustomer) -> None:
        while time.perf_counter() < until:
            try:
                claim = await next_claim(customer, recorder)
                step = claim.next_step
                assert step is not None
                if time.perf_counter() >= until:
                    return
                await claim.submit_step(step)
            except (ClaimFailed, HttpFailure) as error:
                recorder.fail(str(error))
                if customer.claims:
                    customer.claims.popleft()  # its revision may be stale: drop it
                await asyncio.sleep(0.01)

    await asyncio.gather(*(run(c) for c in customers))


async def closed_loop_writes(customers: list[VirtualCustomer], recorder: Recorder, until: float):
    """Each customer sends `POST /write` to the baseline back to back until the deadline."""

    async def run(customer: VirtualCustomer) -> None:
        while time.perf_counter() < until:
            sent = time.perf_counter()
            try:
                response = await customer.baseline.request("POST", "/write")
                status = response.status
            except HttpFailure as failure:
                recorder.fail(f"write: {failure}")
                status = 0
            recorder.samples.append(Sample(sent, sent, time.perf_counter(), status))

    await asyncio.gather(*(run(c) for c in customers))


async def open_loop_steps(
    customers: list[VirtualCustomer], recorder: Recorder, rate: float, start: float, end: float
) -> int:
    """Step submissions at a constant arrival rate, from the customers' started claims taken
    round robin. At each scheduled instant one ready claim sends its next step and goes back
    to the end of the queue when answered; if none is ready, or the generator is late, the
    wait counts in that step's latency. Returns how many steps had to wait for a claim."""
    ready: asyncio.Queue[Claim] = asyncio.Queue()
    stocks = [list(c.claims) for c in customers]
    for c in customers:
        c.claims.clear()
    for row in range(max((len(s) for s in stocks), default=0)):
        for stock in stocks:
            if row < len(stock) and stock[row].next_step is not None:
                stock[row].recorder = recorder
                ready.put_nowait(stock[row])
    starved = 0

    async def fire(scheduled: float) -> None:
        nonlocal starved
        if ready.empty():
            starved += 1
        claim = await ready.get()
        step = claim.next_step
        assert step is not None
        try:
            await claim.submit_step(step, scheduled=scheduled)
        except (ClaimFailed, HttpFailure) as error:
            recorder.fail(str(error))
            return
        if claim.next_step is not None:
            ready.put_nowait(claim)

    tasks: set[asyncio.Task[None]] = set()
    sent = 0
    while (scheduled := start + sent / rate) < end:
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(fire(scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        sent += 1
    if tasks:
        await asyncio.wait(tasks, timeout=60)
    for task in tasks:
        task.cancel()
    while not ready.empty():  # what is left goes back to its customer
        claim = ready.get_nowait()
        claim.customer.claims.append(claim)
    return starved


async def closed_loop_uploads(
    customers: list[VirtualCustomer], recorder: Recorder, photo: bytes, until: float
) -> None:
    """Each customer uploads the photo to its claims' damage_photos back to back (ten to a
    claim, as many as the field takes) until the deadline."""
    body, content_type = multipart(
        {"field": "damage_photos"}, {"file": ("IMG_0001.jpg", photo, "image/jpeg")}
    )

    async def run(customer: VirtualCustomer) -> None:
        while time.perf_counter() < until:
            try:
                while customer.claims and customer.claims[0].photos >= PHOTOS_PER_CLAIM:
                    customer.claims.popleft()
                claim = await next_claim(customer, recorder)
                await claim.upload_photo(body, content_type)
            except (ClaimFailed, HttpFailure) as error:
                recorder.fail(str(error))
                await asyncio.sleep(0.05)

    await asyncio.gather(*(run(c) for c in customers))


# --- the servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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


def drop_postgres(admin_url: str, database: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def server_environment(database_url: str | None, home: Path, log_level: str) -> dict[str, str]:
    """What both servers run with: the same data folder and database, demo mode, production's
    log level, and no rate limits (the benchmark is the script they stop)."""
    env = {
        **os.environ,
        "WAYLINE_HOME": str(home),
        "WAYLINE_DEMO": "true",
        "WAYLINE_SECRET_KEY": secrets.token_urlsafe(32),
        "WAYLINE_JOURNEYS_DIR": str(ROOT / "journeys"),
        "WAYLINE_LOG_LEVEL": log_level,
        "WAYLINE_RATE_LIMITS": "off",
    }
    if database_url:
        env["WAYLINE_DATABASE_URL"] = database_url
    else:
        env.pop("WAYLINE_DATABASE_URL", None)
    return env


class ServerProcess:
    """One server process on a free port, with its output in a log file, ready once
    `ready_path` answers 200."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], home: Path):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [*command, "--host", "127.0.0.1", "--port", str(self.port)]
        self.env = env
        self.home = home
        self.log_path = home / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, ready_path: str) -> None:
        with self.log_path.open("wb") as log_file:
            self.process = subprocess.Popen(
                self.command, env=self.env, cwd=self.home, stdout=log_file, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}{ready_path}", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise SystemExit(f"{self.name} did not become ready:\n{self.log_tail()}")

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


def start_servers(env: dict[str, str], home: Path) -> tuple[ServerProcess, ServerProcess]:
    """`wayline migrate`, then `wayline serve` and the baseline app, both on the database."""
    subprocess.run(
        [*wayline_command(), "migrate"], env=env, cwd=home, check=True, capture_output=True
    )
    wayline = ServerProcess("wayline", [*wayline_command(), "serve"], env, home)
    baseline = ServerProcess("baseline", [sys.executable, str(BASELINE_APP)], env, home)
    wayline.start("/readyz")
    baseline.start("/ready")
    return wayline, baseline


# --- one database -----------------------------------------------------------------------------


async def phase(
    server_pid: int, body: Callable[[float, float], Awaitable[Any]], duration: float
) -> tuple[float, float, CpuMeter, Any]:
    """Run `body(start, end)` for `duration` seconds with the CPU meter on."""
    meter = CpuMeter(server_pid)
    start = time.perf_counter() + 0.05
    end = start + duration
    with meter.measure():
        outcome = await body(start, end)
    return start, end, meter, outcome


def cpu_ms_per_request(result: dict[str, Any]) -> float | None:
    """Server CPU milliseconds per successful request of the phase (CPU is metered until the
    last request in flight at the end has been answered)."""
    if not result["requests_ok_in_phase"]:
        return None
    return round(1000 * result["server_cpu_s"] / result["requests_ok_in_phase"], 3)


def phase_result(
    recorder: Recorder, start: float, end: float, meter: CpuMeter, ok_status: int = 200
) -> dict[str, Any]:
    result = {**summarise(recorder, start, end, ok_status), **meter.as_dict()}
    result["server_cpu_ms_per_request"] = cpu_ms_per_request(result)
    result["other_requests"] = recorder.other
    result["claims_started_inline"] = recorder.other.get("started inline 0", 0)
    result["failures"] = recorder.failures
    return result


async def measure(
    wayline: ServerProcess, baseline: ServerProcess, args: argparse.Namespace, home: Path
) -> dict[str, Any]:
    customers = [
        VirtualCustomer(wayline.port, baseline.port, DEMO_CUSTOMERS[i % len(DEMO_CUSTOMERS)])
        for i in range(args.customers)
    ]
    await asyncio.gather(*(c.open() for c in customers))
    result: dict[str, Any] = {"rounds": []}
    try:
        log(f"  warm-up {args.warmup:g}s")
        await closed_loop_writes(customers, Recorder(), time.perf_counter() + args.warmup / 3)
        await start_claims(customers, 2)
        warm = Recorder()
        await closed_loop_steps(customers, warm, time.perf_counter() + args.warmup)
        step_rate = len(warm.samples) / max(args.warmup, 0.1)

        for number in range(1, args.rounds + 1):
            round_: dict[str, Any] = {}
            log(f"  round {number}: bare writes on the baseline, closed loop")
            writes = Recorder()
            start, end, meter, _ = await phase(
                baseline.pid,
                lambda s, e, r=writes: closed_loop_writes(customers, r, e),
                args.duration,
            )
            round_["baseline"] = phase_result(writes, start, end, meter)

            started = await start_claims(
                customers, claims_needed(step_rate, args.duration, len(customers))
            )
            log(f"  round {number}: step submissions, closed loop ({started} claims started)")
            steps = Recorder()
            start, end, meter, _ = await phase(
                wayline.pid,
                lambda s, e, r=steps: closed_loop_steps(customers, r, e),
                args.duration,
            )
            round_["steps"] = phase_result(steps, start, end, meter)
            step_rate = max(step_rate, round_["steps"]["rate_per_s"])
            result["rounds"].append(round_)

        result["baseline"] = max((r["baseline"] for r in result["rounds"]), key=_rate)
        result["steps"] = max((r["steps"] for r in result["rounds"]), key=_rate)
        peak = result["steps"]["rate_per_s"]
        if args.open_loop and peak > 0:
            rate = peak * args.open_loop_fraction
            await start_claims(customers, claims_needed(rate, args.duration, len(customers)))
            log(f"  step submissions, open loop at {rate:.1f}/s")
            offered = Recorder()
            start, end, meter, starved = await phase(
                wayline.pid,
                lambda s, e: open_loop_steps(customers, offered, rate, s, e),
                args.duration,
            )
            result["open_loop"] = {
                "offered_rate_per_s": round(rate, 1),
                **summarise(offered, start, end, open_loop=True),
                **meter.as_dict(),
                "steps_that_waited_for_a_claim": starved,
                "failures": offered.failures,
            }
        if args.upload_duration > 0:
            result["uploads"] = await measure_uploads(customers, wayline, args)
        if args.profile:
            result["profiles"] = await profile(customers, wayline, args, home, step_rate)
    finally:
        await asyncio.gather(*(c.close() for c in customers))
    return result | targets(result)


def _rate(phase_: dict[str, Any]) -> float:
    return float(phase_["rate_per_s"])


async def measure_uploads(
    customers: list[VirtualCustomer], wayline: ServerProcess, args: argparse.Namespace
) -> dict[str, Any]:
    """The upload phase: uploads/s and server CPU per photo."""
    photo = phone_photo(args.photo_megapixels)
    uploaders = customers[: args.upload_clients]
    for customer in uploaders:  # fresh claims: their damage_photos is empty
        customer.claims.clear()
    await start_claims(uploaders, 2)
    log(f"  uploads of a {args.photo_megapixels:g} MP photo, closed loop, {len(uploaders)} clients")
    uploads = Recorder()
    start, end, meter, _ = await phase(
        wayline.pid,
        lambda s, e: closed_loop_uploads(uploaders, uploads, photo, e),
        args.upload_duration,
    )
    return {
        **phase_result(uploads, start, end, meter, ok_status=201),
        "clients": len(uploaders),
        "photo_bytes": len(photo),
        "photo_megapixels": args.photo_megapixels,
    }


async def profile(
    customers: list[VirtualCustomer],
    wayline: ServerProcess,
    args: argparse.Namespace,
    home: Path,
    step_rate: float,
) -> dict[str, Any]:
    """py-spy on the Wayline server under the step load, then under the upload load."""
    found: dict[str, Any] = {}
    await start_claims(customers, claims_needed(step_rate, args.profile_duration, len(customers)))
    log(f"  profile: step submissions, closed loop, {args.profile_duration:g}s under py-spy")
    # The GIL holder: what one Python process can do on one core is what bounds a step.
    recording = profiles.Recording(wayline.pid, home / "steps.txt", args.profile_duration, gil=True)
    await closed_loop_steps(customers, Recorder(), time.perf_counter() + args.profile_duration)
    stacks = await asyncio.to_thread(recording.finish)
    found["steps"] = profiles.summary(stacks, profiles.STEP_RULES, args.profile_top)
    found["steps"]["threads"] = "the thread holding the GIL"
    if args.upload_duration > 0:
        photo = phone_photo(args.photo_megapixels)
        uploaders = customers[: args.upload_clients]
        for customer in uploaders:
            customer.claims.clear()
        log(f"  profile: uploads, {args.profile_duration:g}s under py-spy")
        # Every running thread: Pillow decodes, resizes and encodes with the GIL released.
        recording = profiles.Recording(
            wayline.pid, home / "uploads.txt", args.profile_duration, gil=False
        )
        until = time.perf_counter() + args.profile_duration
        await closed_loop_uploads(uploaders, Recorder(), photo, until)
        stacks = await asyncio.to_thread(recording.finish)
        found["uploads"] = profiles.summary(stacks, profiles.UPLOAD_RULES, args.profile_top)
        found["uploads"]["threads"] = "every running thread"
    return found


def median_cpu_ms(result: dict[str, Any], phase_: str) -> float | None:
    """The median over the rounds of the server's CPU per request in one closed-loop phase:
    steadier than the peak round's own, which a busy machine disturbs most."""
    values = [r[phase_]["server_cpu_ms_per_request"] for r in result["rounds"]]
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 3) if known else None


def targets(result: dict[str, Any]) -> dict[str, Any]:
    """Issue 9's three targets, each with the measured figure and met or not (None: not
    measured). CPU per request is the median over the rounds; rates are the peak round's."""
    step_cpu = median_cpu_ms(result, "steps")
    write_cpu = median_cpu_ms(result, "baseline")
    cpu_ratio = round(step_cpu / write_cpu, 2) if step_cpu and write_cpu else None
    write_peak = result["baseline"]["rate_per_s"]
    peak_ratio = round(result["steps"]["rate_per_s"] / write_peak, 3) if write_peak else None
    p99 = (result.get("open_loop") or {}).get("p99_ms")
    return {
        "step_cpu_ms_median": step_cpu,
        "write_cpu_ms_median": write_cpu,
        "cpu_ratio": cpu_ratio,
        "cpu_ratio_met": None if cpu_ratio is None else cpu_ratio <= CPU_RATIO_TARGET,
        "peak_ratio": peak_ratio,
        "peak_ratio_met": None if peak_ratio is None else peak_ratio >= PEAK_RATIO_TARGET,
        "open_loop_p99_ms": p99,
        "open_loop_p99_met": None if p99 is None else p99 <= OPEN_LOOP_P99_TARGET_MS,
    }


def run_database(name: str, args: argparse.Namespace) -> dict[str, Any]:
    log(f"{name}:")
    home = Path(tempfile.mkdtemp(prefix=f"wayline-bench-{name}-"))
    database_url = None
    if name == "postgres":
        database_url = fresh_postgres(args.postgres_admin_url, args.postgres_database)
    servers: tuple[ServerProcess, ...] = ()
    load_before = os.getloadavg()
    try:
        servers = start_servers(server_environment(database_url, home, args.log_level), home)
        result = asyncio.run(measure(*servers, args, home))
    finally:
        for server in servers:
            server.stop()
        if args.keep_home:
            log(f"  data folder kept: {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)
            if database_url:
                drop_postgres(args.postgres_admin_url, args.postgres_database)
    result["load_average"] = {"before": load_before, "after": os.getloadavg()}
    phases = [*(p for r in result["rounds"] for p in r.values())]
    phases += [result.get("open_loop") or {}, result.get("uploads") or {}]
    failures = [f for p in phases for f in p.get("failures", [])]
    if failures:
        log(f"  {len(failures)} failed requests (more in the JSON), first: {failures[0]}")
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


def _verdict(met: bool | None) -> str:
    return "not measured" if met is None else ("**met**" if met else "**not met**")


def limit_of(phase_: dict[str, Any]) -> str:
    """What the phase's CPU figures say bounded it (a reading of the meters, not a profile)."""
    server, machine = phase_["server_cpu_pct"], phase_["machine_cpu_pct"]
    cores = 100 * phase_["cores"]
    if server >= 85:
        return "the server's core (its process used about one core)"
    if machine >= 0.9 * cores:
        return f"the machine (all cores busy; the server got {server:.0f}% of one)"
    return "neither server nor machine CPU: waiting (locks, I/O or the generator)"


def markdown(report: dict[str, Any]) -> str:
    return "\n\n".join(
        [
            phases_table(report),
            targets_table(report),
            uploads_table(report),
            *profile_sections(report),
            f"CPU is in % of one core; this machine has {report['machine']['cores']} cores, "
            "shared by the servers, the load generator and anything else running (machine CPU).",
        ]
    )


def phases_table(report: dict[str, Any]) -> str:
    rows = [
        "| database | phase | rate /s | p50 ms | p95 ms | p99 ms | server CPU | "
        "server CPU ms/request | generator CPU | machine CPU | errors | bounded by |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, result in report["databases"].items():
        offered = (result.get("open_loop") or {}).get("offered_rate_per_s", 0)
        labels = {
            "baseline": "baseline bare write, closed loop (peak)",
            "steps": "step submission (theft), closed loop (peak)",
            "open_loop": f"step submission, open loop at {offered:g}/s",
            "uploads": "12 MP photo upload, closed loop",
        }
        for key, label in labels.items():
            data = result.get(key)
            if not data:
                continue
            rows.append(
                f"| {name} | {label} | {_fmt(data['rate_per_s'])} | {_fmt(data['p50_ms'])} | "
                f"{_fmt(data['p95_ms'])} | {_fmt(data['p99_ms'])} | {data['server_cpu_pct']}% | "
                f"{_fmt(data.get('server_cpu_ms_per_request'))} | "
                f"{data['generator_cpu_pct']}% | {data['machine_cpu_pct']}% | "
                f"{sum(data['errors'].values())} | {limit_of(data)} |"
            )
    inline = [
        f"{name}: {data['claims_started_inline']}"
        for name, result in report["databases"].items()
        for data in (result.get("steps"), result.get("uploads"))
        if data and data.get("claims_started_inline")
    ]
    if inline:
        rows += [
            "",
            "Claims started inline during a measured phase, their CPU counted in it (the "
            f"figure per request errs high): {', '.join(inline)}.",
        ]
    return "\n".join(rows)


def targets_table(report: dict[str, Any]) -> str:
    rows = [
        "| database | target | measured | verdict |",
        "| --- | --- | --- | --- |",
    ]
    for name, r in report["databases"].items():
        steps, base = r["steps"], r["baseline"]
        cpu = (
            f"{_fmt(r['step_cpu_ms_median'])} ms per step vs "
            f"{_fmt(r['write_cpu_ms_median'])} ms per write (medians of "
            f"{len(r['rounds'])} rounds): {_fmt(r['cpu_ratio'])}×"
        )
        peak = f"{_fmt(steps['rate_per_s'])} steps/s vs {_fmt(base['rate_per_s'])} writes/s: " + (
            f"{r['peak_ratio'] * 100:.1f}%" if r["peak_ratio"] is not None else "–"
        )
        open_loop = r.get("open_loop") or {}
        p99 = f"{_fmt(open_loop.get('p99_ms'))} ms at {_fmt(open_loop.get('offered_rate_per_s'))}/s"
        rows += [
            f"| {name} | server CPU per step ≤ {CPU_RATIO_TARGET:g}× baseline CPU per write | "
            f"{cpu} | {_verdict(r['cpu_ratio_met'])} |",
            f"| {name} | peak steps/s ≥ {PEAK_RATIO_TARGET:.0%} of baseline peak writes/s | "
            f"{peak} | {_verdict(r['peak_ratio_met'])} |",
            f"| {name} | open-loop p99 at half the peak ≤ {OPEN_LOOP_P99_TARGET_MS:g} ms | "
            f"{p99} | {_verdict(r['open_loop_p99_met'])} |",
        ]
    return "\n".join(rows)


def uploads_table(report: dict[str, Any]) -> str:
    rows = [
        "| database | photo | clients | uploads/s | server CPU ms per photo | "
        "p50 / p99 ms | server CPU | machine CPU | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in report["databases"].items():
        u = r.get("uploads")
        if not u:
            continue
        rows.append(
            f"| {name} | {u['photo_megapixels']:g} MP JPEG, {u['photo_bytes'] / 1e6:.1f} MB | "
            f"{u['clients']} | {_fmt(u['rate_per_s'])} | "
            f"{_fmt(u['server_cpu_ms_per_request'])} | "
            f"{_fmt(u['p50_ms'])} / {_fmt(u['p99_ms'])} | {u['server_cpu_pct']}% | "
            f"{u['machine_cpu_pct']}% | {sum(u['errors'].values())} |"
        )
    return "\n".join(rows)


def profile_sections(report: dict[str, Any]) -> list[str]:
    sections = []
    for name, r in report["databases"].items():
        found = r.get("profiles") or {}
        for load, title in (("steps", "step submissions"), ("uploads", "photo uploads")):
            data = found.get(load)
            if not data:
                continue
            sections += [
                f"**{name}, {title}: the server's CPU by layer** (py-spy, {data['samples']} "
                f"samples of {data['threads']}, each charged to the innermost layer it was in)",
                profiles.markdown("layer", data["by_category"]),
                f"**{name}, {title}: top cumulative entries**",
                profiles.markdown("function (anywhere on the stack)", data["cumulative"]),
                f"**{name}, {title}: top own entries**",
                profiles.markdown("function (running itself)", data["own"]),
            ]
    return sections


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Step submissions over HTTP against a bare-write baseline, same run."
    )
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--customers", type=int, default=16, help="concurrent virtual customers")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per phase")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds")
    parser.add_argument(
        "--rounds", type=int, default=1, help="closed-loop rounds; the best of each is the peak"
    )
    parser.add_argument(
        "--open-loop-fraction",
        type=float,
        default=0.5,
        help="open-loop offered load as a fraction of the closed-loop step peak",
    )
    parser.add_argument("--no-open-loop", dest="open_loop", action="store_false")
    parser.add_argument(
        "--upload-duration", type=float, help="seconds of uploads (default: --duration; 0: none)"
    )
    parser.add_argument("--upload-clients", type=int, default=4, help="concurrent uploaders")
    parser.add_argument("--photo-megapixels", type=float, default=12.0)
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the server under the step and upload loads"
    )
    parser.add_argument("--profile-duration", type=float, help="default: --duration")
    parser.add_argument("--profile-top", type=int, default=25, help="entries per profile table")
    parser.add_argument(
        "--postgres-admin-url",
        default=os.environ.get("WAYLINE_BENCH_POSTGRES_ADMIN_URL", POSTGRES_ADMIN_URL),
        help="a PostgreSQL URL allowed to create the benchmark's database",
    )
    parser.add_argument(
        "--postgres-database",
        default=POSTGRES_DATABASE,
        help="dropped, recreated and dropped again by the run (never point this at real data)",
    )
    parser.add_argument("--log-level", default="INFO", help="the server's WAYLINE_LOG_LEVEL")
    parser.add_argument("--keep-home", action="store_true", help="keep the data folder and DB")
    parser.add_argument("--output", type=Path, default=RESULTS, help="folder for the JSON")
    args = parser.parse_args(argv)
    if args.customers < 1 or args.duration <= 0 or args.rounds < 1 or args.upload_clients < 1:
        parser.error("--customers, --duration, --rounds and --upload-clients must be positive")
    args.upload_duration = args.duration if args.upload_duration is None else args.upload_duration
    args.upload_clients = min(args.upload_clients, args.customers)
    args.profile_duration = args.profile_duration or args.duration
    if args.profile and profiles.py_spy() is None:
        parser.error("--profile needs py-spy: .venv/bin/pip install -e '.[bench]'")

    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()

    names = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    started = datetime.now(UTC)
    report: dict[str, Any] = {
        "benchmark": "journey_throughput",
        "started_at": started.isoformat(),
        "commit": git_commit(),
        "settings": {
            key: (str(value) if isinstance(value, Path) else value)
            for key, value in vars(args).items()
        },
        "path": "theft branch: policy, incident, police, photos (no upload); claims started "
        "before each phase",
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": list(os.getloadavg()),
        },
        "databases": {},
    }
    for name in names:
        report["databases"][name] = run_database(name, args)
    print(markdown(report))
    args.output.mkdir(parents=True, exist_ok=True)
    out = args.output / f"journey_throughput-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
