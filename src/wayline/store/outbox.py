"""The effects table, the outbox: work a journey causes outside itself, queued in the same
transaction as its cause, then claimed, finished, postponed or dead-lettered by the worker.

Each effect has an idempotency key (unique): queuing a key already queued does nothing. On
PostgreSQL any number of workers claim with FOR UPDATE SKIP LOCKED, and a commit that queued
effects due now sends a NOTIFY that wakes workers elsewhere (`Listener`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from wayline.ids import new_id
from wayline.journeys.engine import EffectRequest
from wayline.store import tables
from wayline.store.codec import codec_of
from wayline.store.database import EFFECTS_QUEUED, Store, aware

NOTIFY_CHANNEL = "wayline_effects"


@dataclass(frozen=True)
class Claimed:
    """An effect a worker has just leased. `attempts` counts those made before this one."""

    id: str
    journey_id: str
    kind: str
    key: str
    params: dict[str, Any]
    attempts: int
    due_at: datetime  # when it became due (before this lease)
    started_at: datetime | None  # when its first attempt started, None before this one


# The worker's statements, built once: building a SQLAlchemy statement costs several times more
# than running a built one with new parameters, and the worker runs them for every effect.
_effect = tables.effects.c
_STAMP = _effect.available_at.type
_IS_DUE = (
    _effect.status.in_(("pending", "running")),
    _effect.available_at <= bindparam("now", type_=_STAMP),
    _effect.kind.in_(bindparam("kinds", expanding=True)),
)
_COLUMNS = (
    _effect.id,
    _effect.journey_id,
    _effect.kind,
    _effect.key,
    _effect.params,
    _effect.attempts,
    _effect.available_at,
    _effect.started_at,
)
_DUE = select(*_COLUMNS).where(*_IS_DUE).order_by(_effect.available_at).limit(bindparam("limit"))
_LEASE_VALUES = {
    "status": "running",
    "available_at": bindparam("leased_until", type_=_STAMP),
    "attempts": _effect.attempts + 1,
    "updated_at": bindparam("now", type_=_STAMP),
    "started_at": func.coalesce(_effect.started_at, bindparam("now", type_=_STAMP)),
}
# SQLite (one writer at a time): read what is due, then lease it.
_LEASE = (
    update(tables.effects)
    .where(_effect.id.in_(bindparam("ids", expanding=True)))
    .values(_LEASE_VALUES)
)
# PostgreSQL: lock what is due, skipping what other workers hold, and lease it in one statement.
_locked = (
    select(_effect.id, _effect.available_at)
    .where(*_IS_DUE)
    .order_by(_effect.available_at)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
    .subquery("due")
)
_CLAIM_LOCKED = (
    update(tables.effects)
    .where(_effect.id == _locked.c.id)
    .values(_LEASE_VALUES)
    .returning(
        _effect.id,
        _effect.journey_id,
        _effect.kind,
        _effect.key,
        _effect.params,
        (_effect.attempts - 1).label("attempts"),  # as they were before this claim
        _locked.c.available_at.label("available_at"),  # when it became due, not the new lease
        _effect.started_at,
    )
)
_FINISH = update(tables.effects).where(_effect.id == bindparam("effect_id"))
_POSTPONE = (
    update(tables.effects)
    .where(_effect.id == bindparam("effect_id"))
    .values(
        status="pending",
        attempts=_effect.attempts - 1,
        last_error=bindparam("reason"),
        updated_at=bindparam("now", type_=_STAMP),
        available_at=bindparam("until", type_=_STAMP),
    )
)


# Params that only say what to do (declared in the definition, or made by the engine from
# its own names and times) stay in clear, so operators can read the queue; any other param
# may carry what a customer gave (a call's idempotency key is worked out from answers, a
# payout's details) and is sealed as personal.
STRUCTURAL = frozenset({"template", "effect", "for", "kind", "due", "schedule", "key"})


def params_field(key: str, name: str) -> str:
    """Where an effect's param is sealed: bound to the effect's own key and the param's name,
    so that a value copied to another effect or param does not open (store/codec.py)."""
    return f"effects.params:{key}:{name}"


def _sealed_params(
    connection: Connection, subject: str | None, journey_id: str, effect: EffectRequest
) -> dict[str, Any]:
    if subject is None:
        return effect.params
    codec = codec_of(connection)
    return {
        name: value
        if name in STRUCTURAL
        else codec.seal_value(
            connection, subject, journey_id, params_field(effect.key, name), "personal", value
        )
        for name, value in effect.params.items()
    }


def _opened_params(connection: Connection, row: Any) -> dict[str, Any]:
    codec = codec_of(connection)
    return {
        name: codec.open_value(connection, row.journey_id, params_field(row.key, name), value)
        for name, value in (row.params or {}).items()
    }


def enqueue(
    connection: Connection, journey_id: str, effects: tuple[EffectRequest, ...], now: datetime
) -> None:
    """Queue effects in the caller's transaction, in one statement; a key already queued is
    not queued again."""
    if not effects:
        return
    # Whose they are is looked up only when some param is to be sealed.
    sealing = any(name not in STRUCTURAL for effect in effects for name in effect.params)
    subject = codec_of(connection).subject_of(connection, journey_id) if sealing else None
    rows = [
        {
            "id": new_id(),
            "journey_id": journey_id,
            "kind": effect.kind,
            "key": effect.key,
            "params": _sealed_params(connection, subject, journey_id, effect),
            "status": "pending",
            "attempts": 0,
            "available_at": effect.not_before or now,
            "created_at": now,
            "updated_at": now,
        }
        for effect in effects
    ]
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(tables.effects).on_conflict_do_nothing(index_elements=["key"])
    connection.execute(statement, rows)
    if any(effect.not_before is None for effect in effects):
        connection.info[EFFECTS_QUEUED] = True
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))  # delivered when this commits


class HoldGone(Exception):
    """A held effect named for cancelling has begun (or ended, or was cancelled before)."""


CANCELLED = "cancelled"


def cancel(connection: Connection, journey_id: str, keys: tuple[str, ...], now: datetime) -> None:
    """Cancel held effects in the caller's transaction: each key named (HoldGone when one is
    no longer waiting: claimed, tried, done or cancelled), or with "*" every effect of the
    journey still waiting for its time. Only an effect never tried can be cancelled, so a
    partner never saw it; the worker claims only pending effects, so it never runs after."""
    waiting = (
        _effect.journey_id == journey_id,
        _effect.status == "pending",
        _effect.attempts == 0,
    )
    values = {"status": CANCELLED, "updated_at": now, "last_error": "cancelled"}
    for key in keys:
        if key == "*":
            connection.execute(
                update(tables.effects).where(*waiting, _effect.available_at > now).values(**values)
            )
            continue
        done = connection.execute(
            update(tables.effects).where(*waiting, _effect.key == key).values(**values)
        )
        if done.rowcount != 1:
            raise HoldGone(key)


def held(connection: Connection, journey_id: str, now: datetime) -> list[dict[str, Any]]:
    """The journey's effects waiting for their time (and those it cancelled), soonest first:
    {key, kind, until, status}."""
    rows = connection.execute(
        select(_effect.key, _effect.kind, _effect.available_at, _effect.status)
        .where(
            _effect.journey_id == journey_id,
            ((_effect.status == "pending") & (_effect.available_at > now))
            | (_effect.status == CANCELLED),
        )
        .order_by(_effect.available_at)
    ).all()
    return [
        {"key": row.key, "kind": row.kind, "until": aware(row.available_at), "status": row.status}
        for row in rows
    ]


def claim(
    connection: Connection, kinds: list[str], now: datetime, leased_until: datetime, limit: int
) -> list[Claimed]:
    """Lease up to `limit` effects of these kinds that are due, oldest first: until
    `leased_until` they are this worker's (if it dies, they are due again then)."""
    parameters = {"now": now, "kinds": kinds, "limit": limit, "leased_until": leased_until}
    if connection.dialect.name == "sqlite":
        rows = connection.execute(_DUE, parameters).all()
        if rows:
            connection.execute(_LEASE, {**parameters, "ids": [row.id for row in rows]})
    else:
        returned = connection.execute(_CLAIM_LOCKED, parameters).all()
        rows = sorted(returned, key=lambda row: row.available_at)  # RETURNING keeps no order
    return [
        Claimed(
            row.id,
            row.journey_id,
            row.kind,
            row.key,
            _opened_params(connection, row),
            row.attempts,
            aware(row.available_at) or now,
            aware(row.started_at),
        )
        for row in rows
    ]


def finish(
    connection: Connection,
    effect_id: str,
    status: str,
    error: str | None,
    now: datetime,
    available_at: datetime | None = None,
) -> None:
    """Record an attempt's end: done, pending again (due at `available_at`), or dead."""
    values: dict[str, Any] = {"status": status, "last_error": error, "updated_at": now}
    if available_at is not None:
        values["available_at"] = available_at
    connection.execute(_FINISH, {"effect_id": effect_id, **values})


def postpone(
    connection: Connection, effect_id: str, reason: str, now: datetime, until: datetime
) -> None:
    """Pending again at `until`, with this attempt not counted (it never reached the partner)."""
    connection.execute(
        _POSTPONE, {"effect_id": effect_id, "reason": reason, "now": now, "until": until}
    )


def retry_dead(connection: Connection, now: datetime, effect_id: str | None = None) -> int:
    """Put dead-lettered effects (one, or all) back in the queue, with their attempts and
    their age counted afresh; how many."""
    statement = update(tables.effects).where(_effect.status == "dead")
    if effect_id:
        statement = statement.where(_effect.id == effect_id)
    result = connection.execute(
        statement.values(
            status="pending", attempts=0, started_at=None, available_at=now, updated_at=now
        )
    )
    return result.rowcount


def in_status(connection: Connection, status: str, limit: int = 200) -> list[dict[str, Any]]:
    """Effects in one status, most recently changed first (`wayline effects list`)."""
    rows = connection.execute(
        select(
            _effect.id,
            _effect.journey_id,
            _effect.kind,
            _effect.attempts,
            _effect.last_error,
            _effect.started_at,
            _effect.updated_at,
        )
        .where(_effect.status == status)
        .order_by(_effect.updated_at.desc())
        .limit(limit)
    ).all()
    return [
        {**row._asdict(), "started_at": aware(row.started_at), "updated_at": aware(row.updated_at)}
        for row in rows
    ]


class Listener:
    """PostgreSQL's NOTIFY for effects queued by commits anywhere, on a connection of its own
    (autocommit, outside any transaction). On SQLite there is nothing to listen to: workers of
    the process are woken by `Store.effects_queued`."""

    def __init__(self, store: Store):
        self.store = store
        self._connection: Any = None

    @property
    def available(self) -> bool:
        return self.store.dialect == "postgresql"

    def notified(self, timeout: float) -> bool:
        """Whether a notification came within `timeout` seconds (0: only what is waiting)."""
        stop_after = None if timeout == 0 else 1
        found = list(self._listen().notifies(timeout=timeout, stop_after=stop_after))
        return bool(found)

    def _listen(self) -> Any:
        if self._connection is None or self._connection.closed:
            import psycopg

            url = self.store.engine.url.set(drivername="postgresql")
            self._connection = psycopg.connect(
                url.render_as_string(hide_password=False), autocommit=True
            )
            self._connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


# --- what the worker's gauges report ------------------------------------------------------------


def oldest_due(connection: Connection, now: datetime) -> datetime | None:
    """When the effect that has waited longest to run became due (pending, or running past its
    lease), or None when none is due: the queue's age is `now` minus this. Held effects and
    timers not yet due are not waiting. Served by the (status, available_at) index."""
    value = connection.execute(
        select(func.min(_effect.available_at)).where(
            _effect.status.in_(("pending", "running")), _effect.available_at <= now
        )
    ).scalar()
    return aware(value)


def deadlines_at_risk(connection: Connection, before: datetime) -> dict[str, int]:
    """Deadline timers still to fire that fall due before `before` (or are past), whose owed
    effect (the timer's `for` key) is not done, counted by the deadline's kind (`payout`)."""
    timers = connection.execute(
        select(_effect.params).where(
            _effect.kind == "deadline",
            _effect.status.in_(("pending", "running")),
            _effect.available_at <= before,
        )
    ).all()
    owed = {str(row.params["for"]): str(row.params["kind"]) for row in timers}
    if not owed:
        return {}
    done: set[str] = set(
        connection.execute(
            select(_effect.key).where(_effect.key.in_(list(owed)), _effect.status == "done")
        ).scalars()
    )
    counts: dict[str, int] = {}
    for key, kind in owed.items():
        if key not in done:
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def settle_unrun(connection: Connection, journey_ids: list[str], reason: str, now: datetime) -> int:
    """Mark the pending effects of these journeys done without running them, with `reason`
    kept as their last error. Only for journeys made as history (the demo's seeded insights
    data): their effects belong to weeks gone by and must not reach a partner now."""
    if not journey_ids:
        return 0
    result = connection.execute(
        update(tables.effects)
        .where(_effect.journey_id.in_(journey_ids), _effect.status == "pending")
        .values(status="done", last_error=reason, updated_at=now)
    )
    return result.rowcount or 0
