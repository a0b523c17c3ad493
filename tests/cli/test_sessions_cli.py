"""`wayline sessions revoke --customer ID` and `wayline sessions purge`, against a running app's
database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from wayline.bootstrap import Components, build
from wayline.cli import app as cli
from wayline.config import Settings
from wayline.identity.principal import Principal
from wayline.identity.sessions import SessionPolicy, SessionService
from wayline.runtime.clock import FixedClock
from wayline.sandbox.wiring import demo_options
from wayline.store import tables
from wayline.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _customer(subject: str) -> Principal:
    return Principal.customer(subject, 1, datetime(2020, 1, 1, tzinfo=UTC), "demo")


@pytest.fixture
def components(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Components]:
    """The app's parts, and the environment the command reads to find the same database."""
    environment = {
        "WAYLINE_HOME": str(tmp_path / "home"),
        "WAYLINE_DATABASE_URL": database_url,
        "WAYLINE_JOURNEYS_DIR": str(ROOT / "journeys"),
        "WAYLINE_DEMO": "true",
        "WAYLINE_SECRET_KEY": "test",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    built = build(Settings(), migrate=True, **demo_options())
    yield built
    built.store.engine.dispose()


def signed_in(app: object, customer: str) -> TestClient:
    client = TestClient(app)
    assert client.post("/auth/demo", json={"customer": customer}).status_code == 204
    assert client.get("/api/v1/journeys").status_code == 200
    return client


def test_revoke_ends_every_session_of_one_customer_only(components: Components) -> None:
    app = create_app(components)
    phone, laptop, sam = signed_in(app, "alex"), signed_in(app, "alex"), signed_in(app, "sam")

    result = runner.invoke(cli, ["sessions", "revoke", "--customer", "alex"])

    assert result.exit_code == 0, result.output
    assert "2 session(s) ended." in result.output
    for client in (phone, laptop):
        assert client.get("/api/v1/journeys").status_code == 401
    assert sam.get("/api/v1/journeys").status_code == 200
    again = runner.invoke(cli, ["sessions", "revoke", "--customer", "alex"])
    assert "0 session(s) ended." in again.output
    # Signing in again works as ever.
    assert signed_in(app, "alex").get("/api/v1/journeys").status_code == 200


def test_revoke_needs_a_customer(components: Components) -> None:
    result = runner.invoke(cli, ["sessions", "revoke"])
    assert result.exit_code == 2
    assert "--customer" in result.output


def test_purge_forgets_only_sessions_past_their_lifetime(components: Components) -> None:
    long_ago = FixedClock(datetime(2020, 1, 1, tzinfo=UTC))
    SessionService(components.store, long_ago, SessionPolicy()).start(_customer("alex"))
    signed_in(create_app(components), "sam")

    result = runner.invoke(cli, ["sessions", "purge"])

    assert result.exit_code == 0, result.output
    assert "1 expired session(s) forgotten." in result.output
    with components.store.read() as connection:
        subjects = connection.execute(select(tables.sessions.c.subject)).scalars().all()
    assert subjects == ["sam"]
