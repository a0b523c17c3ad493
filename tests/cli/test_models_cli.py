"""`wayline models`: training through the command line reproduces the committed version 1
byte for byte; list, show and drift read it; drift exits 1 with a warning only above the
threshold; and `wayline --help` does not import scikit-learn."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wayline.cli import app as cli
from wayline.models import card as read_card
from wayline.sandbox.claim_training import claim_history

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"
runner = CliRunner()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A models root holding only the claim-triage spec."""
    (tmp_path / "claim-triage").mkdir()
    shutil.copy(MODELS / "claim-triage" / "spec.yaml", tmp_path / "claim-triage" / "spec.yaml")
    return tmp_path


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_training_again_gives_the_committed_model_file_byte_for_byte(root: Path) -> None:
    committed = read_card(MODELS, "claim-triage", 1)
    args = ["models", "train", "claim-triage", "--root", str(root), "--version", "1"]
    result = runner.invoke(cli, [*args, "--seed", str(committed.data.seed)])
    assert result.exit_code == 0, result.output
    assert "Trained claim-triage version 1" in result.output
    retrained = read_card(root, "claim-triage", 1)
    libraries = (committed.estimator.libraries, retrained.estimator.libraries)
    assert libraries[0] == libraries[1], f"library versions differ, retrain: {libraries}"
    new = (root / "claim-triage" / "1" / "model.skops").read_bytes()
    assert new == (MODELS / "claim-triage" / "1" / "model.skops").read_bytes()
    assert retrained.metrics == committed.metrics


def test_train_numbers_versions_and_never_overwrites_one(root: Path) -> None:
    base = ["models", "train", "claim-triage", "--root", str(root), "--rows", "600"]
    assert runner.invoke(cli, base).exit_code == 0
    second = runner.invoke(cli, [*base, "--seed", "2", "--date", "2026-01-02"])
    assert second.exit_code == 0, second.output
    assert "Trained claim-triage version 2" in second.output
    first_bytes = (root / "claim-triage" / "1" / "model.skops").read_bytes()
    assert first_bytes != (root / "claim-triage" / "2" / "model.skops").read_bytes()
    again = runner.invoke(cli, [*base, "--version", "1"])
    assert again.exit_code == 2 and "never overwritten" in again.output
    assert (root / "claim-triage" / "1" / "model.skops").read_bytes() == first_bytes

    listed = runner.invoke(cli, ["models", "list", "--root", str(root)])
    assert listed.exit_code == 0 and "1, 2" in listed.output and "2026-01-02" in listed.output


def test_train_on_a_jsonl_file(root: Path, tmp_path: Path) -> None:
    data = _jsonl(tmp_path / "rows.jsonl", claim_history(600, seed=5))
    args = ["models", "train", "claim-triage", "--root", str(root), "--data", str(data)]
    assert runner.invoke(cli, args).exit_code == 0
    assert read_card(root, "claim-triage").data.source == "rows.jsonl (JSONL)"


def test_show_prints_the_card_and_refuses_an_unknown_version() -> None:
    shown = runner.invoke(cli, ["models", "show", "claim-triage", "--root", str(MODELS)])
    assert shown.exit_code == 0, shown.output
    for part in (
        "# claim-triage, version 1",
        "ROC AUC",
        "## Scores by segment",
        "possibly_vulnerable",
    ):
        assert part in shown.output
    as_json = runner.invoke(
        cli, ["models", "show", "claim-triage", "--root", str(MODELS), "--json"]
    )
    assert json.loads(as_json.output)["version"] == 1
    missing = runner.invoke(
        cli, ["models", "show", "claim-triage", "--root", str(MODELS), "--version", "9"]
    )
    assert missing.exit_code == 2 and "no version 9" in missing.output


def test_drift_passes_on_alike_rows_and_warns_on_shifted_ones(tmp_path: Path) -> None:
    alike = claim_history(3000, seed=21)
    args = ["models", "drift", "claim-triage", "--root", str(MODELS), "--features"]
    calm = runner.invoke(cli, [*args, str(_jsonl(tmp_path / "alike.jsonl", alike))])
    assert calm.exit_code == 0, calm.output
    assert "drift above" in calm.output and "Warning" not in calm.output

    shifted = [
        {
            **row,
            "estimate_vs_typical": None
            if row["estimate_vs_typical"] is None
            else row["estimate_vs_typical"] * 3,
        }
        for row in alike
    ]
    warned = runner.invoke(cli, [*args, str(_jsonl(tmp_path / "shifted.jsonl", shifted))])
    assert warned.exit_code == 1
    assert "Warning" in warned.output and "estimate_vs_typical (PSI" in warned.output
    assert "incident_type (PSI" not in warned.output


def test_help_does_not_import_scikit_learn() -> None:
    probe = (
        "import sys\n"
        "from wayline.cli import app\n"
        "print(sorted(m for m in ('sklearn', 'skops', 'shap') if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"
