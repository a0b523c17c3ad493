"""Connection limits (web/connections.py), tried on a real `wayline serve` process over raw
sockets: a connection that sends nothing, half a request line, or its headers a line at a time
is closed once the header timeout has passed; an idle keep-alive connection is closed; a head
too large is refused. The same with uvicorn's pure-Python h11 parser, served in a thread.

Bounds are generous (the timeouts are 1 second, the tests allow 20): what is proven is that the
server closes the connection, where before it held it for ever.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from journey_api import ServerProcess, free_port, run_cli, server_env

from wayline.bootstrap import build
from wayline.config import Settings
from wayline.sandbox.wiring import demo_options
from wayline.web.app import create_app
from wayline.web.connections import server_options

TIMEOUT = 1  # seconds, for the server
PATIENCE = 20.0  # seconds the test waits for the server to close a connection
LIMITS = {
    "WAYLINE_HEADER_TIMEOUT_SECONDS": str(TIMEOUT),
    "WAYLINE_KEEP_ALIVE_SECONDS": str(TIMEOUT),
    "WAYLINE_MAX_HEADER_BYTES": "4096",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """`wayline serve` (httptools, uvicorn's default parser) with one-second timeouts."""
    folder = tmp_path_factory.mktemp("serve")
    env = server_env(folder / "home", f"sqlite:///{folder / 'wayline.db'}", **LIMITS)
    run_cli(["migrate"], env, folder)
    server = ServerProcess(["serve"], env, folder, folder / "server.log").start()
    try:
        yield "127.0.0.1", server.port
    finally:
        server.stop()


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # runs in a thread: leave signals alone
        pass


@pytest.fixture(scope="module")
def served_h11(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """The app under uvicorn with the h11 parser and the same options `wayline serve` uses."""
    import threading

    folder = tmp_path_factory.mktemp("h11")
    settings = Settings(
        home=folder / "home",
        database_url=f"sqlite:///{folder / 'wayline.db'}",
        demo=True,
        secret_key="test",
        journeys_dir=Path(__file__).resolve().parents[2] / "journeys",
        header_timeout_seconds=TIMEOUT,
        keep_alive_seconds=TIMEOUT,
        max_header_bytes=4096,
    )
    app = create_app(build(settings, migrate=True, **demo_options()))
    port = free_port()
    options = server_options(settings, parser="h11")
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **options)
    server = _Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(params=["httptools", "h11"])
def address(request: pytest.FixtureRequest) -> tuple[str, int]:
    return request.getfixturevalue("served" if request.param == "httptools" else "served_h11")


def connect(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=PATIENCE)
    sock.settimeout(PATIENCE)
    return sock


def closed_by_server(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a timeout fails)."""
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        except TimeoutError:
            pytest.fail(f"the server kept the connection open for {PATIENCE}s")
        if not chunk:
            return received
        received += chunk


def test_a_connection_that_sends_nothing_is_closed(address: tuple[str, int]) -> None:
    with connect(address) as sock:
        assert closed_by_server(sock) == b""


def test_half_a_request_line_is_not_waited_for(address: tuple[str, int]) -> None:
    with connect(address) as sock:
        sock.sendall(b"GET /healthz HT")
        assert closed_by_server(sock) == b""


def test_headers_trickled_a_line_at_a_time_are_cut_off(address: tuple[str, int]) -> None:
    """Slowloris: each line comes well within the timeout, the whole head never does."""
    with connect(address) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        started = time.monotonic()
        try:
            for n in range(200):
                sock.sendall(f"X-Slow-{n}: a\r\n".encode())
                time.sleep(TIMEOUT / 5)
                if time.monotonic() - started > PATIENCE:
                    pytest.fail("the server kept reading a head for longer than the test waits")
        except (BrokenPipeError, ConnectionResetError):
            return  # closed while we were still sending: the head timed out
        assert closed_by_server(sock) == b""


def test_an_idle_keep_alive_connection_is_closed_after_its_answer(
    address: tuple[str, int],
) -> None:
    with connect(address) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        answer = closed_by_server(sock)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert b'"ok"' in answer or b"ok" in answer.split(b"\r\n\r\n", 1)[1]


def test_a_request_that_keeps_to_the_limits_is_answered(address: tuple[str, int]) -> None:
    with connect(address) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        assert closed_by_server(sock).startswith(b"HTTP/1.1 200 ")


def test_a_head_larger_than_the_limit_is_refused(address: tuple[str, int]) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 8192 + b"\r\n\r\n"
    with connect(address) as sock:
        try:
            sock.sendall(head)
        except (BrokenPipeError, ConnectionResetError):
            return  # refused before all of it was read
        answer = closed_by_server(sock)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
