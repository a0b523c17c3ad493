"""The payment journey through the API and the effect worker, with the partners as real HTTP
services on loopback (core banking, the payment provider with confirmation of payee, the fraud
bureau, notifications), on SQLite and PostgreSQL: a saved payee paid at once and exactly once;
someone new with confirmation of payee, step-up, warnings and a saved payee; a close match
paid to the name held; a rejection that leaves the money where it was; a lost reply retried
under the same key; a fraud marker's hold released or declined by staff; an investment's pause
cancelled by the customer; a future payment and a standing order; too much refused.

Each test has its own simulators: payments change core banking's balances."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import yaml
from canary_kit import (
    assert_home_clean_and_private,
    assert_logs_clean,
    assert_nothing_at_rest,
    assert_sealing_on,
)
from fastapi.testclient import TestClient
from journey_api import JOURNEYS_DIR, Api

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.identity.principal import Kind, Principal
from wayline.identity.roles import Role
from wayline.runtime.clock import FixedClock
from wayline.sandbox.server import Sandbox
from wayline.sandbox.wiring import demo_options
from wayline.store import cases as case_rows
from wayline.store import events as event_log
from wayline.web.app import create_app

PARTNERS = frozenset({"core_banking", "payment_provider", "fraud_bureau", "notification_provider"})
CHRIS = {"payee_name": "Chris Evans", "payee_type": "personal", "sort_code": "607080",
         "account_number": "11111111"}  # fmt: skip


@pytest.fixture(scope="module")
def sandbox(module_database_url: str) -> Iterator[Sandbox]:
    """The simulators, fresh for each database the module runs on (payments change core
    banking's balances: each test reads them before and after)."""
    running = Sandbox(only=PARTNERS).start()
    # A lost reply comes back at once: tests do not wait out the provider's 10 seconds.
    settings = {"pending_seconds": 600, "lost_reply_seconds": 0, "no_reply_seconds": 0}
    url = f"{running.urls()['payment_provider']}/_sandbox/payment-settings"
    assert httpx.put(url, json=settings, timeout=5).status_code == 200
    yield running
    running.stop()


@pytest.fixture(scope="module")
def clock() -> FixedClock:
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture(scope="module")
def system(
    module_database_url: str,
    sandbox: Sandbox,
    clock: FixedClock,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Components]:
    """One system for the module (building and migrating a database takes seconds); each
    test has journeys of its own and drains the outbox before it ends."""
    home = tmp_path_factory.mktemp("payment")
    connectors = home / "connectors.yaml"
    connectors.write_text(
        yaml.safe_dump(
            {
                # Quick retries and a breaker that resets fast, so tests need not wait.
                "defaults": {
                    "retries": 1,
                    "backoff_base": 0.001,
                    "backoff_max": 0.005,
                    "breaker_failures": 50,
                    "breaker_reset": 0.1,
                },
                "partners": {name: {"base_url": url} for name, url in sandbox.urls().items()},
            }
        )
    )
    settings = Settings(
        home=home / "home",
        database_url=module_database_url,
        demo=True,
        secret_key="test",
        journeys_dir=JOURNEYS_DIR,
        rate_limits=False,
        connectors=connectors,
    )
    components = build(
        settings, migrate=True, clock=clock, **demo_options(in_process_sources=False)
    )
    yield components
    components.store.engine.dispose()
    if components.partners:
        components.partners.close()


@pytest.fixture(scope="module")
def app(system: Components) -> Any:
    return create_app(system)


@pytest.fixture
def customer(app: Any) -> Iterator[Callable[..., Api]]:
    opened: list[TestClient] = []

    def make(name: str, method: str = "one_time_code") -> Api:
        http = TestClient(app)
        opened.append(http)
        return Api(http).sign_in(name, method)

    yield make
    for http in opened:
        http.close()


def riley() -> Principal:
    return Principal("riley", Kind.STAFF, frozenset({Role.FRAUD_INVESTIGATOR}), 2,
                     datetime.now(UTC), "demo")  # fmt: skip


def drain(system: Components, rounds: int = 30) -> None:
    worker = system.worker(base_delay=0.001)
    for _ in range(rounds):
        if worker.run_due() == 0:
            return


def step(api: Api, journey: dict[str, Any], name: str, answers: dict[str, Any]) -> dict[str, Any]:
    """A step accepted (a call run before the customer goes on may move the revision twice)."""
    response = api.post_step(journey["id"], name, answers, journey["revision"])
    assert response.status_code == 200, f"{name}: {response.status_code} {response.text}"
    return dict(response.json())


def refused(api: Api, journey: dict[str, Any], name: str, answers: dict[str, Any]) -> list[str]:
    response = api.post_step(journey["id"], name, answers, journey["revision"])
    assert response.status_code == 422, response.text
    return [e["message"] for e in response.json()["errors"]]


def submit(api: Api, journey: dict[str, Any]) -> dict[str, Any]:
    response = api.post_submit(journey["id"], journey["revision"])
    assert response.status_code == 200, response.text
    return dict(response.json())


def texts(blocks: list[dict[str, Any]]) -> str:
    return " ".join(f"{b.get('title') or ''} {b['text']}" for b in blocks)


def bank(sandbox: Sandbox, path: str) -> Any:
    return httpx.get(f"{sandbox.urls()['core_banking']}{path}", timeout=5).json()


def available(sandbox: Sandbox, customer_id: str) -> int:
    [account] = bank(sandbox, f"/customers/{customer_id}/accounts")["accounts"]
    return int(account["available_pence"])


def messages(sandbox: Sandbox, reference: str) -> list[dict[str, Any]]:
    sent = httpx.get(f"{sandbox.urls()['notification_provider']}/messages", timeout=5).json()
    return [m for m in sent if reference in (m.get("subject") or "") + m["body"]]


def open_case(system: Components, journey_id: str) -> str:
    with system.store.read() as connection:
        case = case_rows.open_case_of(connection, journey_id)
    assert case is not None
    return case.id


def to_amount(
    api: Api, customer_id: str, payee: str = "payee-alex-jane", account: str = "acc-alex-9911"
) -> dict[str, Any]:
    journey = api.start("payment")
    journey = step(api, journey, "from", {"from_account": account})
    return step(api, journey, "payee", {"payee_id": payee})


def new_payee(api: Api, account: str, details: dict[str, Any]) -> dict[str, Any]:
    journey = api.start("payment")
    journey = step(api, journey, "from", {"from_account": account})
    journey = step(api, journey, "payee", {"payee_id": "new"})
    return step(api, journey, "new-payee", details)


def test_alex_pays_a_saved_payee_now_exactly_once(system, customer, sandbox):
    alex = customer("alex")
    before = available(sandbox, "alex")
    journey = alex.start("payment")
    [field] = journey["current_step"]["fields"]
    assert [(o["label"], o.get("hint")) for o in field["options"]] == [
        ("Everyday account ending 9911", f"£{before / 100:,.2f} available")
    ]
    journey = step(alex, journey, "from", {"from_account": "acc-alex-9911"})
    labels = [o["label"] for o in journey["current_step"]["fields"][0]["options"]]
    assert labels == ["Jane Morgan", "British Gas (Bill)", "Someone new"]
    journey = step(alex, journey, "payee", {"payee_id": "payee-alex-jane"})
    assert f"You have £{before / 100:,.2f} available" in texts(journey["current_step"]["content"])
    journey = step(
        alex, journey, "amount", {"pay_amount": "40", "pay_reference": "Dinner", "pay_when": "now"}
    )
    assert journey["current_step"]["name"] == "check-answers"
    journey = submit(alex, journey)
    drain(system)
    done = alex.journey(journey["id"])
    assert done["status"] == "completed", done
    assert "Payment sent" in texts(done["progress"])
    assert available(sandbox, "alex") == before - 4_000
    # A repeated confirm changes nothing.
    again = alex.post_submit(journey["id"], done["revision"])
    assert again.status_code == 409
    drain(system)
    assert available(sandbox, "alex") == before - 4_000


def test_someone_new_is_checked_warned_stepped_up_paid_and_saved(system, customer, sandbox):
    """Confirmation of payee at the step: a close match, paid to the name held; a new payee
    needs the stronger sign-in; the purpose's warning; saved once paid, and told by text."""
    weak = customer("alex", "password")
    journey = weak.start("payment")
    journey = step(weak, journey, "from", {"from_account": "acc-alex-9911"})
    journey = step(weak, journey, "payee", {"payee_id": "new"})
    response = weak.post_step(journey["id"], "new-payee", CHRIS, journey["revision"])
    assert response.status_code == 401  # adding a payee needs step-up

    alex = customer("alex")
    journey = alex.start("payment")
    journey = step(alex, journey, "from", {"from_account": "acc-alex-9911"})
    journey = step(alex, journey, "payee", {"payee_id": "new"})
    assert refused(
        alex, journey, "new-payee", {**CHRIS, "account_number": "55779911", "sort_code": "200000"}
    ) == ["You cannot pay the account you are paying from"]
    journey = step(alex, journey, "new-payee", {**CHRIS, "save_payee": ["save"]})
    assert journey["current_step"]["name"] == "payee-check"
    assert "The name on this account is Christopher Evans" in texts(
        journey["current_step"]["content"]
    )
    assert refused(alex, journey, "payee-check", {}) == ["Select what you want to do"]
    journey = step(alex, journey, "payee-check", {"cop_choice_close": "use_held"})
    journey = step(alex, journey, "amount", {"pay_amount": "250", "pay_when": "now"})
    assert journey["current_step"]["name"] == "purpose"
    journey = step(
        alex, journey, "purpose", {"purpose": "family_friends", "told_what_to_say": False}
    )
    assert journey["current_step"]["name"] == "warning"
    words = texts(journey["current_step"]["content"])
    assert "You are paying £250.00 to Christopher Evans" in words
    assert "Call them on a number you already know" in words
    # A standard warning: nothing to confirm.
    assert [f["name"] for f in journey["current_step"]["fields"] if f["applies"]] == []
    journey = step(alex, journey, "warning", {})
    journey = submit(alex, journey)
    drain(system)
    done = alex.journey(journey["id"])
    assert done["status"] == "completed", done
    assert "£250.00 to Christopher Evans" in texts(done["progress"])
    payees = bank(sandbox, "/customers/alex/payees")["payees"]
    assert [p["name"] for p in payees] == ["Jane Morgan", "British Gas", "Christopher Evans"]
    sent = messages(sandbox, "Christopher Evans")
    assert {m["channel"] for m in sent} == {"email", "sms"}
    assert all("http" not in m["body"] for m in sent if m["channel"] == "sms")


def test_a_rejected_payment_leaves_the_money_where_it_was(system, customer, sandbox):
    """The provider rejects (account closed): released, declined, the reason shown."""
    alex = customer("alex")
    before = available(sandbox, "alex")
    details = {**CHRIS, "payee_name": "Sam Okafor", "account_number": "33333333"}
    journey = new_payee(alex, "acc-alex-9911", details)
    assert journey["current_step"]["name"] == "amount"  # a match: no name check
    journey = step(alex, journey, "amount", {"pay_amount": "20", "pay_when": "now"})
    journey = step(alex, journey, "purpose", {"purpose": "goods", "told_what_to_say": False})
    journey = step(alex, journey, "warning", {})
    journey = submit(alex, journey)
    drain(system)
    done = alex.journey(journey["id"])
    assert done["status"] == "declined", done
    words = texts(done["progress"])
    assert "Your payment has not been sent" in words and "account closed" in words
    assert available(sandbox, "alex") == before
    assert "Sam Okafor" not in str(bank(sandbox, "/customers/alex/payees"))


def test_a_lost_reply_is_retried_under_the_same_key_and_pays_once(system, customer, sandbox):
    alex = customer("alex")
    before = available(sandbox, "alex")
    journey = to_amount(alex, "alex")
    journey = step(alex, journey, "amount", {"pay_amount": "13.13", "pay_when": "now"})
    journey = submit(alex, journey)
    drain(system)
    done = alex.journey(journey["id"])
    assert done["status"] == "completed", done
    assert available(sandbox, "alex") == before - 1_313
    assert sum(1 for e in done["events"] if e["type"] == "journey.completed") == 1


def test_jordan_s_payment_to_someone_new_is_held_then_released(system, customer, sandbox):
    """A fraud bureau marker holds £300 to someone new; Jordan is told only of a scam check;
    the payments team releases it and it is sent once."""
    jordan = customer("jordan")
    details = {**CHRIS, "payee_name": "Priya Patel", "account_number": "12121212"}
    journey = new_payee(jordan, "acc-jordan-4242", details)
    journey = step(jordan, journey, "amount", {"pay_amount": "300", "pay_when": "now"})
    journey = step(jordan, journey, "purpose", {"purpose": "goods", "told_what_to_say": False})
    journey = step(jordan, journey, "warning", {})
    journey = submit(jordan, journey)
    drain(system)
    held = jordan.journey(journey["id"])
    assert held["status"] == "in_review", held
    assert "not a scam" in texts(held["progress"])
    assert "marker" not in str(held).lower()
    assert available(sandbox, "jordan") == 64_000 - 30_000  # set aside, not sent
    case_id = open_case(system, journey["id"])
    system.cases.claim(riley(), case_id)
    system.cases.decide(riley(), case_id, "approve", "released")
    drain(system)
    done = jordan.journey(journey["id"])
    assert done["status"] == "completed", done
    assert available(sandbox, "jordan") == 64_000 - 30_000


def test_a_held_payment_declined_by_staff_releases_the_money(system, customer, sandbox):
    alex = customer("alex")
    before = available(sandbox, "alex")
    journey = to_amount(alex, "alex")
    journey = step(alex, journey, "amount", {"pay_amount": "600", "pay_when": "now"})
    journey = step(alex, journey, "purpose", {"purpose": "safe_account", "told_what_to_say": True})
    assert refused(alex, journey, "warning", {}) == [
        "Confirm you have read the warning, or cancel the payment"
    ]
    assert "Stop: this is a scam" in texts(journey["current_step"]["content"])
    journey = step(alex, journey, "warning", {"warning_read": ["read"]})
    journey = submit(alex, journey)
    drain(system)
    assert alex.journey(journey["id"])["status"] == "in_review"
    case_id = open_case(system, journey["id"])
    system.cases.claim(riley(), case_id)
    system.cases.decide(riley(), case_id, "decline", "scam_suspected")
    drain(system)
    done = alex.journey(journey["id"])
    assert done["status"] == "declined", done
    assert available(sandbox, "alex") == before
    assert any(
        "has not been sent" in (m.get("subject") or "")
        for m in messages(sandbox, journey["reference"])
    )


def test_an_investment_waits_out_its_pause_and_the_customer_cancels_it(
    system, customer, sandbox, clock
):
    alex = customer("alex")
    before = available(sandbox, "alex")
    journey = to_amount(alex, "alex")
    journey = step(alex, journey, "amount", {"pay_amount": "700", "pay_when": "now"})
    journey = step(alex, journey, "purpose", {"purpose": "investment", "told_what_to_say": False})
    assert "FCA" in texts(journey["current_step"]["content"])
    journey = step(alex, journey, "warning", {"warning_read": ["read"]})
    journey = submit(alex, journey)
    drain(system)
    paused = alex.journey(journey["id"])
    assert paused["outcome"]["outcome"] == "paused", paused
    [hold] = paused["holds"]
    assert hold["until"] == (clock.now() + timedelta(minutes=30)).isoformat()
    assert available(sandbox, "alex") == before - 70_000
    url = f"/api/v1/journeys/{journey['id']}/holds/cancel"
    response = alex.http.post(url, json={"revision": paused["revision"], "key": hold["key"]})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn"
    clock.advance(timedelta(hours=1))
    drain(system)
    assert available(sandbox, "alex") == before  # released, never sent
    alex = customer("alex")  # the first sign-in has lapsed meanwhile
    assert alex.journey(journey["id"])["effects"]["pay"]["status"] == "cancelled"


def test_a_future_payment_and_a_standing_order_are_scheduled(system, customer, sandbox, clock):
    alex = customer("alex")
    before = available(sandbox, "alex")
    today = clock.now().date()
    journey = to_amount(alex, "alex")
    errors = refused(
        alex,
        journey,
        "amount",
        {"pay_amount": "25", "pay_when": "future", "pay_date": today.isoformat()},
    )
    assert errors == ["Payment date must be in the future"]
    later = (today + timedelta(days=400)).isoformat()
    errors = refused(
        alex, journey, "amount", {"pay_amount": "25", "pay_when": "future", "pay_date": later}
    )
    assert errors == ["Payment date must be within the next 12 months"]
    pay_on = today + timedelta(days=3)
    journey = step(
        alex,
        journey,
        "amount",
        {"pay_amount": "25", "pay_when": "future", "pay_date": pay_on.isoformat()},
    )
    journey = submit(alex, journey)
    drain(system)
    scheduled = alex.journey(journey["id"])
    assert scheduled["outcome"]["outcome"] == "scheduled"
    [hold] = scheduled["holds"]
    assert hold["until"].startswith(f"{pay_on.isoformat()}T06:00")
    assert available(sandbox, "alex") == before  # reserved only on the day
    clock.advance(timedelta(days=3, hours=8))
    drain(system)
    alex = customer("alex")  # the first sign-in has lapsed meanwhile
    assert alex.journey(journey["id"])["status"] == "completed"
    assert available(sandbox, "alex") == before - 2_500

    order = to_amount(alex, "alex")
    order = step(
        alex,
        order,
        "amount",
        {
            "pay_amount": "50",
            "pay_when": "standing_order",
            "frequency": "monthly",
            "first_date": (today + timedelta(days=10)).isoformat(),
        },
    )
    order = submit(alex, order)
    drain(system)
    done = alex.journey(order["id"])
    assert done["status"] == "completed", done
    assert "Standing order set up" in texts(done["progress"])


def test_a_name_that_does_not_match_warns_holds_when_large_and_cancel_ends_it(
    system, customer, sandbox
):
    """No match: the warning, and cancel ends the journey at the name check; carried on over
    £1,000 it is held for the payments team. A name that cannot be checked says so."""
    alex = customer("alex")
    wrong = {**CHRIS, "payee_name": "Someone Else"}
    journey = new_payee(alex, "acc-alex-9911", wrong)
    assert journey["current_step"]["name"] == "payee-check"
    assert "The name does not match this account" in texts(journey["current_step"]["content"])
    cancelled = step(alex, journey, "payee-check", {"cop_choice_no_match": "cancel"})
    assert cancelled["outcome"]["outcome"] == "cancelled", cancelled["outcome"]

    journey = new_payee(alex, "acc-alex-9911", wrong)
    journey = step(alex, journey, "payee-check", {"cop_choice_no_match": "continue"})
    journey = step(alex, journey, "amount", {"pay_amount": "1200", "pay_when": "now"})
    journey = step(alex, journey, "purpose", {"purpose": "goods", "told_what_to_say": False})
    assert refused(alex, journey, "warning", {}) == [
        "Confirm you have read the warning, or cancel the payment"
    ]
    journey = step(alex, journey, "warning", {"warning_read": ["read"]})
    journey = submit(alex, journey)
    drain(system)
    held = alex.journey(journey["id"])
    assert held["status"] == "in_review", held["outcome"]

    unable = {**CHRIS, "payee_name": "Priya Shah", "account_number": "44444444"}
    journey = new_payee(alex, "acc-alex-9911", unable)
    assert "We could not check the name" in texts(journey["current_step"]["content"])


def test_too_much_and_no_account_are_refused_with_plain_messages(system, customer, sandbox):
    alex = customer("alex")
    journey = to_amount(alex, "alex")
    assert refused(alex, journey, "amount", {"pay_amount": "2450.01", "pay_when": "now"}) == [
        "Amount must be no more than your available balance"
    ]
    assert refused(alex, journey, "amount", {"pay_amount": "0", "pay_when": "now"}) == [
        "Amount must be £0.01 or more"
    ]
    assert refused(alex, journey, "amount", {"pay_amount": "abc", "pay_when": "now"}) == [
        "Amount must be a number, like 25 or 25.50"
    ]
    bill = to_amount(alex, "alex", payee="payee-alex-british-gas")
    names = [f["name"] for f in bill["current_step"]["fields"] if f["applies"]]
    assert "bill_reference" in names and "pay_reference" not in names
    assert refused(alex, bill, "amount", {"pay_amount": "10", "pay_when": "now"}) == [
        "Enter your account number with them"
    ]
    assert refused(
        alex, bill, "amount", {"pay_amount": "10", "pay_when": "now", "bill_reference": "1234"}
    ) == ["Reference must be your account number with them, exactly as it is on your bill"]
    sam = customer("sam")
    journey = sam.start("payment")
    [field] = journey["current_step"]["fields"]
    assert field["hint"] == "You need a current account with us to make payments"
    assert refused(sam, journey, "from", {"from_account": "acc-alex-9911"}) == [
        "You need a current account with us to make payments"
    ]


# --- data protection: what is typed about a payment is sealed everywhere it is kept -----------

# Someone new, outside the demo's sort code 60-70-80: the provider holds the account in the
# name typed, so confirmation of payee matches. Not saved: the other tests count alex's payees.
CANARY_PAYEE = {
    "payee_name": "Zephyrine Canarywood",
    "payee_type": "personal",
    "sort_code": "93 72 61",  # kept as 93-72-61
    "account_number": "73619284",
}
CANARY_AMOUNT = "183.47"  # kept as written: three figures before the point, unlike any time
CANARY_REFERENCE = "Canarywood QX-731"


def test_a_new_payee_amount_and_reference_are_nowhere_in_clear_at_rest_or_in_the_logs(
    system, customer, sandbox, capfd, production_logs
):
    """The canaries (docs/data-protection.md): someone new's name, sort code and account, the
    amount and the reference, sent to the payment provider and read back through the API, yet
    found in no table, no SQLite file, no file of the data folder and no log line."""
    assert_sealing_on(system)
    alex = customer("alex")
    before = available(sandbox, "alex")
    journey = new_payee(alex, "acc-alex-9911", CANARY_PAYEE)
    assert journey["current_step"]["name"] == "amount"  # a match: no name check
    paying = {"pay_amount": CANARY_AMOUNT, "pay_reference": CANARY_REFERENCE, "pay_when": "now"}
    journey = step(alex, journey, "amount", paying)
    journey = step(
        alex, journey, "purpose", {"purpose": "family_friends", "told_what_to_say": False}
    )
    journey = step(alex, journey, "warning", {})
    journey = submit(alex, journey)
    drain(system)

    done = alex.journey(journey["id"])
    assert done["status"] == "completed", done
    assert available(sandbox, "alex") == before - 18_347  # it was paid: the canaries went out
    given = done["answers"]
    assert given["payee_name"] == CANARY_PAYEE["payee_name"]
    assert given["sort_code"] == "93-72-61"
    assert given["account_number"] == CANARY_PAYEE["account_number"]
    assert given["pay_amount"] == CANARY_AMOUNT
    assert given["pay_reference"] == CANARY_REFERENCE

    canaries = [
        CANARY_PAYEE["payee_name"],
        "Zephyrine",
        "93-72-61",
        "93 72 61",
        CANARY_PAYEE["account_number"],
        CANARY_AMOUNT,
        CANARY_REFERENCE,
    ]
    # The reference is kept in clear (journeys.reference): the search finds what is there.
    assert_nothing_at_rest(system, canaries, known=[journey["reference"]])
    assert_home_clean_and_private(system.settings.home, canaries)
    assert_logs_clean(capfd, canaries, known=[journey["id"]])


# --- personalisation and the warnings that fit the purpose -----------------------------------

NEW_TO_DIGITAL = "New to paying online?"
STRONG_INVESTMENT = "Investment scams promise high returns, often in crypto"
FRIEND_ASKED = "Asked for money by a friend or relative by message?"


def segmented(system: Components, journey_id: str) -> list[list[str]]:
    """The segments of the journey's journey.segmented events, from its event log (the
    customer's own view of the journey leaves them out)."""
    with system.store.read() as connection:
        stored = event_log.of(connection, journey_id)
    return [e["data"]["segments"] for e in stored if e["type"] == "journey.segmented"]


def started_on_the_page(api: Api, preview_segment: str) -> str:
    """Start a payment through the start page's form, as the demo's preview switch sends it;
    returns the journey's id (the page went on to the first step)."""
    page = api.http.get("/start/payment")
    assert page.status_code == 200
    assert 'name="preview_segment"' in page.text and 'value="new_to_digital"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text
    form = {"csrf_token": token.group(1), "preview_segment": preview_segment}
    response = api.http.post("/start/payment", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    found = re.search(r"/journeys/([0-9a-z]+)/steps/from$", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


def test_alex_previewing_new_to_digital_is_told_how_payments_are_checked(system, customer):
    """Alex first signed in years ago: his payee step is as declared. Through the demo's
    preview switch on the start page, as a customer new to digital banking, the step adds how
    we check payments, in the API and on the page; "none" previews no segment."""
    alex = customer("alex")
    journeys = {
        "data": alex.start("payment")["id"],
        "new_to_digital": started_on_the_page(alex, "new_to_digital"),
        "none": started_on_the_page(alex, "none"),
    }
    assert segmented(system, journeys["data"]) == [["banks_with_us"]]
    assert segmented(system, journeys["new_to_digital"]) == [["new_to_digital"]]
    assert segmented(system, journeys["none"]) == [[]]
    for preview, journey_id in journeys.items():
        journey = step(alex, alex.journey(journey_id), "from", {"from_account": "acc-alex-9911"})
        assert journey["current_step"]["name"] == "payee"
        blocks = journey["current_step"]["content"]
        page = alex.http.get(f"/journeys/{journey_id}/steps/payee")
        assert page.status_code == 200
        if preview == "new_to_digital":
            [inset] = [b for b in blocks if b.get("title") == NEW_TO_DIGITAL]
            assert inset["type"] == "inset"
            assert "we check the name on the account you are paying" in inset["text"]
            assert NEW_TO_DIGITAL in page.text
            assert "We will never ask you to move money to keep it safe" in page.text
        else:
            assert NEW_TO_DIGITAL not in texts(blocks)
            assert NEW_TO_DIGITAL not in page.text


def test_sam_new_to_digital_has_no_account_to_pay_from(system, customer):
    """Sam first signed in 21 days ago, so his payment is in the new_to_digital segment, but
    he has no current account with us: the first step says so and goes no further."""
    sam = customer("sam")
    journey = sam.start("payment")
    assert segmented(system, journey["id"]) == [["new_to_digital"]]
    assert journey["current_step"]["name"] == "from"
    assert NEW_TO_DIGITAL not in texts(journey["current_step"]["content"])
    assert refused(sam, journey, "from", {"from_account": "acc-alex-9911"}) == [
        "You need a current account with us to make payments"
    ]


def test_the_warning_fits_the_purpose_an_investment_s_is_strong_and_confirmed(customer):
    """An investment: the strong (regulated) warning, which must be confirmed before going
    on. Paying friends or family: different words, no strong warning, nothing to confirm."""
    alex = customer("alex")
    journey = to_amount(alex, "alex")
    journey = step(alex, journey, "amount", {"pay_amount": "600", "pay_when": "now"})
    journey = step(alex, journey, "purpose", {"purpose": "investment", "told_what_to_say": False})
    assert journey["current_step"]["name"] == "warning"
    blocks = journey["current_step"]["content"]
    [strong] = [b for b in blocks if b["type"] == "warning"]
    assert STRONG_INVESTMENT in strong["text"]
    assert "FCA register and the FCA Warning List" in strong["text"]
    assert FRIEND_ASKED not in texts(blocks)
    applies = [f["name"] for f in journey["current_step"]["fields"] if f["applies"]]
    assert applies == ["warning_read"]
    assert refused(alex, journey, "warning", {}) == [
        "Confirm you have read the warning, or cancel the payment"
    ]
    journey = step(alex, journey, "warning", {"warning_read": ["read"]})
    assert journey["current_step"]["name"] == "check-answers"

    journey = to_amount(alex, "alex")
    journey = step(alex, journey, "amount", {"pay_amount": "600", "pay_when": "now"})
    journey = step(
        alex, journey, "purpose", {"purpose": "family_friends", "told_what_to_say": False}
    )
    assert journey["current_step"]["name"] == "warning"
    blocks = journey["current_step"]["content"]
    assert [b["type"] for b in blocks if b["type"] == "warning"] == []
    assert FRIEND_ASKED in texts(blocks)
    assert STRONG_INVESTMENT not in texts(blocks) and "safe account" not in texts(blocks)
    assert [f["name"] for f in journey["current_step"]["fields"] if f["applies"]] == []
    journey = step(alex, journey, "warning", {})
    assert journey["current_step"]["name"] == "check-answers"
