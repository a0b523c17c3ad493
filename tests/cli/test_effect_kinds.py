"""A journey cannot queue work nothing would run: an effect kind no handler knows fails
`wayline journeys validate` with its file and line, and the server refuses to start."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wayline.cli import app
from wayline.runtime.effects import KINDS

ROOT = Path(__file__).resolve().parents[2]
WAYLINE = str(Path(sys.executable).with_name("wayline"))
runner = CliRunner()
TYPO = "run_check"


@pytest.fixture
def misspelt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, int]:
    """The shipped journeys with one effect kind misspelt, and the line it is on."""
    folder = tmp_path / "journeys"
    shutil.copytree(ROOT / "journeys", folder)
    path = folder / "motor-claim.yaml"
    text = path.read_text().replace("kind: run_checks\n", f"kind: {TYPO}\n", 1)
    path.write_text(text)
    line = next(n for n, content in enumerate(text.splitlines(), 1) if TYPO in content)
    monkeypatch.setenv("WAYLINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WAYLINE_JOURNEYS_DIR", str(folder))
    return folder, line


def test_the_handlers_registry_knows_every_kind_the_shipped_journeys_use():
    assert {"notify", "run_checks", "call", "deadline"} <= KINDS
    # Payouts and bookings are partner calls now, not kinds of their own.
    assert not {"payout", "book_repairer"} & KINDS


def test_validate_names_the_file_and_line_of_an_effect_kind_no_handler_runs(misspelt):
    folder, line = misspelt
    result = runner.invoke(app, ["journeys", "validate", str(folder)])
    assert result.exit_code == 1, result.output
    assert f"journeys/motor-claim.yaml:{line}: no handler runs effects of kind '{TYPO}'" in (
        result.output
    )
    assert "(known: deadline, notify, run_checks)" in result.output


def test_validate_names_the_line_of_a_call_to_an_operation_no_partner_declares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    folder = tmp_path / "journeys"
    shutil.copytree(ROOT / "journeys", folder)
    path = folder / "motor-claim.yaml"
    text = path.read_text().replace(
        "call: repairer_network.book_repair\n", "call: repairer_network.book_repairs\n", 1
    )
    path.write_text(text)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "book_repairs" in t)
    monkeypatch.setenv("WAYLINE_HOME", str(tmp_path / "home"))
    result = runner.invoke(app, ["journeys", "validate", str(folder)])
    assert result.exit_code == 1, result.output
    assert (
        f"journeys/motor-claim.yaml:{line}: no partner operation 'repairer_network.book_repairs'"
        in result.output
    )


def test_serve_refuses_to_start_with_an_effect_kind_no_handler_runs(misspelt):
    _, line = misspelt
    result = subprocess.run(
        [WAYLINE, "serve", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"journeys/motor-claim.yaml:{line}: no handler runs effects of kind '{TYPO}'" in (
        result.stderr
    )
