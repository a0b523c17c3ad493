"""`wayline audit list` reads the audit log a running app wrote (SQLite and PostgreSQL): newest
first, filtered, as a table or JSON lines; bad filters exit 2 naming the option. `wayline
sessions revoke` is on the record too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wayline.bootstrap import Components, build
from wayline.cli import app as cli
from wayline.config import Settings
from wayline.identity.audit import Action, AuditLog, Entry, Origin, Outcome
from wayline.identity.principal import Kind, Principal
from wayline.identity.roles import Role
from wayline.runtime.clock import FixedClock
from wayline.sandbox.wiring import demo_options

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


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
        "COLUMNS": "250",  # the table is not folded, so its cells can be read back
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    built = build(Settings(), migrate=True, **demo_options())
    yield built
    built.store.engine.dispose()


def _casey() -> Principal:
    return Principal("casey", Kind.STAFF, frozenset({Role.HANDLER}), 1, START, "demo")


def _alex() -> Principal:
    return Principal.customer("alex", 2, START, "demo")


@pytest.fixture
def logged(components: Components) -> list[str]:
    """Three entries a minute apart: alex signs in, casey is denied, alex signs out. Their ids,
    oldest first."""
    clock = FixedClock(START)
    audit = AuditLog(components.store, clock)
    origin = Origin("203.0.113.7", "Firefox [bold]")
    ids = []
    for entry in (
        Entry(Action.SIGN_IN, Outcome.SUCCESS, _alex(), origin),
        Entry(Action.ROLE_DENIED, Outcome.DENIED, _casey(), origin, details={"route": "/x[bold]"}),
        Entry(Action.SIGN_OUT, Outcome.SUCCESS, _alex(), origin),
    ):
        ids.append(audit.record(entry).id)
        clock.advance(timedelta(minutes=1))
    return ids


def _json_lines(args: list[str]) -> list[dict[str, object]]:
    result = runner.invoke(cli, ["audit", "list", "--json", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_list_shows_every_entry_newest_first_as_json_lines(logged: list[str]) -> None:
    entries = _json_lines([])
    assert [entry["id"] for entry in entries] == list(reversed(logged))
    newest = entries[0]
    assert newest["action"] == "sign_out"
    assert newest["actor"] == "alex" and newest["actor_kind"] == "customer"
    assert newest["ip"] == "203.0.113.7" and newest["user_agent"] == "Firefox [bold]"
    assert newest["at"] == (START + timedelta(minutes=2)).isoformat()


def test_filters_narrow_the_list(logged: list[str]) -> None:
    assert [e["id"] for e in _json_lines(["--actor", "alex"])] == [logged[2], logged[0]]
    assert [e["id"] for e in _json_lines(["--action", "role_denied"])] == [logged[1]]
    since = (START + timedelta(seconds=30)).isoformat()
    assert [e["id"] for e in _json_lines(["--since", since])] == [logged[2], logged[1]]
    # A zone other than UTC means the same moment.
    assert [e["id"] for e in _json_lines(["--since", "2026-12-01T10:01:30+01:00"])] == [logged[2]]
    assert [e["id"] for e in _json_lines(["--limit", "1"])] == [logged[2]]
    assert _json_lines(["--actor", "nobody-at-all"]) == []


def test_the_table_shows_the_entries_as_plain_text(logged: list[str]) -> None:
    result = runner.invoke(cli, ["audit", "list"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    rows = [line for line in lines if "alex (customer)" in line or "casey (staff)" in line]
    assert len(rows) == 3
    assert "sign_out" in rows[0] and "role_denied" in rows[1] and "sign_in" in rows[2]
    assert "203.0.113.7" in rows[0]
    # Stored text is shown as it is, never read as rich markup.
    assert "route=/x[bold]" in rows[1]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--since", "yesterday"], "--since"),
        (["--limit", "0"], "--limit"),
        (["--limit", "501"], "--limit"),
        (["--target", "t" * 41], "--target"),
        (["--target", "subject:" + "x" * 101], "--target"),
        (["--action", "DROP TABLE"], "--action"),
        (["--actor", "x" * 101], "--actor"),
    ],
)
def test_bad_filters_exit_2_naming_the_option(
    logged: list[str], args: list[str], option: str
) -> None:
    result = runner.invoke(cli, ["audit", "list", *args])
    assert result.exit_code == 2, result.output
    assert option in result.stderr


def test_the_target_filter_takes_type_and_id(components: Components) -> None:
    audit = AuditLog(components.store, FixedClock(START))
    revoked = audit.record(
        Entry(Action.SESSION_REVOKED, Outcome.SUCCESS, target_type="subject", target_id="sam")
    )
    audit.record(
        Entry(Action.SESSION_REVOKED, Outcome.SUCCESS, target_type="subject", target_id="alex")
    )
    assert [e["id"] for e in _json_lines(["--target", "subject:sam"])] == [revoked.id]


def test_sessions_revoke_is_recorded_with_no_actor_and_source_cli(
    components: Components,
) -> None:
    from wayline.identity.sessions import SessionPolicy, SessionService

    sessions = SessionService(components.store, FixedClock(datetime.now(UTC)), SessionPolicy())
    sessions.start(Principal.customer("alex", 1, datetime.now(UTC), "demo"))

    result = runner.invoke(cli, ["sessions", "revoke", "--customer", "alex"])

    assert result.exit_code == 0, result.output
    [entry] = _json_lines(["--action", "session_revoked"])
    assert entry["actor"] is None and entry["actor_kind"] is None
    assert (entry["target_type"], entry["target_id"]) == ("subject", "alex")
    assert entry["details"] == {"count": 1, "source": "cli"}


def test_list_needs_a_migrated_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLINE_HOME", str(tmp_path / "empty"))
    monkeypatch.setenv("WAYLINE_DATABASE_URL", f"sqlite:///{tmp_path}/empty.sqlite")
    result = runner.invoke(cli, ["audit", "list"])
    assert result.exit_code == 2
    assert "wayline migrate" in result.stderr
