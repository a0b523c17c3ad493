"""The photo reuse index (the photo_hashes table): every stored photo's 64-bit perceptual hash,
and a query that finds every photo within a Hamming distance (8 by default) of a new one
without reading them all (the maths: documents/similarity.py).

With N random hashes, each chunk value holds about N / 65536 of them: with a million stored
photos a query reads about 4 × 137 × 15 ≈ 8,000 index entries, all from the chunk indexes
(each holds the chunk and the whole hash, so the distance is checked there and no table row
is read until the few matches), instead of 1,000,000 rows.

Works on SQLite and PostgreSQL; the distance is computed by the database (PostgreSQL's
bit_count, and on SQLite a function registered on the connection).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite

from wayline.documents.similarity import (
    CHUNKS,
    DEFAULT_DISTANCE,
    MASK,
    MAX_DISTANCE,
    as_int,
    chunks,
    hamming,
    neighbours,
    signed,
)
from wayline.store import tables


@dataclass(frozen=True)
class Match:
    document_id: str
    journey_id: str
    customer_id: str
    distance: int


def row(document_id: str, journey_id: str, customer_id: str, phash: str | int) -> dict[str, Any]:
    """The photo_hashes row for a photo (for bulk loads too)."""
    value = as_int(phash)
    c0, c1, c2, c3 = chunks(value)
    return {
        "document_id": document_id,
        "journey_id": journey_id,
        "customer_id": customer_id,
        "phash": signed(value),
        "c0": c0,
        "c1": c1,
        "c2": c2,
        "c3": c3,
    }


def add(
    connection: Connection,
    document_id: str,
    journey_id: str,
    customer_id: str,
    phash: str | int,
) -> None:
    """Put a photo in the index, in the caller's transaction. A document already in it stays
    as it was (a photo's hash never changes), so adding twice is harmless."""
    add_many(connection, [row(document_id, journey_id, customer_id, phash)])


def add_many(connection: Connection, rows: Iterable[dict[str, Any]]) -> None:
    """Put many photos (rows made by `row`) in the index at once."""
    rows = list(rows)
    if not rows:
        return
    if connection.dialect.name not in ("postgresql", "sqlite"):  # pragma: no cover
        raise NotImplementedError(connection.dialect.name)
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(tables.photo_hashes).on_conflict_do_nothing(
        index_elements=["document_id"]
    )
    connection.execute(statement, rows)


def remove(connection: Connection, document_ids: list[str]) -> None:
    """Take documents out of the index (their files are being deleted)."""
    if document_ids:
        connection.execute(
            tables.photo_hashes.delete().where(tables.photo_hashes.c.document_id.in_(document_ids))
        )


def near(
    connection: Connection,
    phash: str | int,
    max_distance: int = DEFAULT_DISTANCE,
    *,
    exclude_document_id: str | None = None,
) -> list[Match]:
    """Every indexed photo within `max_distance` bits of `phash`, nearest first (then by
    document id); `exclude_document_id` leaves out the photo the query was made from."""
    if not 0 <= max_distance <= MAX_DISTANCE:
        raise ValueError(f"max_distance must be between 0 and {MAX_DISTANCE}")
    value = as_int(phash)
    dialect = connection.dialect.name
    params = query_parameters(value, max_distance, exclude_document_id, dialect)
    if dialect == "postgresql":
        statement = _POSTGRES_NEAR
    elif dialect == "sqlite":
        _register_sqlite_functions(connection)
        statement = _SQLITE_NEAR
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(dialect)
    found = [
        Match(r.document_id, r.journey_id, r.customer_id, (value ^ (r.phash & MASK)).bit_count())
        for r in connection.execute(statement, params)
    ]
    found.sort(key=lambda m: (m.distance, m.document_id))
    return found


def query_parameters(
    value: int, max_distance: int, exclude_document_id: str | None, dialect: str
) -> dict[str, Any]:
    """The parameters of the `near` statement: the query hash, the distance and, for each
    chunk, the values within ⌊distance / 4⌋ bits of the query's."""
    radius = max_distance // CHUNKS
    params: dict[str, Any] = {
        "q": signed(value),
        "d": max_distance,
        "exclude": exclude_document_id or "",
    }
    for i, chunk in enumerate(chunks(value)):
        values = neighbours(chunk, radius)
        # PostgreSQL: one array literal, cast in SQL (psycopg adapting 137 ints one by one
        # costs more than the query's index work).
        params[f"v{i}"] = (
            "{" + ",".join(map(str, values)) + "}" if dialect == "postgresql" else values
        )
    return params


def _near_sql(chunk_filter: str, distance_within: str, postgres: bool) -> str:
    """The hashes within the distance, from each chunk's index alone (UNION, not OR, keeps each
    branch an index-only scan); then the rows of those few hashes, looked up by (c0, phash) in
    the c0 index. On PostgreSQL the lookup is LATERAL (and OFFSET 0 keeps the planner from
    flattening it into a join), so that the planner, which cannot know how few the matches
    are, looks each one up rather than reading the whole table to join them."""
    branches = "\n            UNION\n".join(
        f"            SELECT phash FROM photo_hashes WHERE {chunk_filter.format(c=f'c{i}', i=i)}"
        f" AND {distance_within}"
        for i in range(CHUNKS)
    )
    same_hash = "p.c0 = ((m.phash >> 48) & 65535) AND p.phash = m.phash"
    if postgres:
        rows = f"""CROSS JOIN LATERAL (
            SELECT p.document_id, p.journey_id, p.customer_id, p.phash
            FROM photo_hashes AS p WHERE {same_hash}
            OFFSET 0
        ) AS p"""
    else:
        rows = f"JOIN photo_hashes AS p ON {same_hash}"
    return f"""
    SELECT p.document_id, p.journey_id, p.customer_id, p.phash
    FROM (
{branches}
    ) AS m
    {rows}
    WHERE p.document_id <> :exclude
    """


_POSTGRES_NEAR = text(
    _near_sql(
        "{c} = ANY(CAST(:v{i} AS INTEGER[]))",
        "bit_count(CAST(phash # CAST(:q AS BIGINT) AS BIT(64))) <= :d",
        postgres=True,
    )
)
_SQLITE_NEAR = text(
    _near_sql("{c} IN :v{i}", "wayline_hamming(phash, :q) <= :d", postgres=False)
).bindparams(*(bindparam(f"v{i}", expanding=True) for i in range(CHUNKS)))


def _register_sqlite_functions(connection: Connection) -> None:
    """SQLite has no popcount: give the connection ours (cheap, and safe to repeat)."""
    driver = connection.connection.driver_connection
    if driver is None:  # SQLAlchemy's pool detached it: there is nothing to register on
        raise RuntimeError("the SQLite connection is closed")
    driver.create_function("wayline_hamming", 2, hamming, deterministic=True)
