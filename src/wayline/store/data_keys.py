"""The data_keys and index_keys tables: data keys wrapped by a key-encryption key (KEK), one or
more versions per data subject, and the blind indexes' keys. Only wrapped keys are stored;
protection/keys.py wraps and unwraps them through the KEK provider.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from wayline.store import tables

_k = tables.data_keys.c
_i = tables.index_keys.c


@dataclass(frozen=True)
class StoredKey:
    """A wrapped key as stored. `subject` is "" for an index key."""

    subject: str
    version: int
    wrapped: bytes
    kek_version: str


def current(connection: Connection, subject: str) -> StoredKey | None:
    """The subject's newest data key, or None when it has none (yet, or any more)."""
    row = connection.execute(
        select(_k.version, _k.wrapped, _k.kek_version)
        .where(_k.subject == subject)
        .order_by(_k.version.desc())
        .limit(1)
    ).first()
    return StoredKey(subject, row.version, bytes(row.wrapped), row.kek_version) if row else None


def get(connection: Connection, subject: str, version: int) -> StoredKey | None:
    row = connection.execute(
        select(_k.wrapped, _k.kek_version).where(_k.subject == subject, _k.version == version)
    ).first()
    return StoredKey(subject, version, bytes(row.wrapped), row.kek_version) if row else None


def add(connection: Connection, key: StoredKey, at: datetime) -> None:
    """Store a data key unless the subject already has that version (a concurrent writer
    made it first: the caller reads the one stored)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(tables.data_keys).on_conflict_do_nothing(
        index_elements=["subject", "version"]
    )
    connection.execute(
        statement,
        {
            "subject": key.subject,
            "version": key.version,
            "wrapped": key.wrapped,
            "kek_version": key.kek_version,
            "created_at": at,
        },
    )


def delete_subject(connection: Connection, subject: str) -> int:
    """Delete every data key of a subject; how many there were."""
    result = connection.execute(delete(tables.data_keys).where(_k.subject == subject))
    return result.rowcount


def not_under(
    connection: Connection, kek_version: str, after: tuple[str, int] | None, limit: int
) -> list[StoredKey]:
    """Data keys wrapped by any KEK version but `kek_version`, in (subject, version) order
    after `after`: a rotation's next batch."""
    query = select(_k.subject, _k.version, _k.wrapped, _k.kek_version).where(
        _k.kek_version != kek_version
    )
    if after is not None:
        query = query.where(tuple_(_k.subject, _k.version) > tuple_(*after))
    rows = connection.execute(query.order_by(_k.subject, _k.version).limit(limit)).all()
    return [StoredKey(r.subject, r.version, bytes(r.wrapped), r.kek_version) for r in rows]


def rewrap(connection: Connection, old: StoredKey, wrapped: bytes, kek: str, at: datetime) -> bool:
    """Replace a data key's wrapping, if it is still wrapped as `old` says."""
    result = connection.execute(
        update(tables.data_keys)
        .where(
            _k.subject == old.subject,
            _k.version == old.version,
            _k.kek_version == old.kek_version,
        )
        .values(wrapped=wrapped, kek_version=kek, rewrapped_at=at)
    )
    return result.rowcount == 1


def kek_use(connection: Connection) -> Counter[str]:
    """How many wrapped keys (data and index keys) each KEK version wraps."""
    use: Counter[str] = Counter()
    for table, column in ((tables.data_keys, _k.kek_version), (tables.index_keys, _i.kek_version)):
        for row in connection.execute(
            select(column, func.count()).select_from(table).group_by(column)
        ).all():
            use[row[0]] += row[1]
    return use


# --- blind index keys ---------------------------------------------------------------------


def index_keys(connection: Connection) -> list[StoredKey]:
    """Every blind index key, newest first."""
    rows = connection.execute(
        select(_i.version, _i.wrapped, _i.kek_version).order_by(_i.version.desc())
    ).all()
    return [StoredKey("", r.version, bytes(r.wrapped), r.kek_version) for r in rows]


def add_index_key(connection: Connection, key: StoredKey, at: datetime) -> None:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(
        dialect.insert(tables.index_keys).on_conflict_do_nothing(index_elements=["version"]),
        {
            "version": key.version,
            "wrapped": key.wrapped,
            "kek_version": key.kek_version,
            "created_at": at,
        },
    )


def rewrap_index_key(connection: Connection, old: StoredKey, wrapped: bytes, kek: str) -> None:
    connection.execute(
        update(tables.index_keys)
        .where(_i.version == old.version, _i.kek_version == old.kek_version)
        .values(wrapped=wrapped, kek_version=kek)
    )


def delete_index_key(connection: Connection, version: int) -> int:
    """Drop one index key (retired: nothing that still counts was made with it)."""
    return connection.execute(delete(tables.index_keys).where(_i.version == version)).rowcount
