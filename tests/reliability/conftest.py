"""Fixtures for the reliability tests: the six partner simulators on free loopback ports (fresh
for each test, so their ledgers start empty), a database for each test (a SQLite file, and the
machine's real PostgreSQL), and the application wired to both.

PostgreSQL comes from WAYLINE_TEST_POSTGRES_URL, as in tests/integration: when the variable is
unset, a local server at postgresql://postgres@127.0.0.1:5432/test is used if it answers; if
not, the PostgreSQL tests are skipped, except under CI, where that fails the run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from reliability_kit import JOURNEYS_DIR, connectors_file

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.sandbox.server import Sandbox
from wayline.sandbox.wiring import demo_options


@pytest.fixture(autouse=True, scope="session")
def _quiet_logs() -> Iterator[None]:
    # Every partner call logs a line; thousands of them only slow the suite down.
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    yield
    structlog.configure(**saved)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    folder = tmp_path / "db"
    folder.mkdir()
    return f"sqlite:///{folder / 'wayline.db'}"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """The partner simulators, real HTTP servers on free loopback ports, with no faults."""
    running = Sandbox().start()
    yield running
    running.stop()


@pytest.fixture
def connectors(tmp_path: Path, sandbox: Sandbox) -> Path:
    """connectors.yaml pointing at the sandbox, with quick retries and breaker."""
    return connectors_file(tmp_path / "config", sandbox.urls())


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def make_components(home: Path, connectors: Path) -> Iterator[Callable[..., Components]]:
    """make_components(database_url) → the application's parts, on the sandbox partners."""
    built: list[Components] = []

    def make(database_url: str, **overrides: Any) -> Components:
        values: dict[str, Any] = {
            "home": home,
            "database_url": database_url,
            "demo": True,
            "secret_key": "reliability",
            "journeys_dir": JOURNEYS_DIR,
            "connectors": connectors,
            "rate_limits": False,
        }
        values.update(overrides)
        components = build(
            Settings(**values), migrate=True, **demo_options(in_process_sources=False)
        )
        built.append(components)
        return components

    yield make
    for components in built:
        if components.partners is not None:
            components.partners.close()
        components.store.engine.dispose()
