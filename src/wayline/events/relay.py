"""The relay: publishes the events' outbox to a bus, in order per journey, at least once.

One pass (`step`): claim a batch (a short write transaction: leases), publish it outside any
transaction, then mark what the bus confirmed as published and release the rest (another
short transaction). A relay that dies between publishing and marking leaves its events leased
until the lease ends; they are then published again under the same id (JetStream drops the
copy inside its duplicate window; consumers deduplicate by id anyway). Several relays may run
on PostgreSQL; on SQLite run one.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from pydantic import ValidationError

from wayline.events.buses.base import Bus, PublishFailed
from wayline.events.catalogue import UnknownEventType
from wayline.events.envelope import CloudEvent, Naming, envelope
from wayline.ids import new_id
from wayline.observability import metrics
from wayline.runtime.clock import Clock
from wayline.store import Store, event_outbox
from wayline.store.event_outbox import OutboxEvent

log = structlog.get_logger("wayline.events")


def relay_name() -> str:
    """Who holds a lease: host, process and a random part (at most 40 characters)."""
    return f"{socket.gethostname()[:16]}:{os.getpid()}:{new_id()[-8:]}"


@dataclass
class Relay:
    store: Store
    bus: Bus
    clock: Clock
    naming: Naming
    bus_name: str = "bus"
    batch: int = 500
    lease: timedelta = timedelta(seconds=30)
    name: str = ""
    # Called after the bus confirmed a batch, before it is marked: tests kill the process here.
    after_publish: Callable[[list[str]], None] | None = None

    def __post_init__(self) -> None:
        self.name = self.name or relay_name()

    def step(self) -> int:
        """Publish one claimed batch; how many events were claimed (0: nothing waits)."""
        return self._step()[0]

    def _step(self) -> tuple[int, int]:
        """(claimed, settled): settled counts the events published or skipped for good."""
        now = self.clock.now()
        with self.store.write() as connection:
            records = event_outbox.claim(connection, self.name, now, now + self.lease, self.batch)
        if not records:
            return 0, 0
        events, skipped = _envelopes(records, self.naming)
        confirmed = self._publish(events)
        if self.after_publish is not None:
            self.after_publish(confirmed)
        self._settle(records, events, confirmed, skipped)
        return len(records), len(confirmed) + len(skipped)

    def run_once(self) -> int:
        """Publish everything waiting now; how many events were claimed. It stops at a batch
        that settled nothing (the bus is down or refuses it all): those events wait, released,
        for the next run, rather than being claimed again at once, for ever."""
        total = 0
        while True:
            claimed, settled = self._step()
            total += claimed
            if not claimed or not settled:
                return total

    def run_forever(self, stop: threading.Event, poll: float = 0.05) -> None:
        """Publish as events come, looking again every `poll` seconds when idle, until
        `stop` is set. A failing bus or database is logged and tried again."""
        while not stop.is_set():
            try:
                claimed, settled = self._step()
            except Exception:
                log.exception("events.relay_failed")
                claimed = settled = 0
            if not (claimed and settled):  # idle, or the bus took nothing: wait before again
                stop.wait(poll)

    def _publish(self, events: list[CloudEvent]) -> list[str]:
        try:
            return self.bus.publish(events)
        except Exception as error:  # nothing went: the batch is released below
            log.warning("events.bus_unavailable", bus=self.bus_name, error=type(error).__name__)
            return []

    def _settle(
        self,
        records: list[OutboxEvent],
        events: list[CloudEvent],
        confirmed: list[str],
        skipped: list[int],
    ) -> None:
        done = {int(event_id) for event_id in confirmed}
        refused = [
            r.event_id for r in records if r.event_id not in done and r.event_id not in skipped
        ]
        now = self.clock.now()
        with self.store.write() as connection:
            event_outbox.mark_published(connection, sorted(done | set(skipped)), now)
            event_outbox.release(connection, refused)
        metrics.EVENTS_PUBLISHED.labels(self.bus_name, "published").inc(len(done))
        if refused:
            metrics.EVENTS_PUBLISHED.labels(self.bus_name, "refused").inc(len(refused))
        if skipped:
            metrics.EVENTS_PUBLISHED.labels(self.bus_name, "skipped").inc(len(skipped))
        for event in events:
            if int(event.id) in done:
                metrics.EVENT_PUBLISH_DELAY.observe(max(0.0, (now - event.time).total_seconds()))


def _envelopes(records: list[OutboxEvent], naming: Naming) -> tuple[list[CloudEvent], list[int]]:
    """The batch's CloudEvents, and the ids of events that cannot be published: a type the
    catalogue does not describe, or a stored body its model refuses. They are logged (type,
    id and the fields at fault, never values) and marked done, so one bad row never holds up
    its journey or the relay."""
    events: list[CloudEvent] = []
    skipped: list[int] = []
    for record in records:
        try:
            events.append(envelope(record, naming))
        except UnknownEventType:
            log.error("events.not_in_catalogue", type=record.type, event_id=record.event_id)
            skipped.append(record.event_id)
        except ValidationError as error:
            fields = sorted({".".join(map(str, e["loc"])) for e in error.errors()})
            log.error(
                "events.invalid_data", type=record.type, event_id=record.event_id, fields=fields
            )
            skipped.append(record.event_id)
    return events, skipped


def replay(
    store: Store,
    bus: Bus,
    naming: Naming,
    since: datetime,
    until: datetime | None = None,
    page: int = 500,
) -> int:
    """Publish again every stored event from `since` (to `until`), oldest first, for a new
    consumer; how many. The events keep their ids; PublishFailed when the bus refuses one
    (run it again: consumers deduplicate)."""
    run = new_id()[-10:]
    after_id, total = 0, 0
    while True:
        with store.read() as connection:
            records = event_outbox.between(connection, since, until, after_id, page)
        if not records:
            return total
        events, _ = _envelopes(records, naming)
        confirmed = bus.publish(events, replay=run)
        if len(confirmed) < len(events):
            raise PublishFailed(f"the bus refused {len(events) - len(confirmed)} events")
        total += len(confirmed)
        after_id = records[-1].event_id
