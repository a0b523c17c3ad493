"""The outbox's gauges: how long the oldest due effect has waited, and how many deadlines are
at risk. A worker refreshes them every few seconds while it runs (Worker.run_forever), from one
short read transaction, rather than on each scrape: the database's load does not grow with the
number of scrapers, and a scrape never waits on the database.

Every worker reports the same queue: a dashboard or an alert takes the `max` across them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import structlog

from wayline.observability import metrics
from wayline.runtime.clock import Clock
from wayline.store import Store, outbox

log = structlog.get_logger("wayline.worker")


class QueueWatch:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        risk: timedelta,
        every: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.store = store
        self.clock = clock
        self.risk = risk  # a deadline this close, with its effect not done, is at risk
        self.every = every
        self.monotonic = monotonic
        self._last: float | None = None
        self._kinds: set[str] = set()  # kinds reported before: set to 0, not dropped, when clear

    def maybe_refresh(self) -> None:
        """Refresh the gauges if the last refresh is older than `every` seconds."""
        now = self.monotonic()
        if self._last is not None and now - self._last < self.every:
            return
        self._last = now
        try:
            self.refresh()
        except Exception as error:  # a database hiccup must not stop the worker's loop
            log.warning("worker.queue_watch_failed", error=type(error).__name__)

    def refresh(self) -> None:
        """Read the queue once and set the gauges."""
        now = self.clock.now()
        with self.store.read() as connection:
            oldest = outbox.oldest_due(connection, now)
            at_risk = outbox.deadlines_at_risk(connection, now + self.risk)
        age = (now - oldest).total_seconds() if oldest is not None else 0.0
        metrics.EFFECT_QUEUE_AGE.set(max(age, 0.0))
        self._kinds |= set(at_risk)
        for kind in self._kinds:
            metrics.DEADLINES_AT_RISK.labels(kind).set(at_risk.get(kind, 0))
