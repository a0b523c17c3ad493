"""The unit of work: a command's two short trips to the store.

1. `read`: one read transaction loads the journey for its owner (anyone else is told it does
   not exist), its definition version, and what else the command needs (the documents a file
   answer may name; the record of an Idempotency-Key).
2. `commit`: one write transaction writes what the command decided — the idempotency record,
   the journey's state (`UPDATE … WHERE revision = n`), its answers, its events and its
   effects (the outbox) — or nothing: any error rolls it all back.

Between the two, outside any transaction, the command fetches partner data and asks the pure
engine. The write is guarded by the revision the read saw, so a journey changed in between is
never overwritten: `commit` raises Moved, and the command decides (a client named a revision
and gets Conflict; the system reads again). On SQLite the writer lock is held only while the
rows are written, never while the engine or a partner works.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

import structlog

from wayline.errors import IdempotencyMismatch, NotFound
from wayline.journeys import personalise
from wayline.journeys.engine import ENDED, Event, JourneyState, Transition
from wayline.journeys.loader import Journey
from wayline.journeys.personalise import Personalised
from wayline.observability import metrics
from wayline.runtime.catalog import Catalog
from wayline.store import Connection, StaleRevision, Store, outbox
from wayline.store import answers as answer_rows
from wayline.store import documents as document_rows
from wayline.store import events as event_log
from wayline.store import idempotency as key_records
from wayline.store import journeys as journey_rows
from wayline.store.idempotency import KeyRecord


class Moved(Exception):
    """The journey was written by someone else between the command's read and its write."""


@dataclass(frozen=True)
class Idempotency:
    """A client's Idempotency-Key, and the fingerprint of the request it came with."""

    key: str
    fingerprint: str


@dataclass(frozen=True)
class Snapshot:
    """A journey as one read found it: its definition version, state and revision."""

    journey: Journey
    state: JourneyState
    revision: int


@dataclass(frozen=True)
class Change:
    """What one command writes. `before` is None for a new journey."""

    customer_id: str
    before: Snapshot | None
    transition: Transition
    journey: Journey
    current_step: str | None
    now: datetime
    idempotency: Idempotency | None = None
    status_code: int = 200  # what a replay of its key answers

    @property
    def revision(self) -> int:
        """The revision this change writes."""
        return 1 if self.before is None else self.before.revision + 1


def never(journey: Journey) -> bool:
    return False


# Work that must commit with every journey change it applies to, in the same transaction (the
# workbench opens a case when a journey is referred: runtime/cases/opening.py).
AfterWrite = Callable[[Connection, Change], object]  # what it returns is not used


class UnitOfWork:
    """Reads and writes of commands and queries, each in one short transaction."""

    def __init__(self, store: Store, catalog: Catalog, after_write: tuple[AfterWrite, ...] = ()):
        self.store = store
        self.catalog = catalog
        self.after_write = after_write

    # --- reads ----------------------------------------------------------------------------

    def read(
        self,
        journey_id: str,
        customer_id: str | None,
        documents: Callable[[Journey], bool] = never,
    ) -> Snapshot:
        """The journey, for `customer_id` (None: the system, for whoever owns it); NotFound
        for anyone else. With `documents` true for its definition, the state carries the
        documents a file answer may name, as they are now (uploads do not write the row)."""
        with self.store.read() as connection:
            return self._load(connection, journey_id, customer_id, documents)

    def recorded(self, customer_id: str, idempotency: Idempotency | None) -> KeyRecord | None:
        """The record of a key used before; IdempotencyMismatch when it came with another
        request. None without a key, or for a key not used yet."""
        if idempotency is None:
            return None
        with self.store.read() as connection:
            return self._recorded(connection, customer_id, idempotency)

    def read_with_key(
        self,
        journey_id: str,
        customer_id: str,
        idempotency: Idempotency | None,
        documents: Callable[[Journey], bool] = never,
    ) -> tuple[Snapshot, KeyRecord | None]:
        """`read` and `recorded` in one read transaction."""
        with self.store.read() as connection:
            snapshot = self._load(connection, journey_id, customer_id, documents)
            found = self._recorded(connection, customer_id, idempotency) if idempotency else None
            return snapshot, found

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read transaction, for queries that read several tables at once."""
        with self.store.read() as connection:
            yield connection

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A write transaction, for commands that must read and write atomically (an upload's
        room check and its record). Rolls back on any error."""
        with self.store.write() as connection:
            yield connection

    def load(
        self,
        connection: Connection,
        journey_id: str,
        customer_id: str | None,
        documents: Callable[[Journey], bool] = never,
    ) -> Snapshot:
        """`read`, inside a transaction the caller holds."""
        return self._load(connection, journey_id, customer_id, documents)

    # --- the write --------------------------------------------------------------------------

    def commit(self, change: Change) -> int:
        """Write one command's change in one transaction; return the journey's new revision.
        Moved when the journey changed since `change.before` was read; DuplicateKey when a
        unique value was taken meanwhile (the Idempotency-Key by a concurrent retry, or a
        reference)."""
        with self.store.write() as connection:
            self.write(connection, change)
        count_end(change)
        return change.revision

    def write(self, connection: Connection, change: Change) -> None:
        """`commit`, inside a write transaction the caller holds (a case decided and its
        journey's decision: both or neither)."""
        state = change.transition.state
        if change.idempotency is not None:
            # First: a concurrent request with the same key fails here, before any write.
            record = KeyRecord(
                change.idempotency.fingerprint, change.status_code, state.id, change.revision
            )
            key_records.remember(
                connection, change.customer_id, change.idempotency.key, record, change.now
            )
        if change.before is None:
            journey_rows.insert_journey(connection, state, change.current_step)
        else:
            try:
                journey_rows.update_journey(
                    connection, state, change.before.revision, change.current_step
                )
            except StaleRevision:
                raise Moved(state.id) from None
            answer_rows.sync(connection, change.journey, change.before.state, state)
        event_log.append(connection, state.id, change.transition.events)
        outbox.enqueue(connection, state.id, change.transition.effects, change.now)
        if change.transition.cancel:
            outbox.cancel(connection, state.id, change.transition.cancel, change.now)
        for work in self.after_write:
            work(connection, change)

    def append_events(self, journey_id: str, events: tuple[Event, ...]) -> None:
        """Events that change nothing else of the journey (a refused submission), in their
        own short write transaction; no revision moves."""
        with self.store.write() as connection:
            event_log.append(connection, journey_id, events)

    # --- helpers ----------------------------------------------------------------------------

    def _load(
        self,
        connection: Connection,
        journey_id: str,
        customer_id: str | None,
        documents: Callable[[Journey], bool],
    ) -> Snapshot:
        owner = customer_id
        if owner is None:
            owner = journey_rows.owner_of(connection, journey_id)
        stored = journey_rows.load(connection, journey_id, owner) if owner else None
        if stored is None:
            raise NotFound(f"There is no journey '{journey_id}'")
        structlog.contextvars.bind_contextvars(journey_id=journey_id)
        state = stored.state
        journey = self.catalog.version(connection, state.journey, state.version)
        # As the variants it started with show it: every command and view reads this.
        journey = personalise.apply(journey, Personalised.from_dict(state.personalisation).variants)
        if documents(journey):
            state = replace(state, documents=document_rows.nameable(connection, journey_id))
        return Snapshot(journey, state, stored.revision)

    @staticmethod
    def _recorded(
        connection: Connection, customer_id: str, idempotency: Idempotency
    ) -> KeyRecord | None:
        found = key_records.find(connection, customer_id, idempotency.key)
        if found is not None and found.fingerprint != idempotency.fingerprint:
            raise IdempotencyMismatch(
                "This Idempotency-Key was already used for a different request"
            )
        return found


def count_end(change: Change) -> None:
    """Metrics, once a change is committed: a journey that has just reached an end (the
    dashboard's completions, by definition version)."""
    status = change.transition.state.status
    if status not in ENDED:
        return
    if change.before is not None and change.before.state.status in ENDED:
        return
    metrics.JOURNEYS_ENDED.labels(change.journey.name, change.journey.version, str(status)).inc()
