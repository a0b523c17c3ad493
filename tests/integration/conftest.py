"""Fixtures for the integration tests: every test that touches a database runs on SQLite (a
file in tmp_path) and on the machine's real PostgreSQL, each test in a fresh database.

PostgreSQL comes from WAYLINE_TEST_POSTGRES_URL (.ci/run sets it). When the variable is unset,
a local server at postgresql://postgres@127.0.0.1:5432/test is used if it answers; if it does
not, the PostgreSQL half is skipped, except under CI (CI set), where it fails the run. A set
variable that points at an unreachable server always fails the run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from journey_api import JOURNEYS_DIR, Api
from logging_kit import production_logging

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.sandbox.wiring import demo_options
from wayline.web.app import create_app


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The integration tests start from a migrated database (a copy, see tests/conftest.py),
    except those marked `empty_database`, which migrate it themselves step by step."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here) and not item.get_closest_marker("empty_database"):
            item.add_marker(pytest.mark.migrated_database)


@pytest.fixture
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "home": tmp_path / "home",
            "database_url": database_url,
            "demo": True,
            "secret_key": "test",
            "journeys_dir": JOURNEYS_DIR,
            # One TestClient makes many requests: limits are on only in the tests of limits.
            "rate_limits": False,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def make_components(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., Components]]:
    """Build the application's parts (more than once, to play a restart or a new deployment)."""
    built: list[Components] = []

    def make(**overrides: Any) -> Components:
        components = build(make_settings(**overrides), migrate=True, **demo_options())
        built.append(components)
        return components

    yield make
    for components in built:
        components.store.engine.dispose()


@pytest.fixture
def components(make_components: Callable[..., Components]) -> Components:
    return make_components()


@pytest.fixture
def app(components: Components) -> Any:
    return create_app(components)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    """Nobody signed in."""
    with TestClient(app) as http:
        yield http


@pytest.fixture
def sign_in(app: Any) -> Iterator[Callable[..., Api]]:
    """sign_in("alex") → an Api with its own TestClient, so each customer has their own cookie.
    Pass app= to sign in to another application (a restart, a new deployment)."""
    opened: list[TestClient] = []

    def make(customer: str, app: Any = app, raise_server_exceptions: bool = True) -> Api:
        http = TestClient(app, raise_server_exceptions=raise_server_exceptions)
        opened.append(http)
        return Api(http).sign_in(customer)

    yield make
    for http in opened:
        http.close()


@pytest.fixture
def alex(sign_in: Callable[..., Api]) -> Api:
    return sign_in("alex")


@pytest.fixture
def sam(sign_in: Callable[..., Api]) -> Api:
    return sign_in("sam")


@pytest.fixture
def jordan(sign_in: Callable[..., Api]) -> Api:
    return sign_in("jordan")


@pytest.fixture
def production_logs(capfd: pytest.CaptureFixture[str]) -> Iterator[None]:
    """Wayline logs as in production (JSON, every level, to standard output, which `capfd`
    captures) for the test: what a canary test searches."""
    with production_logging():
        yield
