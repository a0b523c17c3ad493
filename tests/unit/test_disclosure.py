"""What the customer may be told, by declaration (journeys/disclosure.py): fraud and risk
checks and reasons are for staff only, and whatever the definition does not declare for the
customer is not shown to them."""

from __future__ import annotations

from wayline.journeys import disclosure

FRAUD = "The fraud bureau holds a risk marker that a claims handler needs to review"
PHOTO = "A photo shows a sign of fraud that a claims handler needs to review"
INJURED = "Someone was injured, so a claims handler will look at your claim"
NEUTRAL = "We need to look at your claim more closely"


def test_the_motor_claim_declares_its_fraud_checks_for_staff(motor):
    shown = disclosure.customer_checks(motor)
    assert "fraud_bureau" not in shown and "photo_signals" not in shown
    assert {"customer_status", "cover_dates", "confirmation_of_payee"} <= shown


def test_staff_reasons_become_the_neutral_reason_once(motor):
    assert disclosure.customer_reasons(motor, [FRAUD, PHOTO]) == [NEUTRAL]
    assert disclosure.neutral_reason(motor) == NEUTRAL


def test_customer_reasons_are_kept_and_staff_reasons_beside_them_dropped(motor):
    assert disclosure.customer_reasons(motor, [INJURED, FRAUD]) == [INJURED]


def test_a_reason_the_definition_does_not_declare_is_not_shown(motor):
    assert disclosure.customer_reasons(motor, ["Handler note: known to the bureau"]) == [NEUTRAL]
    assert disclosure.customer_reasons(motor, []) == []


def test_events_lose_staff_checks_and_staff_reasons(motor):
    events = [
        {"type": "check.completed", "data": {"check": "fraud_bureau", "passed": False}},
        {"type": "check.completed", "data": {"check": "photo_signals", "passed": False}},
        {"type": "check.completed", "data": {"check": "cover_dates", "passed": True}},
        {"type": "decision.made", "data": {"outcome": "referred", "reasons": [FRAUD]}},
        {"type": "journey.submitted", "data": {"reference": "CLM-ABC234"}},
    ]
    shown = disclosure.customer_events(motor, events)
    assert shown == [
        {"type": "check.completed", "data": {"check": "cover_dates", "passed": True}},
        {"type": "decision.made", "data": {"outcome": "referred", "reasons": [NEUTRAL]}},
        {"type": "journey.submitted", "data": {"reference": "CLM-ABC234"}},
    ]


def test_check_results_of_staff_checks_are_left_out(motor):
    results = {
        "fraud_bureau": {"passed": False, "reason": FRAUD, "at": "t"},
        "cover_dates": {"passed": True, "title": "Cover", "at": "t"},
        "retired_check": {"passed": False, "reason": "not in this version", "at": "t"},
    }
    assert disclosure.customer_check_results(motor, results) == {
        "cover_dates": {"passed": True, "title": "Cover"}
    }


def test_an_outcome_keeps_its_name_and_time_with_the_customer_reasons(motor):
    outcome = {"outcome": "referred", "reasons": [FRAUD], "at": "2026-03-27T10:30:00+00:00"}
    assert disclosure.customer_outcome(motor, outcome) == {
        "outcome": "referred",
        "reasons": [NEUTRAL],
        "at": "2026-03-27T10:30:00+00:00",
    }
    assert disclosure.customer_outcome(motor, None) is None
