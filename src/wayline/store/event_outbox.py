"""The events' outbox: which journey events are still to be published, and who holds them.

Each event gets a row in the transaction that appends it (`events.append` calls `enqueue`).
A relay then `claim`s rows, publishes them, and marks them published (`mark_published`).

Order per journey: a relay leases an event only when every earlier unpublished event of its
journey is leased in the same claim. So event N+1 of a journey is never published while N is
unpublished or held by another relay. On PostgreSQL the candidates are locked with FOR UPDATE
SKIP LOCKED, so relays claiming at once never lease the same row; on SQLite (one writer) one
relay runs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, bindparam, cast, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from wayline.store import tables
from wayline.store.database import aware
from wayline.store.prepared import Prepared

_outbox = tables.event_outbox.c
_event = tables.events.c
_journey = tables.journeys.c
_STAMP = _outbox.leased_until.type


@dataclass(frozen=True)
class OutboxEvent:
    """A stored event with what its envelope needs: its journey's type and definition."""

    event_id: int
    journey_id: str
    journey_type: str
    definition_version: str
    type: str
    at: datetime
    body: dict[str, Any]
    traceparent: str | None


# On every command's path that records events: run on the driver (store/prepared.py).
_LAST_ID = Prepared(select(func.max(_event.id)).where(_event.journey_id == bindparam("journey_id")))


def _enqueue_statement(dialect: Any) -> Prepared:
    trace = cast(bindparam("traceparent", type_=String(55)), String(55)).label("traceparent")
    chosen = select(_event.id, _event.journey_id, trace).where(
        _event.journey_id == bindparam("journey_id"), _event.id > bindparam("after_id")
    )
    return Prepared(
        dialect.insert(tables.event_outbox)
        .from_select(["event_id", "journey_id", "traceparent"], chosen)
        .on_conflict_do_nothing(index_elements=["event_id"])
    )


_ENQUEUE = {"postgresql": _enqueue_statement(postgresql), "sqlite": _enqueue_statement(sqlite)}


def last_id(connection: Connection, journey_id: str) -> int:
    """The journey's newest event id (0 for none): `enqueue` takes what comes after it."""
    found = _LAST_ID.first(connection, {"journey_id": journey_id})
    return int(found[0] or 0) if found else 0


def enqueue(
    connection: Connection, journey_id: str, after_id: int, traceparent: str | None
) -> None:
    """Enter the journey's events newer than `after_id` in the outbox, in the caller's
    transaction. Rows another transaction entered already are left as they are."""
    values = {"journey_id": journey_id, "after_id": after_id, "traceparent": traceparent}
    _ENQUEUE[connection.dialect.name].execute(connection, values)


def _candidates(connection: Connection, now: datetime, limit: int) -> list[Any]:
    statement = (
        select(_outbox.event_id, _outbox.journey_id)
        .where(
            _outbox.published_at.is_(None),
            or_(_outbox.leased_until.is_(None), _outbox.leased_until < now),
        )
        .order_by(_outbox.event_id)
        .limit(limit)
    )
    if connection.dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    return list(connection.execute(statement).all())


def _in_order(connection: Connection, candidates: list[Any]) -> list[int]:
    """The candidates whose journey has no earlier unpublished event outside them."""
    if not candidates:
        return []
    newest = max(row.event_id for row in candidates)
    unpublished = connection.execute(
        select(_outbox.journey_id, _outbox.event_id)
        .where(
            _outbox.journey_id.in_({row.journey_id for row in candidates}),
            _outbox.published_at.is_(None),
            _outbox.event_id <= newest,
        )
        .order_by(_outbox.event_id)
    ).all()
    pending: dict[str, list[int]] = defaultdict(list)
    for row in unpublished:
        pending[row.journey_id].append(row.event_id)
    mine = {row.event_id for row in candidates}
    accepted: list[int] = []
    for ids in pending.values():
        for event_id in ids:  # the journey's unbroken run of candidates from its oldest
            if event_id not in mine:
                break
            accepted.append(event_id)
    return sorted(accepted)


def claim(
    connection: Connection, relay: str, now: datetime, leased_until: datetime, limit: int
) -> list[OutboxEvent]:
    """Lease up to `limit` unpublished events to `relay` until `leased_until` (a relay that
    dies loses them then), oldest first, keeping each journey's order (module docstring)."""
    accepted = _in_order(connection, _candidates(connection, now, limit))
    if not accepted:
        return []
    connection.execute(
        update(tables.event_outbox)
        .where(_outbox.event_id.in_(accepted))
        .values(leased_by=relay, leased_until=leased_until)
    )
    return _load(connection, accepted)


def _load(connection: Connection, ids: list[int]) -> list[OutboxEvent]:
    rows = connection.execute(
        select(
            _event.id,
            _event.journey_id,
            _journey.journey,
            _journey.version,
            _event.type,
            _event.at,
            _event.body,
            _outbox.traceparent,
        )
        .join(tables.journeys, _journey.id == _event.journey_id)
        .join(tables.event_outbox, _outbox.event_id == _event.id, isouter=True)
        .where(_event.id.in_(ids))
        .order_by(_event.id)
    ).all()
    return [_record(row) for row in rows]


def _record(row: Any) -> OutboxEvent:
    return OutboxEvent(
        event_id=row.id,
        journey_id=row.journey_id,
        journey_type=row.journey,
        definition_version=row.version,
        type=row.type,
        at=aware(row.at),
        body=row.body,
        traceparent=row.traceparent,
    )


_MARK = (
    update(tables.event_outbox)
    .where(_outbox.event_id.in_(bindparam("ids", expanding=True)))
    .values(published_at=bindparam("now", type_=_STAMP), leased_until=None)
)


def mark_published(connection: Connection, ids: list[int], now: datetime) -> None:
    """Stamp events as published (the bus confirmed them)."""
    if ids:
        connection.execute(_MARK, {"ids": ids, "now": now})


def release(connection: Connection, ids: list[int]) -> None:
    """Give leased events back at once (the bus refused them): due again on the next claim."""
    if ids:
        connection.execute(
            update(tables.event_outbox)
            .where(_outbox.event_id.in_(ids), _outbox.published_at.is_(None))
            .values(leased_by=None, leased_until=None)
        )


def between(
    connection: Connection, since: datetime, until: datetime | None, after_id: int, limit: int
) -> list[OutboxEvent]:
    """Stored events from `since` (to `until`), past `after_id`, oldest first: a replay's
    page. Published or not: a replay sends what the log holds."""
    conditions = [_event.at >= since, _event.id > after_id]
    if until is not None:
        conditions.append(_event.at < until)
    statement = select(_event.id).where(*conditions).order_by(_event.id).limit(limit)
    ids: list[int] = list(connection.execute(statement).scalars())
    return _load(connection, ids)


def unpublished_count(connection: Connection) -> int:
    """How many events wait for the relay (a gauge, and `wayline events status`)."""
    return int(
        connection.execute(
            select(func.count())
            .select_from(tables.event_outbox)
            .where(_outbox.published_at.is_(None))
        ).scalar_one()
    )
