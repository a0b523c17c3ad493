"""Fixtures for the upload pipeline tests: the integration tests' own (each test on SQLite and
on the real PostgreSQL, a fresh database each time, customers signed in through the API), and
the files the tests make."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

INTEGRATION = Path(__file__).resolve().parents[1] / "integration"
sys.path.insert(0, str(INTEGRATION))
sys.path.insert(0, str(Path(__file__).resolve().parent))

_spec = importlib.util.spec_from_file_location("integration_fixtures", INTEGRATION / "conftest.py")
assert _spec is not None and _spec.loader is not None
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)

from document_files import decompression_bomb_png  # noqa: E402
from journey_api import through_incident  # noqa: E402

is_postgres = _fixtures.is_postgres
make_settings = _fixtures.make_settings
make_components = _fixtures.make_components
components = _fixtures.components
app = _fixtures.app
client = _fixtures.client
sign_in = _fixtures.sign_in
alex = _fixtures.alex
sam = _fixtures.sam


@pytest.fixture(scope="session")
def bomb_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 14000×14000 RGB PNG of about 600 KB: 588 MB of pixels once decoded."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.png"
    path.write_bytes(decompression_bomb_png(14000, 14000))
    return path


@pytest.fixture
def photos_step(alex: Any) -> dict[str, Any]:
    """Alex's claim at the photos step (a glass claim: photos are asked for)."""
    return through_incident(alex, "glass")
