"""Connection limits for `wayline serve` and `wayline demo`: what uvicorn is given, and the one
thing it does not do itself.

uvicorn closes a keep-alive connection that stays idle after a response (`timeout_keep_alive`),
caps connections and requests in flight (`limit_concurrency`: more are answered 503), and
bounds a graceful shutdown. It has no timeout on reading a request's head: a client that
connects and sends nothing, or half a request line, or one header line every few seconds
(slowloris), holds its connection for ever. So the HTTP protocol classes here add one: from
the moment a connection opens or a new request's first byte arrives, its whole head (request
line and headers) must arrive within WAYLINE_HEADER_TIMEOUT_SECONDS, however steadily it
trickles in, or the connection is closed. A head larger than WAYLINE_MAX_HEADER_BYTES is
refused with 431 and the connection closed (llhttp has no limit of its own, and h11's applies
only to a head that arrives in pieces).

Bodies are not timed here: a body streams to the route, which reads it under the body and
upload size limits (web/middleware.py); a proxy in front can bound slow bodies too.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable
from typing import Any

import h11
import structlog
from uvicorn.protocols.http.h11_impl import H11Protocol

from wayline.config import Settings

log = structlog.get_logger("wayline.http")
TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: 37\r\n"
    b"connection: close\r\n\r\n"
    b"The request's headers are too large.\n"
)


class HeadLimits:
    """One connection's limits on a request head: a timer armed while a head is awaited (when
    it fires, the connection is closed) and a count of the head's bytes (over the cap, 431).
    Mixed into uvicorn's protocol classes, which give it `loop` and `transport`."""

    header_timeout: float = 10.0
    max_head_bytes: int = 32 * 1024
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    _head_timer: asyncio.TimerHandle | None = None
    _head_bytes: int | None = 0  # None: not reading a head (a body, or the app's turn)

    def _feed_head(self, data: bytes, feed: Callable[[bytes], None]) -> None:
        """Feed `data` to the parser, no more than the head's remaining room until the head
        is complete (`_head_bytes` None again); over the cap, refuse it with 431."""
        assert self._head_bytes is not None
        room = self.max_head_bytes - self._head_bytes
        self._head_bytes += min(len(data), room)
        feed(data[:room])
        if len(data) <= room or self.transport.is_closing():
            return
        if self._reading_head():  # the head is still not complete: too large
            self._head_arrived()
            log.info("connection.header_too_large", limit=self.max_head_bytes)
            self.transport.write(TOO_LARGE)
            self.transport.close()
            return
        feed(data[room:])  # the head ended within the cap: the rest is a body

    def _reading_head(self) -> bool:
        """Whether the parser is still in a request's head. A method, not an inline test of
        `_head_bytes`: `feed` changes it (the parser's callback), which a type checker's
        narrowing of the attribute cannot see."""
        return self._head_bytes is not None

    def _await_head(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _head_arrived(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            log.info("connection.header_timeout", seconds=self.header_timeout)
            self.transport.close()


class H11WithHeadLimits(HeadLimits, H11Protocol):
    """uvicorn's h11 protocol, with the head timeout and size cap (h11's own cap applies only
    to a head that arrives in pieces)."""

    # uvicorn narrows asyncio's BaseTransport to Transport (with its own ignore); so do we.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_bytes = 0
        self._await_head()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE and self._head_bytes is not None:
            self._feed_head(data, self._feed)
        else:
            super().data_received(data)
        # h11 says IDLE until a request's head is complete; then the body or the app's turn.
        if self.conn.their_state is h11.IDLE:
            if not self.transport.is_closing():
                self._head_bytes = self._head_bytes or 0
                self._await_head()
        else:
            self._head_bytes = 0  # counted afresh for the next head
            self._head_arrived()

    def _feed(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._head_bytes = None  # the head is complete

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_arrived()
        super().connection_lost(exc)


def _httptools_protocol() -> type | None:
    """The httptools protocol with the head timeout and size cap (None without httptools)."""
    if importlib.util.find_spec("httptools") is None:
        return None
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HttpToolsWithHeadLimits(HeadLimits, HttpToolsProtocol):
        """uvicorn's httptools protocol, with the head timeout and a cap on the head's size
        (llhttp has none). Bytes are counted from the end of one response (or the connection's
        start) until the next request's head is complete."""

        # As above: uvicorn's narrower Transport, and its ignore.
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._head_bytes = 0
            self._await_head()

        def data_received(self, data: bytes) -> None:
            if self._head_bytes is None:
                super().data_received(data)
            else:
                self._feed_head(data, super().data_received)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._head_bytes is None:
                self._head_bytes = 0
            self._await_head()

        def on_headers_complete(self) -> None:
            self._head_bytes = None
            self._head_arrived()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._head_bytes = 0  # the next head is counted; idleness is keep-alive's to end

        def connection_lost(self, exc: Exception | None) -> None:
            self._head_arrived()
            super().connection_lost(exc)

    return HttpToolsWithHeadLimits


def protocol(settings: Settings, parser: str = "auto") -> type:
    """The HTTP protocol class for uvicorn: httptools when installed (auto), else h11."""
    base = _httptools_protocol() if parser in ("auto", "httptools") else None
    if base is None and parser == "httptools":
        raise RuntimeError("httptools is not installed")
    base = base or H11WithHeadLimits
    limits = {
        "header_timeout": settings.header_timeout_seconds,
        "max_head_bytes": settings.max_header_bytes,
    }
    return type(base.__name__, (base,), limits)


def server_options(settings: Settings, parser: str = "auto") -> dict[str, Any]:
    """uvicorn.run's keyword arguments for the connection limits. Proxy headers are left to
    the app (WAYLINE_TRUSTED_PROXIES): uvicorn would otherwise believe 127.0.0.1 by default."""
    return {
        "http": protocol(settings, parser),
        "timeout_keep_alive": settings.keep_alive_seconds,
        "limit_concurrency": settings.max_connections,
        "timeout_graceful_shutdown": settings.graceful_shutdown_seconds,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "proxy_headers": False,
    }
