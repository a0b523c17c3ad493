"""Pure ASGI middleware: a request id and one JSON log line per request, request metrics by
route template, and a cap on body size enforced while the body streams in."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wayline.ids import new_id
from wayline.observability import metrics

log = structlog.get_logger("wayline.http")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContext:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if REQUEST_ID.match(given) else new_id()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            metrics.REQUEST_DURATION.labels(scope["method"], template, str(status)).observe(elapsed)
            # Handlers run in a worker thread, so what they bind to the logging context does not
            # come back here: the journey id is read from the matched route's parameters.
            log.info(
                "request",
                method=scope["method"],
                route=template,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                journey_id=_journey_id(scope),
            )


class BodyLimit:
    """Refuse bodies over the limit with 413, before reading them whole. Upload routes get
    their own, larger limit."""

    def __init__(self, app: ASGIApp, limit: int, routes: list[tuple[str, int]]):
        self.app = app
        self.limit = limit
        self.routes = [(re.compile(pattern), size) for pattern, size in routes]

    def limit_for(self, path: str) -> int:
        return next((size for pattern, size in self.routes if pattern.search(path)), self.limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _too_large(send, limit)
            return
        received = 0
        started = False
        exceeded = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                # The app caught the overflow and answered something else (FastAPI turns any
                # error while reading a body into a 400): the answer is 413 all the same.
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _too_large(send, limit)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _too_large(send, limit)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": "Content too large",
        "status": 413,
        "detail": f"The request body must be at most {limit:,} bytes",
    }
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


JOURNEY_ID = re.compile(r"^[0-9a-z]{26}$")


def _journey_id(scope: Scope) -> str | None:
    """The journey a request was about, when its path names one in our id format (a client
    can put any text in a URL; that text is not logged)."""
    value = scope.get("path_params", {}).get("journey_id")
    return value if isinstance(value, str) and JOURNEY_ID.match(value) else None
