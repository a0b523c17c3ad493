"""After the customer answers: checks, the decision, payments, notifications and deadlines.

Pure, like the engine: the worker fetches what partners say, then one of these commands turns
it into a new state, events and the effects that follow.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from wayline.journeys import engine
from wayline.journeys.computed import shown
from wayline.journeys.disclosure import Disclosure
from wayline.journeys.engine import (
    DataNeed,
    Event,
    JourneyState,
    NotAvailable,
    Status,
    Transition,
)
from wayline.journeys.expressions import evaluate, holds
from wayline.journeys.loader import Journey
from wayline.journeys.schema import Check

CHECK_COMPLETED = "check.completed"
PAYMENT_SENT = "payment.sent"
NOTIFICATION_SENT = "notification.sent"
DEADLINE_BREACHED = "deadline.breached"


# --- checks ----------------------------------------------------------------------------------


SUBMITTED = "submitted"
PASSED, FAILED, UNAVAILABLE = "passed", "failed", "unavailable"


def checks_at(
    journey: Journey, state: JourneyState, trigger: str, answers: dict[str, Any], now: datetime
) -> list[Check]:
    """The checks to make at `trigger` whose conditions hold. After submission these include
    the checks made at a step whose source could not answer then: "we could not check" is
    never the last word on a claim (the payee's name is checked before we pay)."""
    scope = engine.context(journey, state, {**state.answers, **answers}, now)
    return [
        c for c in journey.definition.checks if _due(c, state, trigger) and holds(c.when, scope)
    ]


def _due(check: Check, state: JourneyState, trigger: str) -> bool:
    if check.at == trigger:
        return True
    owed = state.checks.get(check.name, {}).get(UNAVAILABLE)
    return trigger == SUBMITTED and bool(owed)


def check_needs(
    journey: Journey,
    state: JourneyState,
    trigger: str,
    answers: dict[str, Any],
    now: datetime,
    refetch_failed: bool = False,
) -> list[DataNeed]:
    """Partner answers the checks at `trigger` need that the state does not hold yet (or,
    with refetch_failed, holds only as a failure to ask again about)."""
    scope = engine.context(journey, state, {**state.answers, **answers}, now)
    needs = []
    for check in checks_at(journey, state, trigger, answers, now):
        if check.source is None:
            continue
        params = {name: _value(expression, scope) for name, expression in check.params.items()}
        held = state.data.get(check.source)
        stale = held is None or held.get("params", {}) != params
        need = DataNeed(check.source, params)
        failed = held is not None and bool(held.get("error"))
        if (stale or (refetch_failed and failed)) and need not in needs:
            needs.append(need)  # once, however many checks read the source
    return needs


def check_params(
    journey: Journey, state: JourneyState, check: Check, now: datetime
) -> dict[str, Any]:
    """A check's parameters worked out over the journey as it is (None where one cannot be)."""
    scope = engine.context(journey, state, state.answers, now)
    return {name: _value(expression, scope) for name, expression in check.params.items()}


def run_checks(
    journey: Journey, state: JourneyState, trigger: str, now: datetime
) -> tuple[JourneyState, list[Event]]:
    """Evaluate the checks at `trigger` with the data the state holds; one event each.

    Each result has a `status`: passed, failed (with the check's reason and on_fail), or
    unavailable when its source could not answer. Unavailable is never a failure: it carries
    the check's `unavailable_reason`, not its failure reason, and `passed` is true only when
    the check declares `unavailable: pass` (null otherwise, so `passed == false` rules do not
    fire on a partner that was down)."""
    results = dict(state.checks)
    events = []
    scope = engine.context(journey, state, state.answers, now)
    for check in checks_at(journey, state, trigger, {}, now):
        entry = state.data.get(check.source or "", {})
        if check.source is not None and (entry.get("error") or "value" not in entry):
            result = _unavailable(check, now)
        else:
            result = _result(check, holds(check.passes, scope), now)
        results[check.name] = result
        data = {"check": check.name, "status": result["status"], "passed": result["passed"]}
        events.append(Event(CHECK_COMPLETED, now, data=data))
    return replace(state, checks=results), events


def _result(check: Check, passed: bool, now: datetime) -> dict[str, Any]:
    result: dict[str, Any] = {
        "status": PASSED if passed else FAILED,
        "passed": passed,
        "title": check.title,
        "at": now.isoformat(),
    }
    if not passed:
        result["reason"] = check.reason
        result["on_fail"] = check.on_fail
    return result


def _unavailable(check: Check, now: datetime) -> dict[str, Any]:
    return {
        "status": UNAVAILABLE,
        "passed": True if check.unavailable == "pass" else None,
        UNAVAILABLE: True,
        "title": check.title,
        "at": now.isoformat(),
        "reason": check.unavailable_reason,
    }


def failed(result: dict[str, Any] | None) -> bool:
    """Whether a check result is a failure: its partner answered and the check did not pass
    (results stored before `status` existed say `passed: false`, with `unavailable` when it
    was the partner that could not answer)."""
    if not result:
        return False
    if "status" in result:
        return bool(result["status"] == FAILED)
    return result.get("passed") is False and not result.get(UNAVAILABLE)


def after_step(journey: Journey, submitted: Transition, step: str, now: datetime) -> Transition:
    """Run a submitted step's checks; one that fails with on_fail: end ends the journey with
    its outcome and reason."""
    state, events = run_checks(journey, submitted.state, f"step:{step}", now)
    if not events:
        return submitted
    effects = submitted.effects
    ended = ended_by_check(journey, state)
    if ended is not None:
        decision = {"outcome": ended.outcome, "reasons": [ended.reason], "at": now.isoformat()}
        state = replace(state, status=Status.DECIDED, outcome=decision)
        events.append(
            Event(
                engine.EventType.DECISION_MADE,
                now,
                data={"outcome": ended.outcome, "reasons": [ended.reason]},
            )
        )
        state, decided = engine.queue(journey, state, "decided", now)
        effects = effects + decided
    return Transition(state, (*submitted.events, *events), effects)


def ended_by_check(journey: Journey, state: JourneyState) -> Check | None:
    """The first check with on_fail: end that failed (one that could not be made never ends
    the journey)."""
    for check in journey.definition.checks:
        if check.on_fail == "end" and failed(state.checks.get(check.name)):
            return check
    return None


# --- after submission: checks, then the decision --------------------------------------------


# Scores the decision's models into the state (runtime/model_scores.py), with their events.
Scoring = Callable[[Journey, JourneyState, datetime], tuple[JourneyState, list[Event]]]


def complete_checks(
    journey: Journey, state: JourneyState, now: datetime, score: Scoring | None = None
) -> Transition:
    """The submitted journey's checks (their partner data already recorded), then its models'
    scores when `score` is given (they may read the checks; the rules may read them), then the
    decision, then the effects the decision causes."""
    if state.status != Status.SUBMITTED:
        raise NotAvailable(f"A journey that is {state.status.value} is not waiting for checks")
    state, events = run_checks(journey, state, SUBMITTED, now)
    if score is not None and ended_by_check(journey, state) is None:
        state, scored = score(journey, state, now)
        events.extend(scored)
    decision = decision_by_rules(journey, state, now)
    if decision is None:
        return Transition(replace(state, updated_at=now), tuple(events))
    outcome, status, reasons = decision
    body = {"outcome": outcome, "reasons": reasons, "at": now.isoformat()}
    state = replace(state, outcome=body, status=status, updated_at=now)
    events.append(
        Event(engine.EventType.DECISION_MADE, now, data={"outcome": outcome, "reasons": reasons})
    )
    state, effects = engine.queue(journey, state, "decided", now)
    return Transition(state, tuple(events), effects)


def decision_by_rules(
    journey: Journey, state: JourneyState, now: datetime
) -> tuple[str, Status, list[str]] | None:
    ended = ended_by_check(journey, state)
    if ended is not None:
        return str(ended.outcome), Status.DECIDED, [ended.reason]
    rules = journey.definition.decision
    if rules is None:
        return None
    scope = engine.context(journey, state, state.answers, now)
    for candidate in rules.outcomes:
        reasons = [r.reason for r in candidate.reasons if holds(r.when, scope)]
        if reasons:
            return candidate.outcome, Status(candidate.status), reasons
    return rules.otherwise, Status.DECIDED, [rules.otherwise_reason]


# --- payments, notifications, deadlines -------------------------------------------------------


def record_payment(
    journey: Journey, state: JourneyState, key: str, payout_id: str, amount: str, now: datetime
) -> Transition:
    """The provider confirmed a payout: once per effect key, whatever retries happened."""
    if key in state.payments:
        return Transition(state)
    payments = {
        **state.payments,
        key: {"payout_id": payout_id, "amount": amount, "at": now.isoformat()},
    }
    state = replace(state, payments=payments, updated_at=now)
    event = Event(PAYMENT_SENT, now, data={"payout_id": payout_id})
    state, effects = engine.queue(journey, state, "paid", now)
    return Transition(state, (event,), effects)


def record_notification(
    state: JourneyState, key: str, template: str, channel: str, message_id: str, now: datetime
) -> Transition:
    """A message the provider accepted: one event per message, however often the effect ran."""
    if key in state.recorded:
        return Transition(state)
    event = Event(
        NOTIFICATION_SENT,
        now,
        data={"template": template, "channel": channel, "message_id": message_id},
    )
    state = replace(state, recorded={**state.recorded, key: message_id}, updated_at=now)
    return Transition(state, (event,))


def deadline_passed(
    state: JourneyState, key: str, owed_key: str, kind: str, now: datetime
) -> Transition:
    """A deadline's timer fired: if what was owed (`owed_key`) is not done, record the breach
    once (the worker escalates it)."""
    if owed_key in state.payments or state.recorded.get(owed_key) == "done":
        return Transition(state)
    if key in state.recorded:
        return Transition(state)
    event = Event(DEADLINE_BREACHED, now, data={"effect": kind})
    state = replace(state, recorded={**state.recorded, key: "breached"}, updated_at=now)
    return Transition(state, (event,))


def breached(state: JourneyState, key: str) -> bool:
    return state.recorded.get(key) == "breached"


class _Placeholders(string.Formatter):
    """Only {name} and {computed.NAME} placeholders: no attribute or index access into
    anything (a computed value is looked up by name among the words made for it)."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        prefix, _, name = field_name.partition(".")
        if prefix == "computed" and name.isidentifier():
            return kwargs.get("computed", {}).get(name, ""), field_name
        if not field_name.isidentifier():
            raise KeyError(field_name)
        return kwargs.get(field_name, ""), field_name


def render_notification(
    journey: Journey,
    state: JourneyState,
    template: str,
    status_url: str,
    now: datetime,
    latest: Journey | None = None,
) -> list[dict[str, str]]:
    """The messages a template makes for the definition's recipient: email and SMS where it
    has them. `latest`, the journey type's current version, can only hide more reasons."""
    spec = journey.definition.notifications.get(template)
    if spec is None:
        raise LookupError(f"no notification template '{template}'")
    recipient = journey.definition.recipient
    if recipient is None:
        raise LookupError(f"{journey.name} declares no recipient for its notifications")
    scope = engine.context(journey, state, state.answers, now)
    email = _value(recipient.email, scope) if recipient.email else None
    mobile = _value(recipient.sms, scope) if recipient.sms else None
    # Messages go to the customer: only the reasons they may read (never fraud or risk).
    outcome = Disclosure.of(journey, latest).outcome(state.outcome) or {}
    payments = list(state.payments.values())
    values = {
        "name": str(_value(recipient.name, scope) or "customer"),
        "reference": state.reference or "",
        "title": journey.title,
        "outcome": str(outcome.get("outcome", "")).replace("_", " "),
        "reasons": "; ".join(outcome.get("reasons", [])),
        "amount": f"£{Decimal(payments[-1]['amount']):,.2f}" if payments else "",
        "status_url": status_url,
        "computed": {
            name: shown(spec.type, state.computed.get(name), spec.currency)
            for name, spec in journey.definition.computed.items()
        },
    }
    formatter = _Placeholders()
    messages = []
    if spec.email and isinstance(email, str) and email:
        messages.append(
            {
                "channel": "email",
                "to": email,
                "subject": formatter.vformat(spec.email.subject or journey.title, (), values),
                "body": formatter.vformat(spec.email.body, (), values),
            }
        )
    if spec.sms and isinstance(mobile, str) and mobile:
        messages.append(
            {
                "channel": "sms",
                "to": mobile,
                "body": formatter.vformat(spec.sms, (), values),
            }
        )
    return messages


def recipient_unknown(journey: Journey, state: JourneyState) -> bool:
    """Whether the source that knows the recipient could not answer when it was asked, or
    was never asked (no step reads it: the recipient is all the journey wants of it)."""
    recipient = journey.definition.recipient
    source = recipient.source if recipient else None
    return bool(source and (source not in state.data or state.data[source].get("error")))


def recipient_needs(journey: Journey, state: JourneyState, now: datetime) -> list[DataNeed]:
    """The recipient's source asked again, when it could not answer before."""
    recipient = journey.definition.recipient
    if recipient is None or recipient.source is None or not recipient_unknown(journey, state):
        return []
    return [DataNeed(recipient.source, {})]


def _value(expression: str, scope: dict[str, Any]) -> Any:
    try:
        return evaluate(expression, scope)
    except (LookupError, TypeError, ValueError, RuntimeError):
        return None
