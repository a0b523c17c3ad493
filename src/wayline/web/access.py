"""Every route says who may call it, and nothing else is served.

A route declares its access with one of two dependencies: `allow(Permission.X)` (the permission
table in identity/permissions.py says which roles hold X and what step-up it asks for) or
`PUBLIC`. `enforce(app)`, run once the app has all its routes, refuses every route that declared
neither (403, and a warning at start-up naming it), so a new route is denied until someone
decides who may use it.

What a refusal looks like depends on who asked:
- nobody signed in: the API answers 401; a page sends the browser to sign in and back;
- signed in without the role: 403 (audited as `role_denied`); another customer's journey is a
  different matter, answered 404 where the journey is read;
- the role, but a sign-in too weak or too old for the permission's step-up: the API answers 401
  with `WWW-Authenticate: Bearer error="insufficient_user_authentication"` and the `acr_values`
  and `max_age` to ask for (RFC 9470); a page sends the browser through a stronger sign-in and
  back to where it was.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import structlog
from fastapi import FastAPI, Request
from fastapi.params import Depends as DependsParam
from fastapi.responses import Response
from fastapi.routing import RouteContext, iter_route_contexts
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from wayline.identity.assurance import AssuranceLevels, StepUp
from wayline.identity.audit import Action, Entry, Origin, Outcome
from wayline.identity.permissions import TABLE, Decision, Permission, decide
from wayline.identity.principal import Principal
from wayline.identity.roles import Role
from wayline.identity.sign_in import StepUpAsk

log = structlog.get_logger("wayline.access")
MARK = "wayline_access"
CUSTOMER_SIGN_IN = "/sign-in"
STAFF_SIGN_IN = "/staff/sign-in"


class SignInNeeded(Exception):
    def __init__(self, sign_in_path: str):
        super().__init__("Sign in to continue")
        self.sign_in_path = sign_in_path


class Forbidden(Exception):
    def __init__(self, permission: Permission):
        super().__init__("You do not have access to this")
        self.permission = permission


class StepUpNeeded(Exception):
    """The sign-in is too weak or too old for what was asked."""

    def __init__(self, step_up: StepUp, sign_in_path: str):
        super().__init__("Confirm it's you: this needs a stronger or more recent sign-in")
        self.step_up = step_up
        self.sign_in_path = sign_in_path


class Check:
    """The dependency a route declares. `permission` None: anyone, signed in or not."""

    def __init__(self, permission: Permission | None):
        self.permission = permission

    async def __call__(self, request: Request) -> None:
        if self.permission is None:
            return
        sessions = request.app.state.sessions
        session = await sessions.load(request)
        principal = session.principal if session else None
        decision = decide(principal, self.permission, sessions.service.now())
        if decision is Decision.ALLOW:
            return
        grant = TABLE[self.permission]
        sign_in = CUSTOMER_SIGN_IN if Role.CUSTOMER in grant.roles else STAFF_SIGN_IN
        if decision is Decision.SIGN_IN:
            raise SignInNeeded(sign_in)
        if decision is Decision.STEP_UP and grant.step_up is not None:
            raise StepUpNeeded(grant.step_up, sign_in)
        assert principal is not None
        await run_in_threadpool(_audit_denied, request, principal, self.permission)
        raise Forbidden(self.permission)

    def __repr__(self) -> str:
        return f"Check({self.permission})"


def allow(permission: Permission) -> DependsParam:
    """Declare that a route needs `permission`."""
    return DependsParam(Check(permission))


# Declare that a route is for anyone (health checks, sign-in, the API's own documents).
PUBLIC = DependsParam(Check(None))


def declared(route: BaseRoute | RouteContext) -> Check | None:
    """The access a route declared, or None. For a route of an included router, the
    dependencies are the router's and the route's together."""
    dependencies = getattr(route, "dependencies", None) or []
    for dependency in dependencies:
        if isinstance(dependency.dependency, Check):
            return dependency.dependency
    original = route.original_route if isinstance(route, RouteContext) else route
    mark = getattr(original, MARK, None)
    return mark if isinstance(mark, Check) else None


def served(app: FastAPI) -> list[RouteContext]:
    """Every route the app serves, those of included routers too (FastAPI keeps an included
    router as one entry of `app.routes`; its routes are only reached through it)."""
    return list(iter_route_contexts(app.routes))


def mark_public(route: BaseRoute) -> None:
    """Declare a route that takes no dependencies (a Mount, a plain Starlette route) public."""
    setattr(route, MARK, Check(None))


def enforce(app: FastAPI) -> list[str]:
    """Refuse every route that declared no access; returns their paths. The app's own OpenAPI
    document and mounted static files are public."""
    undeclared = []
    for route in served(app):
        original = route.original_route
        if isinstance(original, Route) and original.path == app.openapi_url:
            mark_public(original)
        if declared(route) is not None:
            continue
        undeclared.append(route.path or repr(original))
        _refuse_route(route)
    if undeclared:
        log.warning("access.undeclared_routes_refused", paths=undeclared)
    return undeclared


def _refuse_route(route: RouteContext) -> None:
    """Answer every request to `route` with 403. A route of an included router is served by
    its inclusion's own handler, so that one is replaced too."""
    original = route.original_route
    if isinstance(original, (Route, Mount)):
        original.app = _refuse
    # fastapi.routing.RouteContext offers no public handle on the inclusion's handler.
    inclusion = route._route_context
    if inclusion is not None:
        inclusion.app = _refuse


async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
    response = Response(
        '{"type":"about:blank","title":"Forbidden","status":403,'
        '"detail":"This route has not declared who may use it"}',
        status_code=403,
        media_type="application/problem+json",
    )
    await response(scope, receive, send)


def _audit_denied(request: Request, principal: Principal, permission: Permission) -> None:
    request.app.state.audit.record(
        Entry(
            action=Action.ROLE_DENIED,
            outcome=Outcome.DENIED,
            actor=principal,
            origin=origin(request),
            details={
                "permission": permission.value,
                "method": request.method,
                "route": _route_path(request),
            },
        )
    )


def origin(request: Request) -> Origin:
    """Where a request came from, for the audit log (the client address is the proxy's
    forwarded one only behind a trusted proxy: see WAYLINE_TRUSTED_PROXIES)."""
    client = request.client.host if request.client else None
    return Origin(ip=client, user_agent=request.headers.get("user-agent"))


def _route_path(request: Request) -> str:
    """The route's template (`/api/v1/journeys/{journey_id}`), never the concrete path: ids
    are not for the log."""
    route = request.scope.get("route")
    return str(getattr(route, "path", "unmatched"))


def sign_in_url(path: str, back_to: str, step_up: StepUp | None = None) -> str:
    """Where to send a browser to sign in (or step up) and then come back to `back_to`."""
    query: dict[str, Any] = {"next": back_to}
    if step_up is not None:
        query.update(level=step_up.level, max_age=step_up.max_age)
    return f"{path}?{urlencode(query, safe='/')}"


# The longest `max_age` a link may ask for: a year, far beyond any sensible step-up window.
MAX_AGE_LIMIT = 366 * 24 * 3600
MAX_RETURN_TO = 2000  # the sign_in_requests column


def parse_ask(
    level: str | None, max_age: str | None, top_level: int
) -> tuple[bool, StepUpAsk | None]:
    """What a sign-in link's `level` and `max_age` ask for, by the contract every sign-in
    shares: whether it can be asked at all, and then nothing (a plain sign-in) or at least
    `level` (1 when only `max_age` is given) within `max_age` seconds. A level above
    `top_level` (the strongest the sign-in can give) cannot be asked for."""
    if level is None and max_age is None:
        return True, None
    wanted = _whole(level) if level is not None else 1
    within = _whole(max_age) if max_age is not None else None
    if wanted is None or not 1 <= wanted <= top_level:
        return False, None
    if max_age is not None and (within is None or not 0 < within <= MAX_AGE_LIMIT):
        return False, None
    return True, StepUpAsk(wanted, within)


def _whole(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def local_path(target: str | None, home: str) -> str:
    """Only a path on this site is followed after sign-in (no open redirect); else `home`.
    The one check for every sign-in, the provider's and the demo's."""
    if (
        target
        and len(target) <= MAX_RETURN_TO
        and target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and target.isprintable()
    ):
        return target
    return home


def step_up_challenge(step_up: StepUp, levels: AssuranceLevels) -> str:
    """The RFC 9470 `WWW-Authenticate` value for an API caller whose sign-in falls short."""
    return (
        'Bearer error="insufficient_user_authentication", '
        'error_description="A stronger or more recent sign-in is needed", '
        f'acr_values="{levels.acr_values(step_up.level)}", max_age={step_up.max_age}'
    )
