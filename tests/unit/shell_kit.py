"""The application's parts on a SQLite file, for unit tests of the shell around the engine
(the unit of work, partner data, the guard): real transactions, sources the test controls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from wayline import guards
from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.connectors.sources import DataSource
from wayline.sandbox.sources import demo_sources

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"


class Recording:
    """A data source that answers like another, and notes for each fetch whether a database
    transaction was open in the thread that asked."""

    def __init__(self, name: str, inner: DataSource, log: list[tuple[str, bool]]):
        self.name = name
        self.inner = inner
        self.log = log

    def fetch(self, customer_id: str, params: dict[str, Any], today: date) -> dict[str, Any]:
        self.log.append((self.name, guards.in_transaction()))
        return self.inner.fetch(customer_id, params, today)


def recorded_sources(log: list[tuple[str, bool]]) -> dict[str, DataSource]:
    """The demo dataset's sources, each recording its fetches in `log`."""
    return {name: Recording(name, source, log) for name, source in demo_sources().items()}


def components(tmp_path: Path, sources: dict[str, DataSource]) -> Components:
    settings = Settings(
        home=tmp_path / "home",
        database_url=f"sqlite:///{tmp_path / 'wayline.db'}",
        journeys_dir=JOURNEYS,
        secret_key="test",
    )
    return build(settings, migrate=True, sources=sources)


def with_components(
    tmp_path: Path, sources: dict[str, DataSource], test: Callable[[Components], None]
) -> None:
    built = components(tmp_path, sources)
    try:
        test(built)
    finally:
        built.store.dispose()
