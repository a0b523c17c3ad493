"""The operations commands (`wayline sessions revoke|purge`, `wayline effects list|retry`) need
only the database: run as an operator runs them, outside demo mode, with no partner
connectors, no scanner and no journey definitions, against a migrated SQLite database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from wayline.config import Settings
from wayline.identity.principal import Principal
from wayline.identity.sessions import SessionPolicy, SessionService
from wayline.runtime.clock import FixedClock, SystemClock
from wayline.store import Store, tables
from wayline.store.database import make_engine

WAYLINE = str(Path(sys.executable).with_name("wayline"))
NOW = datetime.now(UTC)


def _customer(subject: str) -> Principal:
    return Principal.customer(subject, 1, datetime(2020, 1, 1, tzinfo=UTC), "demo")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of an operator's shell: a home with its SQLite database, and nothing
    else of Wayline's (no demo mode, no connectors, no scanner; definitions nowhere)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WAYLINE_")}
    environment |= {
        "WAYLINE_HOME": str(tmp_path / "home"),
        "WAYLINE_JOURNEYS_DIR": str(tmp_path / "no-definitions-here"),
        "COLUMNS": "80",
    }
    return environment


@pytest.fixture
def store(env: dict[str, str]) -> Any:
    migrated = wayline(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    engine = make_engine(Settings(home=Path(env["WAYLINE_HOME"])).resolved_database_url())
    yield Store(engine)
    engine.dispose()


def wayline(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [WAYLINE, *args], capture_output=True, text=True, timeout=60, env=env, check=False
    )


def effect(store: Store, effect_id: str, status: str, error: str | None = None) -> None:
    with store.write() as connection:
        connection.execute(
            tables.effects.insert().values(
                id=effect_id,
                journey_id="01m8v3a1wjjourneyjourney00",
                kind="notify",
                key=f"notify:{effect_id}",
                params={},
                status=status,
                attempts=8,
                available_at=NOW,
                started_at=NOW - timedelta(hours=2),
                last_error=error,
                created_at=NOW,
                updated_at=NOW,
            )
        )


def status_of(store: Store, effect_id: str) -> str:
    with store.read() as connection:
        query = select(tables.effects.c.status).where(tables.effects.c.id == effect_id)
        return str(connection.execute(query).scalar_one())


def assert_no_wiring(result: subprocess.CompletedProcess[str]) -> None:
    """Nothing of what `serve` needs was looked for."""
    said = result.stdout + result.stderr
    assert "No partner connectors" not in said, said
    assert "malware scanner" not in said, said
    assert "definition" not in said.lower(), said


def test_sessions_commands_need_only_the_database(env: dict[str, str], store: Store) -> None:
    service = SessionService(store, SystemClock(), SessionPolicy())
    (
        service.start(_customer("alex")),
        service.start(_customer("alex")),
        service.start(_customer("sam")),
    )
    SessionService(store, FixedClock(datetime(2020, 1, 1, tzinfo=UTC)), SessionPolicy()).start(
        _customer("jordan")
    )

    revoked = wayline(env, "sessions", "revoke", "--customer", "alex")
    assert revoked.returncode == 0, revoked.stderr
    assert "2 session(s) ended." in revoked.stdout
    assert_no_wiring(revoked)

    purged = wayline(env, "sessions", "purge")
    assert purged.returncode == 0, purged.stderr
    assert "1 expired session(s) forgotten." in purged.stdout
    assert_no_wiring(purged)


def test_effects_commands_need_only_the_database(env: dict[str, str], store: Store) -> None:
    effect(store, "01m8v3a1wjdeaddeaddeaddead", "dead", "LookupError: no template")

    listed = wayline(env, "effects", "list")
    assert listed.returncode == 0, listed.stderr
    assert "01m8v3a1wjdeaddeaddeaddead" in listed.stdout
    assert_no_wiring(listed)

    retried = wayline(env, "effects", "retry")
    assert retried.returncode == 0, retried.stderr
    assert "1 effect(s) queued again." in retried.stdout
    assert status_of(store, "01m8v3a1wjdeaddeaddeaddead") == "pending"
    assert_no_wiring(retried)


def test_an_unmigrated_database_is_refused(env: dict[str, str]) -> None:
    for command in (["effects", "list"], ["sessions", "purge"]):
        result = wayline(env, *command)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "run `wayline migrate` first" in result.stderr


def test_effects_list_refuses_an_unknown_status_naming_the_valid_ones(
    env: dict[str, str], store: Store
) -> None:
    result = wayline(env, "effects", "list", "--status", "bogus")
    assert result.returncode == 2, result.stdout
    for status in ("pending", "running", "done", "dead"):
        assert status in result.stderr
    assert "bogus" in result.stderr
    pending = wayline(env, "effects", "list", "--status", "pending")
    assert pending.returncode == 0, pending.stderr


def test_effects_retry_of_an_id_that_is_not_dead_lettered_fails(
    env: dict[str, str], store: Store
) -> None:
    effect(store, "01m8v3a1wjpendingpendingpe", "pending")
    for unknown in ("nonexistent", "01m8v3a1wjpendingpendingpe"):
        result = wayline(env, "effects", "retry", unknown)
        assert result.returncode == 1, result.stdout
        assert f"No dead-lettered effect with id {unknown}" in result.stderr
        assert "queued again" not in result.stdout
    assert status_of(store, "01m8v3a1wjpendingpendingpe") == "pending"


def test_effects_list_shows_whole_ids_at_80_columns_to_paste_into_retry(
    env: dict[str, str], store: Store
) -> None:
    ids = ["01m8v3a1wjq4zr7k2n9x5b6c8d", "01m8v3a1wjq4zr7k2n9x5b6c8e"]
    for effect_id in ids:
        effect(store, effect_id, "dead", "still failing after the maximum age of 24 h; " * 4)

    listed = wayline(env, "effects", "list")
    assert listed.returncode == 0, listed.stderr
    assert max(len(line) for line in listed.stdout.splitlines()) <= 80
    # Whole ids, each on one line (a cut id reads `01m8v3a1wj…`; a folded one spans lines).
    shown = re.findall(r"\b01m8v3a1wj[0-9a-z]{16}\b", listed.stdout)
    assert set(ids) <= set(shown), listed.stdout

    retried = wayline(env, "effects", "retry", shown[0])
    assert retried.returncode == 0, retried.stderr
    assert "1 effect(s) queued again." in retried.stdout
    assert status_of(store, shown[0]) == "pending"
