"""The record insights are fed: one journey event with what it needs to be counted.

A small, transport-neutral shape: the database's events table joined with its journey's type
and definition version (store/event_feed.py) yields it today; a consumer of the CloudEvents
relay can build the same from a message (id, subject, type, time, data).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class EventRecord:
    """One event of one journey. `event_id` increases with the order events were written (a
    source's cursor); `body` is the event as the engine wrote it (field names, never
    values)."""

    event_id: int
    journey_id: str
    journey: str  # the journey type, e.g. motor-claim
    version: str  # the definition version the journey runs on
    type: str
    at: datetime
    body: dict[str, Any]

    @property
    def at_utc(self) -> datetime:
        """`at` as a naive UTC time (how the warehouse keeps times)."""
        at = self.at if self.at.tzinfo is not None else self.at.replace(tzinfo=UTC)
        return at.astimezone(UTC).replace(tzinfo=None)


class EventSource(Protocol):
    """Where records come from, in `event_id` order."""

    def after(self, event_id: int, limit: int) -> Sequence[EventRecord]:
        """Up to `limit` records with an id above `event_id`, oldest first."""
        ...
