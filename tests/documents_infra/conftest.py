"""Fixtures for the document infrastructure tests: a real clamd started by the tests with a
local test signature database, an S3-compatible server (moto's) on loopback, and an empty
database on SQLite and on PostgreSQL (as tests/integration does).

clamd comes from Debian's clamav-daemon (scripts/clamav installs it; scripts/test calls that).
Without it the scanner tests are skipped, except under CI, where they fail the run.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from infra_kit import Clamd, free_port, start_clamd, under_ci
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from wayline.runtime.database import make_engine
from wayline.runtime.migrate import upgrade

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


# --- databases (as tests/integration/conftest.py) --------------------------------------------


def _libpq_url(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def _reachable(url: str) -> Exception | None:
    try:
        with psycopg.connect(_libpq_url(url), connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except Exception as error:  # any failure to connect means unreachable
        return error
    return None


@pytest.fixture(scope="session")
def postgres_server() -> str:
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
        pytest.fail(f"CI is set and no PostgreSQL answers at {LOCAL_POSTGRES}: {failure}")
    pytest.skip(f"PostgreSQL is not reachable at {LOCAL_POSTGRES} and CI is not set")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database for this test alone."""
    if request.param == "sqlite":
        folder = tmp_path / "db"
        folder.mkdir()
        yield f"sqlite:///{folder / 'wayline.db'}"
        return
    server: str = request.getfixturevalue("postgres_server")
    name = f"wayline_t_{secrets.token_hex(6)}"
    with psycopg.connect(_libpq_url(server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _libpq_url(server, name)
    finally:
        with psycopg.connect(_libpq_url(server), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The empty database, migrated."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


# --- clamd -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clamd]:
    """One clamd for the session (loading even one signature takes a second or two)."""
    running = start_clamd(tmp_path_factory.mktemp("clamd"))
    yield running
    running.stop()
    running.socket_path.unlink(missing_ok=True)


# --- S3 (moto's server) ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's S3-compatible server on a free loopback port; its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Made-up credentials for moto, and nothing from the machine's own AWS set-up."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "wayline-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wayline-test-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
