"""Changing the blind index key: a new index key, then every stored index recomputed under it.

`rotate_index` makes a new index key current, then recomputes, in batches of one short
transaction each, the index kept beside each sealed value that is looked up (today the
verified emails of visitors' journeys), from the value opened again. It resumes where it
stopped when run again (`resume=True`: what is left is exactly what the current key did not
make). Look-ups go on throughout: they ask for the value's index under every key still kept.

Codes and locks are short-lived (minutes): they are not recomputed but matched under the old
key until they end. `retire_index` forgets an old key once nothing that still counts was made
with it, removing the ended codes and locks that were.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from wayline.protection.blind_index import EMAIL, BlindIndex, version_of
from wayline.protection.keys import DataKeys, KeyInUse, Progress
from wayline.store import Store, data_keys
from wayline.store import visitors as rows


def rotate_index(
    store: Store,
    keys: DataKeys,
    batch: int = 500,
    on_batch: Callable[[Progress], None] | None = None,
    resume: bool = False,
) -> Progress:
    """Make a new index key current (unless `resume`) and recompute every stored index."""
    with store.write() as connection:
        if not resume:
            keys.new_index_key(connection)
        index = BlindIndex(keys.index_keys(connection))
        total = rows.count_indexed_before(connection, index.version)
    done, after = 0, ""
    while True:
        with store.read() as connection:
            waiting = rows.emails_indexed_before(connection, index.version, after, batch)
        if not waiting:
            break
        with store.write() as connection:
            for journey_id, before, email in waiting:
                rows.reindex_email(connection, journey_id, before, index.of(EMAIL, email))
        done += len(waiting)
        after = waiting[-1][0]
        if on_batch is not None:
            on_batch(Progress(done, max(total - done, 0)))
    return Progress(done, 0)


def journeys_of_email(store: Store, keys: DataKeys, email: str) -> list[rows.EmailedJourney]:
    """The journeys verified with `email` (normalised by the caller), found by its blind
    index under every index key still kept: a subject access or erasure request from someone
    who never had an account."""
    with store.write() as connection:  # index_keys makes the first key when there is none
        index = BlindIndex(keys.index_keys(connection))
        return rows.journeys_with_email(connection, index.candidates(EMAIL, email))


def index_use(store: Store, keys: DataKeys, now: datetime) -> Counter[int | None]:
    """How many stored indexes each index key made (None: made before key versions), with
    every kept key named (0 when unused)."""
    with store.read() as connection:
        kept = [stored.version for stored in data_keys.index_keys(connection)]
        used = Counter(version_of(index) for index in rows.indexes_in_use(connection, now))
    for version in kept:
        used.setdefault(version, 0)
    return used


def retire_index(store: Store, keys: DataKeys, version: int, now: datetime) -> None:
    """Forget index key `version`; KeyInUse while it is current or anything that still counts
    was made with it."""
    with store.write() as connection:
        kept = [stored.version for stored in data_keys.index_keys(connection)]
        if version not in kept:
            raise KeyInUse(f"there is no index key {version}")
        if version == max(kept):
            raise KeyInUse(f"index key {version} is the current one: rotate-index first")
        using = sum(1 for i in rows.indexes_in_use(connection, now) if version_of(i) == version)
        if using:
            raise KeyInUse(f"index key {version} still made {using} indexes: rotate-index first")
        rows.forget_indexes(connection, version)
        data_keys.delete_index_key(connection, version)
