"""The store: all of Wayline's SQL, one module per table or concern, over SQLAlchemy Core on
SQLite (WAL) or PostgreSQL.

- `database`: engines by URL, and `Store` with its `read()` and `write()` transactions;
- `tables`, `migrate` and `migrations/`: the schema and its Alembic history;
- `definitions`, `journeys`, `answers`, `events`, `outbox` (the effects), `idempotency`,
  `documents`, `photo_index`, `sessions`: functions over one table each.

Functions take the `Connection` a transaction gave the caller, so that everything a command
writes commits together. Nothing outside this package imports SQLAlchemy.
"""

from wayline.store.database import Connection, DuplicateKey, StaleRevision, Store

__all__ = ["Connection", "DuplicateKey", "StaleRevision", "Store"]
