"""The benchmarks run as their users run them, with tiny settings, so they cannot rot: each
must finish, measure every phase with no failed request, and print every target with a
verdict. No figure is asserted against a time: these are smoke tests, not timed tests."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import secrets
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"


def benchmark_module(name: str) -> ModuleType:
    """A module of benchmarks/ (a folder of programs, not a package), loaded by its path so
    that nothing of it lands on sys.path for the other tests."""
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


profiles = benchmark_module("profiles")


def run_benchmark(script: str, *args: str, output: Path) -> tuple[str, dict[str, Any]]:
    """Run benchmarks/<script> to completion; its stdout and the JSON it wrote."""
    finished = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args, "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    (written,) = output.glob("*.json")
    return finished.stdout, json.loads(written.read_text())


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_journey_throughput_measures_every_phase_and_prints_every_target(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    args = [
        *("--database", database, "--customers", "2", "--duration", "1", "--warmup", "0.5"),
        *("--upload-duration", "2", "--upload-clients", "1", "--photo-megapixels", "0.5"),
    ]
    if database == "postgres":
        server = request.getfixturevalue("postgres_server")
        name = f"wayline_bench_smoke_{secrets.token_hex(4)}"
        args += ["--postgres-admin-url", server, "--postgres-database", name]

    stdout, report = run_benchmark("journey_throughput.py", *args, output=tmp_path)

    result = report["databases"][database]
    for phase in ("baseline", "steps", "open_loop", "uploads"):
        assert result[phase]["requests_ok_in_phase"] > 0, phase
        assert result[phase]["errors"] == {}, (phase, result[phase]["errors"])
        assert result[phase]["failures"] == [], (phase, result[phase]["failures"])
    assert result["steps"]["server_cpu_ms_per_request"] > 0
    assert result["baseline"]["server_cpu_ms_per_request"] > 0
    assert result["cpu_ratio"] > 0 and result["peak_ratio"] > 0
    assert result["uploads"]["photo_bytes"] > 0
    for target in ("≤ 3× baseline CPU per write", "≥ 30% of baseline peak", "p99 at half"):
        (row,) = [line for line in stdout.splitlines() if target in line and database in line]
        assert row.endswith("**met** |") or row.endswith("**not met** |"), row


def test_engine_throughput_measures_steps_against_bare_inserts(tmp_path: Path) -> None:
    stdout, report = run_benchmark(
        "engine_throughput.py",
        *("--claims", "3", "--inserts", "20", "--rounds", "2", "--profile", "--profile-top", "40"),
        output=tmp_path,
    )

    result = report["result"]
    assert result["insert"]["cpu_ms"] > 0 and result["step"]["cpu_ms"] > 0
    assert set(result["steps"]) == {"policy", "incident", "police", "photos"}
    assert result["ratio"] == pytest.approx(
        result["step"]["cpu_ms"] / result["insert"]["cpu_ms"], rel=0.01
    )
    assert any("submit_step" in entry["function"] for entry in result["profile"])
    (row,) = [line for line in stdout.splitlines() if "CPU per step ≤ 4×" in line]
    assert row.endswith("**met** |") or row.endswith("**not met** |"), row


def test_profiles_charge_each_sample_to_its_innermost_layer(tmp_path: Path) -> None:
    raw = tmp_path / "stacks.txt"
    raw.write_text(
        "\n".join(
            [
                "Thread._bootstrap (threading.py:1);_image (wayline/documents/pipeline.py:2);"
                "image_evidence (wayline/documents/metadata.py:3);phash (imagehash/__init__.py:4);"
                "Image.resize (PIL/Image.py:5) 30",
                "Thread._bootstrap (threading.py:1);_image (wayline/documents/pipeline.py:2);"
                "display_copy (wayline/documents/images.py:6);ImageFile.load (PIL/ImageFile.py:7)"
                " 50",
                "Thread._bootstrap (threading.py:1);_image (wayline/documents/pipeline.py:2);"
                "display_copy (wayline/documents/images.py:6);_encode_tile (PIL/ImageFile.py:8) 15",
                "Thread._bootstrap (threading.py:1);Condition.wait (threading.py:9) 5",
                "not a stack line",
            ]
        )
    )

    stacks = profiles.read_stacks(raw)

    assert profiles.total(stacks) == 100
    shares = dict(profiles.by_category(stacks, profiles.UPLOAD_RULES))
    assert shares == {
        profiles.WAITING.category: 0.05,
        "decode (Pillow reading the JPEG)": 0.50,
        "perceptual hashes (imagehash, numpy, scipy)": 0.30,
        "display copy (orientation, resize, sRGB, JPEG encode)": 0.15,
    }
    cumulative = dict(profiles.cumulative(stacks, 10))
    assert "Thread._bootstrap (threading.py:1)" not in cumulative  # scaffolding
    assert cumulative["_image (wayline/documents/pipeline.py:2)"] == 0.95
    assert cumulative["display_copy (wayline/documents/images.py:6)"] == 0.65
    assert profiles.own(stacks, 1) == [("ImageFile.load (PIL/ImageFile.py:7)", 0.5)]


def test_load_client_reconnects_when_the_server_closed_an_idle_connection() -> None:
    """A keep-alive connection the server closed while it was idle (uvicorn does after its
    keep-alive timeout) is not reused: the next request goes on a new connection."""
    Session = benchmark_module("load_client").Session

    async def scenario() -> list[int]:
        connections = []

        async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            connections.append(writer)
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            await writer.drain()
            writer.close()  # then closed, as an idle keep-alive connection is

        server = await asyncio.start_server(answer_once, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        session = Session("127.0.0.1", port, timeout=5)
        statuses = []
        for _ in range(3):
            statuses.append((await session.request("GET", "/")).status)
            await asyncio.sleep(0.05)
        await session.close()
        server.close()
        assert len(connections) == 3
        return statuses

    # In a thread of its own: the browser tests' Playwright keeps an event loop running in
    # the main thread for the whole session, and asyncio.run refuses to start inside one.
    with ThreadPoolExecutor(max_workers=1) as thread:
        assert thread.submit(asyncio.run, scenario()).result() == [200, 200, 200]


def test_profiles_count_a_wait_for_the_writer_lock_only_as_the_innermost_frame(
    tmp_path: Path,
) -> None:
    raw = tmp_path / "stacks.txt"
    service = "JourneyService._run (wayline/runtime/service.py:1)"
    raw.write_text(
        f"{service};Store.write (wayline/runtime/store.py:2) 40\n"
        f"{service};Store.write (wayline/runtime/store.py:2);"
        "Connection.execute (sqlalchemy/engine/base.py:3) 60\n"
    )

    shares = dict(profiles.by_category(profiles.read_stacks(raw), profiles.STEP_RULES))

    assert shares == {
        profiles.WAITING.category: 0.4,
        "SQLAlchemy (statements, results, pool)": 0.6,
    }
