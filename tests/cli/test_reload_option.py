"""The demo's --reload-journeys option and the setting it turns on for `wayline serve`."""

from __future__ import annotations

from typer.testing import CliRunner

from wayline.cli import app
from wayline.config import Settings

runner = CliRunner()


def test_the_demo_offers_reload_journeys():
    result = runner.invoke(app, ["demo", "--help"])
    assert result.exit_code == 0, result.output
    assert "--reload-journeys" in result.output


def test_serve_reloads_only_when_told(monkeypatch):
    monkeypatch.delenv("WAYLINE_RELOAD_JOURNEYS", raising=False)
    assert Settings().reload_journeys is False
    monkeypatch.setenv("WAYLINE_RELOAD_JOURNEYS", "true")
    assert Settings().reload_journeys is True
