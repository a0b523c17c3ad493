"""Insights from the bus: the published CloudEvents read back from NATS JetStream.

A durable pull consumer (WAYLINE_INSIGHTS_CONSUMER, created on first use) remembers on the
server how far insights have read, so each run takes in only what was published since; it
acknowledges a batch (ack-all: the last message stands for the batch) only after the warehouse
committed it. A run that dies in between gets the batch again, and the warehouse keeps each
event id once: the bus delivers at least once, the warehouse counts once. Replays arrive with
their original event ids and are kept once too.

A message becomes the same `EventRecord` the database feed makes: the event's id, journey,
type and definition version from its `ce-` headers, the rest from its data (which carries
names, outcomes and classifications, never an answer's value).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from wayline.events.buses.loop_thread import LoopThread
from wayline.events.buses.nats import connect
from wayline.events.catalogue import UnknownEventType, stored_type_of
from wayline.insights.ingest import FeedUnavailable, Ingested
from wayline.insights.records import EventRecord
from wayline.insights.warehouse import Warehouse

log = structlog.get_logger("wayline.insights")

SOURCE = "bus"  # the warehouse's cursor name for what came from the bus
BATCH = 5_000
IDLE_SECONDS = 0.5  # nothing arrives within this: the run has caught up


class JetStreamFeed:
    """Takes in what the stream holds beyond the durable consumer's position."""

    def __init__(
        self,
        url: str,
        stream: str = "WAYLINE",
        prefix: str = "wayline",
        durable: str = "wayline-insights",
        batch: int = BATCH,
        timeout: float = 5.0,
    ):
        self.url = url
        self.stream = stream
        self.prefix = prefix
        self.durable = durable
        self.batch = batch
        self.timeout = timeout

    def into(self, warehouse: Warehouse, progress: Callable[[int], None] | None = None) -> Ingested:
        loop = LoopThread("insights-feed")
        connection: Any = None
        try:
            try:
                connection = loop.run(connect(self.url, self.timeout))
                subscription = loop.run(self._subscribe(connection))
            except NotFoundError:  # no stream yet: nothing was ever published
                return Ingested(0, warehouse.cursor(SOURCE))
            except Exception as error:
                raise FeedUnavailable(f"The event bus cannot be read: {error}") from error
            return self._take_in(loop, subscription, warehouse, progress)
        finally:
            if connection is not None and not connection.is_closed:
                loop.run(connection.close())
            loop.close()

    def _take_in(
        self,
        loop: LoopThread,
        subscription: Any,
        warehouse: Warehouse,
        progress: Callable[[int], None] | None,
    ) -> Ingested:
        added = 0
        while True:
            messages = loop.run(_fetch(subscription, self.batch))
            if not messages:
                break
            records = [record for record in map(record_of, messages) if record is not None]
            added += warehouse.add(SOURCE, records)
            loop.run(messages[-1].ack_sync(timeout=self.timeout))  # ack-all: the whole batch
            if progress is not None:
                progress(len(messages))
        return Ingested(added, warehouse.cursor(SOURCE))

    async def _subscribe(self, connection: Any) -> Any:
        jetstream = connection.jetstream(timeout=self.timeout)
        return await jetstream.pull_subscribe(
            f"{self.prefix}.>",
            durable=self.durable,
            stream=self.stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.ALL,
                deliver_policy=DeliverPolicy.ALL,
                max_ack_pending=4 * self.batch,  # the default (1,000) would cap a batch
                ack_wait=60,
            ),
        )


async def _fetch(subscription: Any, batch: int) -> list[Any]:
    """Up to `batch` messages; none once nothing arrives within IDLE_SECONDS."""
    try:
        return list(await subscription.fetch(batch, timeout=IDLE_SECONDS))
    except (NatsTimeout, TimeoutError):
        return []


def record_of(message: Any) -> EventRecord | None:
    """The record of a binary-mode CloudEvent; None (logged, skipped) for a message that is
    not one of Wayline's events."""
    headers = message.headers or {}
    try:
        data = json.loads(message.data)
        return EventRecord(
            event_id=int(headers["ce-id"]),
            journey_id=headers["ce-subject"],
            journey=str(data["journey_type"]),
            version=headers["ce-definitionversion"],
            type=stored_type_of(headers["ce-type"]),
            at=datetime.fromisoformat(str(data["at"])),
            body={"step": data.get("step"), "data": data},
        )
    except (KeyError, ValueError, TypeError, UnknownEventType):
        log.warning("insights.message_skipped", type=headers.get("ce-type", "?"))
        return None
