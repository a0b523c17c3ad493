"""Core banking's simulator over HTTP: finding customers, creating customers, accounts and
logins, home addresses, balances and limits, payees, reservations and refunds."""

from __future__ import annotations

import pytest
from sandbox_kit import faults, key, post

SAM = {
    "first_name": "Sam",
    "last_name": "Patel",
    "date_of_birth": "1968-09-03",
    "email": "sam@example.com",
    "mobile": "+447700900002",
    "address": {"line_1": "1 High Street", "town": "Sampleton", "postcode": "BS1 4RN"},
}


@pytest.fixture
def bank(partner):
    return partner("core_banking")


def test_customers_are_found_by_email_or_by_name_birth_date_and_postcode(bank) -> None:
    by_email = bank.get("/customers", params={"email": "ALEX@example.com"}).json()
    assert by_email == {"customers": [{"customer_id": "alex", "name": "Alex Morgan"}]}
    found = bank.get(
        "/customers", params={"name": "jordan lee", "dob": "1991-09-30", "postcode": "ls14ap"}
    ).json()
    assert [c["customer_id"] for c in found["customers"]] == ["jordan"]
    wrong_dob = {"name": "Jordan Lee", "dob": "1991-09-29", "postcode": "LS1 4AP"}
    assert bank.get("/customers", params=wrong_dob).json()["customers"] == []
    # Sam has a policy with us but no account, so does not bank with us.
    assert bank.get("/customers", params={"email": "sam@example.com"}).json()["customers"] == []
    assert bank.get("/customers", params={"email": "new@example.com"}).json()["customers"] == []
    assert bank.get("/customers", params={"name": "Alex Morgan"}).status_code == 422


def test_a_new_customer_gets_an_account_and_a_login_numbered_in_order(bank) -> None:
    create = key()
    customer = post(bank, "/customers", SAM, create)
    assert customer.status_code == 201
    assert customer.json()["customer_id"] == "CUS-10000001"
    assert post(bank, "/customers", SAM, create).json() == customer.json()
    assert (
        post(bank, "/customers", {**SAM, "email": "x@example.com"}).json()["customer_id"]
        == "CUS-10000002"
    )
    account = post(bank, "/accounts", {"customer_id": "CUS-10000001", "product": "everyday"})
    assert account.status_code == 201
    assert (account.json()["sort_code"], account.json()["account_number"]) == (
        "20-00-00",
        "60000001",
    )
    second = post(bank, "/accounts", {"customer_id": "CUS-10000002", "product": "premier"})
    assert second.json()["account_number"] == "60000002"
    login = post(bank, "/logins", {"customer_id": "CUS-10000001"})
    assert login.status_code == 201 and len(login.json()["activation_token"]) >= 16
    assert post(bank, "/logins", {"customer_id": "CUS-99999999"}).status_code == 404
    held = bank.get("/customers/CUS-10000001").json()
    assert held["accounts"][0]["account_number"] == "60000001"
    found = bank.get("/customers", params={"email": "sam@example.com"}).json()["customers"]
    assert [c["customer_id"] for c in found] == ["CUS-10000001"]


def test_bad_customer_details_are_refused_and_nothing_is_created(bank) -> None:
    bad = post(bank, "/customers", {**SAM, "mobile": "07700 900002"})
    assert bad.status_code == 422 and "mobile" in bad.text
    assert post(bank, "/customers", SAM).json()["customer_id"] == "CUS-10000001"


def test_home_addresses_balances_and_payees(bank) -> None:
    home = bank.get("/customers/alex/address").json()["address"]
    assert (home["line_1"], home["postcode"]) == ("1 Acacia Avenue", "SW1A 1AA")
    assert bank.get("/customers/sam/address").status_code == 404
    assert bank.get("/customers/nobody/address").status_code == 404
    (account,) = bank.get("/customers/alex/accounts").json()["accounts"]
    assert (account["available_pence"], account["daily_limit_pence"]) == (245_000, 1_000_000)
    assert bank.get("/customers/sam/accounts").json()["accounts"] == []
    payees = bank.get("/customers/alex/payees").json()["payees"]
    assert [p["name"] for p in payees] == ["Jane Morgan", "British Gas"]
    assert payees[1]["reference_rule"] == "^[0-9]{12}$"
    saved = post(
        bank,
        "/customers/jordan/payees",
        {
            "name": "Christopher Evans",
            "kind": "personal",
            "sort_code": "60-70-80",
            "account_number": "11111111",
        },
    )
    assert saved.status_code == 201
    assert [p["name"] for p in bank.get("/customers/jordan/payees").json()["payees"]] == [
        "Christopher Evans"
    ]


def test_reservations_hold_money_then_debit_or_release_it_once(bank) -> None:
    reserve_key = key()
    held = post(
        bank,
        "/reservations",
        {"account_id": "acc-jordan-4242", "amount_pence": 30_000},
        reserve_key,
    ).json()
    assert held["available_pence"] == 34_000
    again = post(
        bank,
        "/reservations",
        {"account_id": "acc-jordan-4242", "amount_pence": 30_000},
        reserve_key,
    )
    assert again.json() == held
    short = post(bank, "/reservations", {"account_id": "acc-jordan-4242", "amount_pence": 40_000})
    assert short.status_code == 409 and short.json()["error"] == "insufficient_funds"
    released = post(bank, f"/reservations/{held['reservation_id']}/release").json()
    assert released["status"] == "released" and released["available_pence"] == 64_000
    late_debit = post(bank, f"/reservations/{held['reservation_id']}/debit")
    assert late_debit.status_code == 409


def test_the_daily_limit_counts_what_was_paid_today(bank) -> None:
    post(
        bank,
        "/refunds",
        {
            "account_id": "acc-alex-9911",
            "transaction_id": "txn-big",
            "amount_pence": 2_000_000,
            "value_date": "2026-01-01",
        },
    )
    first = post(bank, "/reservations", {"account_id": "acc-alex-9911", "amount_pence": 900_000})
    assert first.status_code == 201
    over = post(bank, "/reservations", {"account_id": "acc-alex-9911", "amount_pence": 200_000})
    assert over.status_code == 409 and over.json()["error"] == "daily_limit_exceeded"


def test_a_refund_is_credited_once_under_after_work_failures(bank) -> None:
    body = {
        "account_id": "acc-alex-9911",
        "transaction_id": "txn-0001",
        "amount_pence": 24_999,
        "value_date": "2026-12-01",
    }
    refund_key = key()
    faults(bank, error_rate=1.0, after_effect_share=1.0)
    assert post(bank, "/refunds", body, refund_key).status_code == 502
    faults(bank)
    assert post(bank, "/refunds", body, refund_key).json()["refund_id"] == "RF-000001"
    (account,) = bank.get("/customers/alex/accounts").json()["accounts"]
    assert account["available_pence"] == 245_000 + 24_999
