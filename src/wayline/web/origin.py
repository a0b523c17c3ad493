"""Cross-origin state changes are refused, for the whole application, before any route runs.

A POST, PUT, PATCH or DELETE is refused with 403 when the browser says it comes from another
site: a `Sec-Fetch-Site: cross-site` header, or an `Origin` that is neither the request's own
(its scheme and `Host`) nor the public URL's (`WAYLINE_PUBLIC_URL`, for a server behind a proxy
that terminates TLS). `Origin: null` (sandboxed frames, cross-site redirects) is foreign too.
This holds even with a valid CSRF token: a token that leaked does not let another site act.

Requests without those headers (curl, API clients, old browsers) pass as before; the CSRF token
still protects them. Browsers cannot be made to forge either header, which is what makes them
worth checking.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from wayline.errors import StoreUnavailable
from wayline.web.pages.render import render
from wayline.web.problems import problem, wants_html

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_PORTS = {"http": "80", "https": "443"}
DETAIL = (
    "This request came from another website, so it was refused and nothing was changed. "
    "Go back to our site and try again from there."
)


def normalised_origin(url: str, strict: bool = True) -> str | None:
    """`scheme://host[:port]` in lower case without a default port, or None if `url` has no
    HTTP(S) scheme and host (so that `null` and garbage never match anything). Strict, for an
    `Origin` header: anything more than an origin (user, path, query) is not one either;
    lenient, for a configured URL: its origin, whatever path follows."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if scheme not in DEFAULT_PORTS or not host:
        return None
    extra = "@" in parts.netloc or parts.path or parts.query or parts.fragment
    if strict and extra:
        return None
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    shown = f":{port}" if port is not None and str(port) != DEFAULT_PORTS[scheme] else ""
    return f"{scheme}://{host}{shown}"


def own_origin(scope: Scope, headers: Headers) -> str | None:
    """The origin this request was sent to: its scheme and the Host it named."""
    host = headers.get("host")
    if not host and scope.get("server"):
        server_host, server_port = scope["server"]
        host = f"{server_host}:{server_port}"
    return normalised_origin(f"{scope.get('scheme', 'http')}://{host}") if host else None


def foreign(scope: Scope, headers: Headers, public_origin: str | None) -> bool:
    """Does the browser say this request comes from another site?"""
    if headers.get("sec-fetch-site", "").strip().lower() == "cross-site":
        return True
    origin = headers.get("origin")
    if origin is None:
        return False  # not sent by a browser, or by one that does not say: CSRF still applies
    claimed = normalised_origin(origin)
    return claimed is None or claimed not in {own_origin(scope, headers), public_origin}


class SameOrigin:
    """Pure ASGI middleware: answer 403 to cross-origin state changes; pass everything else."""

    def __init__(self, app: ASGIApp, public_url: str):
        self.app = app
        self.public_origin = normalised_origin(public_url, strict=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in STATE_CHANGING:
            await self.app(scope, receive, send)
            return
        if not foreign(scope, Headers(scope=scope), self.public_origin):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        # Rendering the page resolves the session (a database read): off the event loop.
        response = await run_in_threadpool(_refusal, request)
        await response(scope, receive, send)


def _refusal(request: Request) -> Response:
    """An error page for pages, problem details for the API and scripts."""
    if wants_html(request):
        heading = "This request was refused"
        try:
            return render(request, "error.html", heading, 403, heading=heading, message=DETAIL)
        except StoreUnavailable:
            pass  # the page shows who is signed in, from the store, which is down: refuse plainly
    return problem(403, DETAIL)
