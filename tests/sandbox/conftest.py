"""Fixtures for the partner simulators' tests: one real HTTP server on loopback for the whole
session, serving a fresh simulator for each test (so every test starts from the demo dataset
with no faults), and an HTTP client to it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from wayline.sandbox.faults import Faults
from wayline.sandbox.partners import PARTNERS
from wayline.sandbox.server import free_port


class Swappable:
    """An ASGI app that hands every request to whichever simulator a test put in it."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "no simulator chosen"
        await self.app(scope, receive, send)


@pytest.fixture(scope="session")
def _server() -> Iterator[tuple[Swappable, str]]:
    swappable = Swappable()
    port = free_port()
    config = uvicorn.Config(
        swappable, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="sandbox-tests", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.01)
    yield swappable, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def partner(_server: tuple[Swappable, str]) -> Iterator[Callable[[str], httpx.Client]]:
    """`partner("card_issuer")`: a client to a fresh card issuer simulator over HTTP."""
    swappable, url = _server
    clients: list[httpx.Client] = []

    def start(name: str) -> httpx.Client:
        swappable.app = PARTNERS[name](Faults(), lambda: datetime.now(UTC).date())
        client = httpx.Client(base_url=url, timeout=30)
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.close()
