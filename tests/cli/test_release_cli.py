"""The release commands on a real database: `release start --file` keeps the branch's version
and releases it, `release status` shows the strategy's progress, `release rollback` ends it,
and `dora` prints the four metrics, with the lead time from git when the definitions are in a
repository and saying so when they are not."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wayline.bootstrap import build
from wayline.cli import app as cli
from wayline.config import Settings
from wayline.sandbox.wiring import demo_options

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
runner = CliRunner()
METRICS = (
    "deployment frequency",
    "lead time for changes",
    "change failure rate",
    "time to restore",
)


def _git(folder: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True, env=env)


@pytest.fixture
def journeys(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A definitions folder, the database the commands read, migrated with its versions."""
    folder = tmp_path / "journeys"
    shutil.copytree(ROOT / "journeys", folder)
    for name, value in {
        "WAYLINE_HOME": str(tmp_path / "home"),
        "WAYLINE_DATABASE_URL": database_url,
        "WAYLINE_JOURNEYS_DIR": str(folder),
        "WAYLINE_DEMO": "true",
        "WAYLINE_SECRET_KEY": "test",
    }.items():
        monkeypatch.setenv(name, value)
    build(Settings(), migrate=True, **demo_options()).store.engine.dispose()
    return folder


def _branch(folder: Path) -> Path:
    branch = folder.parent / "branch"
    shutil.copytree(folder, branch)
    path = branch / "motor-claim.yaml"
    path.write_text(
        path.read_text().replace("title: Make a car insurance claim", "title: Claim", 1)
    )
    return path


def test_start_status_rollback_and_dora(journeys: Path) -> None:
    bad = runner.invoke(
        cli, ["release", "start", "motor-claim", "--version", "zz", "--strategy", "nope"]
    )
    assert bad.exit_code == 2 and "--strategy" in bad.output

    started = runner.invoke(
        cli, ["release", "start", "motor-claim", "--file", str(_branch(journeys)), "--canary", "20"]
    )
    assert started.exit_code == 0, started.output
    assert "to 20% of new journeys" in started.output

    status = runner.invoke(cli, ["release", "status", "motor-claim"])
    assert status.exit_code == 0, status.output
    assert "running at 20% (20% → 50% → 100%)" in status.output
    assert "stage 1 of 3" in status.output and "not judged yet" in status.output

    rolled = runner.invoke(cli, ["release", "rollback", "motor-claim"])
    assert rolled.exit_code == 0 and "rolled back" in rolled.output
    again = runner.invoke(cli, ["release", "rollback", "motor-claim"])
    assert again.exit_code == 1 and "no open release" in again.output

    dora = runner.invoke(cli, ["dora", "--journey", "motor-claim"])
    assert dora.exit_code == 0, dora.output
    assert all(metric in dora.output for metric in METRICS)
    assert "100%" in dora.output  # one release, rolled back
    assert "not in a git repository" in dora.output

    # In a repository, the lead time is read from the file's commits.
    _git(journeys, "init", "-q")
    _git(journeys, "add", ".")
    _git(journeys, "commit", "-q", "-m", "journeys", "--date", "2026-01-01T00:00:00Z")
    dated = runner.invoke(cli, ["dora", "--journey", "motor-claim"])
    assert dated.exit_code == 0, dated.output
    assert "not in a git repository" not in dated.output
