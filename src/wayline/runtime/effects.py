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

from wayline.connectors.http import PartnerError
from wayline.connectors.operations import Operations, Refusal, RequestInvalid
from wayline.connectors.partners import Partners
from wayline.journeys import calls, engine, follow_up
from wayline.journeys.engine import DataNeed, Event, JourneyState, Transition
from wayline.journeys.loader import Journey
from wayline.journeys.schema import Effect as EffectSpec
from wayline.runtime import photos
from wayline.runtime.commands import SystemCommands
from wayline.runtime.model_scores import ModelScorer
from wayline.runtime.worker import Effect, Handler

log = structlog.get_logger("wayline.effects")
DEADLINE_BREACHES = Counter(
    "wayline_deadline_breaches_total",
    "Deadlines the organisation missed, by journey and kind.",
    ["journey", "kind"],
)

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
        operations: Operations | None = None,
        scorer: ModelScorer | None = None,
    ):
        self.system = system
        self.scorer = scorer
        self.partners = partners
        self.operations = operations or Operations({})
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
        as unavailable, so no journey waits for ever (the decision refers it)."""

        journey, state = self._current(effect.journey_id)
        assessed = None
        photo_check = next(
            (check for check in journey.definition.checks if check.source == photos.SOURCE), None
        )
        if photo_check is not None:
            params = follow_up.check_params(journey, state, photo_check, self.system.now())
            assessed = photos.assess(self.system.uow, self.partners, state, params)

        def needs(journey: Journey, state: JourneyState, now: datetime) -> list[DataNeed]:
            wanted = follow_up.check_needs(
                journey, state, "submitted", {}, now, refetch_failed=True
            )
            return [need for need in wanted if need.source != photos.SOURCE]

        def command(journey: Journey, state: JourneyState, now: datetime) -> Transition:
            if assessed is not None:
                state = engine.record_data(state, photos.SOURCE, {}, assessed, now)
            score = self.scorer.scored if self.scorer is not None else None
            return follow_up.complete_checks(journey, state, now, score)

        self.system.apply(effect.journey_id, command, needs, strict=not effect.final)

    @handles("notify")
    def notify(self, effect: Effect) -> None:
        """A template rendered for the definition's recipient and sent through the operation
        it names (notification_provider.send_message), one message per channel, each under
        its own key."""
        template = effect.params["template"]
        journey, state = self._current(effect.journey_id)
        if follow_up.recipient_unknown(journey, state):
            # The recipient's record could not be fetched when the journey started: fetch it
            # now, so a message is never dropped because a partner was down then (until it
            # answers, the effect is retried, and dead-lettered with the reason at the end).
            self.system.apply(effect.journey_id, _unchanged, follow_up.recipient_needs, strict=True)
            journey, state = self._current(effect.journey_id)
        url = f"{self.public_url}/journeys/{state.id}/status"
        recipient = journey.definition.recipient
        assert recipient is not None  # the loader refuses a notify effect without one
        partner, operation = recipient.send_with.split(".", 1)
        sent = []
        latest = self.system.catalog.get(journey.name)
        messages = follow_up.render_notification(
            journey, state, template, url, self.system.now(), latest
        )
        for message in messages:
            reply = self.operations.call(
                self.partners.client(partner),
                operation,
                message,
                f"{effect.key}:{message['channel']}",
            )
            if isinstance(reply, Refusal):
                log.error("notify.refused", journey_id=effect.journey_id, outcome=reply.outcome)
                continue
            sent.append((message["channel"], str(reply.get("message_id", ""))))

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

    @handles(calls.CALL)
    def call(self, effect: Effect) -> None:
        """A declared partner operation (`call:` in the definition): its request worked out
        from the journey as it is now, sent under the effect's idempotency key, and the
        result kept as effects.NAME. A partner that cannot answer is retried (the same key:
        it takes effect once); on the effect's final run it is recorded as failed. A refusal
        the operation declares is final. A request that does not fit the operation is our
        mistake: it is never sent and is recorded as failed at once."""
        journey, state = self._current(effect.journey_id)
        if calls.already(state, effect.key):
            return  # a retry after the answer was recorded (a crash between them)
        spec = calls.declared(journey, str(effect.params["effect"]))
        partner, operation = str(spec.call).split(".", 1)
        try:
            request = calls.request_for(journey, state, spec, self.system.now())
            answer = self.operations.call(
                self.partners.client(partner),
                operation,
                request,
                str(effect.params.get("idempotency_key") or effect.key),
            )
        except (calls.RequestUnavailable, RequestInvalid) as wrong:
            log.error("call.request_invalid", journey_id=effect.journey_id, detail=str(wrong))
            self._record(effect, spec, calls.FAILED)
            return
        except PartnerError:
            if effect.final:
                self._record(effect, spec, calls.FAILED)
            raise
        if isinstance(answer, Refusal):
            self._record(effect, spec, calls.REFUSED, outcome=answer.outcome)
        else:
            self._record(effect, spec, calls.DONE, response=answer)

    def _record(
        self,
        effect: Effect,
        spec: EffectSpec,
        status: str,
        response: dict[str, Any] | None = None,
        outcome: str | None = None,
    ) -> None:
        def command(journey: Journey, state: JourneyState, now: datetime) -> Transition:
            return calls.record_result(
                journey, state, spec, effect.key, status, now, response, outcome
            )

        self.system.apply(effect.journey_id, command)
        log.info("call.recorded", journey_id=effect.journey_id, call=spec.call, status=status)

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


def _unchanged(journey: Journey, state: JourneyState, now: datetime) -> Transition:
    """No command: the journey as it is, with the data just fetched recorded."""
    return Transition(state)


KINDS: frozenset[str] = frozenset(_registry)
