"""Per-client rate limits on what a script could repeat: signing in, starting journeys, writing
answers and uploading files. One table says which requests count against which limit; one
pure ASGI middleware applies it to the API and the pages alike, before a request's body is
read, so a refused request costs almost nothing and changes nothing.

A request over a limit is answered 429 with `Retry-After` (whole seconds until the window has
room): problem details for the API and scripts, the error page for pages.

Who the client is: the signed-in customer where there is one, so customers behind one address
(an office, a mobile carrier's NAT) do not share a budget; else the client address. Sign-in
always counts by address, since whoever signs in is not anyone yet. The address is the peer's,
or the one `X-Forwarded-For` names when the peer is a trusted proxy (the app's
ProxyHeadersMiddleware rewrites it, only for WAYLINE_TRUSTED_PROXIES).

Counts live in the `limits` package's storage, chosen by URL: `memory://` (one process) or
`redis://host:port` (shared by every replica). A storage that cannot be reached lets requests
through (logged): a rate limit is a guard against abuse, not a reason to stop serving.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import structlog
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from prometheus_client import Counter
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from wayline.config import Settings
from wayline.web.auth import SCOPE_KEY as SESSION_SCOPE_KEY
from wayline.web.problems import error_response

log = structlog.get_logger("wayline.rate_limits")
RATE_LIMITED = Counter(
    "wayline_rate_limited_total", "Requests refused for going over a rate limit.", ["limit"]
)

Who = Literal["address", "client"]


def _multipart(scope: Scope) -> bool:
    """A page post that can carry files (a step with a file field is a multipart form)."""
    content_type: bytes = dict(scope["headers"]).get(b"content-type", b"")
    return content_type.lower().startswith(b"multipart/form-data")


@dataclass(frozen=True)
class Rule:
    """Requests of `methods` whose path matches count against the limit `limit` (its rate is
    the setting rate_limit_<limit>), per `who`; `only` narrows the rule further."""

    limit: str
    methods: frozenset[str]
    path: re.Pattern[str]
    who: Who = "client"
    only: Callable[[Scope], bool] | None = None

    def matches(self, scope: Scope) -> bool:
        # HEAD runs as GET (web/head.py, inside this middleware): it counts as one.
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        return (
            method in self.methods
            and self.path.match(scope["path"]) is not None
            and (self.only is None or self.only(scope))
        )


def _rule(
    limit: str,
    methods: str,
    path: str,
    who: Who = "client",
    only: Callable[[Scope], bool] | None = None,
) -> Rule:
    return Rule(limit, frozenset(methods.split()), re.compile(path), who, only)


# The one table: every rate-limited request of the API and the pages.
RULES: tuple[Rule, ...] = (
    _rule("sign_in", "POST", r"^/auth/demo$", "address"),
    _rule("sign_in", "POST", r"^/(staff/)?sign-in$", "address"),
    # A provider's callback costs a token exchange; a started sign-in, a row in
    # sign_in_requests until it expires.
    _rule("sign_in", "GET", r"^/auth/callback$", "address"),
    _rule("sign_in_start", "GET", r"^/(staff/)?sign-in$", "address"),
    _rule("journey_start", "POST", r"^/api/v1/journeys$"),
    _rule("journey_start", "POST", r"^/start/[^/]+(/visitor)?$"),
    _rule("journey_start", "POST", r"^/api/v1/visitor/journeys$", "address"),
    # Each sends an email (a code or a resume link): counted by address, visitors being nobody.
    _rule("email_codes", "POST", r"^/api/v1/journeys/[^/]+/email/(code|save)$", "address"),
    _rule("email_codes", "POST", r"^/journeys/[^/]+/(email|save)$", "address"),
    _rule("step_writes", "POST PATCH", r"^/api/v1/journeys/[^/]+/steps/[^/]+$"),
    _rule("step_writes", "POST", r"^/api/v1/journeys/[^/]+/submit$"),
    _rule("step_writes", "POST", r"^/journeys/[^/]+/steps/[^/]+(/draft)?$"),
    _rule("step_writes", "POST", r"^/journeys/[^/]+/check-answers$"),
    _rule("uploads", "POST", r"^/api/v1/journeys/[^/]+/documents$"),
    # Without JavaScript a step page sends its files with the form: one upload per post.
    _rule("uploads", "POST", r"^/journeys/[^/]+/steps/[^/]+$", only=_multipart),
    # Files for a request for more information: the API's one at a time, a task page's with
    # its form.
    _rule("uploads", "POST", r"^/api/v1/journeys/[^/]+/tasks/[^/]+/documents$"),
    _rule("uploads", "POST", r"^/journeys/[^/]+/tasks/[^/]+$", only=_multipart),
)
LIMITS = tuple(sorted({rule.limit for rule in RULES}))


class RateLimitSettingsError(RuntimeError):
    """A rate or storage setting that cannot be used; the server does not start."""


def limits_from_settings(settings: Settings) -> dict[str, list[RateLimitItem]]:
    """Each limit's rates, from its rate_limit_<name> setting."""
    chosen = {}
    for name in LIMITS:
        text = getattr(settings, f"rate_limit_{name}")
        try:
            chosen[name] = parse_many(text)
        except ValueError:
            raise RateLimitSettingsError(
                f"WAYLINE_RATE_LIMIT_{name.upper()}={text!r} is not a rate such as "
                "'10/minute' or '60/minute;600/hour'"
            ) from None
    return chosen


def storage_from_settings(settings: Settings) -> Storage:
    """The counts' storage named by the setting; refused (RateLimitSettingsError) unless
    `limits` knows it and it is synchronous: the limiter counts from worker threads, and an
    `async+...://` storage would hand it coroutines instead of answers."""
    try:
        storage = storage_from_string(settings.rate_limit_storage)
    except Exception as error:  # limits raises ConfigurationError or ValueError for bad URLs
        raise RateLimitSettingsError(
            f"WAYLINE_RATE_LIMIT_STORAGE={settings.rate_limit_storage!r} cannot be used: {error}"
        ) from None
    if not isinstance(storage, Storage):
        raise RateLimitSettingsError(
            f"WAYLINE_RATE_LIMIT_STORAGE={settings.rate_limit_storage!r} is asynchronous; "
            "use memory:// or redis://"
        )
    return storage


@dataclass(frozen=True)
class Verdict:
    """Refused, with the whole seconds until the busiest window has room again."""

    limit: str
    retry_after: int


class Limiter:
    """Counts requests per (limit, client) in a moving window, over the chosen storage."""

    def __init__(self, storage: Storage, limits: dict[str, list[RateLimitItem]]):
        self.strategy = MovingWindowRateLimiter(storage)
        self.limits = limits

    def hit(self, limit: str, client: str) -> Verdict | None:
        """Count one request; a Verdict when it is over the limit (then nothing is counted, so
        a client that waits as told is let in)."""
        items = self.limits[limit]
        key = _opaque(client)
        blocked = [item for item in items if not self.strategy.test(item, limit, key)]
        if not blocked:
            if all(self.strategy.hit(item, limit, key) for item in items):
                return None
            blocked = items  # a concurrent request took the last room meanwhile
        now = time.time()
        waits = [self.strategy.get_window_stats(item, limit, key).reset_time for item in blocked]
        return Verdict(limit, max(1, math.ceil(max(waits) - now)))


def _opaque(client: str) -> str:
    """Addresses and customer ids are personal data: the storage holds a hash of them."""
    return hashlib.sha256(client.encode()).hexdigest()[:32]


class RateLimits:
    """The middleware. `limiter` None: limits are off (WAYLINE_RATE_LIMITS=off)."""

    def __init__(self, app: ASGIApp, limiter: Limiter | None, blocking: bool):
        self.app = app
        self.limiter = limiter
        # Counting against a network store (redis) is I/O: off the event loop.
        self.blocking = blocking

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limiter is None:
            await self.app(scope, receive, send)
            return
        rules = [rule for rule in RULES if rule.matches(scope)]
        if not rules:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        for rule in rules:
            client = await _client(request, rule.who)
            verdict = await self._hit(rule.limit, client)
            if verdict is not None:
                response = await run_in_threadpool(_too_many, request, verdict)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _hit(self, limit: str, client: str) -> Verdict | None:
        assert self.limiter is not None
        try:
            if self.blocking:
                return await run_in_threadpool(self.limiter.hit, limit, client)
            return self.limiter.hit(limit, client)
        except Exception as error:  # the storage is down: serve, and say so
            log.error("rate_limit.storage_failed", limit=limit, error=type(error).__name__)
            return None


async def _client(request: Request, who: Who) -> str:
    """Whom a request counts against: the signed-in customer, else the client address."""
    if who == "client":
        # The session may be looked up in the database: off the event loop. The lookup is
        # kept on the request, so the route does not repeat it.
        try:
            customer = await run_in_threadpool(request.app.state.sessions.customer, request)
        except Exception:
            # The store is down: count by address, and forget the failed lookup, so that the
            # route looks again and answers as it does without limits (503, retry later).
            request.scope.pop(SESSION_SCOPE_KEY, None)
            customer = None
        if customer:
            return f"customer:{customer}"
    address = request.client.host if request.client else "unknown"
    return f"address:{address}"


def _too_many(request: Request, verdict: Verdict) -> Response:
    RATE_LIMITED.labels(verdict.limit).inc()
    log.warning("rate_limited", limit=verdict.limit, retry_after=verdict.retry_after)
    minutes = math.ceil(verdict.retry_after / 60)
    wait = f"{verdict.retry_after} seconds" if verdict.retry_after < 120 else f"{minutes} minutes"
    detail = (
        f"You have done this too many times in a short time. Nothing was changed. "
        f"Wait {wait} and try again."
    )
    retry_after = {"Retry-After": str(verdict.retry_after)}
    response = error_response(request, 429, detail, headers=retry_after)
    response.headers.update(retry_after)  # the error page does not take headers
    return response


def install(app: Starlette, settings: Settings) -> None:
    """Add the middleware (before the app serves: settings that cannot be used stop it)."""
    limits = limits_from_settings(settings)
    limiter = Limiter(storage_from_settings(settings), limits) if settings.rate_limits else None
    blocking = not settings.rate_limit_storage.startswith("memory://")
    app.add_middleware(RateLimits, limiter=limiter, blocking=blocking)
