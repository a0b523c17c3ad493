"""Security by default on every response, and CSRF protection on every state change.

Headers: a CSP with no inline script or style, HSTS, nosniff, no framing, a strict referrer
policy, and `Cache-Control: no-store` on everything but static assets (pages and API answers
carry personal data).

CSRF: a signed double-submit token. The CSRF cookie (`wayline_csrf`, or `__Host-wayline_csrf`
over HTTPS: see cookies.py) holds a random nonce signed together with the session's id; a
state-changing request must send the same value back, in the `csrf_token` form field (pages) or
the `X-CSRF-Token` header (scripts and API clients). A token from another session, or a forged
cookie, fails the signature check. Requests from another origin are refused before that
(origin.py).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wayline.web.cookies import CookieNames

CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
# The settings naming the identity providers a form's redirect may lead to (config.py).
PROVIDER_SETTINGS = ("oidc_issuer", "staff_oidc_issuer")
OTHER_HEADERS = [
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
# Every response's headers when no identity provider is configured.
HEADERS = [(b"content-security-policy", CONTENT_SECURITY_POLICY.encode()), *OTHER_HEADERS]


def content_security_policy(form_targets: Iterable[str] = ()) -> str:
    """The CSP, its `form-action` also allowing `form_targets` (origins). Browsers hold every
    hop of a form's redirects to `form-action`: signing out (a form) goes on to the identity
    provider's end-session page, and a step-up asked by a form to its sign-in page."""
    extra = "".join(f" {target}" for target in sorted(set(form_targets)))
    return CONTENT_SECURITY_POLICY.replace("form-action 'self'", f"form-action 'self'{extra}")


def provider_origins(settings: object) -> list[str]:
    """The origins of the identity providers configured in `settings` (none: no provider)."""
    found: list[str] = []
    for name in PROVIDER_SETTINGS:
        parts = urlsplit(str(getattr(settings, name, None) or ""))
        if parts.scheme in ("http", "https") and parts.netloc:
            found.append(f"{parts.scheme}://{parts.netloc}".lower())
    return found


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app
        self._headers: list[tuple[bytes, bytes]] | None = None

    def _headers_for(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        """The headers, made once: the CSP names the providers of the app's settings."""
        if self._headers is None:
            state = getattr(scope.get("app"), "state", None)
            targets = provider_origins(getattr(state, "settings", None))
            policy = content_security_policy(targets).encode()
            self._headers = [(b"content-security-policy", policy), *OTHER_HEADERS]
        return self._headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    h for h in message.get("headers", []) if h[0] != b"cache-control" or cacheable
                ]
                # A response that sets one of these itself (a download's stricter CSP) keeps it.
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in self._headers_for(scope) if h[0] not in present)
                if not cacheable:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Csrf:
    def __init__(self, secret: str, cookies: CookieNames):
        self._key = hashlib.sha256(b"wayline.csrf:" + secret.encode()).digest()
        self.cookie = cookies.csrf
        self.secure = cookies.secure

    def _sign(self, session_id: str, nonce: str) -> str:
        mac = hmac.new(self._key, f"{session_id}:{nonce}".encode(), hashlib.sha256)
        return mac.hexdigest()[:32]

    def issue(self, session_id: str) -> str:
        nonce = secrets.token_urlsafe(16)
        return f"{nonce}.{self._sign(session_id, nonce)}"

    def valid(self, session_id: str, token: str | None) -> bool:
        if not token or "." not in token:
            return False
        nonce, mac = token.rsplit(".", 1)
        return _same(mac, self._sign(session_id, nonce))

    def token_for(self, request: Request) -> str:
        """The request's token, or a new one for its session (set by `remember`)."""
        session_id = request.app.state.sessions.session_id(request)
        current = request.cookies.get(self.cookie)
        if current is not None and self.valid(session_id, current):
            return current
        fresh = getattr(request.state, "csrf_token", None)
        if fresh is None or not self.valid(session_id, fresh):
            fresh = self.issue(session_id)
            request.state.csrf_token = fresh
        return fresh

    def remember(self, request: Request, response: Response) -> None:
        fresh = getattr(request.state, "csrf_token", None)
        if fresh and fresh != request.cookies.get(self.cookie):
            response.set_cookie(
                self.cookie, fresh, httponly=False, samesite="strict", secure=self.secure, path="/"
            )

    def check(self, request: Request, submitted: str | None) -> None:
        session_id = request.app.state.sessions.session_id(request)
        cookie = request.cookies.get(self.cookie)
        if not (
            submitted and cookie and _same(submitted, cookie) and self.valid(session_id, submitted)
        ):
            raise CsrfFailure()


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison of any two texts: hmac.compare_digest refuses str holding
    anything but ASCII (TypeError), and a form may send any text as a token."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


class CsrfFailure(HTTPException):
    def __init__(self) -> None:
        super().__init__(
            403,
            "The request's security token is missing or out of date. Reload the page and "
            "try again.",
        )


async def require_csrf_header(request: Request) -> None:
    """API dependency: cookie-authenticated state changes carry the X-CSRF-Token header."""
    if request.method in SAFE_METHODS:
        return
    if await request.app.state.sessions.load(request) is None:
        return  # not signed in: no session to ride on, and the route itself answers 401
    request.app.state.csrf.check(request, request.headers.get(CSRF_HEADER))
