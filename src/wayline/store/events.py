"""The events table: the append-only log of what happened to each journey (field names and
ids, never answers)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from wayline.journeys.engine import Event, EventType
from wayline.observability.tracing import current_traceparent
from wayline.store import event_outbox, tables
from wayline.store.prepared import Prepared

_event = tables.events.c
_INSERT = Prepared(insert(tables.events))  # on the driver directly: store/prepared.py
# A refused submission changed nothing the customer or staff see: its event is for insights.
_OF = (
    select(_event.body)
    .where(_event.journey_id == bindparam("journey_id"))
    .where(_event.type != EventType.ANSWERS_REFUSED.value)
    .order_by(_event.id)
)


def append(connection: Connection, journey_id: str, events: tuple[Event, ...]) -> None:
    """Add events in order, in one statement, and enter them in the events' outbox in the same
    transaction (store/event_outbox.py), with the trace they were recorded in."""
    if events:
        after_id = event_outbox.last_id(connection, journey_id)
        _INSERT.execute_many(
            connection,
            [
                {"journey_id": journey_id, "type": e.type, "at": e.at, "body": e.to_dict()}
                for e in events
            ],
        )
        event_outbox.enqueue(connection, journey_id, after_id, current_traceparent())


def of(connection: Connection, journey_id: str) -> list[dict[str, Any]]:
    """A journey's events, oldest first, as stored (refused submissions left out)."""
    return [row.body for row in connection.execute(_OF, {"journey_id": journey_id}).all()]
