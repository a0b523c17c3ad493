"""The store: journeys with a revision for optimistic concurrency, their answers, an
append-only event log, the effect queue (outbox), idempotency records and definition versions.

Functions take a Connection so that a command's state, events and effects commit together in
the one transaction the caller opened with `Store.write()`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from wayline.journeys.engine import EffectRequest, Event, JourneyState
from wayline.journeys.loader import Journey
from wayline.runtime import tables
from wayline.runtime.ids import new_id


class StaleRevision(Exception):
    """Somebody changed the journey since the caller read it."""


class DuplicateKey(Exception):
    """A unique value (a reference, an idempotency key) was taken by a concurrent writer."""


@dataclass(frozen=True)
class StoredJourney:
    state: JourneyState
    revision: int


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without their zone; everything stored is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class Store:
    def __init__(self, engine: Engine):
        self.engine = engine
        # SQLite has one writer at a time. Writers of this process queue on a lock rather than
        # in SQLite's busy handler, which polls by sleeping (up to 100 ms a time) and so leaves
        # the database idle while writers wait. Other processes still meet the busy timeout.
        self._one_writer = threading.RLock() if engine.dialect.name == "sqlite" else None
        # Set when a transaction that queued effects commits: wakes workers of this process
        # at once (PostgreSQL also tells workers elsewhere, with NOTIFY).
        self.effects_queued = threading.Event()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction; commits on success, rolls back on any error."""
        queued = False
        try:
            with self._one_writer or nullcontext(), self.engine.begin() as connection:
                connection.info.pop(EFFECTS_QUEUED, None)
                yield connection
                queued = connection.info.pop(EFFECTS_QUEUED, False)
        except IntegrityError as error:
            raise DuplicateKey(str(error.orig)) from error
        if queued:
            self.effects_queued.set()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            connection = connection.execution_options(readonly=True)
            with connection.begin():
                yield connection

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))


# Statements on the path of every command, built once: building a SQLAlchemy statement costs
# several times more than running a built one with new parameters.
_definition = tables.journey_definitions.c
_journey = tables.journeys.c
_answer = tables.answers.c
_DEFINITION_SAVED = select(_definition.version).where(
    _definition.journey == bindparam("journey"), _definition.version == bindparam("version")
)
_LOAD_JOURNEY = select(_journey.state, _journey.revision).where(
    _journey.id == bindparam("journey_id"), _journey.customer_id == bindparam("customer_id")
)
_INSERT_JOURNEY = insert(tables.journeys)
_UPDATE_JOURNEY = update(tables.journeys).where(
    _journey.id == bindparam("at_id"), _journey.revision == bindparam("at_revision")
)
_DELETE_ANSWERS = delete(tables.answers).where(
    _answer.journey_id == bindparam("journey_id"),
    _answer.field.in_(bindparam("fields", expanding=True)),
)
_INSERT_ANSWERS = insert(tables.answers)
_INSERT_EVENTS = insert(tables.events)
_EVENTS_OF = (
    select(tables.events.c.body)
    .where(tables.events.c.journey_id == bindparam("journey_id"))
    .order_by(tables.events.c.id)
)
_EFFECT_QUEUED = select(tables.effects.c.id).where(tables.effects.c.key == bindparam("key"))
_INSERT_EFFECT = insert(tables.effects)
_INSERT_DOCUMENT = insert(tables.documents)
_DOCUMENTS_OF = select(tables.documents.c.id, tables.documents.c.field).where(
    tables.documents.c.journey_id == bindparam("journey_id"),
    tables.documents.c.status == "accepted",
)


# --- definitions -----------------------------------------------------------------------------


def save_definition(connection: Connection, journey: Journey, now: datetime) -> None:
    """Keep every deployed version, so journeys in flight finish on the one they began."""
    found = connection.execute(
        _DEFINITION_SAVED, {"journey": journey.name, "version": journey.version}
    ).first()
    if found is None:
        connection.execute(
            insert(tables.journey_definitions).values(
                journey=journey.name,
                version=journey.version,
                document=journey.to_document(),
                created_at=now,
            )
        )


def load_definition(connection: Connection, name: str, version: str) -> dict[str, Any] | None:
    row = connection.execute(
        select(tables.journey_definitions.c.document).where(
            tables.journey_definitions.c.journey == name,
            tables.journey_definitions.c.version == version,
        )
    ).first()
    return row.document if row else None


# --- journeys --------------------------------------------------------------------------------


def load_journey(connection: Connection, journey_id: str, customer_id: str) -> StoredJourney | None:
    """A journey, only for the customer who owns it: anyone else is told it does not exist."""
    if "\x00" in journey_id or "\x00" in customer_id:
        return None  # no id holds a NUL (and PostgreSQL refuses to even compare with one)
    row = connection.execute(
        _LOAD_JOURNEY, {"journey_id": journey_id, "customer_id": customer_id}
    ).first()
    if row is None:
        return None
    return StoredJourney(JourneyState.from_dict(row.state), row.revision)


def owner_of(connection: Connection, journey_id: str) -> str | None:
    row = connection.execute(
        select(tables.journeys.c.customer_id).where(tables.journeys.c.id == journey_id)
    ).first()
    return row.customer_id if row else None


def list_journeys(connection: Connection, customer_id: str) -> list[dict[str, Any]]:
    c = tables.journeys.c
    rows = connection.execute(
        select(
            c.id,
            c.journey,
            c.version,
            c.status,
            c.revision,
            c.current_step,
            c.reference,
            c.created_at,
            c.updated_at,
            c.submitted_at,
        )
        .where(c.customer_id == customer_id)
        .order_by(c.created_at.desc(), c.id.desc())
    ).all()
    return [
        {
            **row._asdict(),
            "created_at": aware(row.created_at),
            "updated_at": aware(row.updated_at),
            "submitted_at": aware(row.submitted_at),
        }
        for row in rows
    ]


def stale_journeys(
    connection: Connection, journey: str, before: datetime, limit: int
) -> list[tuple[str, str, int]]:
    """Journeys of a type still in progress and untouched since `before`."""
    c = tables.journeys.c
    rows = connection.execute(
        select(c.id, c.customer_id, c.revision)
        .where(c.journey == journey, c.status == "in_progress", c.updated_at < before)
        .order_by(c.updated_at)
        .limit(limit)
    ).all()
    return [(row.id, row.customer_id, row.revision) for row in rows]


def insert_journey(connection: Connection, state: JourneyState, current_step: str | None) -> int:
    connection.execute(
        _INSERT_JOURNEY,
        {
            "id": state.id,
            "journey": state.journey,
            "version": state.version,
            "customer_id": state.customer_id,
            "status": state.status.value,
            "revision": 1,
            "current_step": current_step,
            "reference": state.reference,
            "state": state.to_dict(),
            "created_at": state.created_at,
            "updated_at": state.updated_at,
            "submitted_at": state.submitted_at,
        },
    )
    return 1


def update_journey(
    connection: Connection, state: JourneyState, revision: int, current_step: str | None
) -> int:
    """Write the new state only if nobody wrote since `revision`; return the new revision."""
    result = connection.execute(
        _UPDATE_JOURNEY,
        {
            "at_id": state.id,
            "at_revision": revision,
            "status": state.status.value,
            "revision": revision + 1,
            "current_step": current_step,
            "reference": state.reference,
            "state": state.to_dict(),
            "updated_at": state.updated_at,
            "submitted_at": state.submitted_at,
        },
    )
    if result.rowcount != 1:
        raise StaleRevision(state.id)
    return revision + 1


def sync_answers(
    connection: Connection, journey: Journey, before: JourneyState, after: JourneyState
) -> None:
    """Mirror changed answers into the answers table, one row per field with its class."""
    gone = [name for name in before.answers if name not in after.answers]
    if gone:
        connection.execute(_DELETE_ANSWERS, {"journey_id": after.id, "fields": gone})
    changed = [
        name
        for name, value in after.answers.items()
        if name not in before.answers or before.answers[name] != value
    ]
    if not changed:
        return
    connection.execute(_DELETE_ANSWERS, {"journey_id": after.id, "fields": changed})
    connection.execute(
        _INSERT_ANSWERS,
        [
            {
                "journey_id": after.id,
                "field": name,
                "step": journey.step_of_field[name],
                "classification": journey.fields[name].classification.value,
                "value": after.answers[name],
                "source": after.answer_sources.get(name, {}).get("source", "customer"),
                "updated_at": after.updated_at,
            }
            for name in changed
        ],
    )


# --- events and effects ----------------------------------------------------------------------


def append_events(connection: Connection, journey_id: str, events: tuple[Event, ...]) -> None:
    if events:
        connection.execute(
            _INSERT_EVENTS,
            [
                {"journey_id": journey_id, "type": e.type, "at": e.at, "body": e.to_dict()}
                for e in events
            ],
        )


def events_of(connection: Connection, journey_id: str) -> list[dict[str, Any]]:
    rows = connection.execute(_EVENTS_OF, {"journey_id": journey_id}).all()
    return [row.body for row in rows]


EFFECTS_QUEUED = "wayline.effects_queued"
NOTIFY_CHANNEL = "wayline_effects"


def enqueue_effects(
    connection: Connection, journey_id: str, effects: tuple[EffectRequest, ...], now: datetime
) -> None:
    """The outbox: queued in the caller's transaction; a key already queued is not queued again."""
    for effect in effects:
        exists = connection.execute(_EFFECT_QUEUED, {"key": effect.key}).first()
        if exists:
            continue
        connection.execute(
            _INSERT_EFFECT,
            {
                "id": new_id(),
                "journey_id": journey_id,
                "kind": effect.kind,
                "key": effect.key,
                "params": effect.params,
                "status": "pending",
                "attempts": 0,
                "available_at": effect.not_before or now,
                "created_at": now,
                "updated_at": now,
            },
        )
        if effect.not_before is None:
            connection.info[EFFECTS_QUEUED] = True
    if connection.info.get(EFFECTS_QUEUED) and connection.dialect.name == "postgresql":
        connection.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))  # delivered when this commits


# --- idempotency -----------------------------------------------------------------------------


def find_idempotent(connection: Connection, customer_id: str, key: str) -> dict[str, Any] | None:
    k = tables.idempotency_keys.c
    row = connection.execute(
        select(k.fingerprint, k.status_code, k.body).where(
            k.customer_id == customer_id, k.key == key
        )
    ).first()
    return row._asdict() if row else None


def remember_idempotent(
    connection: Connection,
    customer_id: str,
    key: str,
    fingerprint: str,
    status_code: int,
    body: Any,
    now: datetime,
) -> None:
    connection.execute(
        insert(tables.idempotency_keys).values(
            customer_id=customer_id,
            key=key,
            fingerprint=fingerprint,
            status_code=status_code,
            body=body,
            created_at=now,
        )
    )


# --- documents -------------------------------------------------------------------------------


def insert_document(
    connection: Connection, journey_id: str, document: dict[str, Any], now: datetime
) -> None:
    connection.execute(
        _INSERT_DOCUMENT,
        {
            "id": document["id"],
            "journey_id": journey_id,
            "field": document["field"],
            "filename": document["filename"],
            "content_type": document["content_type"],
            "size": document["size"],
            "sha256": document["sha256"],
            "storage_key": document["storage_key"],
            "created_at": now,
            "status": document.get("status", "accepted"),
            "reason": document.get("reason"),
            "display_key": document.get("display_key"),
            "display_content_type": document.get("display_content_type"),
            "evidence": document.get("evidence"),
        },
    )


def documents_of(connection: Connection, journey_id: str) -> dict[str, dict[str, Any]]:
    """The documents a file answer may name: accepted ones only (not those held)."""
    rows = connection.execute(_DOCUMENTS_OF, {"journey_id": journey_id}).all()
    return {row.id: {"field": row.field} for row in rows}


_d = tables.documents.c
_LISTED = (_d.id, _d.field, _d.filename, _d.content_type, _d.size, _d.sha256, _d.status, _d.reason)


def document_records(connection: Connection, journey_id: str) -> dict[str, dict[str, Any]]:
    """The journey's documents as listed to their owner, oldest first."""
    rows = connection.execute(
        select(*_LISTED, _d.created_at)
        .where(_d.journey_id == journey_id)
        .order_by(_d.created_at, _d.id)
    ).all()
    return {row.id: {**row._asdict(), "created_at": aware(row.created_at)} for row in rows}


def document_record(
    connection: Connection, journey_id: str, document_id: str
) -> dict[str, Any] | None:
    """One document of the journey, with where it is stored, its evidence and signals."""
    row = connection.execute(
        select(
            *_LISTED,
            _d.created_at,
            _d.storage_key,
            _d.display_key,
            _d.display_content_type,
            _d.evidence,
            _d.signals,
        ).where(_d.journey_id == journey_id, _d.id == document_id)
    ).first()
    if row is None:
        return None
    return {**row._asdict(), "created_at": aware(row.created_at)}


def evidence_of(connection: Connection, document_id: str) -> dict[str, Any] | None:
    """A document's evidence metadata (shape: documents.metadata), None when it has none."""
    return connection.execute(select(_d.evidence).where(_d.id == document_id)).scalar()


def field_documents(connection: Connection, journey_id: str, field: str) -> dict[str, datetime]:
    """When each accepted document of the field came, by id."""
    rows = connection.execute(
        select(_d.id, _d.created_at).where(
            _d.journey_id == journey_id, _d.field == field, _d.status == "accepted"
        )
    ).all()
    return {row.id: aware(row.created_at) for row in rows}


# Documents that take room in storage: accepted, or held until the scanner has looked.
STORED = ("accepted", "held")
REMOVED = "removed"


def stored_count(connection: Connection, journey_id: str, field: str) -> int:
    """How many files are kept for the field, named by an answer or not."""
    return connection.execute(
        select(func.count()).where(
            _d.journey_id == journey_id, _d.field == field, _d.status.in_(STORED)
        )
    ).scalar_one()


def stored_documents(connection: Connection, journey_id: str) -> dict[str, str]:
    """The journey's documents that take room in storage: their fields, by id."""
    rows = connection.execute(
        select(_d.id, _d.field).where(_d.journey_id == journey_id, _d.status.in_(STORED))
    ).all()
    return {row.id: row.field for row in rows}


def mark_removed(connection: Connection, document_ids: list[str]) -> None:
    """Documents whose files are to be deleted: the rows stay, as the record of them."""
    if document_ids:
        connection.execute(
            update(tables.documents)
            .where(_d.id.in_(document_ids), _d.status.in_(STORED))
            .values(status=REMOVED, reason="replaced before the journey was sent")
        )


def removed_keys(connection: Connection, journey_id: str) -> list[str]:
    """Where the journey's removed documents were stored (originals and display copies)."""
    rows = connection.execute(
        select(_d.storage_key, _d.display_key).where(
            _d.journey_id == journey_id, _d.status == REMOVED
        )
    ).all()
    return [key for row in rows for key in (row.storage_key, row.display_key) if key]


def lock_journey(connection: Connection, journey_id: str) -> None:
    """Hold the journey's row until the transaction ends (PostgreSQL; SQLite's write
    transactions already run one at a time)."""
    connection.execute(
        select(tables.journeys.c.id).where(tables.journeys.c.id == journey_id).with_for_update()
    )
