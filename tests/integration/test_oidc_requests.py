"""Sign-in requests in flight (store/sign_ins.py, identity/sign_in.py) on SQLite and PostgreSQL:
a request is used once, even by two callbacks at the same moment; a late one or one from
another browser is refused and used up; `wayline sessions purge` forgets the expired ones."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from wayline.bootstrap import Components, build
from wayline.cli import app as cli
from wayline.config import Settings
from wayline.identity.principal import Kind
from wayline.identity.sign_in import (
    REQUEST_LIFETIME,
    SignInFailed,
    SignInService,
    digest,
    new_random,
)
from wayline.runtime.clock import FixedClock
from wayline.sandbox.wiring import demo_options
from wayline.store import sign_ins, tables
from wayline.store.sign_ins import SignInRequestRow

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def components(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Components]:
    """The app's parts, and the environment `wayline` commands read to find the database."""
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


def remember(components: Components, state: str, browser: str, at: datetime) -> None:
    row = SignInRequestRow(
        id=digest(state),
        browser=digest(browser),
        kind=Kind.CUSTOMER.value,
        nonce=new_random(),
        code_verifier=new_random() + new_random(),
        return_to="/journeys/j1/steps/payout?change=1",
        step_up_level=2,
        created_at=at,
        expires_at=at + REQUEST_LIFETIME,
    )
    with components.store.write() as connection:
        sign_ins.insert_request(connection, row)


def stored_ids(components: Components) -> list[str]:
    with components.store.read() as connection:
        return list(connection.execute(select(tables.sign_in_requests.c.id)).scalars())


def test_a_request_is_taken_once_with_all_it_held(components: Components) -> None:
    state, browser = new_random(), new_random()
    remember(components, state, browser, START)
    with components.store.write() as connection:
        taken = sign_ins.take_request(connection, digest(state))
    assert taken is not None
    assert taken.browser == digest(browser)
    assert taken.return_to == "/journeys/j1/steps/payout?change=1"
    assert taken.step_up_level == 2
    assert taken.created_at == START  # in UTC, on SQLite too
    assert taken.expires_at == START + REQUEST_LIFETIME
    with components.store.write() as connection:
        assert sign_ins.take_request(connection, digest(state)) is None
    assert stored_ids(components) == []


def test_two_callbacks_at_once_take_it_once(components: Components) -> None:
    state = new_random()
    remember(components, state, new_random(), START)
    taken: list[SignInRequestRow | None] = []
    ready = threading.Barrier(4)

    def take() -> None:
        ready.wait()
        with components.store.write() as connection:
            taken.append(sign_ins.take_request(connection, digest(state)))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(taken) == 4
    assert sum(row is not None for row in taken) == 1


def service(components: Components, now: datetime) -> SignInService:
    # No provider: every check here comes before the provider would be asked.
    return SignInService(components.store, FixedClock(now), providers={})


def test_a_late_callback_is_refused_and_used_up(components: Components) -> None:
    state, browser = new_random(), new_random()
    remember(components, state, browser, START)
    late = service(components, START + REQUEST_LIFETIME)
    with pytest.raises(SignInFailed) as failed:
        late.finish(state, "code", None, browser)
    assert (failed.value.reason, failed.value.kind) == ("request_expired", Kind.CUSTOMER)
    assert stored_ids(components) == []


def test_a_callback_from_another_browser_is_refused_and_used_up(components: Components) -> None:
    state, browser = new_random(), new_random()
    remember(components, state, browser, START)
    for other in (new_random(), None):
        with pytest.raises(SignInFailed) as failed:
            service(components, START).finish(state, "code", None, other)
        assert failed.value.reason in {"browser_mismatch", "unknown_state"}
    assert stored_ids(components) == []


@pytest.mark.parametrize("state", [None, "", "short", "x" * 43 + "!", "A" * 43])
def test_a_state_that_is_not_ours_is_refused(components: Components, state: str | None) -> None:
    remember(components, new_random(), "b" * 43, START)
    with pytest.raises(SignInFailed) as failed:
        service(components, START).finish(state, "code", None, "b" * 43)
    assert failed.value.reason in {"missing_state", "unknown_state"}
    assert len(stored_ids(components)) == 1  # someone else's request is left alone


def test_purge_forgets_only_expired_requests(components: Components) -> None:
    now = datetime.now(UTC)
    remember(components, new_random(), new_random(), now - timedelta(minutes=11))
    fresh = new_random()
    remember(components, fresh, new_random(), now)

    result = CliRunner().invoke(cli, ["sessions", "purge"])

    assert result.exit_code == 0, result.output
    assert "1 unfinished sign-in(s) forgotten." in result.output
    assert stored_ids(components) == [digest(fresh)]
