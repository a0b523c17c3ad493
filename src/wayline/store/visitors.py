"""The SQL for visitors' journeys: email codes, the wrong-code counts that lock verification,
the verified email a journey belongs to, resume links and the status page's former owners.
The rules (when a code is good, when verification is locked) live in
`wayline.identity.visitors`; this module only reads and writes rows.

Functions take a Connection, so that the caller decides the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from wayline.store import tables
from wayline.store.codec import codec_of, open_text, seal_text
from wayline.store.database import aware

_code = tables.email_codes.c
_lock = tables.verification_locks.c
_email = tables.journey_emails.c
_link = tables.resume_links.c
_viewer = tables.journey_viewers.c


@dataclass(frozen=True)
class CodeRow:
    id: str
    journey_id: str
    email_hash: str
    code_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True)
class LockRow:
    scope: str
    failures: int
    locked_until: datetime | None


@dataclass(frozen=True)
class LinkRow:
    id: str
    journey_id: str
    expires_at: datetime
    used_at: datetime | None


# --- codes ------------------------------------------------------------------------------------


def replace_code(connection: Connection, row: CodeRow) -> None:
    """Keep `row` as the journey's one code: any earlier code of the journey stops working."""
    connection.execute(delete(tables.email_codes).where(_code.journey_id == row.journey_id))
    connection.execute(
        insert(tables.email_codes),
        {
            "id": row.id,
            "journey_id": row.journey_id,
            "email_hash": row.email_hash,
            "code_hash": row.code_hash,
            "created_at": row.created_at,
            "expires_at": row.expires_at,
            "used_at": row.used_at,
        },
    )


def latest_code(connection: Connection, journey_id: str) -> CodeRow | None:
    found = connection.execute(
        select(tables.email_codes)
        .where(_code.journey_id == journey_id)
        .order_by(_code.created_at.desc())
        .limit(1)
    ).first()
    if found is None:
        return None
    return CodeRow(
        id=found.id,
        journey_id=found.journey_id,
        email_hash=found.email_hash,
        code_hash=found.code_hash,
        created_at=aware(found.created_at),
        expires_at=aware(found.expires_at),
        used_at=aware(found.used_at) if found.used_at else None,
    )


def use_code(connection: Connection, code_id: str, at: datetime) -> bool:
    """Mark a code used; False when it was used already (a concurrent request won)."""
    result = connection.execute(
        update(tables.email_codes)
        .where(_code.id == code_id, _code.used_at.is_(None))
        .values(used_at=at)
    )
    return result.rowcount == 1


# --- wrong codes --------------------------------------------------------------------------


def locks(connection: Connection, scopes: list[str]) -> list[LockRow]:
    rows = connection.execute(
        select(tables.verification_locks).where(_lock.scope.in_(scopes))
    ).all()
    return [
        LockRow(row.scope, row.failures, aware(row.locked_until) if row.locked_until else None)
        for row in rows
    ]


def save_lock(connection: Connection, row: LockRow, at: datetime) -> None:
    """Write a scope's count and lock (insert or replace)."""
    values = {"failures": row.failures, "locked_until": row.locked_until, "updated_at": at}
    changed = connection.execute(
        update(tables.verification_locks).where(_lock.scope == row.scope).values(**values)
    ).rowcount
    if changed == 0:
        connection.execute(insert(tables.verification_locks), {"scope": row.scope, **values})


def clear_locks(connection: Connection, scopes: list[str]) -> None:
    connection.execute(delete(tables.verification_locks).where(_lock.scope.in_(scopes)))


# --- the verified email -------------------------------------------------------------------


def set_email(
    connection: Connection, journey_id: str, email: str, email_hash: str, at: datetime
) -> None:
    connection.execute(delete(tables.journey_emails).where(_email.journey_id == journey_id))
    connection.execute(
        insert(tables.journey_emails),
        {
            "journey_id": journey_id,
            "email": _sealed_email(connection, journey_id, email),
            "email_hash": email_hash,
            "verified_at": at,
        },
    )


def email_of(connection: Connection, journey_id: str) -> str | None:
    found = connection.execute(select(_email.email).where(_email.journey_id == journey_id)).first()
    return open_text(connection, journey_id, EMAIL_FIELD, found.email) if found else None


EMAIL_FIELD = "journey_emails.email"


def _sealed_email(connection: Connection, journey_id: str, email: str) -> str:
    """The address is personal: sealed for the journey's owner (store/codec.py)."""
    subject = codec_of(connection).subject_of(connection, journey_id)
    if subject is None:
        return email
    return seal_text(connection, subject, journey_id, EMAIL_FIELD, "personal", email)


def emails_indexed_before(
    connection: Connection, version: int, after: str, limit: int
) -> list[tuple[str, str, str]]:
    """Up to `limit` (journey id, index, address opened) of verified emails whose blind index
    was not made with index key `version`, by journey id after `after`: what a change of index
    key recomputes."""
    rows = connection.execute(
        select(_email.journey_id, _email.email_hash, _email.email)
        .where(_email.journey_id > after, _email.email_hash.not_like(f"{version}.%"))
        .order_by(_email.journey_id)
        .limit(limit)
    ).all()
    return [
        (
            row.journey_id,
            row.email_hash,
            open_text(connection, row.journey_id, EMAIL_FIELD, row.email),
        )
        for row in rows
    ]


def count_indexed_before(connection: Connection, version: int) -> int:
    """How many verified emails' indexes were not made with index key `version`."""
    return int(
        connection.execute(
            select(func.count())
            .select_from(tables.journey_emails)
            .where(_email.email_hash.not_like(f"{version}.%"))
        ).scalar_one()
    )


def reindex_email(connection: Connection, journey_id: str, before: str, index: str) -> bool:
    """Replace a journey email's index, unless it changed meanwhile (False then)."""
    result = connection.execute(
        update(tables.journey_emails)
        .where(_email.journey_id == journey_id, _email.email_hash == before)
        .values(email_hash=index)
    )
    return result.rowcount == 1


def indexes_in_use(connection: Connection, now: datetime) -> list[str]:
    """Every blind index still needed: verified emails', and those of codes and locks that
    still count at `now` (an expired code or an ended lock no longer matters)."""
    found = [row[0] for row in connection.execute(select(_email.email_hash)).all()]
    found += [
        row[0]
        for row in connection.execute(
            select(_code.email_hash).where(_code.used_at.is_(None), _code.expires_at > now)
        ).all()
    ]
    scopes = connection.execute(
        select(_lock.scope).where(
            _lock.scope.like("email:%"), (_lock.failures > 0) | (_lock.locked_until > now)
        )
    ).all()
    return found + [row[0].removeprefix("email:") for row in scopes]


def forget_indexes(connection: Connection, version: int) -> None:
    """Delete codes and locks whose index was made with index key `version` (the key is
    going: they could never match again)."""
    connection.execute(delete(tables.email_codes).where(_code.email_hash.like(f"{version}.%")))
    connection.execute(
        delete(tables.verification_locks).where(_lock.scope.like(f"email:{version}.%"))
    )


@dataclass(frozen=True)
class EmailedJourney:
    """A journey whose verified email matched, with its type and who owns it now."""

    journey_id: str
    journey: str
    owner: str


def journeys_with_email(connection: Connection, indexes: list[str]) -> list[EmailedJourney]:
    """The journeys whose verified email has one of `indexes` (a blind index's candidates),
    oldest first: how a person's journeys are found by their address, which is never stored
    in clear."""
    _journey = tables.journeys.c
    rows = connection.execute(
        select(_email.journey_id, _journey.journey, _journey.customer_id)
        .join(tables.journeys, _journey.id == _email.journey_id)
        .where(_email.email_hash.in_(indexes))
        .order_by(_journey.created_at, _email.journey_id)
    ).all()
    return [EmailedJourney(row.journey_id, row.journey, row.customer_id) for row in rows]


def forget_email(connection: Connection, journey_id: str) -> None:
    """The journey no longer belongs to an email (its ownership passed to a customer)."""
    connection.execute(delete(tables.journey_emails).where(_email.journey_id == journey_id))


# --- resume links -------------------------------------------------------------------------


def insert_link(connection: Connection, row: LinkRow, at: datetime) -> None:
    connection.execute(
        insert(tables.resume_links),
        {
            "id": row.id,
            "journey_id": row.journey_id,
            "created_at": at,
            "expires_at": row.expires_at,
            "used_at": row.used_at,
        },
    )


def find_link(connection: Connection, link_id: str) -> LinkRow | None:
    found = connection.execute(select(tables.resume_links).where(_link.id == link_id)).first()
    if found is None:
        return None
    return LinkRow(
        found.id,
        found.journey_id,
        aware(found.expires_at),
        aware(found.used_at) if found.used_at else None,
    )


def use_link(connection: Connection, link_id: str, at: datetime) -> bool:
    """Mark a link used; False when it was used already."""
    result = connection.execute(
        update(tables.resume_links)
        .where(_link.id == link_id, _link.used_at.is_(None))
        .values(used_at=at)
    )
    return result.rowcount == 1


def end_links(connection: Connection, journey_id: str, at: datetime) -> None:
    """Every unused link to a journey stops working (its ownership passed on)."""
    connection.execute(
        update(tables.resume_links)
        .where(_link.journey_id == journey_id, _link.used_at.is_(None))
        .values(used_at=at)
    )


# --- former owners ------------------------------------------------------------------------


def add_viewer(connection: Connection, journey_id: str, subject: str, at: datetime) -> None:
    exists = connection.execute(
        select(_viewer.subject).where(_viewer.journey_id == journey_id, _viewer.subject == subject)
    ).first()
    if exists is None:
        connection.execute(
            insert(tables.journey_viewers),
            {"journey_id": journey_id, "subject": subject, "granted_at": at},
        )


def is_viewer(connection: Connection, journey_id: str, subject: str) -> bool:
    if "\x00" in journey_id or "\x00" in subject:
        return False
    found = connection.execute(
        select(_viewer.subject).where(_viewer.journey_id == journey_id, _viewer.subject == subject)
    ).first()
    return found is not None
