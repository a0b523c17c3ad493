"""A 500 is answered like every other response: security headers, X-Request-ID, problem details
(or an error page for a browser), `Connection: close`, and one JSON log line with the traceback
and without what the customer sent. A response that fails after it has begun is cut off (the
connection closes), never passed off as complete.

The failing routes exist only in these tests' app: they stand for any bug."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import structlog
import uvicorn
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient
from journey_api import PROBLEM, free_port

from wayline.observability.logging import configure
from wayline.web.security import HEADERS

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
SECRET = "Bartholomew Quince, SW1A 1AA"


class Bug(Exception):
    """What a programming error looks like to the middleware."""


def _fails() -> None:
    raise Bug(f"could not parse {SECRET}")  # a message that carries what the customer typed


def _fails_midway() -> StreamingResponse:
    def chunks() -> Iterator[bytes]:
        yield b"the first part of a download\n"
        raise Bug(f"storage went away while reading {SECRET}")

    return StreamingResponse(chunks(), media_type="text/plain")


@pytest.fixture
def failing_app(app: Any) -> Any:
    app.add_api_route("/test/fails", _fails, methods=["GET", "POST"])
    app.add_api_route("/test/fails-midway", _fails_midway, methods=["GET"])
    return app


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Everything logged during the test, as the production configuration writes it."""
    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    saved = structlog.get_config()
    configure("INFO", stream)
    # Not cached: loggers first used here must not keep this stream after the test.
    structlog.configure(cache_logger_on_first_use=False)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**saved)


def _records(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = stream.getvalue().splitlines()
    return [json.loads(line) for line in lines]  # every line is one JSON object


def _assert_security_headers(headers: httpx.Headers) -> None:
    for name, value in HEADERS:
        assert headers.get(name.decode()) == value.decode(), name
    assert headers["cache-control"] == "no-store"


def test_a_500_carries_the_security_headers_the_request_id_and_problem_details(
    failing_app: Any, json_log: io.StringIO
) -> None:
    with TestClient(failing_app) as http:
        response = http.get("/test/fails", headers={"X-Request-ID": "trace-500-a"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "trace-500-a"
    _assert_security_headers(response.headers)
    assert response.headers["connection"] == "close"
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json() == {
        "type": "about:blank",
        "title": "Internal server error",
        "status": 500,
        "detail": "Something went wrong on our side. Please try again.",
    }

    records = _records(json_log)
    failed = [r for r in records if r["event"] == "request.failed"]
    assert len(failed) == 1
    (record,) = failed
    assert record["request_id"] == "trace-500-a"
    assert record["level"] == "error"
    assert record["error"] == "Bug"
    stack = record["exception"][0]
    assert stack["exc_type"] == "Bug"
    assert any(frame["name"] == "_fails" for frame in stack["frames"])
    request = [r for r in records if r["event"] == "request"]
    assert [(r["route"], r["status"]) for r in request] == [("/test/fails", 500)]
    # The exception's message (what the customer typed, here) is not logged.
    assert SECRET not in json_log.getvalue()


def test_a_500_for_a_browser_is_an_error_page_with_the_same_headers(failing_app: Any) -> None:
    with TestClient(failing_app) as http:
        response = http.get("/test/fails", headers={"Accept": "text/html"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "Sorry, there is a problem" in response.text
    assert response.headers["x-request-id"]
    _assert_security_headers(response.headers)
    assert response.headers["connection"] == "close"


def test_a_500_logs_no_request_body(failing_app: Any, json_log: io.StringIO) -> None:
    with TestClient(failing_app) as http:
        response = http.post("/test/fails", json={"answers": {"name": SECRET}})
    assert response.status_code == 500
    assert SECRET not in json_log.getvalue()
    assert any(r["event"] == "request.failed" for r in _records(json_log))


@contextlib.contextmanager
def served(app: Any) -> Iterator[str]:
    """uvicorn on a loopback port, its own log records sent where ours go (as `wayline serve`
    does: log_config=None), so anything it logs about the app shows up in `json_log`."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", log_config=None, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _raw_exchange(base_url: str, request: bytes) -> bytes:
    """Send one request on a keep-alive connection and read until the server closes it."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):  # b"" only once the server has closed
            received += chunk
    return received


def test_over_a_real_server_a_500_closes_its_connection(
    failing_app: Any, json_log: io.StringIO
) -> None:
    with served(failing_app) as base_url:
        raw = _raw_exchange(
            base_url,
            b"GET /test/fails HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n",
        )
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert lines[0] == "HTTP/1.1 500 Internal Server Error"
    assert headers["connection"] == "close"
    assert headers["x-request-id"]
    assert headers["content-security-policy"].startswith("default-src 'self'")
    assert json.loads(body)["status"] == 500
    # The server's own log lines are JSON too: nothing reached it to print as text.
    assert [r["event"] for r in _records(json_log) if r["level"] == "error"] == ["request.failed"]


def test_a_response_that_fails_midway_is_cut_off_not_passed_off_as_complete(
    failing_app: Any, json_log: io.StringIO
) -> None:
    with (
        served(failing_app) as base_url,
        httpx.Client(base_url=base_url) as http,
        http.stream("GET", "/test/fails-midway") as response,
    ):
        assert response.status_code == 200
        assert response.headers["x-request-id"]
        with pytest.raises(httpx.RemoteProtocolError):
            response.read()
    records = _records(json_log)
    failed = [r for r in records if r["event"] == "request.failed"]
    assert len(failed) == 1
    assert failed[0]["response_started"] is True
    # uvicorn says why it closed the connection, as JSON like every other line.
    assert any(r.get("logger", "").startswith("uvicorn") for r in records)
    assert failed[0]["exception"][0]["exc_type"] == "Bug"
    assert SECRET not in json_log.getvalue()
