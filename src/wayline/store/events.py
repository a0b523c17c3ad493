"""The events table: the append-only log of what happened to each journey (field names and
ids, never answers)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from wayline.journeys.engine import Event
from wayline.store import tables
from wayline.store.prepared import Prepared

_event = tables.events.c
_INSERT = Prepared(insert(tables.events))  # on the driver directly: store/prepared.py
_OF = select(_event.body).where(_event.journey_id == bindparam("journey_id")).order_by(_event.id)


def append(connection: Connection, journey_id: str, events: tuple[Event, ...]) -> None:
    """Add events in order, in one statement."""
    if events:
        _INSERT.execute_many(
            connection,
            [
                {"journey_id": journey_id, "type": e.type, "at": e.at, "body": e.to_dict()}
                for e in events
            ],
        )


def of(connection: Connection, journey_id: str) -> list[dict[str, Any]]:
    """A journey's events, oldest first, as stored."""
    return [row.body for row in connection.execute(_OF, {"journey_id": journey_id}).all()]
