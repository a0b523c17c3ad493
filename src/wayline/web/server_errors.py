"""Unhandled exceptions answered inside our own middleware, so a 500 is a response like any
other: it passes back through the request-id and security-header middleware around this one.

Starlette's own last-resort handler sits outside every middleware we add; an exception that
reached it was answered without our security headers or `X-Request-ID`, logged by the server
as text, and raised on. This middleware stops every exception before that:

- not yet answered: a 500 (problem+json, or an error page for a browser), with
  `Connection: close`, since a request that failed half way may have left the connection in
  a state nobody should reuse;
- already answering (a download that failed midway): nothing more is sent, so the server
  closes the connection and the client sees a cut-off response rather than a short one
  passed off as complete.

Either way the exception is logged once, as one JSON line with its traceback (types and frames,
no messages or values: see observability/logging.py), tagged with the request id.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("wayline.http")
DETAIL = "Something went wrong on our side. Please try again."


class ServerErrors:
    """Pure ASGI middleware; `respond` builds the 500 for a request (a page or a problem)."""

    def __init__(self, app: ASGIApp, respond: Callable[[Request], Response]) -> None:
        self.app = app
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            log.error(
                "request.failed",
                error=type(error).__name__,
                response_started=started,
                exc_info=error,
            )
            if started:
                return  # the server closes a response its app left unfinished
            response = self._answer(scope)
            response.headers["connection"] = "close"
            await response(scope, receive, send)

    def _answer(self, scope: Scope) -> Response:
        """The 500 from `respond`, or plain problem details if even that fails (an error page
        needs the session, and the session may be what is broken)."""
        try:
            return self.respond(Request(scope))
        except Exception as error:
            log.error("error_page.failed", error=type(error).__name__, exc_info=error)
            body = {"type": "about:blank", "title": "Internal server error", "status": 500}
            return Response(
                json.dumps({**body, "detail": DETAIL}),
                status_code=500,
                media_type="application/problem+json",
            )
