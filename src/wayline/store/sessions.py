"""The SQL for server-side sessions: one row per session, keyed by the SHA-256 of the cookie's
value. The rules (when a session is live, when to record activity) live in
`wayline.identity.sessions`; this module only reads and writes rows.

Functions take a Connection, so that the caller decides the transaction (`Store.read()` or
`Store.write()`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from wayline.store import tables
from wayline.store.database import aware
from wayline.store.prepared import Prepared

_session = tables.sessions.c


@dataclass(frozen=True)
class SessionRow:
    """A stored session. `id` is the hash of the cookie's value, not the value."""

    id: str
    subject: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    kind: str = "customer"
    roles: tuple[str, ...] = ("customer",)
    assurance: int = 1
    authenticated_at: datetime | None = None  # None: when the session started
    issuer: str = "demo"


# The lookup and the touch run on the path of every signed-in request: built once, since
# building a SQLAlchemy statement costs more than running a built one. The lookup runs on the
# driver directly (store/prepared.py).
_FIND = Prepared(
    select(
        _session.id,
        _session.subject,
        _session.created_at,
        _session.last_seen_at,
        _session.expires_at,
        _session.revoked_at,
        _session.kind,
        _session.roles,
        _session.assurance,
        _session.authenticated_at,
        _session.issuer,
    ).where(_session.id == bindparam("session_id"))
)
_TOUCH = (
    update(tables.sessions)
    .where(
        _session.id == bindparam("session_id"),
        _session.last_seen_at <= bindparam("seen_before"),
        _session.revoked_at.is_(None),
    )
    .values(last_seen_at=bindparam("at"))
)
_INSERT = insert(tables.sessions)


def insert_session(connection: Connection, row: SessionRow) -> None:
    connection.execute(
        _INSERT,
        {
            "id": row.id,
            "subject": row.subject,
            "created_at": row.created_at,
            "last_seen_at": row.last_seen_at,
            "expires_at": row.expires_at,
            "revoked_at": row.revoked_at,
            "kind": row.kind,
            "roles": " ".join(row.roles),
            "assurance": row.assurance,
            "authenticated_at": row.authenticated_at or row.created_at,
            "issuer": row.issuer,
        },
    )


def find_session(connection: Connection, session_id: str) -> SessionRow | None:
    found = _FIND.first(connection, {"session_id": session_id})
    if found is None:
        return None
    (id_, subject, created_at, last_seen_at, expires_at, revoked_at,
     kind, roles, assurance, authenticated_at, issuer) = found  # fmt: skip
    return SessionRow(
        id=id_,
        subject=subject,
        created_at=aware(created_at),
        last_seen_at=aware(last_seen_at),
        expires_at=aware(expires_at),
        revoked_at=aware(revoked_at),
        kind=kind,
        roles=tuple(roles.split()),
        assurance=assurance,
        authenticated_at=aware(authenticated_at) if authenticated_at else aware(created_at),
        issuer=issuer,
    )


def staff_roles(connection: Connection, subject: str) -> tuple[str, ...] | None:
    """The roles of the most recent session of the member of staff `subject` (revoked or
    expired ones count: they say who the staff IdP said they were); None when `subject`
    never signed in as staff."""
    found = connection.execute(
        select(_session.roles)
        .where(_session.kind == "staff", _session.subject == subject)
        .order_by(_session.created_at.desc(), _session.id.desc())
        .limit(1)
    ).first()
    return None if found is None else tuple(found.roles.split())


def touch_session(
    connection: Connection, session_id: str, at: datetime, seen_before: datetime
) -> bool:
    """Record activity at `at`, unless activity after `seen_before` is recorded already
    (another request did it) or the session was revoked. True when a row changed."""
    result = connection.execute(
        _TOUCH, {"session_id": session_id, "seen_before": seen_before, "at": at}
    )
    return result.rowcount > 0


def revoke_session(connection: Connection, session_id: str, at: datetime) -> bool:
    """End one session; True when it was not already revoked."""
    result = connection.execute(
        update(tables.sessions)
        .where(_session.id == session_id, _session.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return result.rowcount > 0


def revoke_subject(connection: Connection, subject: str, at: datetime) -> int:
    """End every session of one subject that has not ended already; how many were ended."""
    result = connection.execute(
        update(tables.sessions)
        .where(
            _session.subject == subject,
            _session.revoked_at.is_(None),
            _session.expires_at > at,
        )
        .values(revoked_at=at)
    )
    return result.rowcount


def delete_expired(connection: Connection, before: datetime) -> int:
    """Forget sessions whose absolute deadline passed before `before`; how many."""
    result = connection.execute(delete(tables.sessions).where(_session.expires_at < before))
    return result.rowcount
