"""NATS JetStream: each event a binary-mode CloudEvent (`ce-` headers, the data as body) on
subject `wayline.<journey type>.<event type>`, in one stream (WAYLINE by default, created
when missing) whose duplicate window drops a message whose `Nats-Msg-Id` (the event id) it
already holds: an event published again after a relay died before marking it is kept once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import nats
import structlog
from nats.js.errors import BadRequestError, NotFoundError

from wayline.events.buses.base import Bus, by_journey, token
from wayline.events.buses.loop_thread import LoopThread
from wayline.events.envelope import CloudEvent

log = structlog.get_logger("wayline.events")

DUPLICATE_WINDOW_SECONDS = 120.0


async def connect(url: str, timeout: float) -> Any:
    """A client connection that gives up quickly: the relay's and the ingest's own loops
    retry, so the client need not keep reconnecting behind their backs."""
    return await nats.connect(
        url, connect_timeout=timeout, max_reconnect_attempts=2, reconnect_time_wait=0.5
    )


def subject_of(event: CloudEvent, prefix: str = "wayline") -> str:
    """<prefix>.<journey type>.<event type>, e.g. wayline.motor-claim.journey.step.completed."""
    return f"{prefix}.{token(event.journey_type)}.{event.topic}"


class NatsBus(Bus):
    """A JetStream publisher for the synchronous relay. The client lives on an event loop of its
    own, in a thread of its own, so that publishing works from any caller: one with an event
    loop already running in its thread (an async app, a test runner) included."""

    def __init__(
        self, url: str, stream: str = "WAYLINE", timeout: float = 5.0, prefix: str = "wayline"
    ):
        self.url = url
        self.stream = stream
        self.prefix = prefix
        self.timeout = timeout
        self._loop = LoopThread("nats-bus")
        self._connection: Any = None
        self._jetstream: Any = None

    def publish(self, events: Sequence[CloudEvent], replay: str | None = None) -> list[str]:
        if not events:
            return []
        return self._loop.run(self._publish(events, replay))

    def close(self) -> None:
        """Close the connection, stop the loop (finishing what the client left running)."""
        if self._loop.closed:
            return
        if self._connection is not None and not self._connection.is_closed:
            self._loop.run(self._connection.close())
        self._loop.close()

    async def _ready(self) -> Any:
        if self._connection is None or self._connection.is_closed:
            self._connection = await connect(self.url, self.timeout)
            self._jetstream = self._connection.jetstream(timeout=self.timeout)
            await self._ensure_stream()
        return self._jetstream

    async def _ensure_stream(self) -> None:
        try:
            await self._jetstream.stream_info(self.stream)
        except NotFoundError:
            try:
                await self._jetstream.add_stream(
                    name=self.stream,
                    subjects=[f"{self.prefix}.>"],
                    duplicate_window=DUPLICATE_WINDOW_SECONDS,
                )
            except BadRequestError:  # another relay created it first
                await self._jetstream.stream_info(self.stream)
                return
            log.info("events.stream_created", stream=self.stream)

    async def _publish(self, events: Sequence[CloudEvent], replay: str | None) -> list[str]:
        jetstream = await self._ready()
        # Journeys in parallel, each journey's events one after another (its order holds).
        runs = await asyncio.gather(
            *(self._publish_in_order(jetstream, group, replay) for group in by_journey(events))
        )
        return [event_id for run in runs for event_id in run]

    async def _publish_in_order(
        self, jetstream: Any, events: list[CloudEvent], replay: str | None
    ) -> list[str]:
        sent: list[str] = []
        for event in events:
            headers = event.binary_headers()
            headers["Nats-Msg-Id"] = f"{event.id}.replay.{replay}" if replay else event.id
            try:
                await jetstream.publish(
                    subject_of(event, self.prefix),
                    event.body(),
                    headers=headers,
                    stream=self.stream,
                )
            except Exception as error:  # the journey stops here; the relay retries it
                log.warning("events.publish_failed", bus="nats", error=type(error).__name__)
                break
            sent.append(event.id)
        return sent
