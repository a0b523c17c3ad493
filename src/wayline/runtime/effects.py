"""What each kind of effect does: the worker's handlers.

A handler calls partners with the effect's idempotency key (so a repeat takes effect once),
then feeds what they answered back to the engine as a command on the journey. A handler that
raises is retried by the worker with backoff, and dead-lettered after its last attempt or
once it is older than the maximum age.

`KINDS` is the registry: the kinds of effect a handler exists for. Definitions are checked
against it (`wayline journeys validate`, and at start), so a journey cannot queue work that
nothing would ever run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog
from prometheus_client import Counter

from wayline.connectors.partners import Partners
from wayline.journeys import engine, follow_up
from wayline.journeys.engine import DataNeed, Event, JourneyState, Transition
from wayline.journeys.loader import Journey
from wayline.runtime import photos
from wayline.runtime.commands import SystemCommands
from wayline.runtime.worker import Effect, Handler

log = structlog.get_logger("wayline.effects")
DEADLINE_BREACHES = Counter(
    "wayline_deadline_breaches_total",
    "Deadlines the organisation missed, by journey and kind.",
    ["journey", "kind"],
)
BOOKING_MADE = "booking.made"

_registry: dict[str, str] = {}  # kind → the EffectHandlers method that runs it


HandlerMethod = Callable[["EffectHandlers", Effect], None]


def handles(kind: str) -> Callable[[HandlerMethod], HandlerMethod]:
    """Register an EffectHandlers method as the handler of one kind of effect."""

    def register(method: HandlerMethod) -> HandlerMethod:
        _registry[kind] = method.__name__
        return method

    return register


class EffectHandlers:
    def __init__(
        self,
        system: SystemCommands,
        partners: Partners,
        *,
        public_url: str,
        operations_email: str,
    ):
        self.system = system
        self.partners = partners
        self.public_url = public_url.rstrip("/")
        self.operations_email = operations_email

    def _current(self, journey_id: str) -> tuple[Journey, JourneyState]:
        snapshot = self.system.current(journey_id)
        return snapshot.journey, snapshot.state

    def handlers(self) -> dict[str, Handler]:
        """Every registered kind with its handler, bound to these partners."""
        return {kind: getattr(self, method) for kind, method in _registry.items()}

    @handles("run_checks")
    def run_checks(self, effect: Effect) -> None:
        """Fetch what the submitted journey's checks need, then check and decide. Until the
        effect's final run (its last attempt, or once it reached the maximum age) a partner
        that cannot answer means "try again later"; on the final run each check is recorded
        as unavailable, so no claim waits for ever (the decision refers it)."""

        journey, state = self._current(effect.journey_id)
        assessed = None
        if any(check.source == photos.SOURCE for check in journey.definition.checks):
            assessed = photos.assess(self.system.uow, self.partners, state)

        def needs(journey: Journey, state: JourneyState, now: datetime) -> list[DataNeed]:
            wanted = follow_up.check_needs(
                journey, state, "submitted", {}, now, refetch_failed=True
            )
            return [need for need in wanted if need.source != photos.SOURCE]

        def command(journey: Journey, state: JourneyState, now: datetime) -> Transition:
            if assessed is not None:
                state = engine.record_data(state, photos.SOURCE, {}, assessed, now)
            return follow_up.complete_checks(journey, state, now)

        self.system.apply(effect.journey_id, command, needs, strict=not effect.final)

    @handles("notify")
    def notify(self, effect: Effect) -> None:
        template = effect.params["template"]
        journey, state = self._current(effect.journey_id)
        if _contact_unknown(state):
            # The customer's record could not be fetched when the journey started: fetch it
            # now, so a message is never dropped because a partner was down then (until it
            # answers, the effect is retried, and dead-lettered with the reason at the end).
            self.system.apply(effect.journey_id, _unchanged, _customer_again, strict=True)
            journey, state = self._current(effect.journey_id)
        url = f"{self.public_url}/journeys/{state.id}/status"
        sent = []
        latest = self.system.catalog.get(journey.name)
        for message in follow_up.render_notification(journey, state, template, url, latest):
            reply = self.partners.send_message(
                f"{effect.key}:{message['channel']}",
                message["channel"],
                message["to"],
                message["body"],
                message.get("subject"),
            )
            sent.append((message["channel"], reply.message_id))

        def command(journey: Journey, state: JourneyState, now: datetime) -> Transition:
            events: list[Event] = []
            for channel, message_id in sent:
                outcome = follow_up.record_notification(
                    state, f"{effect.key}:{channel}", template, channel, message_id, now
                )
                state, events = outcome.state, [*events, *outcome.events]
            return Transition(state, tuple(events))

        if sent:
            self.system.apply(effect.journey_id, command)

    @handles("payout")
    def payout(self, effect: Effect) -> None:
        journey, state = self._current(effect.journey_id)
        if effect.key in state.payments:
            return
        amount = follow_up.payout_amount(
            state, effect.params.get("amount_field", "estimate_amount")
        )
        account = follow_up.payout_account(state, effect.params)
        payout = self.partners.payout(effect.key, amount, account, state.reference or state.id)

        def command(journey: Journey, state: JourneyState, now: datetime) -> Transition:
            return follow_up.record_payment(
                journey, state, effect.key, payout.payout_id, f"{amount / 100:.2f}", now
            )

        self.system.apply(effect.journey_id, command)
        log.info("payment.sent", journey_id=effect.journey_id, payout_id=payout.payout_id)

    @handles("book_repairer")
    def book_repairer(self, effect: Effect) -> None:
        journey, state = self._current(effect.journey_id)
        body = {
            "repairer_id": state.answers["repairer_id"],
            "reference": state.reference,
            "registration": _registration(state),
        }
        booking: dict[str, Any] = self.partners.client("repairer_network").post(
            "/bookings", dict, body, idempotency_key=effect.key
        )

        def command(journey: Journey, state: JourneyState, now: datetime) -> Transition:
            event = Event(BOOKING_MADE, now, data={"booking_id": booking["booking_id"]})
            return Transition(state, (event,))

        self.system.apply(effect.journey_id, command)

    @handles("deadline")
    def deadline(self, effect: Effect) -> None:
        """A deadline's timer: if what the customer is owed is not done, count the breach
        and escalate it to the operations team (the escalation is sent again, under the same
        key, if a run fails after recording the breach)."""
        newly: list[str] = []

        def command(journey: Journey, state: JourneyState, now: datetime) -> Transition:
            outcome = follow_up.deadline_passed(
                state, effect.key, effect.params["for"], effect.params["kind"], now
            )
            if outcome.events:
                newly.append(journey.name)
            return outcome

        self.system.apply(effect.journey_id, command)
        journey, state = self._current(effect.journey_id)
        if newly:
            DEADLINE_BREACHES.labels(newly[0], effect.params["kind"]).inc()
            log.error(
                "deadline.breached",
                journey_id=effect.journey_id,
                kind=effect.params["kind"],
                due=effect.params.get("due"),
            )
        if follow_up.breached(state, effect.key):
            # The team finds a claim by its reference (CLM-7KQ2MD), not by an internal id.
            reference = state.reference or f"journey {effect.journey_id}"
            self.partners.send_message(
                f"{effect.key}:escalation",
                "email",
                self.operations_email,
                f"A {effect.params['kind']} for {reference} ({journey.title}) was due by "
                f"{effect.params.get('due')} and has not been made. Please investigate.",
                f"Deadline missed on {reference}: action needed",
            )


CUSTOMER_SOURCE = "customer"  # where notifications find the customer's email and mobile


def _contact_unknown(state: JourneyState) -> bool:
    return bool(state.data.get(CUSTOMER_SOURCE, {}).get("error"))


def _customer_again(journey: Journey, state: JourneyState, now: datetime) -> list[DataNeed]:
    return [DataNeed(CUSTOMER_SOURCE, {})] if _contact_unknown(state) else []


def _unchanged(journey: Journey, state: JourneyState, now: datetime) -> Transition:
    """No command: the journey as it is, with the data just fetched recorded."""
    return Transition(state)


def _registration(state: JourneyState) -> str:
    policies = (state.data.get("policies", {}).get("value") or {}).get("policies", [])
    for policy in policies:
        if policy.get("policy_number") == state.answers.get("policy_number"):
            return str(policy.get("registration", ""))
    return ""


KINDS: frozenset[str] = frozenset(_registry)
