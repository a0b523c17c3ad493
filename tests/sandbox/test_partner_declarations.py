"""The partner operation declarations (partners/*.yaml) against the simulators: each file
names a partner the sandbox serves, its request and response shapes are valid JSON Schema,
and every operation, called on the simulator over HTTP with a request its schema accepts,
answers with a body its response schema accepts."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from sandbox_kit import key, settings

from wayline.sandbox.partners import PARTNERS

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "partners").glob("*.yaml"))
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
HOME = {"line_1": "1 Acacia Avenue", "town": "London", "postcode": "SW1A 1AA"}
PERSON = {"first_name": "Sam", "last_name": "Patel", "date_of_birth": "1968-09-03"}
SAMS_ACCOUNT = {"name": "Sam Patel", "sort_code": "40-47-84", "account_number": "70872490"}
PAYOUT = {"amount_pence": 25_000, "currency": "GBP", "account": SAMS_ACCOUNT,
          "reference": "CLM-000001"}  # fmt: skip

STANDING_ORDER = {"account_id": "acc-alex-9911", "amount_pence": 5_000, "reference": "Rent",
                  "payee": {"name": "Jane Morgan", "sort_code": "20-11-22",
                            "account_number": "12345678"},
                  "first_date": "2099-01-15", "frequency": "monthly"}  # fmt: skip

Results = dict[str, Any]
Step = tuple[str, dict[str, Any] | Callable[[Results], dict[str, Any]]]

# For each partner, its operations called in an order that makes sense (later calls use
# earlier answers), with knobs that make the simulator answer at once.
SCENARIOS: dict[str, tuple[dict[str, Any], list[Step]]] = {
    "core_banking": ({}, [
        ("find_customers", {"email": "alex@example.com"}),
        ("create_customer", {**PERSON, "email": "sam@example.com", "mobile": "+447700900002",
                             "address": HOME}),
        ("open_account", lambda r: {"customer_id": r["create_customer"]["customer_id"],
                                    "product": "everyday"}),
        ("create_login", lambda r: {"customer_id": r["create_customer"]["customer_id"]}),
        ("home_address", {"customer_id": "alex"}),
        ("customer_profile", {"customer_id": "sam"}),
        ("customer_profile", lambda r: {"customer_id": r["create_customer"]["customer_id"]}),
        ("accounts", {"customer_id": "alex"}),
        ("payees", {"customer_id": "alex"}),
        ("save_payee", {"customer_id": "jordan", "name": "Christopher Evans", "kind": "personal",
                        "sort_code": "60-70-80", "account_number": "11111111"}),
        ("reserve", {"account_id": "acc-alex-9911", "amount_pence": 25_000}),
        ("debit", lambda r: {"reservation_id": r["reserve"]["reservation_id"]}),
        ("reserve", {"account_id": "acc-alex-9911", "amount_pence": 1_000}),
        ("release", lambda r: {"reservation_id": r["reserve"]["reservation_id"]}),
        ("refund", {"account_id": "acc-alex-9911", "transaction_id": "txn-0001",
                    "amount_pence": 24_999, "value_date": "2026-12-01"}),
        ("create_standing_order", STANDING_ORDER),
    ]),
    "payment_provider": ({}, [
        ("confirm_payee", {"name": "Chris Evans", "account_type": "personal",
                           "sort_code": "60-70-80", "account_number": "11111111"}),
        ("send_payment", {"from_account": {"name": "Alex Morgan", "sort_code": "20-00-00",
                                           "account_number": "55779911"},
                          "payee": {"name": "Christopher Evans", "sort_code": "60-70-80",
                                    "account_number": "11111111"},
                          "amount_pence": 25_000, "currency": "GBP", "reference": "Rent"}),
        ("get_payment", lambda r: {"payment_id": r["send_payment"]["payment_id"]}),
        ("check_account_name", SAMS_ACCOUNT),
        ("payout", PAYOUT),
    ]),
    "repairer_network": ({}, [
        ("repairers_near", {"postcode": "SW1A 1AA"}),
        ("book_repair", lambda r: {"repairer_id": r["repairers_near"]["repairers"][0]["id"],
                                   "reference": "CLM-000001", "registration": "AB12 CDE"}),
    ]),
    "notification_provider": ({}, [
        ("send_message", {"channel": "sms", "to": "+447700900002",
                          "body": "Your claim CLM-000001 has been approved."}),
        ("send_message", {"channel": "email", "to": "sam@example.com",
                          "subject": "We have received your claim CLM-000001",
                          "body": "Dear Sam Patel, thank you for telling us what happened."}),
    ]),
    "fraud_bureau": ({}, [
        ("account_opening_check", {**PERSON, "postcode": "BS1 4RN"}),
        ("card_delivery_check", {"customer_id": "jordan", "card_id": "card-jordan-5550",
                                 "address": HOME}),
        ("payment_check", {"customer_id": "jordan", "amount_pence": 30_000, "new_payee": True,
                           "sort_code": "60-70-80", "account_number": "11111111"}),
    ]),
    "identity_verification": ({"check_seconds": 0}, [
        ("start_check", {**PERSON, "document_type": "passport"}),
        ("get_check", lambda r: {"check_id": r["start_check"]["check_id"]}),
        ("erase_images", lambda r: {"check_id": r["start_check"]["check_id"]}),
    ]),
    "screening": ({}, [
        ("screen", {**PERSON, "last_name": "Politico"}),
        ("monitor", lambda r: {"screening_id": r["screen"]["screening_id"],
                               "customer_id": "CUS-10000001"}),
    ]),
    "credit_bureau": ({}, [
        ("search", {**PERSON, "last_name": "Adverse", "search_type": "quotation",
                    "postcode": "BS1 4RN", "declared_income_pence": 4_800_000}),
    ]),
    "address_lookup": ({}, [
        ("find_addresses", {"postcode": "SW1A 1AA"}),
        ("get_address", lambda r: {"address_id": r["find_addresses"]["addresses"][0][
            "address_id"]}),
    ]),
    "card_issuer": ({"dispatch_seconds": 0}, [
        ("list_cards", {"customer_id": "jordan"}),
        ("card_transactions", {"card_id": "card-alex-4821"}),
        ("freeze_card", {"card_id": "card-alex-4821", "reason": "stolen"}),
        ("unfreeze_card", {"card_id": "card-alex-4821"}),
        ("order_replacement", {"card_id": "card-alex-4821", "reason": "lost",
                               "speed": "next_day", "address": HOME, "fee_pence": 500}),
        ("add_digital_card", lambda r: {"card_id": r["order_replacement"]["new_card_id"]}),
        ("replacement_events", lambda r: {"replacement_id": r["order_replacement"][
            "replacement_id"]}),
        ("order_new_card", {"account_id": "acc-cus-10000001-0001", "account_number": "60000001",
                            "name": "Sam Patel", "address": HOME}),
    ]),
    "pension_wise": ({}, [
        ("book_guidance", {"customer_id": "sam", "channel": "phone", "mobile_ending": "0002"}),
        ("appointment", lambda r: {"booking_reference": r["book_guidance"][
            "booking_reference"]}),
    ]),
    "wealth_platform": ({"deal_seconds": 0, "settle_seconds": 0}, [
        ("investor", {"customer_id": "sam"}),
        ("holdings", {"customer_id": "sam"}),
        ("place_sell_order", {"holding_id": "PEN-300001", "withdrawal_type": "ufpls",
                              "amount_pence": 2_000_000, "quote_value_pence": 6_400_000}),
        ("sell_order", lambda r: {"order_id": r["place_sell_order"]["order_id"]}),
        ("pay_out", lambda r: {"order_id": r["place_sell_order"]["order_id"]}),
        ("record_guidance", {"customer_id": "sam", "route": "received",
                             "recorded_at": "2026-12-02T10:00:00Z"}),
        ("record_support_need", {"customer_id": "sam", "reasons": ["bereavement"],
                                 "note": "Would like a call"}),
    ]),
}  # fmt: skip


def declaration(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def connectors() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "connectors.yaml").read_text())["partners"]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_each_declaration_is_well_formed(path: Path) -> None:
    declared = declaration(path)
    assert declared["partner"] == path.stem
    assert path.stem in PARTNERS and path.stem in connectors()
    for name, operation in declared["operations"].items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name), name
        assert operation["method"] in {"GET", "POST", "PUT", "PATCH", "DELETE"}, name
        Draft202012Validator.check_schema(operation["request"])
        Draft202012Validator.check_schema(operation["response"])
        placeholders = set(PLACEHOLDER.findall(operation["path"]))
        assert placeholders <= set(operation["request"].get("required", [])), name
        for status in operation.get("refusals", {}):
            assert 400 <= int(status) < 500, (name, status)


def test_new_partners_take_the_next_ports_in_order() -> None:
    ports = {name: int(p["base_url"].rsplit(":", 1)[1]) for name, p in connectors().items()}
    assert list(ports) == list(PARTNERS)
    assert list(ports.values()) == list(range(8101, 8101 + len(PARTNERS)))


def call(client, operation: dict[str, Any], request: dict[str, Any]):
    values = dict(request)
    path = PLACEHOLDER.sub(lambda m: str(values.pop(m.group(1))), operation["path"])
    headers = {"Idempotency-Key": key()} if operation.get("changes") else {}
    if operation["method"] in {"GET", "DELETE"}:
        return client.request(operation["method"], path, params=values, headers=headers)
    return client.request(operation["method"], path, json=values, headers=headers)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_the_simulators_answers_match_the_declared_shapes(partner, path: Path) -> None:
    declared = declaration(path)
    knobs, steps = SCENARIOS[path.stem]
    client = partner(path.stem)
    if knobs:
        settings(client, **knobs)
    results: Results = {}
    for name, request in steps:
        operation = declared["operations"][name]
        body = request(results) if callable(request) else request
        Draft202012Validator(operation["request"]).validate(body)
        answer = call(client, operation, body)
        assert 200 <= answer.status_code < 300, (name, answer.status_code, answer.text)
        Draft202012Validator(
            operation["response"], format_checker=Draft202012Validator.FORMAT_CHECKER
        ).validate(answer.json())
        results[name] = answer.json()
    assert set(results) == set(declared["operations"]), "an operation was not called"


# For each declared refusal: a request the simulator refuses with that status.
REFUSALS: dict[tuple[str, str, int], dict[str, Any]] = {
    ("card_issuer", "order_replacement", 422): {
        "card_id": "card-alex-4821", "reason": "lost", "speed": "standard", "fee_pence": 0,
        "address": {**HOME, "line_1": "Undeliverable"}},
    ("address_lookup", "find_addresses", 422): {"postcode": "NOT A CODE"},
    ("address_lookup", "get_address", 404): {"address_id": "adr-zz11zz-9"},
    ("core_banking", "open_account", 404): {"customer_id": "CUS-99999999",
                                            "product": "everyday"},
    ("core_banking", "create_login", 404): {"customer_id": "CUS-99999999"},
    ("core_banking", "customer_profile", 404): {"customer_id": "CUS-99999999"},
    ("core_banking", "reserve", 404): {"account_id": "acc-nobody", "amount_pence": 1},
    ("core_banking", "reserve", 409): {"account_id": "acc-jordan-4242",
                                       "amount_pence": 10_000_000},
    ("core_banking", "debit", 404): {"reservation_id": "RES-999999"},
    ("core_banking", "release", 404): {"reservation_id": "RES-999999"},
    ("core_banking", "create_standing_order", 404): {**STANDING_ORDER, "account_id": "acc-no"},
    ("core_banking", "create_standing_order", 422): {**STANDING_ORDER, "first_date": "2001-01-01"},
    ("core_banking", "refund", 404): {"account_id": "acc-nobody", "transaction_id": "t",
                                      "amount_pence": 1, "value_date": "2026-12-01"},
    ("identity_verification", "get_check", 404): {"check_id": "IDV-999999"},
    ("identity_verification", "erase_images", 404): {"check_id": "IDV-999999"},
    ("screening", "monitor", 404): {"screening_id": "SCR-999999", "customer_id": "CUS-1"},
    ("wealth_platform", "investor", 404): {"customer_id": "nobody"},
    ("wealth_platform", "holdings", 404): {"customer_id": "nobody"},
    ("wealth_platform", "place_sell_order", 422): {
        "holding_id": "ISA-200001", "withdrawal_type": "ufpls", "amount_pence": 10_000,
        "quote_value_pence": 0},
    ("wealth_platform", "sell_order", 404): {"order_id": "SO-00000000"},
    ("pension_wise", "appointment", 404): {"booking_reference": "PW-000000"},
    ("repairer_network", "book_repair", 422): {"repairer_id": "rep-1-000000",
                                               "reference": "CLM-000001", "registration": "N/A"},
}  # fmt: skip
# Refusals that need a state first (a cancelled card, an order in progress): set up by a call.
NEW_CARD = {"account_id": "acc-cus-10000001-0001", "account_number": "60000001",
            "name": "Sam Patel", "address": HOME}  # fmt: skip
REFUSALS_AFTER: dict[tuple[str, str, int], tuple[str, dict[str, Any], Any]] = {
    ("card_issuer", "order_new_card", 409): ("order_new_card", NEW_CARD, NEW_CARD),
    ("card_issuer", "freeze_card", 409): (
        "order_replacement",
        {"card_id": "card-alex-4821", "reason": "stolen", "speed": "standard",
         "address": HOME, "fee_pence": 0},
        {"card_id": "card-alex-4821", "reason": "lost"}),
    ("card_issuer", "unfreeze_card", 409): (
        "order_replacement",
        {"card_id": "card-alex-4821", "reason": "stolen", "speed": "standard",
         "address": HOME, "fee_pence": 0},
        {"card_id": "card-alex-4821"}),
    ("card_issuer", "add_digital_card", 409): (
        "order_replacement",
        {"card_id": "card-alex-4821", "reason": "lost", "speed": "standard",
         "address": HOME, "fee_pence": 0},
        {"card_id": "card-alex-4821"}),
    ("card_issuer", "order_replacement", 409): (
        "order_replacement",
        {"card_id": "card-alex-7310", "reason": "damaged", "speed": "standard",
         "address": HOME, "fee_pence": 0},
        {"card_id": "card-alex-7310", "reason": "damaged", "speed": "next_day",
         "address": HOME, "fee_pence": 500}),
    ("wealth_platform", "place_sell_order", 409): (
        "place_sell_order",
        {"holding_id": "ISA-300002", "withdrawal_type": "isa", "amount_pence": 10_000,
         "quote_value_pence": 0},
        {"holding_id": "ISA-300002", "withdrawal_type": "isa", "amount_pence": 20_000,
         "quote_value_pence": 0}),
    ("wealth_platform", "pay_out", 409): (
        "place_sell_order",
        {"holding_id": "ISA-300002", "withdrawal_type": "isa", "amount_pence": 10_000,
         "quote_value_pence": 0},
        lambda placed: {"order_id": placed["order_id"]}),
}  # fmt: skip
# Refusals a repeat shows: a first request, then another under the same Idempotency-Key.
REFUSALS_ON_REPEAT: dict[tuple[str, str, int], tuple[dict[str, Any], dict[str, Any]]] = {
    ("payment_provider", "payout", 422): (PAYOUT, {**PAYOUT, "amount_pence": 26_000}),
}
# Refusals only a race or a repeat shows (a reused key; a reservation settled twice): their
# statuses are tested by the simulators' own tests.
SHOWN_ELSEWHERE = {
    ("core_banking", "debit", 409),
    ("core_banking", "release", 409),
    ("payment_provider", "send_payment", 409),
}


def declared_refusals() -> list[tuple[str, str, int]]:
    return [
        (path.stem, name, int(status))
        for path in FILES
        for name, operation in declaration(path)["operations"].items()
        for status in operation.get("refusals", {})
    ]


def test_every_declared_refusal_is_shown_by_a_test() -> None:
    shown = set(REFUSALS) | set(REFUSALS_AFTER) | set(REFUSALS_ON_REPEAT) | SHOWN_ELSEWHERE
    assert set(declared_refusals()) == shown


@pytest.mark.parametrize(
    "refusal",
    sorted(set(REFUSALS) | set(REFUSALS_AFTER)),
    ids=lambda r: f"{r[0]}.{r[1]}.{r[2]}",
)
def test_the_simulator_refuses_with_the_declared_status(partner, refusal) -> None:
    partner_name, name, status = refusal
    operations = declaration(ROOT / "partners" / f"{partner_name}.yaml")["operations"]
    client = partner(partner_name)
    if partner_name == "wealth_platform":
        settings(client, deal_seconds=600, settle_seconds=0)
    request = REFUSALS.get(refusal)
    if request is None:
        setup, setup_request, then = REFUSALS_AFTER[refusal]
        prepared = call(client, operations[setup], setup_request)
        assert prepared.status_code == 201, prepared.text
        request = then(prepared.json()) if callable(then) else then
    Draft202012Validator(operations[name]["request"]).validate(request)
    answer = call(client, operations[name], request)
    assert answer.status_code == status, answer.text


@pytest.mark.parametrize(
    "refusal", sorted(REFUSALS_ON_REPEAT), ids=lambda r: f"{r[0]}.{r[1]}.{r[2]}"
)
def test_a_key_reused_with_another_request_is_refused_with_the_declared_status(
    partner, refusal
) -> None:
    partner_name, name, status = refusal
    operation = declaration(ROOT / "partners" / f"{partner_name}.yaml")["operations"][name]
    client = partner(partner_name)
    first, second = REFUSALS_ON_REPEAT[refusal]
    reused = {"Idempotency-Key": key()}
    for request in (first, second):
        Draft202012Validator(operation["request"]).validate(request)
    done = client.request(operation["method"], operation["path"], json=first, headers=reused)
    assert 200 <= done.status_code < 300, done.text
    again = client.request(operation["method"], operation["path"], json=second, headers=reused)
    assert again.status_code == status, again.text
