"""Blind indexes: a keyed hash (HMAC-SHA-256) of a personal value stored beside its sealed
copy, so that a record can be found by the value without the value being stored in clear.

The key is a blind index key of its own (index_keys, wrapped by the KEK like data keys), not a
data key: one index must match across subjects. An index is `<key version>.<hex digest>`, so a
lookup during a change of index key asks for every version's index (`candidates`), and a
record whose index names an older version is recomputed under the new key from its opened
value (`needs_recomputing`). Values are normalised by the caller (an email lower-cased, an
account number without spaces) before they are indexed.
"""

from __future__ import annotations

import hashlib
import hmac


class BlindIndex:
    """Indexes under a set of index keys: (version, key), newest first."""

    def __init__(self, keys: list[tuple[int, bytes]]):
        if not keys:
            raise ValueError("a blind index needs at least one key")
        self.keys = sorted(keys, reverse=True)

    @property
    def version(self) -> int:
        return self.keys[0][0]

    def of(self, purpose: str, value: str) -> str:
        """The index of `value` for `purpose` (email, payee_account…) under the current key."""
        version, key = self.keys[0]
        return _index(version, key, purpose, value)

    def candidates(self, purpose: str, value: str) -> list[str]:
        """The index of `value` under every key still kept: what a lookup asks for."""
        return [_index(version, key, purpose, value) for version, key in self.keys]

    def needs_recomputing(self, index: str) -> bool:
        return not index.startswith(f"{self.version}.")


def _index(version: int, key: bytes, purpose: str, value: str) -> str:
    # The purpose is part of the message: the same value indexed for two purposes gives two
    # unrelated indexes, so one index cannot be matched against the other.
    digest = hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()
    return f"{version}.{digest}"
