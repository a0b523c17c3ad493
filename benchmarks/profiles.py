"""Where a server process spends its CPU: py-spy samples of it during a load, summarised.

py-spy (the `bench` extra) attaches to a running process by its id (ptrace: root, or the
process's parent, or `kernel.yama.ptrace_scope` 0) and samples the Python stacks of its threads
from outside, without slowing it much (`--nonblocking`: it does not pause the process to read a
stack). Which threads: with `gil`, only the one holding the GIL (the Python work, which one
process does on one core at most; C code that releases the GIL, like SQLite executing a
statement or Pillow decoding, is not seen); without, every thread py-spy judges to be running
(it misjudges some threads waiting on a lock, which the rules below name as waiting). The raw
output is one line per distinct stack, root first and leaf last, with how many samples it had.
From those this module gives:

- cumulative shares: the fraction of samples in which a function is anywhere on the stack
  (what it and everything it calls cost), leaving out the scaffolding every sample of a thread
  has (thread start-up, the event loop's runner, the command line);
- own shares: the fraction in which it is the leaf (what it costs itself);
- shares by category: each sample goes to the first category (from a list of rules) that one
  of its frames matches, looking from the leaf towards the root, so a sample is charged to the
  most specific thing that was running (decoding a JPEG inside the evidence step is "decode").

Frames are `function (package/module.py:first line)`: py-spy shortens paths to the package
part, and `--function` merges all lines of one function.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

Stacks = list[tuple[tuple[str, ...], int]]

# Frames under which everything of a thread runs: on top of every cumulative list, saying nothing.
SCAFFOLDING = (
    "(threading.py:",
    "WorkerThread.run (anyio/",
    "(asyncio/runners.py:",
    "(asyncio/base_events.py:",
    "(typer/",
    "(click/",
    "(wayline/cli.py:",
    "(uvicorn/server.py:",
    "(uvicorn/main.py:",
    "<module> (",
)


@dataclass(frozen=True)
class Rule:
    """A category, and the substrings a frame may contain to be in it (with `leaf_only`, only
    the innermost frame of a sample is looked at)."""

    category: str
    patterns: tuple[str, ...]
    leaf_only: bool = False

    def matches(self, frame: str) -> bool:
        return any(pattern in frame for pattern in self.patterns)


# Threads blocked in a lock, which py-spy may count as running (or, with --gil, as holding the
# GIL it has just released): a threadpool thread waiting for work, or a writer waiting for the
# store's one-writer lock on SQLite (`Store.write`'s own line is that wait: all else it does
# is in what it calls).
WAITING = Rule(
    "waiting on a lock or for work (not CPU; py-spy's idle filter missed it)",
    ("Condition.wait (threading.py", "Event.wait (threading.py", "Store.write ("),
    leaf_only=True,
)

# A step submission: where the server's CPU goes, by the innermost layer that was running.
# "asyncio/runners.py" as the innermost frame is the event loop's own C code (uvloop,
# httptools: reading, parsing and writing HTTP), which has no Python frame of its own.
STEP_RULES = (
    WAITING,
    Rule("SQLite / psycopg (the driver, in C)", ("sqlite3", "psycopg/", "psycopg_binary")),
    Rule("SQLAlchemy (statements, results, pool)", ("sqlalchemy/",)),
    Rule("CEL (conditions)", ("celpy", "cel/", "wayline/journeys/expressions.py")),
    Rule("JSON (encode, decode, strict checks)", ("json/", "orjson", "strict_json.py")),
    Rule("logging (structlog)", ("structlog/", "logging/", "wayline/observability/logging")),
    Rule("metrics and tracing", ("prometheus_client/", "opentelemetry/", "wayline/observability")),
    Rule("the engine (wayline/journeys)", ("wayline/journeys/",)),
    Rule("the service, store, presenter (wayline/runtime)", ("wayline/runtime/",)),
    Rule("partner data and connectors", ("wayline/connectors/", "wayline/sandbox/")),
    Rule("pydantic (request models)", ("pydantic/", "pydantic_core")),
    Rule("Wayline's web layer (middleware, routes, auth)", ("wayline/web/", "wayline/identity/")),
    Rule("FastAPI / Starlette (routing, dependencies, responses)", ("fastapi/", "starlette/")),
    Rule("threadpool hand-over (anyio, threading)", ("anyio/", "threading.py", "concurrent/")),
    Rule(
        "HTTP server and event loop (uvicorn, asyncio, uvloop and httptools in C)",
        ("uvicorn/", "asyncio/", "uvloop"),
    ),
)

# An upload: the document pipeline's stages first, then what surrounds them.
UPLOAD_RULES = (
    WAITING,
    Rule(
        "decode (Pillow reading the JPEG)",
        ("ImageFile.load (", "ImageFile.load_prepare (", "opened (wayline/documents/images.py"),
    ),
    Rule("perceptual hashes (imagehash, numpy, scipy)", ("imagehash/", "numpy/", "scipy/")),
    Rule("storage (writing the original and the copy)", ("wayline/documents/storage.py",)),
    Rule("intake: spooling and SHA-256", ("wayline/documents/intake.py",)),
    Rule("malware scan", ("wayline/documents/scanner.py",)),
    Rule("EXIF and evidence", ("wayline/documents/metadata.py", "TiffImagePlugin", "ExifTags")),
    Rule("display copy (orientation, resize, sRGB, JPEG encode)", ("wayline/documents/images.py",)),
    Rule("multipart parsing", ("multipart/", "formparsers.py", "datastructures.py")),
    Rule("recording the document (service, SQL)", ("wayline/runtime/", "sqlalchemy/", "sqlite3")),
    Rule("HTTP, middleware and the rest", ("",)),
)


def py_spy() -> str | None:
    """The py-spy program beside this Python, or on PATH; None when it is not installed."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Recording:
    """py-spy sampling one process for a fixed time, in the background."""

    def __init__(self, pid: int, output: Path, duration: float, gil: bool, rate: int = 100):
        program = py_spy()
        if program is None:
            raise RuntimeError("--profile needs py-spy: .venv/bin/pip install -e '.[bench]'")
        self.output = output
        self.process = subprocess.Popen(
            [
                program,
                "record",
                *("--pid", str(pid), "--duration", str(max(1, round(duration)))),
                *("--rate", str(rate), "--format", "raw", "--function", "--nonblocking"),
                *("--output", str(output)),
                *(["--gil"] if gil else []),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def finish(self, timeout: float = 60) -> Stacks:
        """Wait for py-spy to write its file, and read it."""
        try:
            out, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        if self.process.returncode != 0 or not self.output.exists():
            raise RuntimeError(f"py-spy failed: {out.decode(errors='replace')[-500:]}")
        return read_stacks(self.output)


def read_stacks(path: Path) -> Stacks:
    """Collapsed stacks (`frame;frame;… count`, root first) as (frames, samples)."""
    stacks: Stacks = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((tuple(stack.split(";")), int(count)))
    return stacks


def total(stacks: Stacks) -> int:
    return sum(count for _, count in stacks)


def cumulative(stacks: Stacks, top: int) -> list[tuple[str, float]]:
    """The `top` functions by the share of samples they are anywhere on the stack in."""
    counts: Counter[str] = Counter()
    for frames, count in stacks:
        for frame in set(frames):
            if not any(marker in frame for marker in SCAFFOLDING):
                counts[frame] += count
    return _shares(counts, total(stacks), top)


def own(stacks: Stacks, top: int) -> list[tuple[str, float]]:
    """The `top` functions by the share of samples they are the leaf of."""
    counts: Counter[str] = Counter()
    for frames, count in stacks:
        counts[frames[-1]] += count
    return _shares(counts, total(stacks), top)


def by_category(stacks: Stacks, rules: Sequence[Rule]) -> list[tuple[str, float]]:
    """Each sample charged to the first rule its innermost matching frame matches; the rest is
    "other". Shares in rule order, then other."""
    counts: Counter[str] = Counter()
    for frames, count in stacks:
        counts[_category(frames, rules)] += count
    samples = total(stacks) or 1
    order = [rule.category for rule in rules] + ["other"]
    return [(name, counts[name] / samples) for name in order if counts[name]]


def _category(frames: tuple[str, ...], rules: Sequence[Rule]) -> str:
    for depth, frame in enumerate(reversed(frames)):
        for rule in rules:
            if rule.leaf_only and depth > 0:
                continue
            if rule.patterns != ("",) and rule.matches(frame):
                return rule.category
    catch_all = [rule.category for rule in rules if rule.patterns == ("",)]
    return catch_all[0] if catch_all else "other"


def _shares(counts: Counter[str], samples: int, top: int) -> list[tuple[str, float]]:
    return [(frame, count / (samples or 1)) for frame, count in counts.most_common(top)]


def markdown(title: str, rows: list[tuple[str, float]]) -> str:
    """A two-column markdown table: share, then the frame or category."""
    lines = [f"| share | {title} |", "| ---: | --- |"]
    lines += [f"| {share * 100:.1f}% | `{name}` |" for name, share in rows]
    return "\n".join(lines)


def summary(stacks: Stacks, rules: Sequence[Rule], top: int) -> dict[str, object]:
    """Everything the reports show, as JSON-ready data."""
    return {
        "samples": total(stacks),
        "by_category": by_category(stacks, rules),
        "cumulative": cumulative(stacks, top),
        "own": own(stacks, top),
    }
