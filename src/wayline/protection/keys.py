"""Data keys: one per data subject (a customer's or a visitor's id), made on the subject's first
sealed value, stored wrapped by the provider's current key-encryption key (KEK), unwrapped on
use and kept unwrapped in memory only briefly (a bounded LRU with a time limit), so that a step
does not call the KMS each time but a key deleted or rotated elsewhere is not used for long.

Operations on keys as a whole live here too: rewrapping every data key under a new KEK version
(rotation, in batches, resumable), what each KEK version still wraps, retiring a version, and
deleting a subject's data keys, which makes everything sealed for them unreadable
(crypto-shredding: the erasure of a subject needs nothing else from this module).
"""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from wayline.protection import envelope
from wayline.protection.providers import KeyProvider, Wrapped
from wayline.store import Connection, Store, data_keys
from wayline.store.data_keys import StoredKey

INDEX_SUBJECT = "wayline:blind-index"  # the wrapping context of blind index keys


class UnknownKey(LookupError):
    """A data key that is not stored (never made, or deleted: its data is shredded)."""


class KeyInUse(RuntimeError):
    """A KEK version that still wraps keys cannot be retired."""


class _Lru:
    """A bounded, time-limited cache of unwrapped keys."""

    def __init__(self, size: int, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.size, self.seconds, self.clock = size, seconds, clock
        self._items: OrderedDict[tuple[str, int], tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, name: tuple[str, int]) -> bytes | None:
        with self._lock:
            found = self._items.get(name)
            if found is None:
                return None
            if found[0] < self.clock():
                del self._items[name]
                return None
            self._items.move_to_end(name)
            return found[1]

    def put(self, name: tuple[str, int], key: bytes) -> None:
        with self._lock:
            self._items[name] = (self.clock() + self.seconds, key)
            self._items.move_to_end(name)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def drop(self, subject: str) -> None:
        with self._lock:
            for name in [name for name in self._items if name[0] == subject]:
                del self._items[name]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@dataclass(frozen=True)
class Progress:
    """A rotation's progress after a batch: keys rewrapped so far, and those left."""

    done: int
    left: int


class DataKeys:
    """Data keys per subject, over a KEK provider and the data_keys table."""

    def __init__(
        self, provider: KeyProvider, cache_size: int = 10_000, cache_seconds: float = 300.0
    ):
        self.provider = provider
        self._cache = _Lru(cache_size, cache_seconds)
        self._current: dict[str, int] = {}  # subject → newest version, while cached

    # --- use ---------------------------------------------------------------------------

    def for_sealing(self, connection: Connection, subject: str) -> tuple[int, bytes]:
        """The subject's current data key (made now if it has none), and its version."""
        version = self._current.get(subject)
        if version is not None:
            key = self._cache.get((subject, version))
            if key is not None:
                return version, key
        stored = data_keys.current(connection, subject)
        if stored is None:
            plain, wrapped = self.provider.generate(subject)
            data_keys.add(
                connection,
                StoredKey(subject, 1, wrapped.blob, wrapped.kek_version),
                datetime.now(UTC),
            )
            stored = data_keys.current(connection, subject)  # ours, or a concurrent writer's
            assert stored is not None
            if stored.wrapped != wrapped.blob:
                plain = self._unwrap(stored)
        else:
            plain = self._unwrap(stored)
        self._cache.put((subject, stored.version), plain)
        self._current[subject] = stored.version
        return stored.version, plain

    def for_opening(self, connection: Connection, subject: str, version: int) -> bytes:
        """The subject's data key of `version`; UnknownKey when it is not stored."""
        key = self._cache.get((subject, version))
        if key is not None:
            return key
        stored = data_keys.get(connection, subject, version)
        if stored is None:
            raise UnknownKey(f"no data key {version} for this subject")
        key = self._unwrap(stored)
        self._cache.put((subject, version), key)
        return key

    def _unwrap(self, stored: StoredKey) -> bytes:
        return self.provider.unwrap(Wrapped(stored.wrapped, stored.kek_version), stored.subject)

    # --- operations ----------------------------------------------------------------------

    def forget_subject(self, connection: Connection, subject: str) -> int:
        """Delete every data key of `subject` (crypto-shredding): everything sealed for them,
        in every table and backup, can no longer be read. Returns how many keys went."""
        self._cache.drop(subject)
        self._current.pop(subject, None)
        envelope.forget_ciphers()
        return data_keys.delete_subject(connection, subject)

    def rotate(
        self,
        store: Store,
        batch: int = 500,
        on_batch: Callable[[Progress], None] | None = None,
    ) -> Progress:
        """Rewrap every data and index key not under the current KEK version, `batch` keys
        per transaction. Each batch commits on its own: a rotation stopped at any point
        (a crash, an interrupt) resumes where it stopped when run again, since what is left
        is exactly what the current version does not wrap. Readers never wait: the data
        keys themselves do not change, only their wrapping."""
        target = self.provider.current_version()
        with store.read() as connection:
            left = sum(n for kek, n in data_keys.kek_use(connection).items() if kek != target)
        done = 0
        with store.write() as connection:
            for stored in data_keys.index_keys(connection):
                if stored.kek_version != target:
                    plain = self.provider.unwrap(
                        Wrapped(stored.wrapped, stored.kek_version), INDEX_SUBJECT
                    )
                    again = self.provider.wrap(plain, INDEX_SUBJECT)
                    data_keys.rewrap_index_key(connection, stored, again.blob, again.kek_version)
                    done += 1
        after: tuple[str, int] | None = None
        while True:
            # Unwrapping and wrapping (a KMS round trip each) happen outside any transaction.
            with store.read() as connection:
                keys = data_keys.not_under(connection, target, after, batch)
            if not keys:
                break
            rewrapped = [(old, self._rewrapped(old)) for old in keys]
            now = datetime.now(UTC)
            with store.write() as connection:
                for old, again in rewrapped:
                    data_keys.rewrap(connection, old, again.blob, again.kek_version, now)
            done += len(keys)
            after = (keys[-1].subject, keys[-1].version)
            progress = Progress(done, max(left - done, 0))
            if on_batch is not None:
                on_batch(progress)
        return Progress(done, 0)

    def _rewrapped(self, old: StoredKey) -> Wrapped:
        plain = self._unwrap(old)
        return self.provider.wrap(plain, old.subject)

    def usage(self, connection: Connection) -> Counter[str]:
        """How many keys each KEK version wraps (versions wrapping none are not named)."""
        return data_keys.kek_use(connection)

    def retire(self, connection: Connection, version: str) -> None:
        """Forget a KEK version; KeyInUse while any key is still wrapped by it."""
        using = self.usage(connection).get(version, 0)
        if using:
            raise KeyInUse(f"KEK version {version} still wraps {using} keys: rotate first")
        self.provider.retire(version)
        self._cache.clear()

    # --- blind index keys ----------------------------------------------------------------

    def index_keys(self, connection: Connection) -> list[tuple[int, bytes]]:
        """Every blind index key unwrapped, newest first (made now when there is none)."""
        stored = data_keys.index_keys(connection)
        if not stored:
            self.new_index_key(connection)
            stored = data_keys.index_keys(connection)
        return [
            (
                key.version,
                self.provider.unwrap(Wrapped(key.wrapped, key.kek_version), INDEX_SUBJECT),
            )
            for key in stored
        ]

    def new_index_key(self, connection: Connection) -> int:
        """A new blind index key, current from now on; its version."""
        existing = data_keys.index_keys(connection)
        version = existing[0].version + 1 if existing else 1
        _, wrapped = self.provider.generate(INDEX_SUBJECT)
        data_keys.add_index_key(
            connection,
            StoredKey("", version, wrapped.blob, wrapped.kek_version),
            datetime.now(UTC),
        )
        return version
