"""Fixtures for the journey-event tests: a migrated store on SQLite and on the real PostgreSQL
(`database_url`), and the real NATS server with a stream of each test's own.

NATS comes from WAYLINE_TEST_NATS_URL, by default nats://127.0.0.1:4222 (the machine runs it
with JetStream). When it does not answer the NATS tests are skipped, except under CI (CI set),
where that fails the run.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from events_kit import delete_stream

from wayline.store import Store
from wayline.store.database import make_engine
from wayline.store.migrate import upgrade

LOCAL_NATS = "nats://127.0.0.1:4222"


@pytest.fixture(scope="session")
def nats_url() -> str:
    url = os.environ.get("WAYLINE_TEST_NATS_URL") or LOCAL_NATS
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "", parts.port or 4222), timeout=2).close()
    except OSError as error:
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI is set and no NATS answers at {url}: {error}", pytrace=False)
        pytest.skip(f"NATS is not reachable at {url} and CI is not set")
    return url


@pytest.fixture
def stream(nats_url: str) -> Iterator[tuple[str, str]]:
    """A stream name and subject prefix of this test's own (streams' subjects may not
    overlap, and tests run in parallel); deleted afterwards."""
    tag = secrets.token_hex(4)
    name, prefix = f"WAYLINE_T_{tag}", f"wt{tag}"
    yield name, prefix
    delete_stream(nats_url, name)


@pytest.fixture(scope="module")
def store(module_database_url: str) -> Iterator[Store]:
    """One migrated database per module (migrating costs seconds on PostgreSQL): each test
    uses journeys of its own (`jid`) and leaves nothing unpublished."""
    engine = make_engine(module_database_url)
    upgrade(engine)
    yield Store(engine)
    engine.dispose()


@pytest.fixture
def jid() -> Callable[[str], str]:
    """Journey ids of this test's own: jid("j1")."""
    tag = secrets.token_hex(3)
    return lambda name: f"{tag}-{name}"
