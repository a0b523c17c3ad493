"""The effect worker: drains the outbox with retries, backoff and a dead-letter state.

Effects run at least once; each carries an idempotency key so a partner applies it once. On
PostgreSQL any number of workers claim work with FOR UPDATE SKIP LOCKED; on SQLite one worker
runs (in the demo process). Handlers for each kind of effect (notify, pay, run checks) are in
runtime/effects.py; definitions naming a kind without one are refused when they load.

No effect is retried for ever: it is dead-lettered, with the reason, after its last attempt
or once its first attempt is older than the maximum age (WAYLINE_EFFECT_MAX_AGE). That holds
for an effect whose partner stays down too, although the attempts an open circuit breaker
postpones do not count.

Each effect runs in a span, `effect <kind>`, its partner calls inside it. While it runs
(`run_forever`), the worker refreshes the queue's gauges every few seconds (queue_watch.py): the
oldest due effect's wait, and the deadlines at risk.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from opentelemetry.trace import StatusCode

from wayline.observability import metrics
from wayline.observability.tracing import start_span
from wayline.runtime.clock import Clock
from wayline.runtime.queue_watch import QueueWatch
from wayline.store import Store, outbox

log = structlog.get_logger("wayline.worker")


@dataclass(frozen=True)
class Effect:
    id: str
    journey_id: str
    kind: str
    key: str
    params: dict[str, Any]
    attempts: int  # this run's attempt number, from 1
    started_at: datetime | None = None  # when its first attempt started
    # This run is its last chance (its last attempt, or it reached the maximum age): a handler
    # with a way to finish without its partner (checks recorded as unavailable) takes it now.
    final: bool = False


Handler = Callable[[Effect], None]


class Worker:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        handlers: dict[str, Handler] | None = None,
        max_attempts: int = 8,
        base_delay: float = 1.0,
        lease: float = 60.0,
        batch: int = 20,
        concurrency: int = 1,
        max_age: timedelta | None = None,
        watch: QueueWatch | None = None,
    ):
        self.store = store
        self.watch = watch  # the queue's gauges, refreshed while the worker runs
        self.clock = clock
        self.handlers = dict(handlers or {})
        self.max_attempts = max_attempts
        self.max_age = max_age  # None: attempts alone end an effect
        self.base_delay = base_delay
        self.lease = timedelta(seconds=lease)
        self.batch = batch
        # Effects mostly wait on partners, so one process runs several at once in threads.
        self.concurrency = max(1, concurrency)

    def run_due(self) -> int:
        """Claim and run what is due now; return how many effects were run."""
        claimed = self.claim()
        if self.concurrency == 1 or len(claimed) <= 1:
            for effect in claimed:
                self._run(effect)
        else:
            with ThreadPoolExecutor(min(self.concurrency, len(claimed))) as pool:
                list(pool.map(self._run, claimed))
        return len(claimed)

    def run_forever(
        self,
        wakeup: Wakeup,
        stop: threading.Event,
        poll: float = 0.5,
        on_idle: Callable[[], object] | None = None,
    ) -> None:
        """Keep up to `concurrency` effects running. Claim when a slot is free and work may be
        due: at the start, after a commit that queued effects (woken at once, even while
        effects run), after a claim that filled every slot it asked for (there may be more),
        and every `poll` seconds without news (timers, retries, expired leases)."""
        in_flight: set[Future[None]] = set()
        maybe_due = True
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="effect") as pool:
            while not stop.is_set():
                if self.watch is not None:
                    self.watch.maybe_refresh()
                if wakeup.pending():
                    maybe_due = True
                free = self.concurrency - len(in_flight)
                if free and maybe_due:
                    wanted = min(free, self.batch)
                    claimed = self.claim(limit=wanted)
                    in_flight |= {pool.submit(self._run, effect) for effect in claimed}
                    maybe_due = len(claimed) == wanted  # fewer: nothing else is due now
                    continue
                if on_idle is not None:
                    on_idle()
                if free:  # nothing known to be due: sleep until a commit or the poll
                    wakeup.wait(poll)
                    maybe_due = True
                else:  # every slot busy: wait for one (a commit meanwhile is seen after)
                    _, in_flight = wait(in_flight, timeout=poll, return_when=FIRST_COMPLETED)
            wait(in_flight)

    def claim(self, limit: int | None = None) -> list[Effect]:
        if not self.handlers:
            return []
        now = self.clock.now()
        with self.store.write() as connection:
            claimed = outbox.claim(
                connection,
                sorted(self.handlers),
                now,
                leased_until=now + self.lease,  # if this worker dies, the effect is due again
                limit=limit or self.batch,
            )
        for row in claimed:
            if row.attempts == 0:  # how long the first attempt waited after becoming due
                waited = (now - row.due_at).total_seconds()
                metrics.EFFECT_START_DELAY.labels(row.kind).observe(max(waited, 0.0))
        return [self._claimed(row, now) for row in claimed]

    def _claimed(self, row: outbox.Claimed, now: datetime) -> Effect:
        started = row.started_at or now
        attempt = row.attempts + 1
        return Effect(
            row.id,
            row.journey_id,
            row.kind,
            row.key,
            row.params,
            attempt,
            started_at=started,
            final=attempt >= self.max_attempts or self._too_old(started, now),
        )

    def _too_old(self, started: datetime | None, now: datetime) -> bool:
        return self.max_age is not None and started is not None and now - started >= self.max_age

    def _run(self, effect: Effect) -> None:
        """Run one effect in a span of its own (`effect <kind>`): its partner calls are the
        span's children. The span names the kind, the attempt and the journey; an error is
        recorded by its type only (a partner's message may quote what the customer sent)."""
        span_name = f"effect {effect.kind}"
        with start_span("wayline.worker", span_name) as span:
            span.set_attribute("wayline.effect.kind", effect.kind)
            span.set_attribute("wayline.effect.attempt", effect.attempts)
            span.set_attribute("wayline.journey_id", effect.journey_id)
            try:
                self.handlers[effect.kind](effect)
            except Exception as error:  # any failure is retried, then dead-lettered
                span.set_attribute("error.type", type(error).__name__)
                span.set_status(StatusCode.ERROR)
                self._failed(effect, error)
                return
            self._done(effect)

    def _done(self, effect: Effect) -> None:
        self._finish(effect.id, status="done", error=None)
        metrics.EFFECTS_RUN.labels(effect.kind, "done").inc()
        log.info("effect.done", journey_id=effect.journey_id, kind=effect.kind)

    def _failed(self, effect: Effect, error: Exception) -> None:
        reason = f"{type(error).__name__}: {error}"
        if self._too_old(effect.started_at, self.clock.now()):
            # Checked before postponing: a partner that stays down must not keep an effect
            # waiting for ever without trace.
            age = _words(self.max_age)
            self._dead(effect, error, f"still failing after the maximum age of {age}; {reason}")
            return
        wait = getattr(error, "postpone_seconds", None)
        if wait is not None:
            self._postpone(effect, reason[:500], wait)
            return
        if effect.attempts >= self.max_attempts:
            self._dead(effect, error, reason)  # its attempts say why: the last one failed
            return
        delay = self.base_delay * 2 ** (effect.attempts - 1) * random.uniform(0.5, 1.5)
        self._finish(
            effect.id,
            status="pending",
            error=reason,
            available_at=self.clock.now() + timedelta(seconds=delay),
        )
        metrics.EFFECTS_RUN.labels(effect.kind, "retry").inc()
        log.warning(
            "effect.retry",
            journey_id=effect.journey_id,
            kind=effect.kind,
            attempts=effect.attempts,
            error=type(error).__name__,
        )

    def _dead(self, effect: Effect, error: Exception, reason: str) -> None:
        """Dead-letter an effect with why: `wayline effects list` shows it as its last error."""
        self._finish(effect.id, status="dead", error=reason[:500])
        metrics.EFFECTS_RUN.labels(effect.kind, "dead").inc()
        log.error(
            "effect.dead",
            journey_id=effect.journey_id,
            kind=effect.kind,
            attempts=effect.attempts,
            error=type(error).__name__,
            reason=reason.split(";", 1)[0],
        )

    def _postpone(self, effect: Effect, reason: str, wait: float) -> None:
        """The partner is known to be down (its breaker is open): this attempt never reached
        it, so it does not count; try again once the breaker lets a trial through."""
        now = self.clock.now()
        with self.store.write() as connection:
            outbox.postpone(connection, effect.id, reason, now, now + timedelta(seconds=wait))
        metrics.EFFECTS_RUN.labels(effect.kind, "postponed").inc()
        log.warning(
            "effect.postponed",
            journey_id=effect.journey_id,
            kind=effect.kind,
            seconds=round(wait, 2),
        )

    def _finish(
        self,
        effect_id: str,
        status: str,
        error: str | None,
        available_at: datetime | None = None,
    ) -> None:
        with self.store.write() as connection:
            outbox.finish(connection, effect_id, status, error, self.clock.now(), available_at)


def _words(duration: timedelta | None) -> str:
    """A duration as an operator reads it: 24 h, 90 min, 45 s."""
    seconds = int(duration.total_seconds()) if duration is not None else 0
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


class Wakeup:
    """Wait until effects may be due: a commit that queued some in this process, a NOTIFY from
    PostgreSQL for commits anywhere else, or the timeout (timers, retries, lost wake-ups)."""

    def __init__(self, store: Store):
        self.store = store
        self._listener = outbox.Listener(store)

    def wait(self, timeout: float) -> None:
        if self._listener.available:
            self._wait_for_notify(timeout)
        else:
            self.store.effects_queued.wait(timeout)
        self.store.effects_queued.clear()

    def pending(self) -> bool:
        """Whether effects were queued since the last look, without waiting (on PostgreSQL this
        also starts listening, so the caller may look for work and then wait)."""
        woken = False
        if self._listener.available:
            try:
                woken = self._listener.notified(timeout=0)
            except Exception as error:  # a dropped connection: look for work to be safe
                log.warning("worker.listen_failed", error=type(error).__name__)
                self.close()
                woken = True
        woken = self.store.effects_queued.is_set() or woken
        self.store.effects_queued.clear()
        return woken

    def _wait_for_notify(self, timeout: float) -> None:
        if self.store.effects_queued.is_set():
            return
        try:
            self._listener.notified(timeout)
        except Exception as error:  # a dropped connection: listen again next time
            log.warning("worker.listen_failed", error=type(error).__name__)
            self.close()
            self.store.effects_queued.wait(min(timeout, 1.0))

    def close(self) -> None:
        self._listener.close()


def retry_dead(store: Store, clock: Clock, effect_id: str | None = None) -> int:
    """Put dead-lettered effects (one, or all) back in the queue, with their attempts and
    their age counted afresh."""
    with store.write() as connection:
        return outbox.retry_dead(connection, clock.now(), effect_id)


def effects_in(store: Store, status: str, limit: int = 200) -> list[dict[str, Any]]:
    """Effects in one status, most recently changed first."""
    with store.read() as connection:
        return outbox.in_status(connection, status, limit)
