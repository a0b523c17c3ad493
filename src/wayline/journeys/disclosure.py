"""What the customer may be told about checks and decisions, by declaration in the definition.

Fraud and risk findings are for staff only: telling a customer that a fraud bureau holds a
marker on them, or that a photo looks reused, would be tipping off. A check or a decision
reason declares its audience (`audience: staff`); everything built for the customer (the API
view, the pages, notifications) goes through these functions, and staff keep every reason in
the journey's state and events.

Fails closed: a check or a reason the definition does not declare for the customer is never
shown to them; when every reason of a decision is hidden, the customer reads the decision's
neutral reason instead ("We need to look at your claim more closely").
"""

from __future__ import annotations

from typing import Any

from wayline.journeys.loader import Journey
from wayline.journeys.schema import Decision

CUSTOMER = "customer"
STAFF = "staff"
CHECK_COMPLETED = "check.completed"
DECISION_MADE = "decision.made"


def customer_checks(journey: Journey) -> frozenset[str]:
    """The names of the checks the customer may learn of."""
    return frozenset(c.name for c in journey.definition.checks if c.audience == CUSTOMER)


def neutral_reason(journey: Journey) -> str:
    decision = journey.definition.decision
    if decision is not None:
        return decision.neutral_reason
    return str(Decision.model_fields["neutral_reason"].default)


def customer_reasons(journey: Journey, reasons: list[str]) -> list[str]:
    """The reasons the customer may read, in order; the neutral reason when none is left."""
    audiences = _reason_audiences(journey)
    shown = [reason for reason in reasons if audiences.get(reason) == CUSTOMER]
    if reasons and not shown:
        return [neutral_reason(journey)]
    return shown


def customer_outcome(journey: Journey, outcome: dict[str, Any] | None) -> dict[str, Any] | None:
    """A decision as the customer sees it: the outcome, with only the reasons they may read."""
    if outcome is None:
        return None
    reasons = [str(reason) for reason in outcome.get("reasons", [])]
    return {**outcome, "reasons": customer_reasons(journey, reasons)}


def customer_check_results(
    journey: Journey, checks: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The results of the checks the customer may learn of (without the time they ran)."""
    allowed = customer_checks(journey)
    return {
        name: {key: value for key, value in result.items() if key != "at"}
        for name, result in checks.items()
        if name in allowed
    }


def customer_events(journey: Journey, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The journey's events as the customer sees them: staff checks' results left out, and
    decisions with only the reasons the customer may read."""
    allowed = customer_checks(journey)
    shown = []
    for event in events:
        data = event.get("data") or {}
        if event.get("type") == CHECK_COMPLETED and data.get("check") not in allowed:
            continue
        if event.get("type") == DECISION_MADE and "reasons" in data:
            reasons = [str(reason) for reason in data["reasons"]]
            event = {**event, "data": {**data, "reasons": customer_reasons(journey, reasons)}}
        shown.append(event)
    return shown


def _reason_audiences(journey: Journey) -> dict[str, str]:
    """Each reason the definition declares, by its text, with who may read it. A text declared
    for staff anywhere (a staff check's reason, a staff decision reason) is for staff."""
    definition = journey.definition
    declared: list[tuple[str, str]] = [(c.reason, c.audience) for c in definition.checks]
    if definition.decision is not None:
        declared += [
            (reason.reason, reason.audience)
            for outcome in definition.decision.outcomes
            for reason in outcome.reasons
        ]
        declared.append((definition.decision.otherwise_reason, CUSTOMER))
    audiences: dict[str, str] = {}
    for text, audience in declared:
        if audiences.get(text) != STAFF:
            audiences[text] = audience
    return audiences
