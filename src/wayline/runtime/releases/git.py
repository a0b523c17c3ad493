"""The commit times of a journey's definition file, from `git log` (for DORA's lead time).
Without git, or outside a git repository, it says so instead of failing."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

GIT_TIMEOUT = 20.0


def definition_file(directory: Path, journey: str) -> Path | None:
    """The file that declares `journey` in the definitions folder (NAME.yaml by convention,
    else the first YAML file whose `journey:` line names it)."""
    for suffix in (".yaml", ".yml"):
        if (directory / f"{journey}{suffix}").is_file():
            return directory / f"{journey}{suffix}"
    for path in sorted(directory.glob("*.y*ml")):
        lines = path.read_text(errors="replace").splitlines()
        if any(line.strip() == f"journey: {journey}" for line in lines):
            return path
    return None


def commit_times(path: Path | None) -> list[datetime] | str:
    """When each commit that changed `path` was made, oldest first; or why none can be read."""
    if path is None:
        return "the journey's definition file is not in the definitions folder"
    git = shutil.which("git")
    if git is None:
        return "git is not installed"
    where = str(path.parent.resolve())
    inside = _run([git, "-C", where, "rev-parse", "--is-inside-work-tree"])
    if inside is None or inside.strip() != "true":
        return "not in a git repository"
    found = _run([git, "-C", where, "log", "--format=%ct", "--", path.name])
    if found is None:
        return "git log failed"
    times = [datetime.fromtimestamp(int(line), UTC) for line in found.split() if line.isdigit()]
    return sorted(times)


def _run(command: list[str]) -> str | None:
    try:
        done = subprocess.run(  # noqa: S603 - a fixed git command; the path is an argument
            command, capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None
