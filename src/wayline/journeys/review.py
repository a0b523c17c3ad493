"""The workbench's rules, read from a definition's `review:` block: when a case opens and in
which queue, when it is due, which reasons a handler may give, whether an approval needs four
eyes, and the transition a handler's decision makes.

Pure, like the engine: no I/O and no clock. The service layer (runtime/cases) reads the
journey and its cases, asks these functions, and writes what they say in one transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

from wayline.journeys import engine
from wayline.journeys.engine import EffectRequest, JourneyState, Status, Transition
from wayline.journeys.expressions import evaluate, holds
from wayline.journeys.loader import Journey
from wayline.journeys.schema import InformationRequest, Queue, Review, ReviewReason

PRIORITIES = ("low", "normal", "high", "urgent")  # least pressing first
REFERRAL = "referral"  # the rule of a case opened because the journey was referred
Verdict = Literal["approve", "decline"]
# Journeys a rule may open a case on: sent, whatever has been decided since.
_SENT = (Status.SUBMITTED, Status.IN_REVIEW, Status.DECIDED, Status.CLOSED)


@dataclass(frozen=True)
class Opening:
    """A case to open: its queue, priority, when it is due, the reasons staff read, and the
    rule that opened it (`referral`, or `open_when:N`)."""

    queue: str
    priority: str
    due_at: datetime
    reasons: tuple[str, ...]
    rule: str


def opening(
    journey: Journey,
    before: JourneyState | None,
    after: JourneyState,
    now: datetime,
    fired: Collection[str] = (),
) -> Opening | None:
    """The case a transition from `before` to `after` opens, if any: a referral (the journey
    has just gone into review), else the first `open_when` rule this transition makes true
    for a sent journey (not one that held already: a rule opens a case on the change that
    makes it true, not on every later change while it stays true) and that has not opened a
    case on it before (`fired`: the rules of its earlier cases). The caller opens it only
    when the journey has no open case."""
    review = journey.definition.review
    if review is None:
        return None
    referred = after.status == Status.IN_REVIEW and (
        before is None or before.status != Status.IN_REVIEW
    )
    if referred and REFERRAL not in fired:
        chosen = queue_for(journey, after, now)
        reasons = tuple(str(r) for r in (after.outcome or {}).get("reasons", []))
        return Opening(chosen.name, chosen.priority, _due(review, chosen, now), reasons, REFERRAL)
    if after.status not in _SENT or not review.open_when:
        return None
    scope = engine.context(journey, after, after.answers, now)
    earlier = engine.context(journey, before, before.answers, now) if before else None
    for index, rule in enumerate(review.open_when):
        name = f"open_when:{index}"
        was = earlier is not None and holds(rule.when, earlier)
        if name not in fired and not was and holds(rule.when, scope):
            chosen = queue_named(review, rule.queue)
            priority = rule.priority or chosen.priority
            return Opening(chosen.name, priority, _due(review, chosen, now), (rule.reason,), name)
    return None


def queue_for(journey: Journey, state: JourneyState, now: datetime) -> Queue:
    """The first queue whose condition holds for the journey (the last has none)."""
    review = _review(journey)
    scope = engine.context(journey, state, state.answers, now)
    for queue in review.queues:
        if queue.when is None or holds(queue.when, scope):
            return queue
    return review.queues[-1]


def queue_named(review: Review, name: str) -> Queue:
    """A declared queue (KeyError for a name the definition does not declare)."""
    for queue in review.queues:
        if queue.name == name:
            return queue
    raise KeyError(name)


def queues_for(review: Review, roles: Collection[str]) -> list[Queue]:
    """The queues someone with `roles` may see and work."""
    return [queue for queue in review.queues if not set(queue.roles).isdisjoint(roles)]


def _due(review: Review, queue: Queue, opened: datetime) -> datetime:
    return opened + engine.parse_duration(queue.within or review.within)


def reason(review: Review, verdict: Verdict, code: str) -> ReviewReason | None:
    """The declared reason with this code for an approval or a decline (None: not declared)."""
    declared = review.approve_reasons if verdict == "approve" else review.decline_reasons
    return next((entry for entry in declared if entry.code == code), None)


def outcome_of(review: Review, verdict: Verdict) -> str:
    return review.approve_outcome if verdict == "approve" else review.decline_outcome


def information_request(review: Review, code: str) -> InformationRequest | None:
    return next((entry for entry in review.information_requests if entry.code == code), None)


@dataclass(frozen=True)
class FourEyes:
    """Whether an approval needs a second person, and the amount it would pay (None when
    the amount could not be worked out: then it needs one, since it may be over)."""

    needed: bool
    amount: Decimal | None = None


def four_eyes(journey: Journey, state: JourneyState, now: datetime) -> FourEyes:
    """Whether approving this journey needs four eyes: its rule applies (`when`) and the
    amount is over the limit. Fails closed: an amount that cannot be evaluated needs them."""
    rule = _review(journey).four_eyes
    if rule is None:
        return FourEyes(False)
    scope = engine.context(journey, state, state.answers, now)
    if rule.when is not None and not holds(rule.when, scope):
        return FourEyes(False)
    try:
        amount = Decimal(str(evaluate(rule.amount, scope)))
    except (LookupError, TypeError, ValueError, RuntimeError, InvalidOperation):
        return FourEyes(True)
    if not amount.is_finite():
        return FourEyes(True)
    return FourEyes(amount > Decimal(str(rule.over)), amount)


def decided(
    journey: Journey,
    state: JourneyState,
    outcome: str,
    reasons: list[str],
    now: datetime,
    again: str,
) -> Transition:
    """A handler's decision, carried on exactly as an automatic one: the outcome and its
    reasons, the decision.made event, and the effects declared `at: decided` (payout,
    notification, their deadlines), keyed apart from the referral's by `again`; and the end
    it brings about when the definition's fulfilment reads the decision (a payment declined
    by staff is declined, and what it held is let go)."""
    made = engine.decide(journey, state, outcome, reasons, now)
    state = replace(made.state, outcome={**(made.state.outcome or {}), "at": now.isoformat()})
    state, effects = engine.queue(journey, state, "decided", now, again=again)
    return engine.then_fulfilled(journey, Transition(state, made.events, effects), now)


def information_notice(journey: Journey, state: JourneyState, task_id: str) -> EffectRequest | None:
    """The notification telling the customer more information is needed (None when the
    definition names no template for it)."""
    template = _review(journey).information_template
    if template is None:
        return None
    return EffectRequest(
        "notify", f"{state.id}:notify:information:{task_id}", {"template": template}
    )


def _review(journey: Journey) -> Review:
    review = journey.definition.review
    if review is None:
        raise LookupError(f"The journey '{journey.name}' declares no review")
    return review
