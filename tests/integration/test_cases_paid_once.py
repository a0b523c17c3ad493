"""A handler's decision carried on by the real worker, with the partners as HTTP services on
loopback: Morgan approves a £6,000 payout Casey proposed and the customer is paid once and
told; Riley asks Jordan for more information and Jordan is sent the more_information
message. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cases_kit import casey, morgan, riley, sent_claim
from fastapi.testclient import TestClient
from journey_api import Api

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.runtime.clock import FixedClock
from wayline.sandbox.server import Sandbox
from wayline.sandbox.wiring import demo_options
from wayline.store import cases as case_rows
from wayline.web.app import create_app


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    running = Sandbox().start()
    yield running
    running.stop()


@pytest.fixture
def system(
    make_settings: Callable[..., Settings], sandbox: Sandbox, tmp_path: Path
) -> Iterator[Components]:
    connectors = tmp_path / "connectors.yaml"
    connectors.write_text(
        yaml.safe_dump(
            {
                "defaults": {"retries": 2, "backoff_base": 0.001, "backoff_max": 0.005},
                "partners": {name: {"base_url": url} for name, url in sandbox.urls().items()},
            }
        )
    )
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    settings = make_settings(operations_email="ops@example.com", connectors=connectors)
    components = build(
        settings, migrate=True, clock=clock, **demo_options(in_process_sources=False)
    )
    yield components
    components.store.engine.dispose()
    if components.partners:
        components.partners.close()


@pytest.fixture
def customer(system: Components) -> Iterator[Callable[[str], Api]]:
    app = create_app(system)
    opened: list[TestClient] = []

    def make(name: str) -> Api:
        http = TestClient(app)
        opened.append(http)
        return Api(http).sign_in(name)

    yield make
    for http in opened:
        http.close()


def drain(system: Components) -> None:
    worker = system.worker(base_delay=0.001)
    for _ in range(30):
        if worker.run_due() == 0:
            return


def payouts_for(sandbox: Sandbox, reference: str) -> list[dict[str, Any]]:
    paid = httpx.get(f"{sandbox.urls()['payment_provider']}/payouts").json()
    return [p for p in paid if p["reference"] == reference]


def subjects_for(sandbox: Sandbox, reference: str) -> list[str]:
    sent = httpx.get(f"{sandbox.urls()['notification_provider']}/messages").json()
    return [m.get("subject") for m in sent if m["channel"] == "email" and reference in m["body"]]


def open_case(system: Components, journey_id: str) -> str:
    with system.store.read() as connection:
        case = case_rows.open_case_of(connection, journey_id)
    assert case is not None
    return case.id


def test_morgan_approves_casey_s_proposal_and_alex_is_paid_once_and_told(system, customer, sandbox):
    alex = customer("alex")
    sent = sent_claim(alex, settlement="cash", amount="6000")
    drain(system)
    assert alex.journey(sent["id"])["status"] == "in_review"
    assert payouts_for(sandbox, sent["reference"]) == []
    case_id = open_case(system, sent["id"])
    system.cases.claim(casey(), case_id)
    system.cases.decide(casey(), case_id, "approve", "verified")
    drain(system)
    assert payouts_for(sandbox, sent["reference"]) == []  # a proposal pays nothing
    system.cases.decide(morgan(), case_id, "approve", "verified")
    drain(system)
    drain(system)
    payouts = payouts_for(sandbox, sent["reference"])
    assert [p["amount_pence"] for p in payouts] == [600000]
    journey = alex.journey(sent["id"])
    assert (journey["status"], journey["outcome"]["outcome"]) == ("decided", "approved")
    assert [e["type"] for e in journey["events"]].count("payment.sent") == 1
    subjects = subjects_for(sandbox, sent["reference"])
    reference = sent["reference"]
    # Told it was received, that it was being looked at, the decision, and the payment.
    assert subjects.count(f"Update on your claim {reference}") == 2
    assert subjects.count(f"We have paid your claim {reference}") == 1


def test_riley_asks_jordan_for_more_information_and_jordan_is_told(system, customer, sandbox):
    jordan = customer("jordan")
    sent = sent_claim(jordan)
    drain(system)
    case_id = open_case(system, sent["id"])
    system.cases.claim(riley(), case_id)
    task = system.cases.request_information(riley(), case_id, code="parked_where")
    drain(system)
    reference = sent["reference"]
    assert (
        subjects_for(sandbox, reference).count(
            f"We need more information about your claim {reference}"
        )
        == 1
    )
    system.cases.answer_task("jordan", sent["id"], task.id, "In the supermarket car park")
    system.cases.decide(riley(), case_id, "approve", "evidence_received")
    drain(system)
    journey = jordan.journey(sent["id"])
    assert journey["outcome"]["outcome"] == "approved"
    assert "effect.done" in [e["type"] for e in journey["events"]]
    assert not [e for e in journey["events"] if e["type"].startswith("case.")]
