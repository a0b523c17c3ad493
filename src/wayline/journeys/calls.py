"""Calls of declared partner operations (`call:` effects): their requests and their results.

Pure, like the engine. The worker's `call` handler asks `request_for` what to send, calls the
partner outside any transaction, then records what happened with `record_result`: the result
is kept with the journey as `effects.NAME` (status pending, done, refused or failed; the
response; when), so conditions, decision reasons, content and later requests can read it.
A call whose declaration `pays` also records the payment, which fires the `paid` effects.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from wayline.journeys import engine, follow_up
from wayline.journeys.engine import Event, JourneyState, Transition
from wayline.journeys.expressions import evaluate
from wayline.journeys.loader import Journey
from wayline.journeys.schema import Effect, RequestValue

CALL = "call"  # the outbox kind of every call effect
PENDING, DONE, REFUSED, FAILED = "pending", "done", "refused", "failed"
FINAL = frozenset({DONE, REFUSED})
EFFECT_DONE = "effect.done"
EFFECT_REFUSED = "effect.refused"
EFFECT_FAILED = "effect.failed"


class RequestUnavailable(ValueError):
    """A request value could not be worked out (an answer it reads is missing)."""


def declared(journey: Journey, name: str) -> Effect:
    """The call effect named `name` in the journey's definition."""
    for effect in journey.definition.effects:
        if effect.call is not None and effect.name == name:
            return effect
    raise LookupError(f"no call effect named '{name}' in {journey.name}")


def request_for(
    journey: Journey, state: JourneyState, effect: Effect, now: datetime
) -> dict[str, Any]:
    """The request the effect sends, each value its CEL over the journey as it is now."""
    scope = engine.context(journey, state, state.answers, now)
    return {name: _value(value, scope, name) for name, value in effect.request.items()}


def _value(value: RequestValue, scope: dict[str, Any], where: str) -> Any:
    if isinstance(value, dict):
        return {name: _value(inner, scope, f"{where}.{name}") for name, inner in value.items()}
    try:
        result = evaluate(value, scope)
    except (LookupError, TypeError, ValueError, RuntimeError) as error:
        raise RequestUnavailable(f"request value '{where}' could not be worked out") from error
    return _plain(result)


def _plain(value: Any) -> Any:
    """CEL values as JSON data (a CEL map or list may come back as its own types)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def already(state: JourneyState, key: str) -> bool:
    """Whether the call queued under outbox `key` has its final result recorded."""
    return state.recorded.get(key) in FINAL


def record_result(
    journey: Journey,
    state: JourneyState,
    effect: Effect,
    key: str,
    status: str,
    now: datetime,
    response: dict[str, Any] | None = None,
    outcome: str | None = None,
) -> Transition:
    """What the partner said, kept once per outbox key (a retry after a crash records
    nothing new). A `pays` effect that is done records the payment and its `paid` effects."""
    if already(state, key):
        return Transition(state)
    name = str(effect.name)
    result: dict[str, Any] = {"status": status, "at": now.isoformat()}
    if response is not None:
        result["response"] = response
    if outcome is not None:
        result["outcome"] = outcome
    state = replace(
        state,
        effects={**state.effects, name: result},
        recorded={**state.recorded, key: status},
        updated_at=now,
    )
    kind = {DONE: EFFECT_DONE, REFUSED: EFFECT_REFUSED}.get(status, EFFECT_FAILED)
    data: dict[str, Any] = {"effect": name, "call": effect.call, "status": status}
    if outcome is not None:
        data["outcome"] = outcome
    events: tuple[Event, ...] = (Event(kind, now, data=data),)
    if status != DONE:
        return Transition(state, events)
    # What waits for this call (`at: done:NAME`) is queued with its result, so it can read it.
    state, after = engine.queue(journey, state, f"done:{name}", now)
    if effect.pays is not None:
        paid = _paid(journey, state, effect, key, response or {}, now)
        return Transition(paid.state, events + paid.events, after + paid.effects)
    return Transition(state, events, after)


def _paid(
    journey: Journey,
    state: JourneyState,
    effect: Effect,
    key: str,
    response: dict[str, Any],
    now: datetime,
) -> Transition:
    assert effect.pays is not None
    scope = engine.context(journey, state, state.answers, now)
    amount = pounds(evaluate(effect.pays.amount, scope))
    reference = str(response.get("payout_id") or response.get("payment_id") or key)
    return follow_up.record_payment(journey, state, key, reference, f"{amount:.2f}", now)


def pounds(value: Any) -> Decimal:
    """An amount in pounds as an exact decimal (from a money answer's text, or a number)."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"'{value}' is not an amount of money") from None
    if not amount.is_finite():
        raise ValueError("an amount of money must be finite")
    return amount
