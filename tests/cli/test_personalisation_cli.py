"""`wayline journeys show --segment/--variant` and what `journeys validate` refuses of
personalisation and models, as a journey team meets them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wayline.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("WAYLINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WAYLINE_JOURNEYS_DIR", str(ROOT / "journeys"))
    return tmp_path


def test_show_a_journey_as_a_segment_sees_it(env):
    result = runner.invoke(
        app, ["journeys", "show", "account-opening", "--segment", "high_value_investor"]
    )
    assert result.exit_code == 0, result.output
    assert "Variants applied: premier-first" in result.output
    shown = result.output[result.output.index("[choose-account]") :]
    options = [line.strip() for line in shown.splitlines() if line.strip().startswith("( )")]
    assert options[0].startswith("( ) Premier account")
    assert "Recommended for you" in shown


def test_show_an_experiment_s_variant_and_the_journey_as_it_is(env):
    as_it_is = runner.invoke(app, ["journeys", "show", "motor-claim", "--segment", "nobody"])
    assert as_it_is.exit_code == 1
    assert "has no segment or variant nobody" in as_it_is.output
    varied = runner.invoke(app, ["journeys", "show", "motor-claim", "--variant", "photo-examples"])
    assert varied.exit_code == 0, varied.output
    assert "The photos that help us most" in varied.output
    plain = runner.invoke(app, ["journeys", "show", "motor-claim"])
    assert plain.output.startswith("flowchart") and "photos that help" not in plain.output


def copied_journeys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "journeys"
    shutil.copytree(ROOT / "journeys", folder)
    monkeypatch.setenv("WAYLINE_JOURNEYS_DIR", str(folder))
    return folder


FULL = "  may_use: [public, internal, personal, financial, sensitive]\n"


def validated_with(env: Path, monkeypatch: pytest.MonkeyPatch, journey: str, old: str, new: str):
    """`journeys validate` over a copy of the journeys with one definition's text changed."""
    folder = copied_journeys(env, monkeypatch)
    path = folder / f"{journey}.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return runner.invoke(app, ["journeys", "validate"])


def test_validate_refuses_a_segment_reading_what_the_journey_may_not_use(env, monkeypatch):
    narrower = "  may_use: [public, internal, personal, financial]\n"
    result = validated_with(env, monkeypatch, "investment-cashout", FULL, narrower)
    assert result.exit_code == 1
    assert "segment 'possibly_vulnerable' reads core_banking_customer_profile" in result.output
    assert "which is sensitive" in result.output


def test_validate_refuses_a_model_feature_the_journey_may_not_use(env, monkeypatch):
    narrower = "  may_use: [public, internal, personal]\n"
    result = validated_with(env, monkeypatch, "motor-claim", FULL, narrower)
    assert result.exit_code == 1
    assert "claim-triage 1's feature 'estimate_vs_typical' is financial" in result.output
    assert "claim-triage 1's feature 'injuries' is sensitive" in result.output


def test_validate_refuses_a_model_version_that_does_not_exist(env, monkeypatch):
    result = validated_with(
        env, monkeypatch, "motor-claim", "      version: 1\n", "      version: 7\n"
    )
    assert result.exit_code == 1
    assert "claim-triage has no version 7 (it has: 1)" in result.output
