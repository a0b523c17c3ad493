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
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from wayline.store import Connection

EMAIL = "email"  # the purpose an email address is indexed for


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

    def matches(self, index: str, purpose: str, value: str) -> bool:
        """Whether a stored index is `value`'s under any key still kept (constant time)."""
        return any(hmac.compare_digest(index, c) for c in self.candidates(purpose, value))


def version_of(index: str) -> int | None:
    """The key version an index was made with; None for one made before versions."""
    head, dot, _ = index.partition(".")
    return int(head) if dot and head.isdigit() else None


def _index(version: int, key: bytes, purpose: str, value: str) -> str:
    # The purpose is part of the message: the same value indexed for two purposes gives two
    # unrelated indexes, so one index cannot be matched against the other.
    digest = hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()
    return f"{version}.{digest}"


class IndexKeySource(Protocol):
    """Where blind index keys come from: the data keys' index keys (protection/keys.py)."""

    def index_keys(self, connection: Connection) -> list[tuple[int, bytes]]:
        """Every index key unwrapped, newest first (one made when there is none)."""
        ...


class BlindIndexes:
    """The current `BlindIndex` for a transaction. Index keys come from `source` (wrapped by
    the KEK, kept in the database) and are read again at most every `refresh_seconds`, so a
    new index key made by another process (`wayline keys rotate-index`) is used within that
    time. Without a source (protection off) one key derived from the server's secret serves,
    as version 0."""

    def __init__(
        self,
        source: IndexKeySource | None,
        fallback_key: bytes,
        refresh_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._source = source
        self._fallback = BlindIndex([(0, fallback_key)])
        self._refresh = refresh_seconds
        self._clock = clock
        self._held: tuple[float, BlindIndex] | None = None

    def current(self, connection: Connection) -> BlindIndex:
        if self._source is None:
            return self._fallback
        now = self._clock()
        if self._held is None or now - self._held[0] >= self._refresh:
            self._held = (now, BlindIndex(self._source.index_keys(connection)))
        return self._held[1]
