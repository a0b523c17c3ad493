"""The workbench's pure rules (journeys/review.py) on the shipped motor claim: when a case
opens and where, when it is due, four-eyes, a handler's decision and its effects, and what
the customer is told of it (journeys/disclosure.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from wayline.journeys import review
from wayline.journeys.disclosure import Disclosure
from wayline.journeys.engine import JourneyState, NotAvailable, Status
from wayline.journeys.loader import Journey, load_directory

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FRAUD = "The fraud bureau holds a risk marker that a claims handler needs to review"


@pytest.fixture(scope="module")
def motor() -> Journey:
    return load_directory(Path(__file__).resolve().parents[2] / "journeys")["motor-claim"]


def claim(status: Status = Status.SUBMITTED, **changes: object) -> JourneyState:
    state = JourneyState(
        id="j1",
        journey="motor-claim",
        version="v1",
        customer_id="jordan",
        status=status,
        created_at=NOW,
        updated_at=NOW,
        answers={"settlement": "cash", "estimate_amount": "6000"},
        reference="CLM-AAAAAA",
    )
    return replace(state, **changes)  # type: ignore[arg-type]  # test states vary freely


def referred(checks: dict[str, dict[str, object]], reasons: list[str]) -> JourneyState:
    outcome = {"outcome": "referred", "reasons": reasons}
    return claim(Status.IN_REVIEW, checks=checks, outcome=outcome)


def test_a_referral_for_the_fraud_bureau_opens_in_the_fraud_queue(motor: Journey) -> None:
    after = referred({"fraud_bureau": {"passed": False}}, [FRAUD])
    opening = review.opening(motor, claim(), after, NOW)
    assert opening == review.Opening("fraud", "high", NOW + timedelta(days=2), (FRAUD,), "referral")


def test_any_other_referral_goes_to_the_claims_queue(motor: Journey) -> None:
    after = referred({"fraud_bureau": {"passed": True}}, ["The repair estimate is over £3,000"])
    opening = review.opening(motor, claim(), after, NOW)
    assert opening is not None and (opening.queue, opening.priority) == ("claims", "normal")


def test_no_case_opens_without_a_referral_or_a_rule(motor: Journey) -> None:
    decided = claim(Status.DECIDED, outcome={"outcome": "approved", "reasons": ["ok"]})
    assert review.opening(motor, claim(), decided, NOW) is None
    assert review.opening(motor, None, claim(Status.IN_PROGRESS), NOW) is None
    # Staying in review is not a new referral.
    after = referred({}, ["x"])
    assert review.opening(motor, after, after, NOW) is None
    assert review.opening(motor, claim(), after, NOW, fired={"referral"}) is None


def test_a_rule_opens_a_case_on_the_change_that_makes_it_true_and_once(motor: Journey) -> None:
    signals = {"photo_signals": {"value": {"medium": 1, "high": 0}}}
    before = claim(data=signals)
    approved = claim(
        Status.DECIDED, data=signals, outcome={"outcome": "approved", "reasons": ["ok"]}
    )
    opening = review.opening(motor, before, approved, NOW)
    assert opening is not None
    assert (opening.queue, opening.priority, opening.rule) == ("claims", "low", "open_when:0")
    assert opening.reasons == ("An approved claim's photo shows a weaker sign of fraud",)
    assert review.opening(motor, approved, approved, NOW) is None  # it held already
    assert review.opening(motor, before, approved, NOW, fired={"open_when:0"}) is None


def test_four_eyes_applies_over_the_limit_to_cash_settlements(motor: Journey) -> None:
    assert review.four_eyes(motor, claim(), NOW) == review.FourEyes(True, Decimal("6000.0"))
    under = claim(answers={"settlement": "cash", "estimate_amount": "5000"})
    assert review.four_eyes(motor, under, NOW).needed is False
    repairer = claim(answers={"settlement": "repairer", "estimate_amount": None})
    assert review.four_eyes(motor, repairer, NOW).needed is False


def test_four_eyes_fails_closed_when_the_amount_cannot_be_worked_out(motor: Journey) -> None:
    odd = claim(answers={"settlement": "cash", "estimate_amount": None})
    assert review.four_eyes(motor, odd, NOW) == review.FourEyes(True, None)


def test_a_handler_s_decision_queues_the_decided_effects_under_keys_of_its_own(
    motor: Journey,
) -> None:
    state = referred({}, ["The repair estimate is over £3,000"])
    transition = review.decided(motor, state, "approved", ["Paid"], NOW, "case:c1")
    assert transition.state.status == Status.DECIDED
    assert transition.state.outcome == {
        "outcome": "approved",
        "reasons": ["Paid"],
        "at": NOW.isoformat(),
    }
    assert [e.type for e in transition.events] == ["decision.made"]
    keys = {(e.kind, e.key) for e in transition.effects}
    # The payout is a partner call: queued under its idempotency key ('claim-payout:' + the
    # journey's id), the same whoever decides, so a second decision can never pay twice.
    payout = next(e for e in transition.effects if e.kind == "call")
    assert payout.params == {"effect": "payout", "idempotency_key": "claim-payout:j1"}
    assert keys == {
        ("notify", "j1:notify:decided:2:case:c1"),
        ("call", payout.key),
        ("deadline", f"{payout.key}:deadline"),
    }
    timer = next(e for e in transition.effects if e.kind == "deadline")
    assert timer.params == {"for": payout.key, "kind": "payout", "due": timer.params["due"]}
    assert timer.not_before == NOW + timedelta(minutes=15)


def test_only_a_journey_in_review_can_be_decided_by_a_handler(motor: Journey) -> None:
    with pytest.raises(NotAvailable):
        review.decided(motor, claim(Status.DECIDED), "approved", ["x"], NOW, "case:c1")


def test_reasons_and_requests_are_looked_up_by_code(motor: Journey) -> None:
    rules = motor.definition.review
    assert rules is not None
    assert review.reason(rules, "approve", "verified") is not None
    assert review.reason(rules, "approve", "fraud_confirmed") is None  # a decline's code
    assert review.outcome_of(rules, "decline") == "declined"
    request = review.information_request(rules, "other_plate")
    assert request is not None and request.kind == "upload"
    assert [q.name for q in review.queues_for(rules, {"handler"})] == ["claims"]
    assert [q.name for q in review.queues_for(rules, {"senior_handler"})] == ["fraud", "claims"]
    assert review.queues_for(rules, {"analyst"}) == []


def test_the_information_notice_uses_the_declared_template(motor: Journey) -> None:
    notice = review.information_notice(motor, claim(), "t1")
    assert notice is not None
    assert (notice.kind, notice.key, notice.params) == (
        "notify",
        "j1:notify:information:t1",
        {"template": "more_information"},
    )


def test_the_customer_reads_a_handler_s_tell_never_its_label_nor_case_events(
    motor: Journey,
) -> None:
    told = Disclosure.of(motor)
    tell = "We have checked your claim and we will settle it"
    assert told.customer_reasons([tell]) == [tell]
    assert told.customer_reasons(["Checked and verified"]) == [
        "We need to look at your claim more closely"
    ]
    events = [
        {"type": "decision.made", "data": {"reasons": [tell]}},
        {"type": "case.opened", "data": {"queue": "fraud"}},
        {"type": "case.information_requested", "data": {"task": "t1"}},
    ]
    assert [e["type"] for e in told.events(events)] == ["decision.made"]
