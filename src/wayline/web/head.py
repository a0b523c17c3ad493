"""HEAD on every route that answers GET (RFC 9110 section 9.3.2): the route runs as for GET and
the client gets its status and headers without the body.

FastAPI's routes answer only the methods they declare, so without this a HEAD on a page or an
API resource got 405 while `Allow` (web/methods.py) rightly says HEAD is allowed wherever GET is.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Set in the scope a HEAD is routed with, for a route that must not run for one (a HEAD on
# the sign-in callback would use up its one-time state): `request.scope.get(WAS_HEAD)`.
WAS_HEAD = "wayline.was_head"


class HeadAsGet:
    """Pure ASGI middleware: HEAD is routed as GET and the response body is dropped."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        # The app gets a copy of the scope: the server keeps reading the original while it
        # sends, and must still see HEAD there, or it expects the body that Content-Length
        # announces and breaks the connection. What routing adds (the matched route, its
        # parameters) is copied back for the middleware outside (request logs and metrics).
        as_get = {**scope, "method": "GET", WAS_HEAD: True}
        try:
            await self.app(as_get, receive, without_body)
        finally:
            scope.update({k: v for k, v in as_get.items() if k not in ("method", "type", WAS_HEAD)})
