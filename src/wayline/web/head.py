"""HEAD on every route that answers GET (RFC 9110 section 9.3.2): the route runs as for GET and
the client gets its status and headers without the body.

FastAPI's routes answer only the methods they declare, so without this a HEAD on a page or an
API resource got 405 while `Allow` (web/methods.py) rightly says HEAD is allowed wherever GET is.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


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

        # The scope is changed in place (and put back) so that what routing adds to it, such as
        # the matched route, reaches the middleware outside (request logs and metrics).
        scope["method"] = "GET"
        try:
            await self.app(scope, receive, without_body)
        finally:
            scope["method"] = "HEAD"
