"""Fixtures for the document infrastructure tests: a real clamd started by the tests with a
local test signature database, an S3-compatible server (moto's) on loopback, and an empty
database on SQLite and on PostgreSQL (as tests/integration does).

clamd comes from Debian's clamav-daemon (scripts/clamav installs it; scripts/test calls that).
Without it the scanner tests are skipped, except under CI, where they fail the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from infra_kit import Clamd, free_port, start_clamd
from sqlalchemy import Engine

from wayline.store.database import make_engine
from wayline.store.migrate import upgrade


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
