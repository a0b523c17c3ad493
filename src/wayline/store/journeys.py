"""The journeys table: one row per journey, with a revision for optimistic concurrency, its
owner, status, current step, reference and the engine's state as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, or_, select, update

from wayline.journeys.engine import JourneyState
from wayline.store import tables
from wayline.store.codec import codec_of
from wayline.store.database import StaleRevision, aware
from wayline.store.prepared import Prepared


@dataclass(frozen=True)
class StoredJourney:
    state: JourneyState
    revision: int


# Statements on the path of every command, built once: building a SQLAlchemy statement costs
# several times more than running a built one with new parameters. The load and the update run
# on the driver directly (store/prepared.py).
_journey = tables.journeys.c
_LOAD = Prepared(
    select(_journey.state, _journey.revision).where(
        _journey.id == bindparam("journey_id"), _journey.customer_id == bindparam("customer_id")
    )
)
_OWNER = select(_journey.customer_id).where(_journey.id == bindparam("journey_id"))
_INSERT = insert(tables.journeys)
_UPDATE = Prepared(
    update(tables.journeys).where(
        _journey.id == bindparam("at_id"), _journey.revision == bindparam("at_revision")
    )
)
_LOCK = select(_journey.id).where(_journey.id == bindparam("journey_id")).with_for_update()
_LISTED = (
    _journey.id,
    _journey.journey,
    _journey.version,
    _journey.status,
    _journey.revision,
    _journey.current_step,
    _journey.reference,
    _journey.created_at,
    _journey.updated_at,
    _journey.submitted_at,
)


def load(connection: Connection, journey_id: str, customer_id: str) -> StoredJourney | None:
    """A journey, only for the customer who owns it: anyone else is told it does not exist."""
    if "\x00" in journey_id or "\x00" in customer_id:
        return None  # no id holds a NUL (and PostgreSQL refuses to even compare with one)
    row = _LOAD.first(connection, {"journey_id": journey_id, "customer_id": customer_id})
    if row is None:
        return None
    state, revision = row
    return StoredJourney(
        JourneyState.from_dict(codec_of(connection).open_state(connection, state)), revision
    )


def owner_of(connection: Connection, journey_id: str) -> str | None:
    if "\x00" in journey_id:
        return None
    row = connection.execute(_OWNER, {"journey_id": journey_id}).first()
    return row.customer_id if row else None


def list_for(connection: Connection, customer_id: str) -> list[dict[str, Any]]:
    """A customer's journeys, newest first: the row's columns, not the state."""
    rows = connection.execute(
        select(*_LISTED)
        .where(_journey.customer_id == customer_id)
        .order_by(_journey.created_at.desc(), _journey.id.desc())
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


@dataclass(frozen=True)
class Stale:
    id: str
    owner: str
    revision: int
    updated_at: datetime


def stale(
    connection: Connection,
    journey: str,
    before: datetime,
    limit: int,
    after: Stale | None = None,
) -> list[Stale]:
    """Journeys of a type still in progress and untouched since `before`, oldest first;
    with `after`, only those after it in that order (the next page: a journey its own
    definition or variant gives longer is passed over, not met again)."""
    query = select(_journey.id, _journey.customer_id, _journey.revision, _journey.updated_at).where(
        _journey.journey == journey,
        _journey.status == "in_progress",
        _journey.updated_at < before,
    )
    if after is not None:
        query = query.where(
            or_(
                _journey.updated_at > after.updated_at,
                and_(_journey.updated_at == after.updated_at, _journey.id > after.id),
            )
        )
    rows = connection.execute(query.order_by(_journey.updated_at, _journey.id).limit(limit)).all()
    return [Stale(row.id, row.customer_id, row.revision, row.updated_at) for row in rows]


def insert_journey(connection: Connection, state: JourneyState, current_step: str | None) -> int:
    """A new journey at revision 1; returns the revision."""
    connection.execute(
        _INSERT,
        {
            "id": state.id,
            "journey": state.journey,
            "version": state.version,
            "customer_id": state.customer_id,
            "status": state.status.value,
            "revision": 1,
            "current_step": current_step,
            "reference": state.reference,
            "state": _stored(connection, state),
            "created_at": state.created_at,
            "updated_at": state.updated_at,
            "submitted_at": state.submitted_at,
        },
    )
    return 1


def update_journey(
    connection: Connection, state: JourneyState, revision: int, current_step: str | None
) -> int:
    """Write the new state only if nobody wrote since `revision` (StaleRevision otherwise);
    return the new revision."""
    changed = _UPDATE.execute(
        connection,
        {
            "at_id": state.id,
            "at_revision": revision,
            "status": state.status.value,
            "revision": revision + 1,
            "current_step": current_step,
            "reference": state.reference,
            "state": _stored(connection, state),
            "updated_at": state.updated_at,
            "submitted_at": state.submitted_at,
        },
    )
    if changed != 1:
        raise StaleRevision(state.id)
    return revision + 1


def _stored(connection: Connection, state: JourneyState) -> dict[str, Any]:
    """The state as the column holds it: classified values sealed (store/codec.py)."""
    return codec_of(connection).seal_state(connection, state.to_dict())


def lock(connection: Connection, journey_id: str) -> None:
    """Hold the journey's row until the transaction ends (PostgreSQL; SQLite's write
    transactions already run one at a time)."""
    connection.execute(_LOCK, {"journey_id": journey_id})


def change_owner(
    connection: Connection, journey_id: str, owner: str, to: str, state: JourneyState
) -> bool:
    """Give the journey owned by `owner` to `to`, with `state` (the same state, naming its new
    owner); False when `owner` no longer owns it. The revision does not move: the journey's
    content did not change."""
    result = connection.execute(
        update(tables.journeys)
        .where(_journey.id == journey_id, _journey.customer_id == owner)
        .values(customer_id=to, state=_stored(connection, state))
    )
    return result.rowcount == 1
