"""Incremental ingest: copy what a source has beyond the warehouse's cursor, in batches.

A `Feed` is where the warehouse takes events in from: `FromDatabase` reads the events table
by id (below); `events/insights_feed.py` reads the published CloudEvents from the bus.

Event ids come from a sequence, and on PostgreSQL two transactions may commit their events out
of id order: an event with a lower id can become visible after a higher one was taken in. So
each run reads again from a little below the cursor (`OVERLAP` ids); the warehouse skips ids it
already holds, and the late event is taken in. Events stay in flight for well under a second
(the store's write transactions are short), so the overlap is generous.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from wayline.insights.records import EventSource
from wayline.insights.warehouse import Warehouse

BATCH = 5_000
OVERLAP = 1_000
DATABASE = "database"  # the source name of the database's events table


@dataclass(frozen=True)
class Ingested:
    """What one run took in: new records, and the cursor after it."""

    added: int
    cursor: int


class FeedUnavailable(Exception):
    """The feed could not be read just now (the bus not reachable, say): nothing was taken in,
    and what the warehouse holds still answers."""


class Feed(Protocol):
    """Where events come from, and how far the warehouse has taken them in."""

    def into(self, warehouse: Warehouse, progress: Callable[[int], None] | None = None) -> Ingested:
        """Take in what is new since the last run; `progress` is told each batch's size.
        Running it again with nothing new adds nothing."""
        ...


@dataclass(frozen=True)
class FromDatabase:
    """The database's events table, read by id beyond the warehouse's cursor."""

    source: EventSource

    def into(self, warehouse: Warehouse, progress: Callable[[int], None] | None = None) -> Ingested:
        return ingest(warehouse, self.source, progress=progress)


def ingest(
    warehouse: Warehouse,
    source: EventSource,
    *,
    name: str = DATABASE,
    batch: int = BATCH,
    overlap: int = OVERLAP,
    progress: Callable[[int], None] | None = None,
) -> Ingested:
    """Take in everything `source` has beyond the cursor (less the overlap). Running it again
    with nothing new adds nothing. `progress` is told each batch's size."""
    added = 0
    after = max(0, warehouse.cursor(name) - overlap)
    while True:
        records = source.after(after, batch)
        if not records:
            break
        added += warehouse.add(name, records)
        after = records[-1].event_id
        if progress is not None:
            progress(len(records))
        if len(records) < batch:
            break
    return Ingested(added, warehouse.cursor(name))
