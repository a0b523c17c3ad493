"""How a journey ends, and what it holds, through the API and the effect worker with the
partners as real HTTP services on loopback, on SQLite and PostgreSQL: a held effect does not
run before its time and runs once after; the customer cancels one before it runs; the
journey is completed by an effect's result, withdrawn by the customer, expired by time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from journey_api import Api
from prometheus_client import REGISTRY
from sqlalchemy import select

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.runtime.clock import FixedClock
from wayline.sandbox.server import Sandbox
from wayline.sandbox.wiring import demo_options
from wayline.store import outbox, tables
from wayline.web.app import create_app

# A small payment: sent after a 30-minute pause the customer may cancel; small amounts are
# decided at once (the decision completes the journey), larger ones wait.
TRANSFER = """\
journey: transfer
title: Send money
reference_prefix: TRF
abandon_after: P7D
fulfilment:
  completed_when: decision.outcome == "approved"
  withdraw_while: [in_progress, submitted]
computed:
  fee:
    type: money
    currency: GBP
    label: Our fee
    explanation: One per cent of the amount, at least 50p.
    expression: maximum("0.50", round_half_even(percent_of("1", answers.amount), 2))
steps:
  - name: payment
    title: The payment
    fields:
      - name: full_name
        type: text
        label: Your name
        classification: personal
        required: Enter your name
        prefill: {source: customer, expression: name}
      - name: amount
        type: money
        currency: GBP
        label: Amount
        classification: internal
        required: Enter an amount
  - name: confirm
    title: Confirm
    show: [fee]
    fields:
      - name: sure
        type: yes_no
        label: Send it?
        classification: internal
        required: Say whether to send it
declaration:
  text: It is all true
decision:
  outcomes:
    - outcome: large
      status: in_review
      reasons:
        - when: compare(answers.amount, "1000") >= 0
          reason: A large payment is checked by hand
  otherwise: approved
effects:
  - kind: notify
    after: PT30M
    title: Your payment
    params: {template: sent}
  - kind: run_checks
    when: compare(answers.amount, "1000") < 0
  - kind: notify
    at: completed
    params: {template: done}
recipient:  # who the messages go to: the customer record in the demo data
  source: customer
  name: data.customer.name
  email: data.customer.email
notifications:
  done:
    email:
      subject: All done
      body: "{reference} is complete."
  sent:
    email:
      subject: Payment {reference}
      body: Your payment {reference} is on its way. Our fee is {computed.fee}.
"""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    running = Sandbox().start()
    yield running
    running.stop()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def system(
    make_settings: Callable[..., Settings], sandbox: Sandbox, clock: FixedClock, tmp_path: Path
) -> Iterator[Components]:
    journeys = tmp_path / "journeys"
    (journeys / "fragments").mkdir(parents=True)
    (journeys / "transfer.yaml").write_text(TRANSFER, encoding="utf-8")
    connectors = tmp_path / "connectors.yaml"
    partners = {name: {"base_url": url} for name, url in sandbox.urls().items()}
    connectors.write_text(yaml.safe_dump({"partners": partners}), encoding="utf-8")
    settings = make_settings(connectors=connectors, journeys_dir=journeys)
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
    for _ in range(20):
        if worker.run_due() == 0:
            return


def messages_for(sandbox: Sandbox, reference: str) -> list[dict[str, Any]]:
    sent = httpx.get(f"{sandbox.urls()['notification_provider']}/messages").json()
    return [m for m in sent if reference in (m.get("subject") or "")]


def sent(api: Api, amount: str = "250") -> dict[str, Any]:
    journey = api.start("transfer")
    journey = api.step(journey, "payment", {"full_name": "Alex Morgan", "amount": amount})
    assert journey["current_step"]["show"] == [
        {
            "name": "fee",
            "label": "Our fee",
            "type": "money",
            "value": max(f"{float(amount) / 100:.2f}", "0.50", key=float),
            "currency": "GBP",
            "explanation": "One per cent of the amount, at least 50p.",
        }
    ]
    journey = api.step(journey, "confirm", {"sure": True})
    return api.submit(journey)


def effect_status(system: Components, key: str) -> str:
    """The outbox status of the effect queued under `key`."""
    effects = tables.effects.c
    with system.store.read() as connection:
        return str(connection.execute(select(effects.status).where(effects.key == key)).scalar())


def test_a_held_effect_waits_for_its_time_and_runs_once(system, customer, sandbox, clock):
    alex = customer("alex")
    journey = sent(alex)
    assert journey["computed"][0]["value"] == "2.50"
    [hold] = journey["holds"]
    assert hold["until"] == (clock.now() + timedelta(minutes=30)).isoformat()
    assert hold["title"] == "Your payment"
    assert hold["status"] == "held" and hold["cancellable"] is True

    drain(system)
    clock.advance(timedelta(minutes=29))
    drain(system)
    assert messages_for(sandbox, journey["reference"]) == []
    after = alex.journey(journey["id"])
    assert after["status"] == "completed"  # the decision (run_checks' result) completed it
    sent_to_all = httpx.get(f"{sandbox.urls()['notification_provider']}/messages").json()
    done = [m for m in sent_to_all if m["body"] == f"{journey['reference']} is complete."]
    assert len(done) == 1  # the effect declared `at: completed`, once
    assert after["ended"] == {"status": "completed", "at": after["ended"]["at"], "by": "effect"}
    assert after["holds"] == [hold]  # a completed journey still sends what it held

    clock.advance(timedelta(minutes=2))
    drain(system)
    drain(system)
    [message] = messages_for(sandbox, journey["reference"])
    assert message["body"].endswith("Our fee is £2.50.")  # a computed value, in words
    assert alex.journey(journey["id"])["holds"] == []
    assert effect_status(system, hold["key"]) == "done"


def test_the_customer_cancels_a_hold_before_it_runs(system, customer, sandbox, clock):
    alex = customer("alex")
    journey = sent(alex)
    key = journey["holds"][0]["key"]
    url = f"/api/v1/journeys/{journey['id']}/holds/cancel"

    sam = customer("sam")
    assert sam.http.post(url, json={"revision": journey["revision"], "key": key}).status_code == 404
    unknown = alex.http.post(url, json={"revision": journey["revision"], "key": "zz"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "key"

    response = alex.http.post(url, json={"revision": journey["revision"], "key": key})
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["holds"][0]["status"] == "cancelled"
    assert cancelled["holds"][0]["cancellable"] is False

    again = alex.http.post(url, json={"revision": cancelled["revision"], "key": key})
    assert again.status_code == 409

    clock.advance(timedelta(hours=1))
    drain(system)
    assert messages_for(sandbox, journey["reference"]) == []
    assert effect_status(system, key) == "cancelled"
    alex = customer("alex")  # the first sign-in has lapsed meanwhile
    events = [e["type"] for e in alex.journey(journey["id"])["events"]]
    assert events.count("effect.cancelled") == 1


def test_a_hold_that_has_begun_cannot_be_cancelled(system, customer, sandbox, clock):
    alex = customer("alex")
    journey = sent(alex)
    key = journey["holds"][0]["key"]
    clock.advance(timedelta(minutes=31))
    drain(system)
    alex = customer("alex")  # the first sign-in may have lapsed meanwhile
    latest = alex.journey(journey["id"])
    response = alex.http.post(
        f"/api/v1/journeys/{journey['id']}/holds/cancel",
        json={"revision": latest["revision"], "key": key},
    )
    assert response.status_code == 409
    assert alex.journey(journey["id"])["revision"] == latest["revision"]  # nothing written
    assert len(messages_for(sandbox, journey["reference"])) == 1


def test_withdrawing_a_sent_journey_cancels_what_it_holds(system, customer, sandbox, clock):
    alex = customer("alex")
    journey = sent(alex, amount="5000")  # large: it waits for a handler
    drain(system)
    journey = alex.journey(journey["id"])
    assert journey["status"] == "submitted" and journey["may_withdraw"] is True
    url = f"/api/v1/journeys/{journey['id']}/withdraw"
    assert customer("sam").http.post(url, json={"revision": journey["revision"]}).status_code == 404
    response = alex.http.post(url, json={"revision": journey["revision"]})
    assert response.status_code == 200, response.text
    withdrawn = response.json()
    assert withdrawn["status"] == "withdrawn" and withdrawn["may_withdraw"] is False
    assert withdrawn["ended"]["by"] == "customer"
    assert withdrawn["holds"][0]["status"] == "cancelled"
    clock.advance(timedelta(hours=1))
    drain(system)
    assert messages_for(sandbox, journey["reference"]) == []
    alex = customer("alex")  # the first sign-in has lapsed meanwhile
    again = alex.http.post(url, json={"revision": withdrawn["revision"]})
    assert again.status_code == 409


def ended(components, status: str) -> float:
    """wayline_journeys_ended_total for the transfer's current definition version."""
    version = components.catalog.get("transfer").version
    labels = {"journey": "transfer", "version": version, "status": status}
    return REGISTRY.get_sample_value("wayline_journeys_ended_total", labels) or 0.0


def test_a_draft_is_withdrawn_or_expires(system, customer, clock):
    withdrawn_before, expired_before = ended(system, "withdrawn"), ended(system, "expired")
    alex = customer("alex")
    draft = alex.start("transfer")
    response = alex.http.post(
        f"/api/v1/journeys/{draft['id']}/withdraw", json={"revision": draft["revision"]}
    )
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"

    left = alex.start("transfer")
    clock.advance(timedelta(days=7, seconds=1))
    assert system.system.abandon_stale() == 1
    expired = customer("alex").journey(left["id"])
    assert expired["status"] == "expired" and expired["ended"]["by"] == "time"
    assert "journey.expired" in [e["type"] for e in expired["events"]]
    # Each end is counted once, by its definition version.
    assert ended(system, "withdrawn") - withdrawn_before == 1
    assert ended(system, "expired") - expired_before == 1


def test_a_withdrawal_on_a_stale_revision_or_bad_body_changes_nothing(system, customer):
    alex = customer("alex")
    draft = alex.start("transfer")
    url = f"/api/v1/journeys/{draft['id']}/withdraw"
    assert alex.http.post(url, json={"revision": 99}).status_code == 409
    assert alex.http.post(url, json={"revision": "one"}).status_code == 422
    assert alex.http.post(url, json={}).status_code == 422
    assert alex.journey(draft["id"])["status"] == "in_progress"


# --- the pages (no JavaScript): what is worked out, what is held, and how it ended ----------


def page_post(api: Api, path: str, fields: dict[str, Any]) -> Any:
    data = {"csrf_token": api.http.headers["X-CSRF-Token"], **fields}
    return api.http.post(path, data=data, follow_redirects=False)


def test_the_pages_show_the_fee_the_hold_and_cancel_it(system, customer, sandbox, clock):
    alex = customer("alex")
    journey = alex.start("transfer")
    journey = alex.step(journey, "payment", {"full_name": "Alex Morgan", "amount": "1234.50"})
    step_page = alex.http.get(f"/journeys/{journey['id']}/steps/confirm").text
    assert "Our fee" in step_page and "£12.34" in step_page  # 12.345 rounded half to even
    assert "One per cent of the amount, at least 50p." in step_page
    journey = alex.step(journey, "confirm", {"sure": True})
    check = alex.http.get(f"/journeys/{journey['id']}/check-answers").text
    assert "Worked out from your answers" in check and "£12.34" in check
    journey = alex.submit(journey)

    status = alex.http.get(f"/journeys/{journey['id']}/status").text
    assert "Your payment" in status and "unless you cancel it" in status
    key = journey["holds"][0]["key"]
    moved = page_post(
        alex, f"/journeys/{journey['id']}/holds/cancel", {"revision": "1", "key": key}
    )
    assert moved.status_code == 303  # a stale revision: shown again, nothing cancelled
    assert alex.journey(journey["id"])["holds"][0]["status"] == "held"
    done = page_post(
        alex,
        f"/journeys/{journey['id']}/holds/cancel",
        {"revision": str(journey["revision"]), "key": key},
    )
    assert done.status_code == 303 and done.headers["location"].endswith("/status")
    status = alex.http.get(f"/journeys/{journey['id']}/status").text
    assert "cancelled" in status and "Nothing was sent" in status
    assert "Cancel it" not in status


def test_the_status_page_withdraws_and_says_so(system, customer):
    alex = customer("alex")
    journey = sent(alex, amount="5000")
    status = alex.http.get(f"/journeys/{journey['id']}/status").text
    assert "Withdraw it" in status
    tampered = page_post(
        alex, f"/journeys/{journey['id']}/withdraw", {"revision": "1", "extra": "x"}
    )
    assert tampered.status_code == 400
    done = page_post(
        alex, f"/journeys/{journey['id']}/withdraw", {"revision": str(journey["revision"])}
    )
    assert done.status_code == 303
    status = alex.http.get(f"/journeys/{journey['id']}/status").text
    assert "You withdrew it." in status and "Withdraw it" not in status


def test_a_hold_the_worker_has_taken_cannot_be_cancelled(system, customer, sandbox, clock):
    """The race: the worker leases the effect at its time, the customer presses cancel just
    after. The cancel is refused with nothing written, and the effect runs once."""
    alex = customer("alex")
    journey = sent(alex, amount="5000")
    key = journey["holds"][0]["key"]
    clock.advance(timedelta(minutes=30))
    lease = clock.now() + timedelta(minutes=1)
    with system.store.write() as connection:
        [taken] = outbox.claim(connection, ["notify"], clock.now(), lease, 10)
    assert taken.key == key
    alex = customer("alex")
    latest = alex.journey(journey["id"])
    response = alex.http.post(
        f"/api/v1/journeys/{journey['id']}/holds/cancel",
        json={"revision": latest["revision"], "key": key},
    )
    assert response.status_code == 409
    assert alex.journey(journey["id"])["revision"] == latest["revision"]
    assert effect_status(system, key) == "running"
    clock.advance(timedelta(minutes=2))  # the lease runs out: the worker takes it again
    drain(system)
    assert len(messages_for(sandbox, journey["reference"])) == 1
