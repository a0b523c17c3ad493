"""What the benchmarks share: CPU accounting for a process, and writing one benchmark's part
of docs/performance.md without touching the other sections."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

try:
    import psutil
except ImportError:  # the `bench` extra is optional: /proc answers on Linux
    psutil = None

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "performance.md"


def clock_ticks() -> int:
    return os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    if psutil is not None:
        times = psutil.Process(pid).cpu_times()
        return times.user + times.system
    stat = Path(f"/proc/{pid}/stat").read_text()
    values = stat[stat.rindex(")") + 2 :].split()
    return (int(values[11]) + int(values[12])) / clock_ticks()


def write_docs_subsection(section: str, intro: str, title: str, subsection: str) -> None:
    """Put `subsection` (headed `title`, a ### heading) under `section` (a ## heading) of
    docs/performance.md, replacing its earlier version. The file is read right before writing
    and everything else in it is left as it is."""
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Performance\n"
    pattern = re.compile(rf"^{re.escape(section)}\n.*?(?=^## |\Z)", re.M | re.S)
    found = pattern.search(text)
    body = found.group(0) if found else intro
    ours = re.compile(rf"^{re.escape(title)}\n.*?(?=^### |\Z)", re.M | re.S)
    if ours.search(body):
        body = ours.sub(lambda _: subsection.rstrip("\n") + "\n\n", body, count=1)
    else:
        body = body.rstrip("\n") + "\n\n" + subsection
    body = body.rstrip("\n") + "\n"
    if found:
        text = text[: found.start()] + body + "\n" + text[found.end() :].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + body
    DOCS.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def git_commit() -> str | None:
    """The commit of the code measured (with "+changes" when the tree differs from it)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return None
    return f"{commit}+changes" if commit and dirty else commit or None
