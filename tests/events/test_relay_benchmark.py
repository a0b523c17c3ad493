"""benchmarks/event_relay.py runs as its users run it, with tiny settings, so it cannot rot: it
finishes, publishes every event once and prints both targets with a verdict. No figure is
asserted against a time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_relay_benchmark_runs_and_reports_both_targets(tmp_path, nats_url):
    finished = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "event_relay.py"),
            *("--database", "sqlite", "--nats", nats_url, "--events", "60", "--journeys", "5"),
            *("--rate", "40", "--duration", "1", "--no-docs", "--output", str(tmp_path)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    (written,) = tmp_path.glob("event_relay-sqlite-*.json")
    result = json.loads(written.read_text())
    assert result["drain"]["events"] == 60
    assert result["open_loop"]["published"] == result["open_loop"]["events"] == 40
    assert result["messages_in_stream"] == result["expected_in_stream"] == 100
    assert ">= 2,000 events/s published by one relay" in finished.stdout
    assert "p99 commit-to-publish <= 100 ms" in finished.stdout
