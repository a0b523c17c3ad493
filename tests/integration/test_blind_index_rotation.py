"""Blind indexes under a key that rotates, on SQLite and PostgreSQL, over the visitors' real
email verification: a verified address is kept sealed with its blind index beside it; a new
index key recomputes every stored index (in batches, resumable); codes asked for and locks
made under the old key still count until they end; the old key can be retired only once
nothing that still counts was made with it; and `wayline keys` drives it all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from test_visitors import (  # the visitors' fixtures and helpers, on this module's settings
    app,
    ask_code,
    browser,
    clock,
    give_code,
    last_code,
    new_email,
    sandbox,
    start,
    system,
    verified,
    wrong,
)
from typer.testing import CliRunner

from wayline.bootstrap import Components
from wayline.cli import app as cli
from wayline.config import Settings
from wayline.protection.blind_index import version_of
from wayline.protection.keys import DataKeys, KeyInUse, Progress
from wayline.protection.reindex import (
    index_use,
    journeys_of_email,
    retire_index,
    rotate_index,
)
from wayline.store import tables

__all__ = ["app", "browser", "clock", "sandbox", "system"]  # fixtures, used by name


@pytest.fixture
def make_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    """Index keys read again on every look-up: a new key counts at once in this process."""
    return lambda **overrides: make_settings(**{"key_cache_seconds": 0, **overrides})


def keys_of(system: Components) -> DataKeys:
    keys = system.data_keys
    assert keys is not None, "values are sealed in these tests"
    return keys


def on_the_same_deployment(system: Components, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line's settings: this system's data folder, database and journeys."""
    settings = system.settings
    monkeypatch.setenv("WAYLINE_HOME", str(settings.home))
    monkeypatch.setenv("WAYLINE_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("WAYLINE_JOURNEYS_DIR", str(settings.journeys_dir))


def stored(system: Components) -> dict[str, Any]:
    with system.store.engine.connect() as connection:
        rows = connection.execute(select(tables.journey_emails)).all()
    return {row.journey_id: row for row in rows}


def test_a_new_index_key_recomputes_every_index_and_look_ups_go_on(
    system: Components, browser: Any, sandbox: Any
) -> None:
    keys = keys_of(system)
    verified_ones = []
    for _ in range(3):
        visitor, email = browser(), new_email()
        journey = start(visitor)
        verified(visitor, sandbox, journey["id"], email)
        verified_ones.append((journey["id"], email))
    # A code asked for before the rotation, checked after it.
    waiting, waiting_email = browser(), new_email()
    pending = start(waiting)
    assert ask_code(waiting, pending["id"], waiting_email).status_code == 202
    code = last_code(sandbox, waiting_email)
    # An address locked before the rotation.
    locked, locked_email = browser(), new_email()
    held = start(locked)
    ask_code(locked, held["id"], locked_email)
    for _ in range(5):
        give_code(locked, held["id"], locked_email, wrong(last_code(sandbox, locked_email)))

    before = stored(system)
    for journey_id, email in verified_ones:
        row = before[journey_id]
        assert version_of(row.email_hash) == 1
        assert email not in row.email and email not in row.email_hash  # sealed, and hashed

    seen: list[Progress] = []
    done = rotate_index(system.store, keys, batch=2, on_batch=seen.append)
    assert done.done == 3
    assert [(p.done, p.left) for p in seen] == [(2, 1), (3, 0)]
    after = stored(system)
    for journey_id, _ in verified_ones:
        assert version_of(after[journey_id].email_hash) == 2
        assert after[journey_id].email_hash != before[journey_id].email_hash
        assert after[journey_id].email == before[journey_id].email  # the sealed value stays

    # The code made under key 1 still verifies; the lock made under key 1 still holds.
    assert give_code(waiting, pending["id"], waiting_email, code).status_code == 200
    other = browser()
    assert ask_code(other, start(other)["id"], locked_email).status_code == 429
    # The newly verified address is indexed under key 2.
    assert version_of(stored(system)[pending["id"]].email_hash) == 2


def test_an_interrupted_recompute_resumes_where_it_stopped(
    system: Components, browser: Any, sandbox: Any
) -> None:
    keys = keys_of(system)
    for _ in range(3):
        visitor = browser()
        verified(visitor, sandbox, start(visitor)["id"], new_email())

    class Crash(Exception):
        pass

    def crash(progress: Progress) -> None:
        raise Crash

    with pytest.raises(Crash):
        rotate_index(system.store, keys, batch=1, on_batch=crash)
    versions = sorted(version_of(row.email_hash) or 0 for row in stored(system).values())
    assert versions == [1, 1, 2]  # one batch committed before the crash
    assert rotate_index(system.store, keys, resume=True).done == 2
    assert {version_of(row.email_hash) for row in stored(system).values()} == {2}


def test_an_old_index_key_is_retired_only_once_nothing_uses_it(
    system: Components, browser: Any, sandbox: Any, clock: Any
) -> None:
    keys = keys_of(system)
    visitor = browser()
    verified(visitor, sandbox, start(visitor)["id"], new_email())
    asking = browser()
    ask_code(asking, start(asking)["id"], new_email())  # a live code under key 1
    with pytest.raises(KeyInUse, match="current"):
        retire_index(system.store, keys, 1, clock.now())

    rotate_index(system.store, keys)
    assert index_use(system.store, keys, clock.now()) == {1: 1, 2: 1}  # the code, the email
    with pytest.raises(KeyInUse, match="still made 1"):
        retire_index(system.store, keys, 1, clock.now())
    clock.advance(timedelta(minutes=11))  # the code has expired
    retire_index(system.store, keys, 1, clock.now())
    assert index_use(system.store, keys, clock.now()) == {2: 1}
    with system.store.engine.connect() as connection:
        assert connection.execute(select(tables.email_codes)).all() == []
    with pytest.raises(KeyInUse, match="no index key 1"):
        retire_index(system.store, keys, 1, clock.now())


def test_indexes_made_before_key_versions_are_recomputed(
    system: Components, browser: Any, sandbox: Any
) -> None:
    visitor = browser()
    journey = start(visitor)
    verified(visitor, sandbox, journey["id"], new_email())
    with system.store.engine.begin() as connection:  # as an earlier release stored it
        connection.execute(update(tables.journey_emails).values(email_hash="ab" * 32))
    keys = keys_of(system)
    assert index_use(system.store, keys, system.clock.now())[None] == 1
    assert rotate_index(system.store, keys, resume=True).done == 1
    assert version_of(stored(system)[journey["id"]].email_hash) == 1


def test_the_command_line_rotates_shows_and_retires_index_keys(
    system: Components, browser: Any, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_the_same_deployment(system, monkeypatch)
    visitor = browser()
    verified(visitor, sandbox, start(visitor)["id"], new_email())
    runner = CliRunner()

    rotated = runner.invoke(cli, ["keys", "rotate-index", "--batch", "1"])
    assert rotated.exit_code == 0, rotated.output
    assert "1 indexes now made with index key 2" in rotated.output
    status = runner.invoke(cli, ["keys", "status"])
    assert status.exit_code == 0, status.output
    assert "index key" in status.output
    retired = runner.invoke(cli, ["keys", "retire-index", "1"])
    assert retired.exit_code == 0, retired.output
    refused = runner.invoke(cli, ["keys", "retire-index", "2"])
    assert refused.exit_code == 1 and "current" in refused.output


def test_a_person_s_journeys_are_found_by_their_address_across_index_keys(
    system: Components, browser: Any, sandbox: Any
) -> None:
    keys = keys_of(system)
    email = new_email()
    first = browser()
    before = start(first)
    verified(first, sandbox, before["id"], email)
    other = browser()
    verified(other, sandbox, start(other)["id"], new_email())  # someone else
    rotate_index(system.store, keys)
    second = browser()
    after = start(second)
    verified(second, sandbox, after["id"], email)  # the same address, under the new key

    found = journeys_of_email(system.store, keys, email)
    assert [journey.journey_id for journey in found] == [before["id"], after["id"]]
    assert all(journey.owner.startswith("visitor-") for journey in found)
    assert journeys_of_email(system.store, keys, new_email()) == []


def test_the_command_line_finds_journeys_by_address(
    system: Components, browser: Any, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_the_same_deployment(system, monkeypatch)
    email = new_email()
    visitor = browser()
    journey = start(visitor)
    verified(visitor, sandbox, journey["id"], email)
    runner = CliRunner()

    found = runner.invoke(cli, ["subject", "find", "--email", f"  {email.upper()} "])
    assert found.exit_code == 0, found.output
    assert journey["id"] in found.output
    none = runner.invoke(cli, ["subject", "find", "--email", new_email()])
    assert none.exit_code == 0 and "No journey" in none.output
    bad = runner.invoke(cli, ["subject", "find", "--email", "not an address"])
    assert bad.exit_code == 2
