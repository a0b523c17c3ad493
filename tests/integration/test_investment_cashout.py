"""The investment-cashout journey through the API and the effect worker, with the wealth
platform, Pension Wise, core banking and the notification provider as real HTTP services on
loopback, on SQLite and PostgreSQL: what it costs shown before the choice (Sam's lump sum tax,
Alex's exit charge and gain), the sale placed once and paid, the pause a recorded bereavement
brings, a referral (with nothing said of a scam), a partner that fails twice, a rejected
order, a Pension Wise booking, and the spec's messages.

Each test has its own simulators: a sale changes the wealth platform's holdings. The platform
deals and settles at once here (its demo waits minutes)."""

from __future__ import annotations

import json
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
from journey_api import JOURNEYS_DIR, Api, field_of
from sqlalchemy import select, update

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.sandbox.server import Sandbox
from wayline.sandbox.wiring import demo_options
from wayline.store import events, journeys, tables
from wayline.web.app import create_app

PARTNERS = frozenset({"wealth_platform", "pension_wise", "core_banking", "notification_provider"})
PLATFORM = "wealth_platform"
NEUTRAL = "We need to check a few things with you before we sell"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    running = Sandbox(only=PARTNERS).start()
    settings = {"price_move_percent": 0, "deal_seconds": 0, "settle_seconds": 0}
    response = httpx.put(f"{running.urls()[PLATFORM]}/_sandbox/settings", json=settings)
    assert response.status_code == 200, response.text
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def fresh_platform(sandbox: Sandbox) -> None:
    """Each test starts from the demo's holdings (a sale changes them)."""
    platform_ = sandbox.partners[PLATFORM].app.state.platform
    with platform_.lock:
        platform_.reset()


@pytest.fixture(scope="module")
def system(
    module_database_url: str, sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Components]:
    """One database per backend for the module: each test starts its own journeys."""
    home = tmp_path_factory.mktemp("home")
    connectors = home / "connectors.yaml"
    connectors.write_text(
        yaml.safe_dump(
            {
                # Quick retries and a breaker that resets fast, so tests need not wait.
                "defaults": {
                    "retries": 0,
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
        home=home,
        database_url=module_database_url,
        demo=True,
        secret_key="test",
        journeys_dir=JOURNEYS_DIR,
        rate_limits=False,
        connectors=connectors,
    )
    components = build(settings, migrate=True, **demo_options(in_process_sources=False))
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

    def make(name: str, method: str = "password") -> Api:
        http = TestClient(app)
        opened.append(http)
        return Api(http).sign_in(name, method)

    yield make
    for http in opened:
        http.close()


def drain(system: Components, rounds: int = 30) -> None:
    worker = system.worker(base_delay=0)  # a retry is due at once
    for _ in range(rounds):
        if worker.run_due() == 0:
            return


def platform(sandbox: Sandbox, path: str) -> Any:
    return httpx.get(f"{sandbox.urls()[PLATFORM]}{path}", timeout=5).json()


def shown(journey: dict[str, Any]) -> dict[str, str]:
    """The computed values the current step shows, by name (amounts as kept: "6150.00")."""
    return {value["name"]: value["value"] for value in journey["current_step"]["show"]}


def texts(blocks: list[dict[str, Any]]) -> str:
    return " ".join(f"{b.get('title') or ''} {b['text']}" for b in blocks)


def to_consequences(api: Api, holding: str, amount: str | None, **pension: Any) -> dict[str, Any]:
    """From the start to the consequences step: the holding, the pension's option and tax
    details when given, and everything or `amount`."""
    journey = api.start("investment-cashout")
    journey = api.step(journey, "holding", {"holding_id": holding})
    if "pension_option" in pension:
        journey = api.step(journey, "pension-option", {"pension_option": pension["pension_option"]})
    choice = (
        {"amount_choice": "all"}
        if amount is None
        else {"amount_choice": "part", "take_amount": amount}
    )
    journey = api.step(journey, "amount", choice)
    if "other_income" in pension:
        journey = api.step(
            journey,
            "tax-details",
            {"other_income": pension["other_income"], "scottish_taxpayer": False},
        )
    assert journey["current_step"]["name"] == "consequences"
    return journey


def circumstances(**overrides: Any) -> dict[str, Any]:
    return {"circumstance_reasons": ["none"], "someone_involved": False, **overrides}


def to_check_answers(api: Api, journey: dict[str, Any], **answers: Any) -> dict[str, Any]:
    """From the consequences step (an ISA or general account) to check-answers."""
    journey = api.step(journey, "consequences", {"understood": ["confirmed"]})
    journey = api.step(journey, "circumstances", circumstances(**answers))
    journey = api.step(journey, "destination", {"pay_to": "nominated"})
    assert journey["current_step"]["name"] == "check-answers", journey["current_step"]
    return journey


def order_id(journey: dict[str, Any]) -> str:
    """The sell order's id, as the progress tells the customer."""
    found = re.search(r"SO-[0-9]{8}", texts(journey["progress"]))
    assert found, journey["progress"]
    return found.group(0)


def test_alex_sells_all_of_his_general_account_and_is_paid_once(system, customer, sandbox):
    alex = customer("alex")
    journey = alex.start("investment-cashout")
    offered = {o["value"]: o for o in field_of(journey, "holding_id")["options"]}
    assert set(offered) == {"ISA-200001", "GIA-200002"}
    assert offered["ISA-200001"]["label"] == "Stocks and Shares ISA (ISA-200001)"
    assert offered["ISA-200001"]["hint"] == "Worth £18,400.00 at 12pm today"
    journey = to_consequences(alex, "GIA-200002", None)
    figures = shown(journey)
    assert figures == {
        "value": "6200.00",
        "gross": "6200.00",
        "exit_charges": "50.00",
        "you_get": "6150.00",
        "left_invested": "0.00",
    }
    content = texts(journey["current_step"]["content"])
    assert "Your estimated gain on what you sell is £666.00" in content
    assert "estimate" in content
    journey = to_check_answers(alex, journey)
    sent = alex.submit(journey)
    assert sent["reference"].startswith("WDR-")
    drain(system)
    done = alex.journey(journey["id"])
    assert done["outcome"]["outcome"] == "approved"
    assert done["effects"]["sell"]["status"] == "done"
    assert done["effects"]["pay_out"]["status"] == "done"
    assert done["ended"]["status"] == "completed"
    assert "We have paid £6,150.00 into your account ending 9911" in texts(done["progress"])
    order = platform(sandbox, f"/orders/{order_id(done)}")
    assert order["status"] == "paid" and order["all_units"] is True
    assert order["contract_note"]["charges_pence"] == 5000
    assert order["contract_note"]["net_pence"] == 615_000
    # Sold once: the holding is empty, and a second drain places nothing more.
    drain(system)
    assert platform(sandbox, "/holdings/GIA-200002")["value_pence"] == 0


def pension_steps(api: Api, journey: dict[str, Any], route: str = "received") -> dict[str, Any]:
    """Consequences understood, guidance, the risk questions (all no) and the warnings."""
    journey = api.step(journey, "consequences", {"understood": ["confirmed"]})
    journey = api.step(journey, "guidance", {"guidance_route": route})
    if route == "opt_out":
        journey = api.step(journey, "guidance-opt-out", {"opt_out_confirmed": ["confirmed"]})
    risks = dict.fromkeys(
        ("means_tested_benefits", "behind_on_debts", "still_paying_in", "health_lifespan"), False
    )
    journey = api.step(journey, "retirement-risks", risks)
    assert journey["current_step"]["name"] == "retirement-warnings"
    return api.step(journey, "retirement-warnings", {"warnings_read": ["confirmed"]})


def test_sam_sees_his_lump_sum_s_tax_before_he_chooses_and_the_sale_waits_24_hours(
    system, customer, sandbox
):
    """The spec's demo figures; his recorded bereavement is used without asking again, and
    brings a 24-hour pause he can cancel in (nothing is then sold)."""
    sam = customer("sam", "one_time_code")
    journey = sam.start("investment-cashout")
    journey = sam.step(journey, "holding", {"holding_id": "PEN-300001"})
    assert journey["current_step"]["name"] == "pension-option"
    journey = sam.step(journey, "pension-option", {"pension_option": "lump_sum"})
    journey = sam.step(journey, "amount", {"amount_choice": "part", "take_amount": "20000"})
    journey = sam.step(
        journey, "tax-details", {"other_income": "18000", "scottish_taxpayer": False}
    )
    assert shown(journey)["you_get"] == "14871.90"
    computed = {value["name"]: value["value"] for value in journey["computed"]}
    assert computed["tax_free_part"] == "5000.00"
    assert computed["tax_now"] == "5128.10"
    assert computed["tax_owed"] == "3000.00"
    assert computed["claim_back"] == "2128.10"
    assert computed["claim_form"] == "P55"
    content = texts(journey["current_step"]["content"])
    assert "Tax we must take now: £5,128.10" in content
    assert "emergency code" in content
    assert "about £2,128.10 from HMRC now with form P55" in content
    assert "only pay £10,000 a year into money purchase pensions" in content
    journey = pension_steps(sam, journey)
    assert journey["current_step"]["name"] == "circumstances"
    content = texts(journey["current_step"]["content"])
    assert "that you had been bereaved. We're sorry for your loss." in content
    assert "vulnerab" not in str(journey["current_step"]).lower()
    callback = field_of(journey, "callback")  # a recorded flag offers a call
    assert {o["value"] for o in callback["options"]} == {"call_first", "call_after", "no_call"}
    journey = sam.step(
        journey,
        "circumstances",
        circumstances(callback="call_after", callback_slot="morning"),
    )
    assert field_of(journey, "pay_to")["options"][0]["label"] == "Nationwide, account ending 7781"
    assert "You'll get about £14,871.90" in texts(journey["current_step"]["content"])
    journey = sam.step(journey, "destination", {"pay_to": "nominated"})
    sam.submit(journey)
    drain(system)
    held = sam.journey(journey["id"])
    assert held["outcome"]["outcome"] == "approved_after_pause"
    [hold] = held["holds"]
    assert hold["status"] == "held" and hold["cancellable"] is True
    assert "We'll wait until" in texts(held["progress"])
    assert held["effects"]["guidance_record"]["status"] == "done"
    response = sam.http.post(
        f"/api/v1/journeys/{journey['id']}/holds/cancel",
        json={"revision": held["revision"], "key": hold["key"]},
    )
    assert response.status_code == 200, response.text
    drain(system)
    after = sam.journey(journey["id"])
    assert after["holds"][0]["status"] == "cancelled"
    assert after["ended"] == {**after["ended"], "status": "withdrawn", "by": "customer"}
    assert platform(sandbox, "/holdings/PEN-300001")["value_pence"] == 6_400_000


def test_sam_s_whole_pot_and_his_tax_free_cash(customer):
    sam = customer("sam")
    journey = to_consequences(
        sam, "PEN-300001", None, pension_option="lump_sum", other_income="18000"
    )
    computed = {value["name"]: value["value"] for value in journey["computed"]}
    assert computed["tax_free_part"] == "16000.00"
    assert computed["tax_now"] == "19978.10"
    assert computed["tax_owed"] == "12746.00"
    assert computed["claim_form"] == "P53Z"
    journey = sam.start("investment-cashout")
    journey = sam.step(journey, "holding", {"holding_id": "PEN-300001"})
    journey = sam.step(journey, "pension-option", {"pension_option": "tax_free_cash"})
    errors = sam.refused(journey, "amount", {"amount_choice": "part", "take_amount": "16000.01"})
    assert errors == {"take_amount": "Amount must be no more than the most you can take tax-free"}
    journey = sam.step(journey, "amount", {"amount_choice": "all"})
    # No tax details for tax-free cash.
    assert journey["current_step"]["name"] == "consequences"
    assert shown(journey)["gross"] == "16000.00"
    content = texts(journey["current_step"]["content"])
    assert "we move £48,000.00 into drawdown" in content and "No tax now" in content


def sell_from_alex_s_isa(
    api: Api, system: Components, amount: str, **answers: Any
) -> dict[str, Any]:
    journey = to_consequences(api, "ISA-200001", amount)
    journey = to_check_answers(api, journey, **answers)
    api.submit(journey)
    drain(system)
    return api.journey(journey["id"])


def test_the_isa_says_what_can_go_back_in_and_a_platform_failing_twice_sells_once(
    system, customer, sandbox
):
    alex = customer("alex")
    journey = to_consequences(alex, "ISA-200001", "1111.11")
    content = texts(journey["current_step"]["content"])
    assert "You can put back up to £1,111.11 into this ISA before 6 April 2027" in content
    assert "You have £16,000.00 of this year's £20,000 allowance left" in content
    journey = to_check_answers(alex, journey)
    alex.submit(journey)
    drain(system)
    done = alex.journey(journey["id"])
    # Two 503s, then placed: the worker's retries carried the same key, so one order.
    assert done["ended"]["status"] == "completed"
    order = platform(sandbox, f"/orders/{order_id(done)}")
    assert order["amount_pence"] == 111_111 and order["status"] == "paid"
    left = platform(sandbox, "/holdings/ISA-200001")
    assert left["withdrawal_in_progress"] is False
    # Units are sold rounded up to 3 decimals; the excess stays in the ISA as cash.
    assert abs(left["value_pence"] - (1_840_000 - 111_111)) <= 100


def test_an_order_the_platform_rejects_sells_nothing_and_ends_the_request(
    system, customer, sandbox
):
    alex = customer("alex")
    done = sell_from_alex_s_isa(alex, system, "2222.22")
    assert done["effects"]["sell"]["status"] == "done"
    assert done["effects"]["pay_out"]["status"] == "refused"
    assert done["ended"]["status"] == "declined"
    assert "We could not sell your investments, and nothing was sold" in texts(done["progress"])
    assert platform(sandbox, "/holdings/ISA-200001")["value_pence"] == 1_840_000


def test_a_returned_payment_is_tried_again_on_the_next_working_day(system, customer, sandbox):
    alex = customer("alex")
    done = sell_from_alex_s_isa(alex, system, "3333.33")
    assert done["effects"]["pay_out"]["status"] == "done"
    assert "Your bank returned the payment" in texts(done["progress"])
    [again] = [hold for hold in done["holds"] if hold["status"] == "held"]
    assert again["cancellable"] is False
    assert again["until"] > done["updated_at"]
    assert done["status"] == "decided"


def test_a_call_before_selling_refers_the_request_and_a_scam_is_never_named(
    system, customer, sandbox
):
    alex = customer("alex")
    journey = to_consequences(alex, "ISA-200001", "500")
    journey = alex.step(journey, "consequences", {"understood": ["confirmed"]})
    # A reason offers the call and asks to keep a note.
    errors = alex.refused(
        journey,
        "circumstances",
        circumstances(circumstance_reasons=["money_worries"], someone_involved=True),
    )
    assert errors == {
        "callback": "Select whether you would like us to call you",
        "keep_note": "Select yes if we can keep a note",
    }
    journey = alex.step(
        journey,
        "circumstances",
        circumstances(
            circumstance_reasons=["money_worries"],
            someone_involved=True,
            callback="call_first",
            callback_slot="evening",
            keep_note=True,
        ),
    )
    # The warning shows as soon as the answer is kept (going back shows it).
    page = alex.http.get(f"/journeys/{journey['id']}/steps/circumstances")
    assert "this is how scams work" in page.text
    journey = alex.step(journey, "destination", {"pay_to": "nominated"})
    alex.submit(journey)
    drain(system)
    held = alex.journey(journey["id"])
    assert held["status"] == "in_review"
    assert held["outcome"]["outcome"] == "referred"
    told = str(held["outcome"]) + texts(held["progress"])
    assert "You asked us to call you before we sell anything" in told
    assert "scam" not in told.lower() and "secret" not in told.lower()
    assert "sell" not in held["effects"]
    assert held["effects"]["support_need"]["status"] == "done"
    assert platform(sandbox, "/holdings/ISA-200001")["withdrawal_in_progress"] is False


def test_pension_wise_is_booked_at_the_guidance_step_and_the_customer_comes_back_after(
    system, customer, sandbox
):
    sam = customer("sam")
    journey = to_consequences(sam, "PEN-300001", "1000", pension_option="tax_free_cash")
    journey = sam.step(journey, "consequences", {"understood": ["confirmed"]})
    # The booking is made in the request, so the revision may move twice.
    response = sam.post_step(
        journey["id"], "guidance", {"guidance_route": "book"}, journey["revision"]
    )
    assert response.status_code == 200, response.text
    journey = sam.journey(journey["id"])
    assert journey["current_step"]["name"] == "guidance-booked"
    assert journey["effects"]["guidance_booking"]["status"] == "done"
    content = texts(journey["current_step"]["content"])
    assert re.search(r"Reference PW-[0-9]{6}", content), content
    errors = sam.refused(journey, "guidance-booked", {"guidance_taken": False})
    assert errors["guidance_taken"].startswith("Come back after your appointment")


def test_jordan_has_no_investments(customer):
    jordan = customer("jordan")
    journey = jordan.start("investment-cashout")
    field = field_of(journey, "holding_id")
    assert field["type"] == "text" and field["hint"] == "You do not have any investments with us"
    errors = jordan.refused(journey, "holding", {"holding_id": "ISA-200001"})
    assert errors == {"holding_id": "You do not have any investments with us"}


def test_bad_answers_get_the_spec_s_messages(customer):
    alex = customer("alex")
    journey = alex.start("investment-cashout")
    assert alex.refused(journey, "holding", {}) == {
        "holding_id": "Select the investment you want to take money from"
    }
    journey = alex.step(journey, "holding", {"holding_id": "ISA-200001"})
    assert alex.refused(journey, "amount", {}) == {
        "amount_choice": "Select everything or part of it"
    }
    for amount, message in (
        (None, "Enter how much you want to take out"),
        ("12,50", None),
        ("99.99", "Amount must be £100 or more"),
        (
            "17900.01",
            "Amount must be no more than the value less £500, so that at least £500 stays invested",
        ),
    ):
        answers = {"amount_choice": "part", **({"take_amount": amount} if amount else {})}
        errors = alex.refused(journey, "amount", answers)
        assert set(errors) == {"take_amount"}
        if message:
            assert errors["take_amount"] == message
    journey = alex.step(journey, "amount", {"amount_choice": "part", "take_amount": "17900"})
    journey = alex.step(journey, "consequences", {"understood": ["confirmed"]})
    errors = alex.refused(journey, "circumstances", {"circumstance_reasons": ["none", "health"]})
    assert errors == {
        "circumstance_reasons": "Select all that apply, or 'None of these'",
        "someone_involved": "Select yes if anyone has asked you to take this money out",
        "callback": "Select whether you would like us to call you",
        "keep_note": "Select yes if we can keep a note",
    }


# --- data protection: the amounts a customer types are sealed everywhere they are kept --------

# Amounts nothing else holds, written as kept ("13719.58"): three figures or more before the
# point, so no time of day (SS.ffffff) can look like one; the ISA's is looked for in pence too
# (seven figures: longer than any run of digits in a time), as the platform's answer has it.
ISA_TAKE, ISA_TAKE_PENCE = "13719.58", "1371958"
PENSION_TAKE = "21473.96"
OTHER_INCOME = "18362.57"


def test_the_amounts_typed_are_nowhere_in_clear_at_rest_or_in_the_logs(
    system, customer, sandbox, capfd, production_logs
):
    """The canaries (docs/data-protection.md): what alex takes from his ISA (sold and paid),
    and what sam takes as a lump sum with his other income (the tax worked out from both), read
    back through the API, yet found in no table, no SQLite file, no file of the data folder
    and no log line."""
    assert_sealing_on(system)
    alex = customer("alex", "one_time_code")  # over £10,000: step-up at the destination
    sold = sell_from_alex_s_isa(alex, system, ISA_TAKE)
    assert sold["answers"]["take_amount"] == ISA_TAKE
    assert sold["ended"]["status"] == "completed"
    order = platform(sandbox, f"/orders/{order_id(sold)}")
    assert order["amount_pence"] == int(ISA_TAKE_PENCE) and order["status"] == "paid"

    sam = customer("sam", "one_time_code")
    journey = to_consequences(
        sam, "PEN-300001", PENSION_TAKE, pension_option="lump_sum", other_income=OTHER_INCOME
    )
    journey = pension_steps(sam, journey)
    journey = sam.step(journey, "circumstances", circumstances(callback="no_call"))
    journey = sam.step(journey, "destination", {"pay_to": "nominated"})
    sam.submit(journey)
    drain(system)
    paused = sam.journey(journey["id"])
    assert paused["outcome"]["outcome"] == "approved_after_pause"  # his recorded bereavement
    assert paused["answers"]["take_amount"] == PENSION_TAKE
    assert paused["answers"]["other_income"] == OTHER_INCOME

    canaries = [ISA_TAKE, ISA_TAKE_PENCE, PENSION_TAKE, OTHER_INCOME]
    # The references are kept in clear (journeys.reference): the search finds what is there.
    assert_nothing_at_rest(system, canaries, known=[sold["reference"], paused["reference"]])
    home = system.settings.home
    assert_home_clean_and_private(home, canaries, not_ours=[home / "connectors.yaml"])
    assert_logs_clean(capfd, canaries, known=[sold["id"], paused["id"]])


# --- personalisation ---------------------------------------------------------------------


def test_sam_who_may_be_vulnerable_is_offered_a_callback_and_more_time(system, customer):
    """Core banking records a support need for Sam: his cash-out offers a callback from the
    first step and keeps his answers for 90 days; Alex sees the journey as it is. Only the
    segment's name is kept and published, sealed in the state."""
    sam = customer("sam").start("investment-cashout")
    alex = customer("alex").start("investment-cashout")
    assert "We're here to help" in texts(sam["current_step"]["content"])
    assert "call us free on 0800 015 4321" in texts(sam["current_step"]["content"])
    assert "We're here to help" not in texts(alex["current_step"]["content"])
    assert segmented(system, sam["id"]) == [{"segments": ["possibly_vulnerable"]}]
    assert segmented(system, alex["id"]) == [{"segments": []}]
    column = tables.journeys.c
    with system.store.read() as connection:
        raw = connection.execute(select(column.state).where(column.id == sam["id"])).scalar_one()
        stored = journeys.load(connection, sam["id"], "sam")
    assert stored is not None
    assert stored.state.personalisation["variants"] == ["more-support"]
    assert "possibly_vulnerable" not in json.dumps(raw)  # sealed with the state's envelope
    assert "core_banking_customer_profile" not in stored.state.data  # the profile is not kept


def test_a_profile_that_cannot_be_read_shows_the_journey_as_it_is(system, customer, sandbox):
    url = f"{sandbox.urls()['core_banking']}/_sandbox/faults"
    assert httpx.put(url, json={"outage_seconds": 60}).status_code == 200
    try:
        sam = customer("sam").start("investment-cashout")
    finally:
        assert httpx.put(url, json={}).status_code == 200
    assert "We're here to help" not in texts(sam["current_step"]["content"])
    assert segmented(system, sam["id"]) == [{"segments": [], "undecided": ["possibly_vulnerable"]}]


def segmented(system: Components, journey_id: str) -> list[dict[str, Any]]:
    with system.store.read() as connection:
        stored = events.of(connection, journey_id)
    return [
        {k: v for k, v in event["data"].items() if k != "next"}
        for event in stored
        if event["type"] == "journey.segmented"
    ]


def aged(system: Components, journey_id: str, days: int) -> None:
    """The journey as if nobody had touched it for `days` days (its row and its state)."""
    when = datetime.now(UTC) - timedelta(days=days)
    column = tables.journeys.c
    with system.store.write() as connection:
        state = connection.execute(select(column.state).where(column.id == journey_id)).scalar_one()
        connection.execute(
            update(tables.journeys)
            .where(column.id == journey_id)
            .values(updated_at=when, state={**state, "updated_at": when.isoformat()})
        )


def status_of(system: Components, journey_id: str, owner: str) -> str:
    with system.store.read() as connection:
        stored = journeys.load(connection, journey_id, owner)
    assert stored is not None
    return stored.state.status.value


def test_more_time_for_sam_and_the_sweep_passes_over_what_is_not_due(system, customer):
    """Sam's variant gives him 90 days, not 30: after 41 days his request stays while Alex's,
    40 days old, expires, although Sam's fills the sweep's first page; at 91 days his expires
    too."""
    sam = customer("sam").start("investment-cashout")
    alex = customer("alex").start("investment-cashout")
    aged(system, sam["id"], 41)  # the oldest: first in the sweep's order
    aged(system, alex["id"], 40)
    assert system.system.abandon_stale(limit=1) >= 1
    assert status_of(system, alex["id"], "alex") == "expired"
    assert status_of(system, sam["id"], "sam") == "in_progress"
    aged(system, sam["id"], 91)
    assert system.system.abandon_stale(limit=1) >= 1
    assert status_of(system, sam["id"], "sam") == "expired"
