"""Database engines by URL, and the `Store`: the transactions every other store module's
functions run in.

SQLite runs in WAL mode with `BEGIN IMMEDIATE` for writers; PostgreSQL through psycopg 3. The
store marks each transaction it opens (wayline.guards), so that no partner is ever called
while one is open, and it turns the database's own failures into Wayline's errors: a value
taken twice is DuplicateKey, a database that cannot be reached is StoreUnavailable.

Other packages never import SQLAlchemy: they hold a `Connection` only as the opaque handle the
store gives them, to pass back to store functions within one transaction.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from wayline import guards, strict_json
from wayline.errors import StoreUnavailable
from wayline.store.codec import CODEC, PLAIN, Codec

__all__ = ["Connection", "DuplicateKey", "StaleRevision", "Store", "make_engine"]

# Set on a connection by a function that queued effects due now (store/outbox.py): when its
# transaction commits, the store wakes this process's workers.
EFFECTS_QUEUED = "wayline.effects_queued"


class StaleRevision(Exception):
    """Somebody changed the journey since the caller read it."""


class DuplicateKey(Exception):
    """A unique value (a reference, an idempotency key) was taken by a concurrent writer."""


@overload
def aware(moment: datetime) -> datetime: ...
@overload
def aware(moment: None) -> None: ...
def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without their zone; everything stored is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def normalise_url(url: str) -> str:
    """postgresql:// means psycopg 3 here, whatever SQLAlchemy's default driver is."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **options: Any) -> Engine:
    url = normalise_url(url)
    # Every JSON column is written through the strict serialiser: a value that could not be
    # read back (NaN, Infinity, a lone surrogate) fails its write, inside the transaction.
    options.setdefault("json_serializer", strict_json.dumps)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **options)
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 20)
    # No pre-ping: it costs a round trip on every checkout, and a request checks out two or
    # three times. A connection found lost on use fails that request with StoreUnavailable
    # (503, as when the database is down), and SQLAlchemy then drops the whole pool, so the
    # next request connects afresh. Recycling connections after 30 minutes keeps the pool clear
    # of those a firewall or the server's idle timeout may have cut meanwhile.
    options.setdefault("pool_pre_ping", False)
    options.setdefault("pool_recycle", 1800)
    return create_engine(url, **options)


def _private_database_file(url: str) -> None:
    """The database file is its user's alone (0600), however it came to be created: SQLite
    gives its WAL and shared-memory files the same mode."""
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        return  # SQLite will say it cannot open the file, as it always did
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


def _sqlite_engine(url: str, **options: Any) -> Engine:
    _private_database_file(url)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver, so that BEGIN IMMEDIATE below is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Writers take the write lock up front: no deadlock when two read-then-write
        # transactions race. Readers begin deferred so they never wait for a writer. Sent to
        # the driver directly: through SQLAlchemy's execution machinery a BEGIN costs as
        # much as a whole small statement, and every transaction sends one.
        readonly = connection.get_execution_options().get("readonly")
        driver = connection.connection.dbapi_connection
        assert driver is not None
        driver.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


class Store:
    """Transactions on one database: `write()` and `read()`, each marked open for the guard."""

    def __init__(self, engine: Engine, codec: Codec | None = None):
        self.engine = engine
        # How classified values are sealed on their way in and opened on their way out
        # (store/codec.py); every transaction carries it to the store functions it runs.
        self.codec: Codec = codec or PLAIN
        self.dialect = engine.dialect.name
        # SQLite has one writer at a time. Writers of this process queue on a lock rather than
        # in SQLite's busy handler, which polls by sleeping (up to 100 ms a time) and so leaves
        # the database idle while writers wait. Other processes still meet the busy timeout.
        self._one_writer = threading.RLock() if self.dialect == "sqlite" else None
        # Set when a transaction that queued effects commits: wakes workers of this process
        # at once (PostgreSQL also tells workers elsewhere, with NOTIFY).
        self.effects_queued = threading.Event()

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction; commits on success, rolls back on any error."""
        queued = False
        try:
            with (
                self._one_writer or nullcontext(),
                guards.transaction_open(),
                self.engine.begin() as connection,
            ):
                connection.info.pop(EFFECTS_QUEUED, None)
                connection.info[CODEC] = self.codec
                yield connection
                queued = connection.info.pop(EFFECTS_QUEUED, False)
        except IntegrityError as error:
            raise DuplicateKey(str(error.orig)) from error
        except OperationalError as error:
            raise StoreUnavailable(type(error.orig).__name__) from error
        if queued:
            self.effects_queued.set()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (on SQLite a deferred one, which never waits for a writer)."""
        try:
            with guards.transaction_open(), self.engine.connect() as connection:
                connection = connection.execution_options(readonly=True)
                connection.info[CODEC] = self.codec
                with connection.begin():
                    yield connection
        except OperationalError as error:
            raise StoreUnavailable(type(error.orig).__name__) from error

    def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers."""
        with self.read() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        """Close the pool's connections (tests and CLI commands that build more than one)."""
        self.engine.dispose()
