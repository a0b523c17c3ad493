"""The SQL for sign-in requests in flight: one row per authorization request sent to an identity
provider, from the redirect until its callback (identity/sign_in.py holds the rules).

A row is keyed by the SHA-256 of the request's `state` and says which browser started it (the
SHA-256 of its binding cookie), which provider client (`kind`), the `nonce` and PKCE verifier to
check the answer with, where to return, and the level a step-up asked for. `take` reads and
deletes a row in one statement, so a callback can use a request once only, even when two arrive
together.

Functions take a Connection, so that the caller decides the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert

from wayline.store import tables
from wayline.store.database import aware

_request = tables.sign_in_requests.c


@dataclass(frozen=True)
class SignInRequestRow:
    id: str  # SHA-256 of `state`, never the state itself
    browser: str  # SHA-256 of the binding cookie's value
    kind: str
    nonce: str
    code_verifier: str
    return_to: str
    step_up_level: int | None
    created_at: datetime
    expires_at: datetime


def insert_request(connection: Connection, row: SignInRequestRow) -> None:
    connection.execute(
        insert(tables.sign_in_requests),
        {
            "id": row.id,
            "browser": row.browser,
            "kind": row.kind,
            "nonce": row.nonce,
            "code_verifier": row.code_verifier,
            "return_to": row.return_to,
            "step_up_level": row.step_up_level,
            "created_at": row.created_at,
            "expires_at": row.expires_at,
        },
    )


def take_request(connection: Connection, request_id: str) -> SignInRequestRow | None:
    """The request stored under `request_id`, deleted as it is read (DELETE … RETURNING, on
    SQLite and PostgreSQL alike); None when there is none (never made, used, or purged)."""
    found = connection.execute(
        delete(tables.sign_in_requests)
        .where(_request.id == request_id)
        .returning(*tables.sign_in_requests.c)
    ).first()
    if found is None:
        return None
    values = found._asdict()
    return SignInRequestRow(
        **{
            **values,
            "created_at": aware(values["created_at"]),
            "expires_at": aware(values["expires_at"]),
        }
    )


def delete_expired(connection: Connection, now: datetime) -> int:
    """Forget requests whose time ran out (their callbacks would be refused); how many."""
    result = connection.execute(delete(tables.sign_in_requests).where(_request.expires_at <= now))
    return result.rowcount
