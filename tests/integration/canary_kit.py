"""Canaries: distinctive values typed into a journey's classified fields, then looked for
everywhere Wayline keeps or says something. Found nowhere: not in any column of any table read
back raw (sealed values unopened), not in SQLite's own files, not in any file under the data
folder (WAYLINE_HOME), not in what was logged. A search that can find nothing proves nothing,
so `assert_nothing_at_rest` also asks for a plain internal value it knows is stored.

Shared by the data-protection canary test (the motor claim) and each shipped journey's own
integration tests."""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterable
from pathlib import Path

import pytest
from sqlalchemy import select

from wayline.bootstrap import Components
from wayline.store import tables
from wayline.store.codec import PLAIN


def hits(canaries: Iterable[str], blob: bytes) -> list[str]:
    """The canaries found in `blob`, as UTF-8 bytes."""
    return [canary for canary in canaries if canary.encode() in blob]


def everything_stored(components: Components) -> bytes:
    """Every column of every table, as the database hands it back (sealed values unopened)."""
    out = io.StringIO()
    with components.store.engine.connect() as connection:
        for table in tables.metadata.sorted_tables:
            for row in connection.execute(select(table)).all():
                out.write(repr(tuple(row)))
    return out.getvalue().encode()


def where_stored(components: Components, canaries: Iterable[str]) -> list[tuple[str, str, str]]:
    """(table, column, canary) for each column of each table holding a canary."""
    canaries = list(canaries)
    found = set()
    with components.store.engine.connect() as connection:
        for table in tables.metadata.sorted_tables:
            for row in connection.execute(select(table)).all():
                for column, value in row._mapping.items():
                    for canary in hits(canaries, repr(value).encode()):
                        found.add((table.name, str(column), canary))
    return sorted(found)


def sqlite_files(components: Components) -> list[Path]:
    """SQLite's database file, its WAL and shared-memory index; none on PostgreSQL."""
    url = components.store.engine.url
    if not url.drivername.startswith("sqlite"):
        return []
    database = Path(url.database or "")
    return sorted(database.parent.glob(database.name + "*"))


def assert_sealing_on(components: Components) -> None:
    """Field encryption is on: a canary test of a system that stores in clear proves nothing."""
    assert components.settings.key_provider != "none", "field encryption is off"
    assert components.store.codec is not PLAIN, "the store does not seal"


def assert_nothing_at_rest(
    components: Components, canaries: Iterable[str], *, known: Iterable[str]
) -> bytes:
    """No canary in any table (rows read back raw) nor in SQLite's files (0600 each), and
    every `known` value (plain, internal, stored) found: the search can fail. Returns what the
    tables hold, for a test to look further."""
    canaries, known = list(canaries), list(known)
    stored = everything_stored(components)
    if hits(canaries, stored):
        raise AssertionError(f"stored in clear: {where_stored(components, canaries)}")
    for value in known:
        assert value.encode() in stored, f"the search does not find {value!r}, known stored"
    files = sqlite_files(components)
    for path in files:
        found = hits(canaries, path.read_bytes())
        assert found == [], f"{path} holds {found}"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    if files:  # the file, its WAL and index, read whole: the known values are in them too
        raw = b"".join(path.read_bytes() for path in files)
        for value in known:
            assert value.encode() in raw, f"SQLite's files do not hold {value!r}"
    return stored


def assert_home_clean_and_private(
    home: Path, canaries: Iterable[str], *, not_ours: Iterable[Path] = ()
) -> list[Path]:
    """No canary in any file under the data folder; every folder 0700 and file 0600 (but
    `not_ours`: files a test put there itself before Wayline started). Returns the files."""
    canaries = list(canaries)
    theirs = {Path(path) for path in not_ours}
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700, f"{home} is not 0700"
    files = []
    for path in sorted(home.rglob("*")):
        if path.is_file():
            files.append(path)
            found = hits(canaries, path.read_bytes())
            assert found == [], f"{path} holds {found}"
        if path in theirs:
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path} is {oct(mode)}"
    return files


def assert_logs_clean(
    capfd: pytest.CaptureFixture[str], canaries: Iterable[str], *, known: Iterable[str] = ()
) -> str:
    """Nothing written to stdout or stderr (where the logs go) holds a canary, and every
    `known` value (an id the logs name) is there: they were captured. Returns the logs."""
    captured = capfd.readouterr()
    logged = captured.out + captured.err
    found = hits(canaries, logged.encode())
    assert found == [], f"logged: {found}"
    for value in known:
        assert value in logged, f"the logs do not name {value!r}: were they captured?"
    return logged
