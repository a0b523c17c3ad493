"""Helpers for the reliability tests: fault control of the partner simulators, connectors
configuration pointing at them, a real application server, the motor claim filed over HTTP,
the effect worker (in this process or as a `wayline worker` process), and what the partners
and the database hold at the end.

Everything speaks HTTP on loopback: the customer to the API, Wayline to the partners, and the
tests to the simulators' `/_sandbox/faults`, `/payouts` and `/messages`.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import select, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from journey_api import (  # noqa: E402  (the integration tests' HTTP helpers)
    JOURNEYS_DIR,
    REPO,
    WAYLINE,
    Api,
    field_of,
    incident,
    png_bytes,
    server_env,
    threaded_server,
)

from wayline.runtime.worker import Worker  # noqa: E402
from wayline.sandbox.server import Sandbox  # noqa: E402
from wayline.store import (
    Store,  # noqa: E402
    tables,  # noqa: E402
)

__all__ = [
    "JOURNEYS_DIR",
    "WAYLINE",
    "Api",
    "field_of",
    "server_env",
    "threaded_server",
]

PAYMENTS = "payment_provider"
NOTIFICATIONS = "notification_provider"
AMOUNT = "850"
AMOUNT_PENCE = 85_000
# Each approved cash claim sends these, by email and by SMS.
TEMPLATES = ("claim_received", "decision", "payment_sent")

# Quick connectors for tests: short backoff, a breaker that opens after 5 failures in a row
# and lets a trial call through after a quarter of a second.
FAST_POLICY = {
    "connect_timeout": 1.0,
    "read_timeout": 5.0,
    "retries": 3,
    "backoff_base": 0.01,
    "backoff_max": 0.1,
    "breaker_failures": 5,
    "breaker_reset": 0.25,
}


# --- the simulators -----------------------------------------------------------------------------


def set_faults(sandbox: Sandbox, partner: str, **settings: Any) -> dict[str, Any]:
    """Replace a simulator's faults over its control route (PUT /_sandbox/faults)."""
    response = httpx.put(f"{sandbox.urls()[partner]}/_sandbox/faults", json=settings, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def calm(sandbox: Sandbox) -> None:
    """No more faults anywhere (the inspection routes fail with the rest)."""
    for partner in sandbox.partners:
        set_faults(sandbox, partner)


def fault_counts(sandbox: Sandbox, partner: str) -> dict[str, Any]:
    response = httpx.get(f"{sandbox.urls()[partner]}/_sandbox/faults", timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def payouts(sandbox: Sandbox) -> list[dict[str, Any]]:
    response = httpx.get(f"{sandbox.urls()[PAYMENTS]}/payouts", timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def paid_so_far(sandbox: Sandbox) -> int:
    """How many payouts the provider's ledger holds, read in this process: the HTTP route
    fails along with the rest of the provider during an outage."""
    ledger = sandbox.partners[PAYMENTS].app.state.ledger
    with ledger.lock:
        return len(ledger.payouts)


def messages(sandbox: Sandbox) -> list[dict[str, Any]]:
    response = httpx.get(f"{sandbox.urls()[NOTIFICATIONS]}/messages", timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def messages_about(sandbox: Sandbox, reference: str) -> Counter[tuple[str, str]]:
    """The messages the provider holds about a claim, by (channel, kind of message)."""
    kinds = {
        "We have received": "claim_received",
        "has been looked at": "decision",
        "Update on your claim": "decision",
        "We have paid": "payment_sent",
    }
    found: Counter[tuple[str, str]] = Counter()
    for message in messages(sandbox):
        text = f"{message.get('subject') or ''} {message['body']}"
        if reference not in text:
            continue
        kind = next((k for phrase, k in kinds.items() if phrase in text), "other")
        found[(message["channel"], kind)] += 1
    return found


@dataclass
class CallLog:
    """Every call a simulator's ledger saw, by idempotency key (a spy on the real ledger)."""

    calls: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    after: Callable[[str], None] | None = None  # run after the work is done, before answering

    def record(self, key: str) -> None:
        with self.lock:
            self.calls[key] += 1
        if self.after is not None:
            self.after(key)


def spy_on_payouts(sandbox: Sandbox) -> CallLog:
    ledger = sandbox.partners[PAYMENTS].app.state.ledger
    return _spy(ledger, "pay")


def spy_on_messages(sandbox: Sandbox) -> CallLog:
    outbox = sandbox.partners[NOTIFICATIONS].app.state.outbox
    return _spy(outbox, "send")


def _spy(target: Any, method: str) -> CallLog:
    log = CallLog()
    original = getattr(target, method)

    def spied(key: str, request: Any) -> Any:
        result = original(key, request)
        log.record(key)
        return result

    setattr(target, method, spied)
    return log


def connectors_file(folder: Path, urls: dict[str, str], **policy: Any) -> Path:
    """A copy of connectors.yaml pointing at the sandbox, with quick retries and breaker."""
    document = yaml.safe_load((REPO / "connectors.yaml").read_text(encoding="utf-8"))
    document["defaults"] = {**document.get("defaults", {}), **FAST_POLICY, **policy}
    for name, options in document["partners"].items():
        options["base_url"] = urls[name]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "connectors.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


# --- the customer, over HTTP ---------------------------------------------------------------------


@contextmanager
def customer_api(app: Any, customer: str = "alex") -> Iterator[Api]:
    """A customer signed in to the application served by uvicorn on a loopback port."""
    with threaded_server(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        yield Api(http).sign_in(customer)


def file_cash_claim(api: Api, amount: str = AMOUNT) -> dict[str, Any]:
    """Alex's claim for glass damage, cash settlement to his own account: approved straight
    through once the checks have run. Returns the journey as submitted."""
    journey = api.start()
    journey = api.step(
        journey, "policy", {"policy_number": field_of(journey, "policy_number")["value"]}
    )
    journey = api.step(journey, "incident", incident("glass"))
    photo = api.upload(journey, "damage_photos", png_bytes(), "windscreen.png")
    journey = api.step(journey, "photos", {"damage_photos": [photo]})
    estimate = api.upload(journey, "estimate_document", png_bytes(), "estimate.png")
    journey = api.step(
        journey,
        "settlement",
        {"settlement": "cash", "estimate_amount": amount, "estimate_document": [estimate]},
    )
    account = field_of(journey, "payout_account")["value"]
    assert account, "Alex's own account should be offered, prefilled from core banking"
    journey = api.step(journey, "payment-details", {"payout_account": account})
    submitted = api.submit(journey)
    assert submitted["reference"], submitted
    return submitted


def events_of(api: Api, journey_id: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in api.journey(journey_id)["events"] if e["type"] == kind]


# --- the effect queue ----------------------------------------------------------------------------


def effect_rows(store: Store) -> list[dict[str, Any]]:
    e = tables.effects.c
    with store.read() as connection:
        rows = connection.execute(
            select(e.id, e.journey_id, e.kind, e.key, e.status, e.attempts, e.last_error)
        ).all()
    return [row._asdict() for row in rows]


def is_payout(row: dict[str, Any]) -> bool:
    """An outbox row of the motor claim's payout: its `call:` effect named payout."""
    return row["kind"] == "call" and ":call:payout:" in row["key"]


def settled(store: Store, journey_ids: list[str], unless: tuple[str, ...] = ()) -> bool:
    """Every effect of these journeys has run (each claim is paid), except timers not yet due
    (deadlines) and the effects `unless` names."""
    rows = [
        r for r in effect_rows(store) if r["journey_id"] in journey_ids and r["id"] not in unless
    ]
    paid = {r["journey_id"] for r in rows if is_payout(r) and r["status"] == "done"}
    busy = [r for r in rows if r["kind"] != "deadline" and r["status"] != "done"]
    return paid == set(journey_ids) and not busy


def drain(
    worker: Worker,
    until: Callable[[], bool],
    timeout: float,
    each: Callable[[], None] | None = None,
) -> None:
    """Run the worker until `until()` holds, calling `each` after every round."""
    deadline = time.monotonic() + timeout
    while True:
        ran = worker.run_due()
        if each is not None:
            each()
        if until():
            return
        if time.monotonic() > deadline:
            queue = [r for r in effect_rows(worker.store) if r["status"] != "done"]
            raise AssertionError(f"not settled within {timeout}s; queue: {queue}")
        if ran == 0:
            time.sleep(0.02)


def expire_leases(store: Store) -> int:
    """What the passing of the lease time does after a worker dies: its effects are due again.
    (The lease is 60 s; the tests do not wait for it.)"""
    now = datetime.now(UTC)
    e = tables.effects.c
    with store.write() as connection:
        result = connection.execute(
            update(tables.effects).where(e.status == "running").values(available_at=now)
        )
    return result.rowcount


# --- `wayline worker` as a process ---------------------------------------------------------------


class WorkerProcess:
    """`wayline worker` in its own process, its output kept in a file."""

    def __init__(self, env: dict[str, str], cwd: Path, output: Path, poll: float = 0.05):
        self.env = env
        self.cwd = cwd
        self.output = output
        self.args = [str(WAYLINE), "worker", "--poll", str(poll)]
        self.process: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        with open(self.output, "ab") as out:
            self.process = subprocess.Popen(
                self.args, env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no rollback, nothing graceful."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.output.read_text(errors="replace")


def worker_env(home: Path, database_url: str, connectors: Path, **extra: str) -> dict[str, str]:
    return server_env(
        home,
        database_url,
        WAYLINE_CONNECTORS=str(connectors),
        WAYLINE_LOG_LEVEL="INFO",
        COLUMNS="250",  # wide tables from `wayline effects list`
        **extra,
    )


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        [str(WAYLINE), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def wait_for(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    step: float = 0.01,
    worker: WorkerProcess | None = None,
) -> None:
    """Wait until `condition()` holds; fail at once if `worker` exits on its own."""
    deadline = time.monotonic() + timeout
    while not condition():
        if worker is not None and not worker.alive():
            raise AssertionError(f"{what}: the worker exited first:\n{worker.log()[-3000:]}")
        assert time.monotonic() < deadline, f"{what}: not within {timeout}s"
        time.sleep(step)
