"""What the customer may be told, by declaration (journeys/disclosure.py): fraud and risk
checks and reasons are for staff only, and whatever the definition does not declare for the
customer is not shown to them."""

from __future__ import annotations

from dataclasses import replace

from wayline.journeys.disclosure import Disclosure
from wayline.journeys.loader import Journey

FRAUD = "The fraud bureau holds a risk marker that a claims handler needs to review"
PHOTO = "A photo shows a sign of fraud that a claims handler needs to review"
INJURED = "Someone was injured, so a claims handler will look at your claim"
NEUTRAL = "We need to look at your claim more closely"


def test_the_motor_claim_declares_its_fraud_checks_for_staff(motor):
    shown = Disclosure.of(motor).shown_checks
    assert "fraud_bureau" not in shown and "photo_signals" not in shown
    assert {"customer_status", "cover_dates", "confirmation_of_payee"} <= shown


def test_staff_reasons_become_the_neutral_reason_once(motor):
    assert Disclosure.of(motor).customer_reasons([FRAUD, PHOTO]) == [NEUTRAL]


def test_customer_reasons_are_kept_and_staff_reasons_beside_them_dropped(motor):
    assert Disclosure.of(motor).customer_reasons([INJURED, FRAUD]) == [INJURED]


def test_a_reason_the_definition_does_not_declare_is_not_shown(motor):
    told = Disclosure.of(motor)
    assert told.customer_reasons(["Handler note: known to the bureau"]) == [NEUTRAL]
    assert told.customer_reasons([]) == []


def test_events_lose_staff_checks_and_staff_reasons(motor):
    events = [
        {"type": "check.completed", "data": {"check": "fraud_bureau", "passed": False}},
        {"type": "check.completed", "data": {"check": "photo_signals", "passed": False}},
        {"type": "check.completed", "data": {"check": "cover_dates", "passed": True}},
        {"type": "decision.made", "data": {"outcome": "referred", "reasons": [FRAUD]}},
        {"type": "journey.submitted", "data": {"reference": "CLM-ABC234"}},
    ]
    assert Disclosure.of(motor).events(events) == [
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
    assert Disclosure.of(motor).check_results(results) == {
        "cover_dates": {"passed": True, "title": "Cover"}
    }


def test_an_outcome_keeps_its_name_and_time_with_the_customer_reasons(motor):
    outcome = {"outcome": "referred", "reasons": [FRAUD], "at": "2026-03-27T10:30:00+00:00"}
    assert Disclosure.of(motor).outcome(outcome) == {
        "outcome": "referred",
        "reasons": [NEUTRAL],
        "at": "2026-03-27T10:30:00+00:00",
    }
    assert Disclosure.of(motor).outcome(None) is None


def without_audiences(journey: Journey) -> Journey:
    """The motor claim as a version deployed before checks and reasons had an audience."""
    definition = journey.definition
    assert definition.decision is not None
    checks = [c.model_copy(update={"audience": "customer"}) for c in definition.checks]
    outcomes = [
        o.model_copy(
            update={"reasons": [r.model_copy(update={"audience": "customer"}) for r in o.reasons]}
        )
        for o in definition.decision.outcomes
    ]
    decision = definition.decision.model_copy(update={"outcomes": outcomes})
    return replace(
        journey, definition=definition.model_copy(update={"checks": checks, "decision": decision})
    )


def test_a_journey_on_an_older_version_is_covered_by_what_the_current_one_hides(motor):
    older = without_audiences(motor)
    assert Disclosure.of(older).customer_reasons([FRAUD]) == [FRAUD]  # the old version alone
    told = Disclosure.of(older, motor)
    assert told.customer_reasons([FRAUD]) == [NEUTRAL]
    assert "fraud_bureau" not in told.shown_checks
    assert told.customer_reasons([INJURED]) == [INJURED]
