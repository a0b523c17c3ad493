"""The `wayline` command as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from wayline.cli import app

ROOT = Path(__file__).resolve().parents[2]
WAYLINE = str(Path(sys.executable).with_name("wayline"))
runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("WAYLINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WAYLINE_JOURNEYS_DIR", str(ROOT / "journeys"))
    return tmp_path


@pytest.fixture
def broken_journeys(tmp_path):
    folder = tmp_path / "journeys"
    shutil.copytree(ROOT / "journeys", folder)
    path = folder / "motor-claim.yaml"
    text = path.read_text().replace(
        "    classification: internal\n", "    clasification: internal\n", 1
    )
    path.write_text(text)
    return folder


def test_journeys_list_shows_the_motor_claim(env):
    result = runner.invoke(app, ["journeys", "list"])
    assert result.exit_code == 0, result.output
    assert "motor-claim" in result.output
    assert "Make a car insurance claim" in result.output


def test_validate_accepts_the_shipped_journeys(env):
    result = runner.invoke(app, ["journeys", "validate", str(ROOT / "journeys")])
    assert result.exit_code == 0, result.output
    assert "ok motor-claim" in result.output


def test_validate_reports_file_line_and_fix_and_exits_non_zero(env, broken_journeys):
    result = runner.invoke(app, ["journeys", "validate", str(broken_journeys)])
    assert result.exit_code == 1
    lines = (ROOT / "journeys" / "motor-claim.yaml").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "classification: internal" in text)
    assert f"journeys/motor-claim.yaml:{line}:" in result.output
    assert "unknown key 'clasification'" in result.output
    assert "'classification' is required" in result.output


def test_show_prints_a_mermaid_flowchart_with_branches(env):
    result = runner.invoke(app, ["journeys", "show", "motor-claim"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("flowchart TD")
    for step in (
        "policy",
        "incident",
        "other-vehicle",
        "injuries",
        "police",
        "photos",
        "settlement",
        "payment-details",
    ):
        assert f'"{step}: ' in result.output
    assert "-- no -->" in result.output and "-- yes -->" in result.output


def test_show_unknown_journey_fails(env):
    result = runner.invoke(app, ["journeys", "show", "no-such-journey"])
    assert result.exit_code == 1


def test_schema_export_matches_the_committed_schemas(env, tmp_path):
    result = runner.invoke(app, ["journeys", "schema", "--out", str(tmp_path / "schemas")])
    assert result.exit_code == 0, result.output
    for name in ("journey.schema.json", "fragment.schema.json", "segments.schema.json"):
        exported = json.loads((tmp_path / "schemas" / name).read_text())
        committed = json.loads((ROOT / "schemas" / name).read_text())
        assert exported == committed, (
            f"schemas/{name} is stale: run wayline journeys schema --out schemas"
        )


def test_serve_refuses_to_start_with_a_broken_definition(env, broken_journeys, monkeypatch):
    monkeypatch.setenv("WAYLINE_JOURNEYS_DIR", str(broken_journeys))
    result = subprocess.run(
        [WAYLINE, "serve", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert result.returncode == 2
    assert "journeys/motor-claim.yaml:" in result.stderr
    assert "clasification" in result.stderr


def test_serve_refuses_an_unmigrated_database(env):
    result = subprocess.run(
        [WAYLINE, "serve", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert result.returncode == 2
    assert "wayline migrate" in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_demo_prints_url_and_customers_and_answers(env):
    process, port = _demo_answering()
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=20)
    assert f"http://localhost:{port}/" in output
    for name in ("alex", "Alex Morgan", "sam", "Sam Patel", "jordan", "Jordan Lee"):
        assert name in output


def _demo_answering(tries: int = 3) -> tuple[subprocess.Popen[str], int]:
    """`wayline demo` on a free port, once Alex can sign in to it. The port is free when
    chosen but not held: a server started meanwhile (a partner simulator of this or another
    test) may take it, and then the demo cannot listen and stops; it is started again on
    another port. Only the demo answers the demo sign-in, so nothing else is taken for it."""
    for _ in range(tries):
        port = _free_port()
        process = subprocess.Popen(
            [WAYLINE, "demo", "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=os.environ.copy(),
        )
        started = time.monotonic()
        # A bound on starting at all, not a speed test: a busy machine may take a while.
        while time.monotonic() - started < 60 and process.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/auth/demo"
                if httpx.post(url, json={"customer": "alex"}, timeout=1).status_code == 204:
                    return process, port
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=20)
            pytest.fail("wayline demo did not answer within 60 seconds")
        process.communicate(timeout=20)
    pytest.fail(f"wayline demo could not listen on a free port in {tries} tries")


def test_serve_refuses_to_start_without_partners_outside_demo_mode(env):
    """No silent fallback to the demo's data: without connectors, only demo mode starts."""
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    for command in (["serve", "--port", "1"], ["worker", "--once"]):
        result = subprocess.run(
            [WAYLINE, *command],
            capture_output=True,
            text=True,
            timeout=60,
            env=os.environ.copy(),
        )
        assert result.returncode == 2, result.stderr
        assert "No partner connectors are configured" in result.stderr
        assert "WAYLINE_CONNECTORS" in result.stderr


def test_migrate_then_worker_once_drains_nothing_and_stops(env, monkeypatch):
    monkeypatch.setenv("WAYLINE_DEMO", "true")  # the demo's in-process data: no partners needed
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    result = subprocess.run(
        [WAYLINE, "worker", "--once"],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert result.returncode == 0, result.stderr
