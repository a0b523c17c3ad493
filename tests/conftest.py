"""Fixtures every test folder shares: the databases. Every test that touches a database runs
on SQLite (a file in tmp_path) and on the machine's real PostgreSQL, each in a fresh database.

PostgreSQL comes from WAYLINE_TEST_POSTGRES_URL (.ci/run sets it). When the variable is unset,
a local server at postgresql://postgres@127.0.0.1:5432/test is used if it answers; if it does
not, the PostgreSQL half is skipped, except under CI (CI set), where it fails the run. A set
variable that points at an unreachable server always fails the run.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from logging_kit import logging_put_back, plain_test_logging
from sqlalchemy.engine import make_url

from wayline import guards
from wayline.store.database import make_engine
from wayline.store.migrate import upgrade

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"

plain_test_logging()


@pytest.fixture(autouse=True)
def logging_as_it_was() -> Iterator[None]:
    """No test leaves its logging set up for the next (a handler on a closed capture
    stream, a level that hides what a later test looks for)."""
    with logging_put_back():
        yield


@pytest.fixture(autouse=True)
def no_partner_call_in_a_transaction() -> Iterator[None]:
    """Every test fails if a partner was called with a database transaction open in this
    process (wayline.guards), even where the error was swallowed (a data source's failure is
    tolerated; a worker's handler is retried)."""
    guards.violations.clear()
    yield
    found, guards.violations[:] = list(guards.violations), []
    assert not found, f"partners called inside a database transaction: {found}"


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def libpq_url(url: str, database: str | None = None) -> str:
    """A plain postgresql:// URL psycopg accepts, optionally for another database."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def _reachable(url: str) -> Exception | None:
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except Exception as error:  # any failure to connect means unreachable
        return error
    return None


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The URL of a PostgreSQL server the tests may create databases on."""
    given = os.environ.get("WAYLINE_TEST_POSTGRES_URL")
    url = given or LOCAL_POSTGRES
    failure = _reachable(url)
    if failure is None:
        return url
    if given:
        pytest.fail(
            f"WAYLINE_TEST_POSTGRES_URL is set but PostgreSQL does not answer there: {failure}",
            pytrace=False,
        )
    if under_ci():
        pytest.fail(
            f"CI is set and no PostgreSQL answers at {LOCAL_POSTGRES} (set "
            f"WAYLINE_TEST_POSTGRES_URL): {failure}",
            pytrace=False,
        )
    pytest.skip(f"PostgreSQL is not reachable at {LOCAL_POSTGRES} and CI is not set")


def fresh_postgres_database(server: str, template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database, dropped afterwards: empty, or a copy of `template`."""
    name = f"wayline_t_{secrets.token_hex(6)}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(libpq_url(server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield libpq_url(server, name)
    finally:
        with psycopg.connect(libpq_url(server), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()  # no connection may stay open on a template that is copied


@pytest.fixture(scope="session")
def postgres_template(postgres_server: str) -> Iterator[str]:
    """The name of a PostgreSQL database migrated to the newest version once per test process.
    Tests marked `migrated_database` get a copy of it (CREATE DATABASE ... TEMPLATE), several
    times cheaper than migrating a database for each test."""
    for url in fresh_postgres_database(postgres_server):
        _migrate(url)
        yield make_url(url).database or ""


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per test process, copied for `migrated_database` tests."""
    path = tmp_path_factory.mktemp("template") / "wayline.db"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database for this test alone: empty, or migrated to the newest version for a test
    marked `migrated_database` (the integration tests, unless marked `empty_database`)."""
    migrated = request.node.get_closest_marker("migrated_database") is not None
    if request.param == "sqlite":
        folder = tmp_path / "db"
        folder.mkdir(exist_ok=True)
        if migrated:
            shutil.copyfile(request.getfixturevalue("sqlite_template"), folder / "wayline.db")
        yield f"sqlite:///{folder / 'wayline.db'}"
        return
    template = request.getfixturevalue("postgres_template") if migrated else None
    yield from fresh_postgres_database(request.getfixturevalue("postgres_server"), template)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database shared by the tests of one module, for suites whose setup is costly
    and whose tests prove they change nothing (the hostile-input suite)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'wayline.db'}"
        return
    yield from fresh_postgres_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """An empty PostgreSQL database, for what only PostgreSQL does (several workers)."""
    yield from fresh_postgres_database(postgres_server)
