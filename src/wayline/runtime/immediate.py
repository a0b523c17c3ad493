"""Partner calls a step must finish before the customer goes on (`before_continuing`): a lost
card is frozen the moment they say so, and the next page can say "Your card is frozen".

The call is queued in the outbox in the same transaction as the step's answers, like any
effect. Just after that commit it is also run here, in the request, through the worker's own
handler, waiting at most the step's `before_continuing`. Whatever happens then (done, the
partner down, slow, or this process dying), the outbox still holds the call: the worker runs
it again under the same idempotency key, and a result already recorded is not recorded twice,
so it takes effect once. The customer's page reads effects.NAME.status meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

from wayline.journeys import calls
from wayline.journeys.engine import EffectRequest, parse_duration
from wayline.journeys.loader import Journey
from wayline.runtime.worker import Effect

log = structlog.get_logger("wayline.immediate")

CallHandler = Callable[[Effect], None]


class Immediate:
    """Runs a step's `before_continuing` calls at once; bound to the worker's call handler at
    start (bootstrap.py), and a no-op without partners."""

    def __init__(self) -> None:
        self._handler: CallHandler | None = None

    def bind(self, handler: CallHandler) -> None:
        self._handler = handler

    def run(self, journey: Journey, journey_id: str, effects: tuple[EffectRequest, ...]) -> bool:
        """Run the calls among `effects` that must finish before the customer goes on, waiting
        up to the longest of their `before_continuing`. True when any was tried (the journey
        may have changed: read it again)."""
        wanted = [
            (effect, spec)
            for effect in effects
            if effect.kind == calls.CALL
            and (spec := calls.declared(journey, str(effect.params["effect"]))).before_continuing
        ]
        if not wanted or self._handler is None:
            return False
        limit = max(parse_duration(str(spec.before_continuing)) for _, spec in wanted)
        handler = self._handler

        def run_all() -> None:
            for effect, _ in wanted:
                try:
                    handler(Effect("", journey_id, effect.kind, effect.key, effect.params, 1))
                except Exception as error:  # the outbox runs it again: never the customer's error
                    log.warning(
                        "call.not_yet",
                        journey_id=journey_id,
                        effect=effect.params["effect"],
                        error=type(error).__name__,
                    )

        thread = threading.Thread(target=run_all, name="before-continuing", daemon=True)
        thread.start()
        thread.join(limit.total_seconds())
        return True
