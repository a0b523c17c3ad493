"""The idempotency_keys table: for each customer's `Idempotency-Key`, a fingerprint of the
first request, its status, and the journey and revision it produced. No response body is kept
(it would hold answers in plain text): a replay answers with the journey's view as it is now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, select

from wayline.store import tables


@dataclass(frozen=True)
class KeyRecord:
    """What a key's first request did."""

    fingerprint: str
    status_code: int
    journey_id: str | None
    revision: int | None


_key = tables.idempotency_keys.c
_FIND = select(_key.fingerprint, _key.status_code, _key.journey_id, _key.revision).where(
    _key.customer_id == bindparam("customer_id"), _key.key == bindparam("key")
)
_INSERT = insert(tables.idempotency_keys)


def find(connection: Connection, customer_id: str, key: str) -> KeyRecord | None:
    row = connection.execute(_FIND, {"customer_id": customer_id, "key": key}).first()
    if row is None:
        return None
    return KeyRecord(row.fingerprint, row.status_code, row.journey_id, row.revision)


def remember(
    connection: Connection, customer_id: str, key: str, record: KeyRecord, now: datetime
) -> None:
    """Keep the first request's record (a concurrent second one is a DuplicateKey)."""
    connection.execute(
        _INSERT,
        {
            "customer_id": customer_id,
            "key": key,
            "fingerprint": record.fingerprint,
            "status_code": record.status_code,
            "journey_id": record.journey_id,
            "revision": record.revision,
            "created_at": now,
        },
    )
