"""`wayline insights ingest` and `wayline insights export --parquet DIR` against the app's
database (SQLite only here: the PostgreSQL source is covered by the integration tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from wayline.bootstrap import Components, build
from wayline.cli import app as cli
from wayline.config import Settings
from wayline.journeys.engine import InvalidAnswers
from wayline.sandbox.wiring import demo_options

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture
def components(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Components]:
    monkeypatch.setenv("WAYLINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WAYLINE_JOURNEYS_DIR", str(ROOT / "journeys"))
    built = build(Settings(), migrate=True, **demo_options())
    yield built
    built.store.engine.dispose()


def test_ingest_then_export(components: Components, tmp_path: Path) -> None:
    journey = components.commands.start("alex", "motor-claim")
    with pytest.raises(InvalidAnswers):  # recorded as answers.refused all the same
        components.commands.submit_step(
            "alex", journey.journey_id, "policy", {"policy_number": ""}, journey.revision
        )
    first = runner.invoke(cli, ["insights", "ingest"])
    assert first.exit_code == 0, first.output
    assert "3 new events" in first.output  # started, its experiment arm, the refused step
    again = runner.invoke(cli, ["insights", "ingest"])
    assert again.exit_code == 0 and "0 new events" in again.output

    out = tmp_path / "parquet"
    exported = runner.invoke(cli, ["insights", "export", "--parquet", str(out)])
    assert exported.exit_code == 0, exported.output
    errors = duckdb.sql(f"SELECT field, message FROM '{out / 'field_errors.parquet'}'").fetchall()
    assert errors == [("policy_number", "Select the car the claim is for")]
    assert (out / "funnel.parquet").exists() and (out / "timings.parquet").exists()


def test_export_refuses_a_date_that_is_not_real(components: Components, tmp_path: Path) -> None:
    refused = runner.invoke(
        cli, ["insights", "export", "--parquet", str(tmp_path), "--since", "2026-02-30"]
    )
    assert refused.exit_code == 2
    assert "From must be a real date" in refused.output
