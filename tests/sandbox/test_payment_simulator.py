"""The payment provider's Faster Payments and confirmation of payee over HTTP: the payment
journey's accounts and amounts, exactly once under retries and failures, and key reuse."""

from __future__ import annotations

import pytest
from sandbox_kit import faults, key, post

ALEX = {"name": "Alex Morgan", "sort_code": "20-00-00", "account_number": "55779911"}


@pytest.fixture
def provider(partner):
    client = partner("payment_provider")
    quick = {"pending_seconds": 600, "lost_reply_seconds": 0.05, "no_reply_seconds": 0.05}
    assert client.put("/_sandbox/payment-settings", json=quick).status_code == 200
    return client


def cop(client, name: str, account: str, kind: str = "personal", sort_code: str = "60-70-80"):
    body = {"name": name, "account_type": kind, "sort_code": sort_code, "account_number": account}
    answer = client.post("/cop/checks", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def payment(account: str, pence: int, name: str = "Christopher Evans", sort_code="60-70-80"):
    payee = {"name": name, "sort_code": sort_code, "account_number": account}
    return {
        "from_account": ALEX,
        "payee": payee,
        "amount_pence": pence,
        "currency": "GBP",
        "reference": "Invoice 12",
    }


@pytest.mark.parametrize(
    ("name", "account", "kind", "result", "code", "held"),
    [
        ("Christopher Evans", "11111111", "personal", "match", None, None),
        ("Mr Christopher Evans.", "11111111", "personal", "match", None, None),
        ("Chris Evans", "11111111", "personal", "close_match", "MBAM", "Christopher Evans"),
        ("C Evans", "11111111", "personal", "close_match", "MBAM", "Christopher Evans"),
        ("Christopher Evams", "11111111", "personal", "close_match", "MBAM", "Christopher Evans"),
        ("Jane Smith", "11111111", "personal", "no_match", "ANNM", None),
        (
            "Evans Building Services Ltd",
            "22222222",
            "personal",
            "close_match",
            "BANM",
            "Evans Building Services Ltd",
        ),
        ("Evans Building Services Ltd", "22222222", "business", "match", None, None),
        ("Christopher Evans", "11111111", "business", "close_match", "PANM", "Christopher Evans"),
        ("Priya Shah", "44444444", "personal", "unable_to_check", None, None),
        ("Anyone", "66666666", "personal", "no_match", "AC01", None),
        ("Whoever Typed", "12345678", "business", "match", None, None),
    ],
)
def test_confirmation_of_payee_follows_the_rules(
    provider, name, account, kind, result, code, held
) -> None:
    answer = cop(provider, name, account, kind)
    assert (answer["result"], answer["reason_code"], answer["name"]) == (result, code, held)


def test_payments_are_accepted_rejected_or_pending_by_account(provider) -> None:
    accepted = post(provider, "/payments", payment("11111111", 25_000))
    assert accepted.status_code == 201
    assert accepted.json()["status"] == "accepted" and accepted.json()["fp_id"].startswith("FP")
    closed = post(provider, "/payments", payment("33333333", 25_000, "Sam Okafor")).json()
    assert (closed["status"], closed["reason_code"]) == ("rejected", "AC04")
    missing = post(provider, "/payments", payment("66666666", 25_000)).json()
    assert (missing["status"], missing["reason"]) == ("rejected", "account number not found")
    pending = post(provider, "/payments", payment("44444444", 25_000, "Priya Shah")).json()
    assert pending["status"] == "pending" and pending["fp_id"] is None
    assert provider.get(f"/payments/{pending['payment_id']}").json()["status"] == "pending"
    provider.put("/_sandbox/payment-settings", json={"pending_seconds": 0})
    later = provider.get(f"/payments/{pending['payment_id']}").json()
    assert later["status"] == "accepted" and later["fp_id"].startswith("FP")


def test_six_six_six_six_is_rejected_and_seven_seven_never_answers(provider) -> None:
    refused = post(provider, "/payments", payment("11111111", 6666)).json()
    assert (refused["status"], refused["reason_code"]) == ("rejected", "AG01")
    silent = post(provider, "/payments", payment("11111111", 7777))
    assert silent.status_code == 504


def test_a_lost_reply_is_found_again_by_retrying_with_the_same_key(provider) -> None:
    pay_key = key()
    lost = post(provider, "/payments", payment("11111111", 1313), pay_key)
    assert lost.status_code == 504
    retried = post(provider, "/payments", payment("11111111", 1313), pay_key)
    assert retried.status_code == 200 and retried.json()["status"] == "accepted"
    assert provider.get(f"/payments/{retried.json()['payment_id']}").status_code == 200
    assert retried.json()["payment_id"] == "PMT-000001"


def test_a_key_reused_with_other_details_is_refused_and_pays_nothing(provider) -> None:
    reused = key()
    post(provider, "/payments", payment("11111111", 25_000), reused)
    conflict = post(provider, "/payments", payment("11111111", 26_000), reused)
    assert conflict.status_code == 409
    assert provider.get("/payments/PMT-000002").status_code == 404


def test_under_half_the_calls_failing_a_payment_is_made_exactly_once(provider) -> None:
    faults(provider, error_rate=0.5, after_effect_share=0.5)
    pay_key, answers = key(), []
    while not answers or answers[-1].status_code >= 500:
        answers.append(post(provider, "/payments", payment("11111111", 40_000), pay_key))
    faults(provider)
    assert answers[-1].json()["payment_id"] == "PMT-000001"
    assert provider.get("/payments/PMT-000002").status_code == 404


def test_a_payment_without_a_key_or_with_a_bad_reference_is_refused(provider) -> None:
    assert provider.post("/payments", json=payment("11111111", 100)).status_code == 422
    bad = {**payment("11111111", 100), "reference": "no <script>"}
    assert post(provider, "/payments", bad).status_code == 422
    assert provider.get("/payments/PMT-000001").status_code == 404


def test_the_motor_claims_payee_check_and_payouts_are_unchanged(provider) -> None:
    legacy = provider.post(
        "/confirmation-of-payee",
        json={"name": "Sam Patel", "sort_code": "40-47-84", "account_number": "70872490"},
    )
    assert legacy.json() == {"result": "match"}
