"""What the customer may be told about checks and decisions, by declaration in the definition.

Fraud and risk findings are for staff only: telling a customer that a fraud bureau holds a
marker on them, or that a photo looks reused, would be tipping off. A check or a decision
reason declares its audience (`audience: staff`); everything built for the customer (the API
view, the pages, notifications) goes through a `Disclosure`, and staff keep every reason in
the journey's state and events.

Fails closed: a check or a reason the definition does not declare for the customer is never
shown to them; when every reason of a decision is hidden, the customer reads the decision's
neutral reason instead ("We need to look at your claim more closely"). A journey finishes on
the definition version it started on, so the current version of its type is consulted too:
it can only hide more (a reason marked staff since the journey started stays hidden).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wayline.journeys.engine import EventType
from wayline.journeys.loader import Journey
from wayline.journeys.schema import Decision

CUSTOMER = "customer"
STAFF = "staff"
CHECK_COMPLETED = "check.completed"
DECISION_MADE = "decision.made"
# The workbench's events (case.opened, case.claimed, ...): how staff work a case is theirs.
STAFF_EVENTS = "case."
# What the journey was personalised with and how models scored it: for staff and insight,
# never shown to the customer (a segment such as possibly_vulnerable, a fraud score).
NOT_TOLD = frozenset(
    {
        EventType.JOURNEY_SEGMENTED.value,
        EventType.EXPERIMENT_ASSIGNED.value,
        EventType.MODEL_SCORED.value,
    }
)


@dataclass(frozen=True)
class Disclosure:
    """What may be told to the customer of one journey."""

    shown_checks: frozenset[str]  # the checks the customer may learn of
    reasons: dict[str, str]  # each declared reason's text → who may read it
    neutral: str  # what the customer reads when every reason is hidden

    @classmethod
    def of(cls, journey: Journey, *also: Journey | None) -> Disclosure:
        """The rules of `journey`'s definition version, with what any of `also` (the current
        version of the same type) marks as staff hidden as well."""
        versions = [journey, *(other for other in also if other is not None)]
        staff_checks = {
            check.name
            for version in versions
            for check in version.definition.checks
            if check.audience == STAFF
        }
        customer_checks = {c.name for c in journey.definition.checks if c.audience == CUSTOMER}
        reasons: dict[str, str] = {}
        for text, audience in (pair for version in versions for pair in _declared(version)):
            if reasons.get(text) != STAFF:
                reasons[text] = audience
        return cls(frozenset(customer_checks - staff_checks), reasons, _neutral(journey))

    def customer_reasons(self, reasons: list[str]) -> list[str]:
        """The reasons the customer may read, in order; the neutral reason when none is left."""
        shown = [reason for reason in reasons if self.reasons.get(reason) == CUSTOMER]
        if reasons and not shown:
            return [self.neutral]
        return shown

    def outcome(self, outcome: dict[str, Any] | None) -> dict[str, Any] | None:
        """A decision as the customer sees it: the outcome, with the reasons they may read."""
        if outcome is None:
            return None
        reasons = [str(reason) for reason in outcome.get("reasons", [])]
        return {**outcome, "reasons": self.customer_reasons(reasons)}

    def check_results(self, checks: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The results of the checks the customer may learn of (without when they ran)."""
        return {
            name: {key: value for key, value in result.items() if key != "at"}
            for name, result in checks.items()
            if name in self.shown_checks
        }

    def events(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The journey's events as the customer sees them: staff checks' results, the
        workbench's case events, personalisation and model scores left out, and decisions
        with only the reasons the customer may read."""
        shown = []
        for event in events:
            data = event.get("data") or {}
            kind = str(event.get("type", ""))
            if kind.startswith(STAFF_EVENTS) or kind in NOT_TOLD:
                continue
            if event.get("type") == CHECK_COMPLETED and data.get("check") not in self.shown_checks:
                continue
            if event.get("type") == DECISION_MADE and "reasons" in data:
                reasons = [str(reason) for reason in data["reasons"]]
                event = {**event, "data": {**data, "reasons": self.customer_reasons(reasons)}}
            shown.append(event)
        return shown


def _declared(journey: Journey) -> list[tuple[str, str]]:
    """Every reason text the definition declares, with its audience."""
    definition = journey.definition
    declared: list[tuple[str, str]] = [(c.reason, c.audience) for c in definition.checks]
    if definition.decision is not None:
        declared += [
            (reason.reason, reason.audience)
            for outcome in definition.decision.outcomes
            for reason in outcome.reasons
        ]
        declared.append((definition.decision.otherwise_reason, CUSTOMER))
    if definition.review is not None:
        # A handler's decision tells the customer the reason's `tell`, never its label.
        review = definition.review
        declared += [
            (reason.tell, CUSTOMER) for reason in review.approve_reasons + review.decline_reasons
        ]
    return declared


def _neutral(journey: Journey) -> str:
    decision = journey.definition.decision
    if decision is not None:
        return decision.neutral_reason
    return str(Decision.model_fields["neutral_reason"].default)
