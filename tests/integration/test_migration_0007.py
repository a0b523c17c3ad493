"""Migration 0007 on SQLite and PostgreSQL: a session started before it stays usable, as a
customer's level-1 sign-in proved when it started; the audit log is append-only from the start;
and it downgrades cleanly (and upgrades again)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from wayline.identity.principal import Kind
from wayline.identity.roles import Role
from wayline.identity.sessions import SessionPolicy, SessionService, stored_id
from wayline.runtime.clock import FixedClock
from wayline.store import Store
from wayline.store.database import make_engine
from wayline.store.migrate import alembic_config

pytestmark = pytest.mark.empty_database  # these tests migrate step by step themselves

STARTED = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _migrate(engine: sa.Engine, config: Config, to: str, down: bool = False) -> None:
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, to)


def _session_before_0007(engine: sa.Engine) -> str:
    """A session row as 0005/0006 wrote it; returns its cookie's token."""
    token = secrets.token_urlsafe(32)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO sessions (id, subject, created_at, last_seen_at, expires_at) "
                "VALUES (:id, 'alex', :created, :created, :expires)"
            ),
            {"id": stored_id(token), "created": STARTED, "expires": STARTED + timedelta(hours=12)},
        )
    return token


def _service(engine: sa.Engine, now: datetime) -> SessionService:
    return SessionService(Store(engine), FixedClock(now), SessionPolicy())


def test_a_session_from_before_is_a_level_1_customer_session_after_it(
    engine: sa.Engine,
) -> None:
    config = alembic_config()
    _migrate(engine, config, "0006")
    token = _session_before_0007(engine)

    _migrate(engine, config, "0007")

    service = SessionService(
        Store(engine), FixedClock(STARTED + timedelta(minutes=10)), SessionPolicy()
    )
    session = service.resolve(token)
    assert session is not None
    principal = session.principal
    assert principal.subject == "alex"
    assert principal.kind is Kind.CUSTOMER and principal.roles == {Role.CUSTOMER}
    assert principal.assurance == 1
    assert principal.authenticated_at == STARTED
    assert principal.issuer == "demo"
    # And it ends like any other.
    assert service.end(token) is True
    assert service.resolve(token) is None


def test_the_audit_log_refuses_changes_from_the_migration_on(engine: sa.Engine) -> None:
    _migrate(engine, alembic_config(), "0007")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO audit_log (id, at, action, outcome, details) "
                "VALUES ('a1', :at, 'sign_in', 'success', '{}')"
            ),
            {"at": STARTED},
        )
    for statement in ("UPDATE audit_log SET outcome = 'failure'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as c:
            c.execute(sa.text(statement))
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT outcome FROM audit_log")).scalars().all() == [
            "success"
        ]


def test_it_downgrades_keeping_sessions_and_upgrades_again(engine: sa.Engine) -> None:
    config = alembic_config()
    _migrate(engine, config, "0006")
    token = _session_before_0007(engine)
    _migrate(engine, config, "0007")

    _migrate(engine, config, "0006", down=True)

    inspector = sa.inspect(engine)
    columns = {column["name"] for column in inspector.get_columns("sessions")}
    assert columns == {"id", "subject", "created_at", "last_seen_at", "expires_at", "revoked_at"}
    assert not inspector.has_table("audit_log")
    assert not inspector.has_table("sign_in_requests")
    with engine.connect() as connection:
        ids: Sequence[str] = connection.execute(sa.text("SELECT id FROM sessions")).scalars().all()
        if engine.dialect.name == "postgresql":
            functions: int = connection.execute(
                sa.text("SELECT count(*) FROM pg_proc WHERE proname = 'audit_log_append_only'")
            ).scalar_one()
            assert functions == 0
    assert ids == [stored_id(token)]

    _migrate(engine, config, "0007")
    service = SessionService(
        Store(engine), FixedClock(STARTED + timedelta(minutes=1)), SessionPolicy()
    )
    session = service.resolve(token)
    assert session is not None and session.principal.assurance == 1
