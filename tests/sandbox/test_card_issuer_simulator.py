"""The card issuer simulator over HTTP: the demo customers' cards, freezing, replacements,
digital cards, order events, its faults and its idempotency."""

from __future__ import annotations

import time

import pytest
from sandbox_kit import faults, key, post, settings

HOME = {"line_1": "1 Acacia Avenue", "town": "London", "postcode": "SW1A 1AA"}


@pytest.fixture
def issuer(partner):
    return partner("card_issuer")


def replacement(reason: str = "lost", speed: str = "standard", fee: int = 0, address=None):
    return {"reason": reason, "speed": speed, "address": address or HOME, "fee_pence": fee}


def test_each_demo_customer_has_their_own_cards(issuer) -> None:
    alex = {c["card_id"]: c for c in issuer.get("/customers/alex/cards").json()["cards"]}
    jordan = {c["card_id"]: c for c in issuer.get("/customers/jordan/cards").json()["cards"]}
    assert set(alex) == {"card-alex-4821", "card-alex-7310"}
    assert alex["card-alex-4821"]["wallets"] == ["apple_pay"]
    assert alex["card-alex-4821"]["account_label"] == "Everyday account ending 9911"
    assert jordan["card-jordan-1187"]["status"] == "sent"
    assert jordan["card-jordan-1187"]["sent_on"] is not None
    assert issuer.get("/customers/sam/cards").json()["cards"] == []


def test_transactions_are_the_last_30_days_newest_first(issuer) -> None:
    found = issuer.get("/cards/card-alex-4821/transactions").json()["transactions"]
    assert [t["merchant"] for t in found] == [
        "AMZN Mktp UK",
        "JD Sports",
        "Tesco Express",
        "Pret A Manger, Victoria Street",
    ]
    assert [t["status"] for t in found[:3]] == ["pending", "pending", "posted"]
    assert found[0]["amount_pence"] == 24_999
    assert issuer.get("/cards/card-jordan-1187/transactions").json()["transactions"] == []
    assert issuer.get("/cards/card-nobody-0000/transactions").status_code == 404


def test_a_freeze_declines_payments_and_a_second_keeps_the_first_time_and_stronger_reason(
    issuer,
) -> None:
    first = post(issuer, "/cards/card-alex-4821/freeze", {"reason": "lost"}).json()
    assert first["already_frozen"] is False and first["reason"] == "lost"
    assert issuer.post("/_sandbox/cards/card-alex-4821/authorise").json()["approved"] is False
    stronger = post(issuer, "/cards/card-alex-4821/freeze", {"reason": "stolen"}).json()
    assert stronger == {**first, "already_frozen": True, "reason": "stolen"}
    weaker = post(issuer, "/cards/card-alex-4821/freeze", {"reason": "customer_app"}).json()
    assert weaker["reason"] == "stolen" and weaker["frozen_at"] == first["frozen_at"]


def test_unfreeze_makes_the_card_usable_again(issuer) -> None:
    post(issuer, "/cards/card-jordan-5550/freeze", {"reason": "lost"})
    answer = post(issuer, "/cards/card-jordan-5550/unfreeze")
    assert answer.status_code == 200 and answer.json()["was_frozen"] is True
    card = issuer.get("/cards/card-jordan-5550").json()
    assert card["status"] == "active" and card["frozen_reason"] is None
    assert issuer.post("/_sandbox/cards/card-jordan-5550/authorise").json()["approved"] is True


def test_a_lost_card_is_replaced_with_a_new_number_and_cancelled(issuer) -> None:
    answer = post(issuer, "/cards/card-alex-4821/replacements", replacement(fee=500))
    assert answer.status_code == 201
    order = answer.json()
    assert order["new_last_four"] == "5932" and order["same_number"] is False
    assert issuer.get("/cards/card-alex-4821").json()["status"] == "cancelled"
    assert post(issuer, "/cards/card-alex-4821/freeze", {"reason": "lost"}).status_code == 409
    assert post(issuer, "/cards/card-alex-4821/unfreeze").status_code == 409
    digital = post(issuer, f"/cards/{order['new_card_id']}/digital")
    assert digital.status_code == 201
    assert digital.json()["last_four"] == "5932"
    assert digital.json()["wallets"] == ["apple_pay", "google_pay"]


def test_a_damaged_card_keeps_its_number_and_works_until_the_new_one_is_activated(
    issuer,
) -> None:
    order = post(issuer, "/cards/card-alex-7310/replacements", replacement("damaged")).json()
    assert order["same_number"] is True and order["new_last_four"] == "7310"
    assert issuer.get("/cards/card-alex-7310").json()["status"] == "active"
    issuer.post(f"/_sandbox/cards/{order['new_card_id']}/activate")
    assert issuer.get("/cards/card-alex-7310").json()["status"] == "cancelled"
    events = issuer.get(f"/replacements/{order['replacement_id']}").json()["events"]
    assert [e["event"] for e in events] == ["ordered", "activated"]


def test_the_fee_is_charged_once_and_a_second_order_is_refused(issuer) -> None:
    order_key = key()
    body = replacement("stolen", "next_day", fee=500)
    first = post(issuer, "/cards/card-alex-4821/replacements", body, order_key)
    again = post(issuer, "/cards/card-alex-4821/replacements", body, order_key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    charges = issuer.get("/_sandbox/charges").json()
    assert [(c["account_id"], c["amount_pence"]) for c in charges] == [("acc-alex-9911", 500)]
    other = post(issuer, "/cards/card-alex-4821/replacements", body)
    assert other.status_code == 409 and other.json()["error"] in {
        "replacement_in_progress",
        "card_cancelled",
    }
    damaged = post(issuer, "/cards/card-alex-7310/replacements", replacement("damaged"))
    again_damaged = post(issuer, "/cards/card-alex-7310/replacements", replacement("damaged"))
    assert damaged.status_code == 201
    assert again_damaged.json() == {"error": "replacement_in_progress"}


def test_an_undeliverable_address_is_refused(issuer) -> None:
    address = {**HOME, "line_1": "Undeliverable"}
    answer = post(
        issuer, "/cards/card-jordan-1187/replacements", replacement("not_received", address=address)
    )
    assert answer.status_code == 422 and answer.json()["error"] == "undeliverable_address"
    assert issuer.get("/cards/card-jordan-1187").json()["status"] == "sent"


def test_order_events_follow_the_clock(issuer) -> None:
    settings(issuer, dispatch_seconds=0.2, deliver_seconds=0.4)
    order = post(
        issuer, "/cards/card-jordan-1187/replacements", replacement("not_received", "next_day")
    ).json()
    assert order["new_last_four"] == "2298"
    path = f"/replacements/{order['replacement_id']}"
    assert [e["event"] for e in issuer.get(path).json()["events"]] == ["ordered"]
    time.sleep(0.45)
    assert [e["event"] for e in issuer.get(path).json()["events"]] == [
        "ordered",
        "dispatched",
        "delivered",
    ]


def test_a_new_account_gets_a_card_ending_in_its_account_number(issuer) -> None:
    body = {
        "account_id": "acc-cus-10000001-0001",
        "account_number": "60000001",
        "name": "Sam Patel",
        "address": HOME,
    }
    answer = post(issuer, "/cards", body)
    assert answer.status_code == 201 and answer.json()["last_four"] == "0001"
    events = issuer.get(f"/replacements/{answer.json()['order_id']}").json()["events"]
    assert events[0]["event"] == "ordered"


def test_a_freeze_that_fails_after_the_work_takes_effect_once_when_retried(issuer) -> None:
    faults(issuer, error_rate=1.0, after_effect_share=1.0)
    freeze_key = key()
    lost = post(issuer, "/cards/card-alex-4821/freeze", {"reason": "lost"}, freeze_key)
    assert lost.status_code == 502
    faults(issuer)
    retried = post(issuer, "/cards/card-alex-4821/freeze", {"reason": "lost"}, freeze_key)
    assert retried.status_code == 200 and retried.json()["already_frozen"] is False


def test_an_outage_refuses_calls_until_it_ends(issuer) -> None:
    faults(issuer, outage_seconds=0.3)
    assert issuer.get("/customers/alex/cards").status_code == 503
    refused = post(issuer, "/cards/card-alex-4821/freeze", {"reason": "stolen"})
    assert refused.status_code == 503
    assert issuer.get("/cards/card-alex-4821").status_code == 503
    time.sleep(0.35)
    assert issuer.get("/cards/card-alex-4821").json()["status"] == "active"


def test_slowness_delays_every_answer(issuer) -> None:
    faults(issuer, latency_ms=150)
    started = time.monotonic()
    issuer.get("/customers/alex/cards")
    assert time.monotonic() - started >= 0.15


def test_a_key_reused_with_another_request_is_refused_and_changes_nothing(issuer) -> None:
    reused = key()
    post(issuer, "/cards/card-alex-4821/freeze", {"reason": "lost"}, reused)
    conflict = post(issuer, "/cards/card-alex-7310/freeze", {"reason": "lost"}, reused)
    assert conflict.status_code == 409
    assert conflict.json()["error"] == "idempotency_key_reused"
    assert issuer.get("/cards/card-alex-7310").json()["status"] == "active"


def test_a_changing_call_without_a_key_is_refused(issuer) -> None:
    answer = issuer.post("/cards/card-alex-4821/freeze", json={"reason": "lost"})
    assert answer.status_code == 422
    assert issuer.get("/cards/card-alex-4821").json()["status"] == "active"
