"""The account-opening journey's simulators over HTTP: identity verification, screening,
the credit bureau, address lookup and the fraud bureau's newer checks."""

from __future__ import annotations

import time

import pytest
from sandbox_kit import faults, key, post, settings

PERSON = {"first_name": "Sam", "date_of_birth": "1968-09-03"}


def identity_check(last_name: str, document: str = "passport") -> dict:
    return {**PERSON, "last_name": last_name, "document_type": document}


@pytest.fixture
def identity(partner):
    client = partner("identity_verification")
    settings(client, check_seconds=0)
    return client


def finished(client, body: dict) -> dict:
    started = post(client, "/checks", body)
    assert started.status_code == 202, started.text
    return client.get(f"/checks/{started.json()['check_id']}").json()


def test_a_check_is_pending_until_its_time_has_passed(identity) -> None:
    settings(identity, check_seconds=0.2)
    started = post(identity, "/checks", identity_check("Patel")).json()
    assert started["status"] == "pending"
    pending = identity.get(f"/checks/{started['check_id']}").json()
    assert pending["status"] == "pending" and "result" not in pending
    time.sleep(0.25)
    done = identity.get(f"/checks/{started['check_id']}").json()
    assert done["status"] == "complete" and done["result"] == "clear"
    assert done["face_match_score"] == 0.97


@pytest.mark.parametrize(
    ("surname", "result", "field", "value"),
    [
        ("Patel", "clear", "document_authenticity", "pass"),
        ("REFER", "refer", "document_authenticity", "inconclusive"),
        ("fail", "fail", "face_match", "no_match"),
        ("Mismatch", "clear", "face_match", "match"),
    ],
)
def test_the_last_name_decides_the_result(identity, surname, result, field, value) -> None:
    check = finished(identity, identity_check(surname))
    assert (check["result"], check[field]) == (result, value)
    born = check["document"]["date_of_birth"]
    assert born == ("1967-09-03" if surname == "Mismatch" else "1968-09-03")
    if surname == "fail":
        assert check["face_match_score"] == 0.21


def test_retake_asks_again_once_then_clears(identity) -> None:
    first = finished(identity, identity_check("Retake"))
    assert (first["result"], first["retake_reason"]) == ("retake", "glare")
    assert finished(identity, identity_check("Retake"))["result"] == "clear"
    assert finished(identity, identity_check("Fail"))["result"] == "fail"
    assert finished(identity, identity_check("Fail"))["result"] == "fail"


def test_a_repeated_start_is_one_check_and_erasing_is_kept(identity) -> None:
    start_key = key()
    first = post(identity, "/checks", identity_check("Retake"), start_key).json()
    again = post(identity, "/checks", identity_check("Retake"), start_key).json()
    assert again == first and first["attempt"] == 1
    reused = post(identity, "/checks", identity_check("Other"), start_key)
    assert reused.status_code == 409
    erase = identity.delete(f"/checks/{first['check_id']}", headers={"Idempotency-Key": key()})
    assert erase.status_code == 200 and erase.json()["images_erased"] is True
    assert identity.get(f"/checks/{first['check_id']}").json()["images_erased"] is True
    assert (
        identity.delete("/checks/IDV-999999", headers={"Idempotency-Key": key()}).status_code == 404
    )


def test_a_bad_name_is_refused(identity) -> None:
    assert post(identity, "/checks", identity_check("Patel<script>")).status_code == 422


@pytest.mark.parametrize(
    ("surname", "kind", "score"),
    [("Sanction", "uk_sanctions_list", 0.91), ("politico", "pep", 0.88), ("Patel", None, None)],
)
def test_screening_by_name(partner, surname, kind, score) -> None:
    client = partner("screening")
    answer = client.post("/screen", json={**PERSON, "last_name": surname})
    assert answer.status_code == 200
    hits = answer.json()["hits"]
    assert [(h["list"], h["score"]) for h in hits] == ([(kind, score)] if kind else [])
    if kind == "pep":
        assert hits[0]["pep_class"] == {
            "role": "Member of Parliament (UK)",
            "kind": "domestic",
            "in_office": True,
        }
    if kind == "uk_sanctions_list":
        assert hits[0]["matched_on"] == ["name", "birth_year"]


def test_monitoring_needs_a_screening_and_is_kept_once(partner) -> None:
    client = partner("screening")
    screened = client.post("/screen", json={**PERSON, "last_name": "Patel"}).json()
    body = {"screening_id": screened["screening_id"], "customer_id": "CUS-10000001"}
    monitor_key = key()
    first = post(client, "/monitor", body, monitor_key)
    assert first.status_code == 201
    assert post(client, "/monitor", body, monitor_key).json() == first.json()
    unknown = post(client, "/monitor", {**body, "screening_id": "SCR-999999"})
    assert unknown.status_code == 404


def credit_search(surname: str, income: int, kind: str = "quotation") -> dict:
    return {
        **PERSON,
        "last_name": surname,
        "search_type": kind,
        "postcode": "BS1 4RN",
        "declared_income_pence": income,
    }


@pytest.mark.parametrize(
    ("surname", "income", "status", "band", "limit"),
    [
        ("Patel", 4_800_000, "found", "B", 150_000),
        ("Patel", 7_500_000, "found", "A", 250_000),
        ("Thin", 7_500_000, "thin", None, 0),
        ("Adverse", 4_800_000, "found", "E", 0),
    ],
)
def test_credit_searches_give_a_band_and_the_limit_it_allows(
    partner, surname, income, status, band, limit
) -> None:
    client = partner("credit_bureau")
    found = post(client, "/search", credit_search(surname, income)).json()
    assert (found["file_status"], found["score_band"], found["overdraft_limit_pence"]) == (
        status,
        band,
        limit,
    )
    assert bool(found["adverse"]) == (surname == "Adverse")


def test_only_application_searches_leave_a_footprint(partner) -> None:
    client = partner("credit_bureau")
    post(client, "/search", credit_search("Patel", 100))
    post(client, "/search", credit_search("Patel", 100, "application"))
    assert [s["search_type"] for s in client.get("/searches").json()] == ["application"]


@pytest.mark.parametrize(
    ("postcode", "first", "count"),
    [
        ("sw1a1aa", "1 Acacia Avenue", 3),
        ("LS1 4AP", "20 Mill Road", 3),
        ("BS1 4RN", "1 High Street", 5),
        ("ZZ1 1ZZ", None, 0),
    ],
)
def test_addresses_by_postcode(partner, postcode, first, count) -> None:
    client = partner("address_lookup")
    found = client.get("/addresses", params={"postcode": postcode}).json()["addresses"]
    assert len(found) == count
    if first:
        assert found[0]["line_1"] == first
        assert client.get(f"/addresses/{found[0]['address_id']}").json() == found[0]


def test_address_lookup_fails_for_its_failing_postcode_and_refuses_nonsense(partner) -> None:
    client = partner("address_lookup")
    assert client.get("/addresses", params={"postcode": "ZZ1 5XX"}).status_code == 503
    assert client.get("/addresses", params={"postcode": "NOT A CODE"}).status_code == 422
    assert client.get("/addresses/adr-zz11zz-1").status_code == 404
    faults(client, outage_seconds=30)
    assert client.get("/addresses", params={"postcode": "SW1A 1AA"}).status_code == 503


@pytest.mark.parametrize(
    ("first", "last", "result", "marker", "disqualified"),
    [
        ("Sam", "Patel", "clear", False, False),
        ("Sam", "Fraud", "refer", True, False),
        ("Jordan", "Lee", "refer", True, False),
        ("Sam", "Status", "refer", False, True),
    ],
)
def test_the_account_opening_fraud_check(partner, first, last, result, marker, disqualified):
    client = partner("fraud_bureau")
    body = {
        "first_name": first,
        "last_name": last,
        "date_of_birth": "1990-01-01",
        "postcode": "BS1 4RN",
    }
    found = client.post("/checks/account-opening", json=body).json()
    assert found["result"] == result
    assert bool(found["markers"]) == marker and found["disqualified_person"] == disqualified


def test_the_card_delivery_and_payment_checks(partner) -> None:
    client = partner("fraud_bureau")
    address = {"line_1": "5 High Street", "town": "Sampleton", "postcode": "BS1 4RN"}
    for customer, result in (("jordan", "refer"), ("alex", "clear")):
        body = {"customer_id": customer, "card_id": f"card-{customer}", "address": address}
        assert client.post("/checks/card-delivery", json=body).json()["result"] == result
    payment = {
        "customer_id": "jordan",
        "amount_pence": 30_000,
        "new_payee": True,
        "sort_code": "60-70-80",
        "account_number": "11111111",
    }
    assert client.post("/checks/payments", json=payment).json()["risk_marker"] == "high"
    alex = {**payment, "customer_id": "alex"}
    assert client.post("/checks/payments", json=alex).json()["risk_marker"] is None
    check_key = key()
    first = post(client, "/checks/payments", alex, check_key).json()
    assert post(client, "/checks/payments", alex, check_key).json() == first
