#!/usr/bin/env python
"""In-process: what field-level encryption adds to a step submission's CPU (issue 13's
target: at most 0.2 ms per step).

A program, not a test. It wires Wayline twice in one process, as engine_throughput.py does
(fresh SQLite databases in temporary folders, the demo's in-process sources, logging at INFO
to a file): once with the local keyring (WAYLINE_KEY_PROVIDER=local, the default: classified
values sealed) and once with none (values in clear). It then alternates, for `--rounds`
rounds, `--claims` theft claims' step submissions on each (policy, incident, police, photos:
the incident step holds four personal answers), and reports the median CPU per step of each
(`time.process_time`) and the wall time beside it. What encryption adds is the median of the
rounds' differences (each round's sealed run against the clear run beside it), so that a
machine that slows down or speeds up between rounds moves both sides of a difference alike.

    python benchmarks/field_encryption.py --claims 100 --rounds 11

Results: markdown on stdout, JSON in benchmarks/results/ (not committed).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import sys
import tempfile
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine_throughput import RESULTS, log, median_ms, step_submissions, wayline_adapter
from reporting import git_commit

TARGET_MS = 0.2  # CPU added per step submission by field encryption


def run(args: argparse.Namespace) -> dict[str, Any]:
    homes = {name: Path(tempfile.mkdtemp(prefix=f"wayline-fle-{name}-")) for name in MODES}
    measured: dict[str, list[tuple[float, float]]] = {name: [] for name in MODES}
    try:
        with ExitStack() as stack:
            adapters = {}
            for name, provider in MODES.items():
                stream = stack.enter_context((homes[name] / "wayline.log").open("w"))
                adapters[name] = wayline_adapter(homes[name], stream, args.log_level, provider)
            for name, wayline in adapters.items():
                log(f"warm-up: {name}")
                step_submissions(wayline, max(2, args.claims // 10))
            for number in range(1, args.rounds + 1):
                for name, wayline in adapters.items():
                    log(f"round {number}: {args.claims} claims' steps, {name}")
                    timed, _ = step_submissions(wayline, args.claims)
                    measured[name].append(timed.per_op_ms())
    finally:
        for home in homes.values():
            shutil.rmtree(home, ignore_errors=True)
    sealed, clear = median_ms(measured["sealed"]), median_ms(measured["clear"])
    differences = [
        with_keys[0] - in_clear[0]
        for with_keys, in_clear in zip(measured["sealed"], measured["clear"], strict=True)
    ]
    added = round(statistics.median(differences), 3)
    return {
        "sealed": sealed,
        "clear": clear,
        "added_cpu_ms": added,
        "target_ms": TARGET_MS,
        "met": added <= TARGET_MS,
        "rounds": measured,
    }


MODES = {"sealed": "local", "clear": "none"}


def markdown(report: dict[str, Any]) -> str:
    sealed, clear = report["sealed"], report["clear"]
    verdict = "met" if report["met"] else "NOT met"
    return "\n".join(
        [
            "| per step submission | CPU ms | wall ms |",
            "| --- | ---: | ---: |",
            f"| values sealed (local keyring) | {sealed['cpu_ms']} | {sealed['wall_ms']} |",
            f"| values in clear | {clear['cpu_ms']} | {clear['wall_ms']} |",
            "",
            f"Field encryption adds **{report['added_cpu_ms']} ms** of CPU per step "
            f"(target ≤ {report['target_ms']} ms: {verdict}).",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--claims", type=int, default=200, help="claims per round (4 steps each)")
    parser.add_argument("--rounds", type=int, default=11, help="alternating rounds; medians")
    parser.add_argument("--log-level", default="INFO", help="Wayline's log level (to a file)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="folder for the JSON")
    args = parser.parse_args(argv)
    report = run(args)
    report["machine"] = {"python": sys.version.split()[0], "platform": platform.platform()}
    report["commit"] = git_commit()
    args.output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (args.output / f"field_encryption-{stamp}.json").write_text(json.dumps(report, indent=2))
    print(markdown(report))
    return 0 if report["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
