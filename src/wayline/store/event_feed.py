"""The event log as insights read it: events after a cursor, each with its journey's type and
definition version (insights/records.py), in id order, in one short read transaction."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from wayline.insights.records import EventRecord
from wayline.store import tables
from wayline.store.database import Store

_event = tables.events.c
_journey = tables.journeys.c
_AFTER = (
    select(
        _event.id,
        _event.journey_id,
        _journey.journey,
        _journey.version,
        _event.type,
        _event.at,
        _event.body,
    )
    .join(tables.journeys, _journey.id == _event.journey_id)
    .where(_event.id > bindparam("after"))
    .order_by(_event.id)
    .limit(bindparam("limit"))
)


class EventFeed:
    """An `EventSource` over the database's events table (used when no bus is configured)."""

    def __init__(self, store: Store):
        self.store = store

    def after(self, event_id: int, limit: int) -> list[EventRecord]:
        """Up to `limit` events with an id above `event_id`, oldest first. An event whose
        journey row is missing (none should be: both are written in one transaction) is
        skipped: without a type and version it cannot be counted anywhere."""
        with self.store.read() as connection:
            rows = connection.execute(_AFTER, {"after": event_id, "limit": limit}).all()
        return [
            EventRecord(
                row.id, row.journey_id, row.journey, row.version, row.type, row.at, row.body
            )
            for row in rows
        ]
