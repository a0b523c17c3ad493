"""The idempotency_keys table: the first response to each `Idempotency-Key`, per customer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from wayline.store import tables

_key = tables.idempotency_keys.c
_FIND = select(_key.fingerprint, _key.status_code, _key.body).where(
    _key.customer_id == bindparam("customer_id"), _key.key == bindparam("key")
)
_INSERT = insert(tables.idempotency_keys)


def find(connection: Connection, customer_id: str, key: str) -> dict[str, Any] | None:
    row = connection.execute(_FIND, {"customer_id": customer_id, "key": key}).first()
    return row._asdict() if row else None


def remember(
    connection: Connection,
    customer_id: str,
    key: str,
    fingerprint: str,
    status_code: int,
    body: Any,
    now: datetime,
) -> None:
    """Keep the first response to a key (a concurrent second one is a DuplicateKey)."""
    connection.execute(
        _INSERT,
        {
            "customer_id": customer_id,
            "key": key,
            "fingerprint": fingerprint,
            "status_code": status_code,
            "body": body,
            "created_at": now,
        },
    )
