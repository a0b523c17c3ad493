"""Fixtures for the reliability tests: the six partner simulators on free loopback ports (fresh
for each test, so their ledgers start empty), a database for each test (a SQLite file, and the
machine's real PostgreSQL), and the application wired to both.

PostgreSQL comes from WAYLINE_TEST_POSTGRES_URL, as in tests/integration: when the variable is
unset, a local server at postgresql://postgres@127.0.0.1:5432/test is used if it answers; if
not, the PostgreSQL tests are skipped, except under CI, where that fails the run.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import structlog
from reliability_kit import JOURNEYS_DIR, connectors_file
from sqlalchemy.engine import make_url

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.sandbox.server import Sandbox

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(autouse=True, scope="session")
def _quiet_logs() -> Iterator[None]:
    # Every partner call logs a line; thousands of them only slow the suite down.
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    yield
    structlog.configure(**saved)


def _under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _libpq_url(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    given = os.environ.get("WAYLINE_TEST_POSTGRES_URL")
    url = given or LOCAL_POSTGRES
    try:
        with psycopg.connect(_libpq_url(url), connect_timeout=3) as connection:
            connection.execute("SELECT 1")
        return url
    except Exception as failure:  # any failure to connect means unreachable
        if given or _under_ci():
            pytest.fail(f"PostgreSQL does not answer at {url}: {failure}", pytrace=False)
        pytest.skip(f"PostgreSQL is not reachable at {url} and CI is not set")


def _postgres_database(server: str) -> Iterator[str]:
    name = f"wayline_r_{secrets.token_hex(6)}"
    with psycopg.connect(_libpq_url(server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _libpq_url(server, name)
    finally:
        with psycopg.connect(_libpq_url(server), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database for this test alone: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        folder = tmp_path / "db"
        folder.mkdir()
        yield f"sqlite:///{folder / 'wayline.db'}"
        return
    yield from _postgres_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """An empty PostgreSQL database, for what only PostgreSQL does (several workers)."""
    yield from _postgres_database(postgres_server)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    folder = tmp_path / "db"
    folder.mkdir()
    return f"sqlite:///{folder / 'wayline.db'}"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """The partner simulators, real HTTP servers on free loopback ports, with no faults."""
    running = Sandbox().start()
    yield running
    running.stop()


@pytest.fixture
def connectors(tmp_path: Path, sandbox: Sandbox) -> Path:
    """connectors.yaml pointing at the sandbox, with quick retries and breaker."""
    return connectors_file(tmp_path / "config", sandbox.urls())


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def make_components(home: Path, connectors: Path) -> Iterator[Callable[..., Components]]:
    """make_components(database_url) → the application's parts, on the sandbox partners."""
    built: list[Components] = []

    def make(database_url: str, **overrides: Any) -> Components:
        values: dict[str, Any] = {
            "home": home,
            "database_url": database_url,
            "demo": True,
            "secret_key": "reliability",
            "journeys_dir": JOURNEYS_DIR,
            "connectors": connectors,
        }
        values.update(overrides)
        components = build(Settings(**values), migrate=True)
        built.append(components)
        return components

    yield make
    for components in built:
        if components.partners is not None:
            components.partners.close()
        components.store.engine.dispose()
