"""Metrics are not on the public listener outside demo mode: /metrics there is 404, or 401
without the operations token (`WAYLINE_METRICS_TOKEN`); `WAYLINE_METRICS_PORT` serves them on a
port of their own, from `wayline serve` and from `wayline worker`."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from journey_api import PROBLEM, REPO, WAYLINE, ServerProcess, free_port, run_cli, server_env

from wayline.web.app import create_app

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
TOKEN = "metrics-token-for-tests-0123456789"
SERIES = "wayline_http_request_duration_seconds"


def test_demo_mode_serves_metrics_on_the_main_port(client: TestClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert SERIES in response.text


def test_outside_demo_mode_metrics_are_not_on_the_main_port(make_components: Any) -> None:
    app = create_app(make_components(demo=False))
    with TestClient(app) as http:
        response = http.get("/metrics")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith(PROBLEM)
        assert SERIES not in response.text
        assert http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404


def test_with_a_token_metrics_need_it(make_components: Any) -> None:
    app = create_app(make_components(demo=False, metrics_token=TOKEN))
    with TestClient(app) as http:
        for authorization in (None, "Bearer", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN):
            headers = {"Authorization": authorization} if authorization else {}
            response = http.get("/metrics", headers=headers)
            assert response.status_code == 401, authorization
            assert response.headers["www-authenticate"] == "Bearer"
            assert SERIES not in response.text
        response = http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200
        assert SERIES in response.text


def test_with_a_token_demo_mode_needs_it_too(make_components: Any) -> None:
    app = create_app(make_components(metrics_token=TOKEN))
    with TestClient(app) as http:
        assert http.get("/metrics").status_code == 401
        assert http.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200


def _metrics_text(url: str, process: subprocess.Popen | None = None, timeout: float = 60) -> str:
    """The metrics page at `url`, once the process serving it is up."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return response.text
        except httpx.HTTPError:
            pass
        assert process is None or process.poll() is None, "the process exited"
        assert time.monotonic() < deadline, f"{url} did not answer within {timeout}s"
        time.sleep(0.1)


def test_serve_puts_metrics_on_their_own_port(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    # Outside demo mode a server needs its partners configured (nothing is called at start).
    env = server_env(
        tmp_path / "home",
        database_url,
        WAYLINE_DEMO="false",
        WAYLINE_METRICS_PORT=str(port),
        WAYLINE_CONNECTORS=str(REPO / "connectors.yaml"),
    )
    run_cli(["migrate"], env, tmp_path)
    server = ServerProcess(["serve"], env, tmp_path, tmp_path / "serve.log").start()
    try:
        assert httpx.get(f"{server.base_url}/healthz").status_code == 200
        assert httpx.get(f"{server.base_url}/metrics").status_code == 404
        text = _metrics_text(f"http://127.0.0.1:{port}/metrics", server.process)
    finally:
        server.stop()
    assert f'{SERIES}_count{{method="GET",route="/healthz",status="200"}}' in text


def test_the_worker_serves_its_metrics_on_their_own_port(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = server_env(tmp_path / "home", database_url, WAYLINE_METRICS_PORT=str(port))
    run_cli(["migrate"], env, tmp_path)
    with open(tmp_path / "worker.log", "wb") as out:
        worker = subprocess.Popen(
            [str(WAYLINE), "worker"], env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        text = _metrics_text(f"http://127.0.0.1:{port}/metrics", worker)
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    assert "wayline_effects_total" in text
