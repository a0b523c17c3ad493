"""PostgreSQL connections are not pinged before use (store/database.py): a connection the
server has dropped fails its request as the database being unavailable (StoreUnavailable, a
503 for the web), never a 500, and the pool is then renewed so the next request works."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import literal_column, select, text

from wayline.errors import StoreUnavailable
from wayline.store.database import Store, make_engine
from wayline.store.prepared import Prepared


def _drop_connections(url: str) -> int:
    """Terminate every other backend of the test's database, as a server restart would."""
    libpq = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq, autocommit=True) as admin:
        cursor = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return len(cursor.fetchall())


def test_a_dropped_connection_is_unavailable_once_then_the_pool_reconnects(
    postgres_url: str,
) -> None:
    store = Store(make_engine(postgres_url))
    try:
        with store.read() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
        assert _drop_connections(postgres_url) >= 1
        with pytest.raises(StoreUnavailable), store.read() as connection:
            connection.execute(text("SELECT 1"))
        with store.write() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        store.dispose()


def test_a_statement_run_on_the_driver_over_a_dropped_connection_is_unavailable_too(
    postgres_url: str,
) -> None:
    one = Prepared(select(literal_column("1")))
    store = Store(make_engine(postgres_url))
    try:
        with store.read() as connection:
            assert one.first(connection, {}) == (1,)
        assert _drop_connections(postgres_url) >= 1
        with pytest.raises(StoreUnavailable), store.read() as connection:
            one.first(connection, {})
        with store.read() as connection:
            assert one.first(connection, {}) == (1,)
    finally:
        store.dispose()
