"""Identifiers: sortable random ids for records, short unambiguous references for customers."""

from __future__ import annotations

import secrets

from ulid import ULID

# No 0/O, 1/I/L or U: a reference read over the phone cannot be misheard or misread.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


def new_id() -> str:
    return str(ULID()).lower()


def new_reference(prefix: str, length: int = 6) -> str:
    return f"{prefix}-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(length))
