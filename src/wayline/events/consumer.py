"""For consumers: handle each event once, although buses deliver at least once.

Events keep their id across retries and replays, so a consumer records the (source, id) of
each event it handled, in its own store, in the same transaction as what handling it wrote.
`Deduplicator` does that on a SQLite database the consumer names (a file, or a connection to
the database it already writes):

    seen = Deduplicator("consumer.db")
    with seen.once(event) as new:     # event: a structured CloudEvent (a dict)
        if new:
            handle(event, seen.connection)  # write with the same connection
    # committed together; on an error both roll back and the event counts as unhandled

The table is `handled_events` (source, id, type, handled_at).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_CREATE = """
CREATE TABLE IF NOT EXISTS handled_events (
    source TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    handled_at TEXT NOT NULL,
    PRIMARY KEY (source, id)
)
"""


class Deduplicator:
    """Remembers which events were handled, in the consumer's own SQLite database."""

    def __init__(self, database: str | Path | sqlite3.Connection):
        if isinstance(database, sqlite3.Connection):
            self.connection = database
        else:
            self.connection = sqlite3.connect(database, isolation_level=None, timeout=30)
        self.connection.execute(_CREATE)

    @contextmanager
    def once(self, event: Mapping[str, Any]) -> Iterator[bool]:
        """A transaction in which the event is recorded as handled; yields whether it is new
        (False: handled before, do nothing). Commits on success, rolls back on error."""
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            inserted = self.connection.execute(
                "INSERT OR IGNORE INTO handled_events (source, id, type, handled_at) "
                "VALUES (?, ?, ?, ?)",
                (
                    str(event["source"]),
                    str(event["id"]),
                    str(event.get("type", "")),
                    datetime.now(UTC).isoformat(),
                ),
            )
            yield inserted.rowcount == 1
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def handled(self, source: str, event_id: str) -> bool:
        found = self.connection.execute(
            "SELECT 1 FROM handled_events WHERE source = ? AND id = ?", (source, event_id)
        ).fetchone()
        return found is not None

    def close(self) -> None:
        self.connection.close()
