"""The card-replacement journey through the API and the effect worker, with the partners as
real HTTP services on loopback: the freeze at the reason step, before the customer goes on
(and what they are told when the card issuer is down), the order with its fee charged once,
and a new delivery address checked with the fraud bureau, on SQLite and PostgreSQL.

Each test has its own simulators: a freeze or an order changes the card issuer's cards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
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
from journey_api import Api, field_of

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.sandbox.server import Sandbox
from wayline.sandbox.wiring import demo_options
from wayline.web.app import create_app

PARTNERS = frozenset({"card_issuer", "core_banking", "fraud_bureau", "notification_provider"})
ISSUER = "card_issuer"
FROZEN = "Your card is frozen"
NOT_YET = "We have not been able to freeze your card yet"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    running = Sandbox(only=PARTNERS).start()
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
    components = build(
        make_settings(connectors=connectors),
        migrate=True,
        **demo_options(in_process_sources=False),
    )
    yield components
    components.store.engine.dispose()
    if components.partners:
        components.partners.close()


@pytest.fixture
def customer(system: Components) -> Iterator[Callable[..., Api]]:
    app = create_app(system)
    opened: list[TestClient] = []

    def make(name: str, method: str = "password") -> Api:
        http = TestClient(app)
        opened.append(http)
        return Api(http).sign_in(name, method)

    yield make
    for http in opened:
        http.close()


def drain(system: Components, rounds: int = 30) -> None:
    worker = system.worker(base_delay=0.001)
    for _ in range(rounds):
        if worker.run_due() == 0:
            return


def issuer(sandbox: Sandbox, path: str) -> Any:
    return httpx.get(f"{sandbox.urls()[ISSUER]}{path}", timeout=5).json()


def card_of(sandbox: Sandbox, customer_id: str, card_id: str) -> dict[str, Any]:
    cards = issuer(sandbox, f"/customers/{customer_id}/cards")["cards"]
    return next(card for card in cards if card["card_id"] == card_id)


def faults(sandbox: Sandbox, partner: str, **settings: Any) -> None:
    response = httpx.put(f"{sandbox.urls()[partner]}/_sandbox/faults", json=settings)
    assert response.status_code == 200, response.text


def tell_reason(api: Api, journey: dict[str, Any], reason: str) -> dict[str, Any]:
    """The reason step: its freeze runs in the request, so the revision may move twice."""
    response = api.post_step(journey["id"], "reason", {"card_reason": reason}, journey["revision"])
    assert response.status_code == 200, response.text
    return dict(response.json())


def texts(journey: dict[str, Any]) -> str:
    blocks = journey["current_step"]["content"]
    return " ".join(f"{b.get('title') or ''} {b['text']}" for b in blocks)


def test_a_stolen_card_is_frozen_at_the_step_and_a_new_one_ordered_home(system, customer, sandbox):
    """The done-when: a customer reports a card stolen and sees it frozen at that step."""
    alex = customer("alex")
    journey = alex.start("card-replacement")
    offered = {o["value"]: o for o in field_of(journey, "card_id")["options"]}
    assert set(offered) == {"card-alex-4821", "card-alex-7310"}
    assert offered["card-alex-4821"]["label"] == "Visa debit card ending 4821"
    journey = alex.step(journey, "card", {"card_id": "card-alex-4821"})
    journey = tell_reason(alex, journey, "stolen")
    # Frozen before the customer saw the next page, and the page says so.
    assert journey["current_step"]["name"] == "card-frozen"
    assert journey["effects"]["freeze"]["status"] == "done"
    assert FROZEN in texts(journey) and NOT_YET not in texts(journey)
    card = card_of(sandbox, "alex", "card-alex-4821")
    assert card["status"] == "frozen" and card["frozen_reason"] == "stolen"
    journey = alex.step(journey, "card-frozen", {})
    home = field_of(journey, "delivery_address")["options"][0]
    assert home == {**home, "value": "on_file", "label": "1 Acacia Avenue, London, SW1A 1AA"}
    journey = alex.step(
        journey, "delivery", {"delivery_address": "on_file", "delivery_speed": "next_day"}
    )
    assert journey["current_step"]["name"] == "check-answers"
    sent = alex.submit(journey)
    assert sent["reference"].startswith("CRD-")
    drain(system)
    done = alex.journey(journey["id"])
    assert done["outcome"]["outcome"] == "ordered"
    assert done["effects"]["order"]["status"] == "done"
    assert done["effects"]["freeze"]["status"] == "done"
    # A new number (each digit plus one), the old card cancelled, the fee charged once.
    assert card_of(sandbox, "alex", "card-alex-4821")["status"] == "cancelled"
    assert card_of(sandbox, "alex", "card-alex-5932")["status"] == "ordered"
    charges = issuer(sandbox, "/_sandbox/charges")
    assert [c["amount_pence"] for c in charges if c["account_id"] == "acc-alex-9911"] == [500]


def test_a_damaged_card_is_not_frozen_and_skips_the_frozen_step(system, customer, sandbox):
    alex = customer("alex")
    journey = alex.start("card-replacement")
    journey = alex.step(journey, "card", {"card_id": "card-alex-7310"})
    journey = tell_reason(alex, journey, "damaged")
    assert journey["current_step"]["name"] == "delivery"
    assert "freeze" not in journey["effects"]
    assert card_of(sandbox, "alex", "card-alex-7310")["status"] == "active"
    journey = alex.step(
        journey, "delivery", {"delivery_address": "on_file", "delivery_speed": "standard"}
    )
    alex.submit(journey)
    drain(system)
    assert alex.journey(journey["id"])["effects"]["order"]["status"] == "done"
    # Damaged: the same number, the old card usable until the new one comes; standard is free.
    assert card_of(sandbox, "alex", "card-alex-7310")["status"] == "active"
    assert card_of(sandbox, "alex", "card-alex-7310-r")["last_four"] == "7310"
    assert issuer(sandbox, "/_sandbox/charges") == []


def test_with_the_issuer_down_the_customer_is_told_and_the_outbox_freezes_it_once(
    system, customer, sandbox
):
    alex = customer("alex")
    journey = alex.start("card-replacement")
    journey = alex.step(journey, "card", {"card_id": "card-alex-4821"})
    faults(sandbox, ISSUER, outage_seconds=3600)
    journey = tell_reason(alex, journey, "lost")
    assert journey["current_step"]["name"] == "card-frozen"
    assert journey["effects"]["freeze"]["status"] == "pending"
    assert NOT_YET in texts(journey) and "0306 999 0123" in texts(journey)
    page = alex.http.get(f"/journeys/{journey['id']}/steps/card-frozen")
    assert NOT_YET in page.text
    faults(sandbox, ISSUER)
    drain(system)
    again = alex.journey(journey["id"])
    assert again["effects"]["freeze"]["status"] == "done"
    # "Check again": the same page, read again, now says it is frozen.
    assert FROZEN in alex.http.get(f"/journeys/{journey['id']}/steps/card-frozen").text
    assert card_of(sandbox, "alex", "card-alex-4821")["frozen_reason"] == "lost"


def test_a_card_already_frozen_says_since_when(system, customer, sandbox):
    httpx.post(
        f"{sandbox.urls()[ISSUER]}/cards/card-alex-4821/freeze",
        json={"reason": "lost"},
        headers={"Idempotency-Key": "earlier-freeze"},
        timeout=5,
    ).raise_for_status()
    alex = customer("alex")
    journey = alex.start("card-replacement")
    offered = {o["value"]: o for o in field_of(journey, "card_id")["options"]}
    assert offered["card-alex-4821"]["hint"] == "Everyday account ending 9911 – frozen"
    journey = alex.step(journey, "card", {"card_id": "card-alex-4821"})
    journey = tell_reason(alex, journey, "stolen")
    assert journey["effects"]["freeze"]["status"] == "done"
    assert "Your card was already frozen on" in texts(journey)
    # The stronger reason is kept.
    assert card_of(sandbox, "alex", "card-alex-4821")["frozen_reason"] == "stolen"


def test_a_new_address_needs_step_up_and_the_fraud_bureau_s_refer_holds_the_order(
    system, customer, sandbox
):
    jordan = customer("jordan", "one_time_code")
    journey = jordan.start("card-replacement")
    offered = [o["value"] for o in field_of(journey, "card_id")["options"]]
    assert "card-jordan-1187" in offered
    journey = jordan.step(journey, "card", {"card_id": "card-jordan-1187"})
    journey = tell_reason(jordan, journey, "not_received")
    journey = jordan.step(journey, "card-frozen", {})
    journey = jordan.step(
        journey, "delivery", {"delivery_address": "new", "delivery_speed": "next_day"}
    )
    assert journey["current_step"]["name"] == "new-address"
    refused = jordan.post_step(journey["id"], "new-address", {"town": "Leeds"}, journey["revision"])
    assert refused.status_code == 422
    problems = {e["field"]: e["message"] for e in refused.json()["errors"]}
    assert problems["address_line_1"] == "Enter address line 1"
    assert problems["new_postcode"] == "Enter a real postcode, like SW1A 1AA"
    journey = jordan.step(
        journey,
        "new-address",
        {"address_line_1": "5 High Street", "town": "Sampleton", "new_postcode": "ab1 2cd"},
    )
    jordan.submit(journey)
    drain(system)
    done = jordan.journey(journey["id"])
    assert done["outcome"]["outcome"] == "referred"
    # Never told why (tipping off), and nothing ordered.
    assert "fraud" not in str(done["outcome"]).lower()
    assert "order" not in done["effects"]
    assert card_of(sandbox, "jordan", "card-jordan-1187")["open_replacement_id"] is None


def test_a_new_address_without_step_up_is_refused(system, customer):
    jordan = customer("jordan")
    journey = jordan.start("card-replacement")
    journey = jordan.step(journey, "card", {"card_id": "card-jordan-5550"})
    journey = tell_reason(jordan, journey, "damaged")
    journey = jordan.step(
        journey, "delivery", {"delivery_address": "new", "delivery_speed": "standard"}
    )
    response = jordan.post_step(
        journey["id"],
        "new-address",
        {"address_line_1": "5 High Street", "town": "Sampleton", "new_postcode": "AB1 2CD"},
        journey["revision"],
    )
    assert response.status_code == 401
    assert "insufficient_user_authentication" in response.headers["www-authenticate"]


def test_sam_has_no_cards_and_is_told_to_call(customer):
    sam = customer("sam")
    journey = sam.start("card-replacement")
    field = field_of(journey, "card_id")
    assert field["type"] == "text"
    assert "You have no card you can replace online" in field["hint"]


def test_with_the_issuer_down_the_cards_cannot_be_shown_and_the_number_is_given(customer, sandbox):
    faults(sandbox, ISSUER, outage_seconds=3600)
    alex = customer("alex")
    journey = alex.start("card-replacement")
    field = field_of(journey, "card_id")
    assert field["unavailable"] is True
    assert "0306 999 0123" in field["hint"]


def test_bad_input_is_refused_with_the_spec_s_messages(customer):
    alex = customer("alex")
    journey = alex.start("card-replacement")
    refused = alex.post_step(journey["id"], "card", {}, journey["revision"])
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["message"] == "Select the card you want to replace"
    other = alex.post_step(
        journey["id"], "card", {"card_id": "card-jordan-5550"}, journey["revision"]
    )
    assert other.status_code == 422
    journey = alex.step(journey, "card", {"card_id": "card-alex-7310"})
    refused = alex.post_step(journey["id"], "reason", {}, journey["revision"])
    assert refused.json()["errors"][0]["message"] == "Select what has happened to your card"


# --- data protection: a new address typed in is sealed everywhere it is kept ------------------

NEW_ADDRESS = {
    "address_line_1": "71 Zephyrine Canarywood Row",
    "address_line_2": "Quillonvale Mews",
    "town": "Xanthicombe Canary",
    "new_postcode": "ZQ7 9XW",
}


def test_a_new_delivery_address_is_nowhere_in_clear_at_rest_or_in_the_logs(
    system, customer, capfd, production_logs
):
    """The canaries (docs/data-protection.md): the new address's every line, sent to the
    fraud bureau and the card issuer, read back through the API, yet found in no table, no
    SQLite file, no file of the data folder and no log line."""
    assert_sealing_on(system)
    alex = customer("alex", "one_time_code")  # a new address asks for step-up
    journey = alex.start("card-replacement")
    journey = alex.step(journey, "card", {"card_id": "card-alex-4821"})
    journey = tell_reason(alex, journey, "stolen")
    journey = alex.step(journey, "card-frozen", {})
    journey = alex.step(
        journey, "delivery", {"delivery_address": "new", "delivery_speed": "standard"}
    )
    journey = alex.step(journey, "new-address", NEW_ADDRESS)
    sent = alex.submit(journey)
    drain(system)

    done = alex.journey(journey["id"])
    assert {name: done["answers"][name] for name in NEW_ADDRESS} == NEW_ADDRESS
    assert done["outcome"]["outcome"] == "ordered"  # the fraud bureau cleared it: sent there
    assert done["effects"]["order"]["status"] == "done"

    canaries = list(NEW_ADDRESS.values())
    # The reference is kept in clear (journeys.reference): the search finds what is there.
    assert_nothing_at_rest(system, canaries, known=[sent["reference"]])
    assert_home_clean_and_private(system.settings.home, canaries)
    assert_logs_clean(capfd, canaries, known=[journey["id"]])  # the logs name the journey
