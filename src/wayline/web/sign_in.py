"""Signing in through the organisation's identity providers (identity/sign_in.py holds the
rules). Included only for the kinds of person a provider is configured for.

- `GET /sign-in` (customers) and `GET /staff/sign-in` (staff) keep the sign-in contract every
  sign-in shares (web/access.py): `?next=<local path>&level=<int>&max_age=<seconds>`, `level` or
  `max_age` asking for a step-up. They remember the request and send the browser (303) to the
  provider, binding the request to this browser with a short-lived cookie.
- `GET /auth/callback`, the one redirect URI of both clients, finishes it: a new session, then
  303 to `next`. Anything amiss is a 400 page "We could not sign you in" with a way to try again,
  and an audit entry naming the reason (never a token or code); a provider that cannot answer
  is a 503 page. A HEAD on it is 405 and touches nothing (it would use up the state).
- `GET /signed-out`, where the provider returns the browser after ending its own session.

Every route here is public: they are how someone becomes signed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from wayline.identity.audit import Action, Detail, Entry, Outcome
from wayline.identity.oidc import ProviderUnavailable
from wayline.identity.principal import Kind, Principal
from wayline.identity.sign_in import (
    RANDOM_FORMAT,
    REQUEST_LIFETIME,
    SIGNED_OUT_PATH,
    Finished,
    SignInFailed,
    SignInService,
    new_random,
)
from wayline.web.access import (
    CUSTOMER_SIGN_IN,
    PUBLIC,
    STAFF_SIGN_IN,
    local_path,
    origin,
    parse_ask,
)
from wayline.web.cookies import HOST_PREFIX
from wayline.web.head import WAS_HEAD
from wayline.web.pages.render import render

log = structlog.get_logger("wayline.sign_in")
CALLBACK = "/auth/callback"
BINDING_COOKIE = "wayline_sign_in"


@dataclass(frozen=True)
class Door:
    """One kind of person's way in: the sign-in path, and where to land without `next`."""

    kind: Kind
    path: str
    home: str


DOORS = (
    Door(Kind.CUSTOMER, CUSTOMER_SIGN_IN, "/journeys"),
    Door(Kind.STAFF, STAFF_SIGN_IN, "/staff"),
)


def router(service: SignInService) -> APIRouter:
    """The sign-in routes for each kind `service` has a provider for, the callback and the
    signed-out page."""
    routes = APIRouter(include_in_schema=False)
    for door in DOORS:
        if service.serves(door.kind):
            _door_route(routes, door, service)

    @routes.get(CALLBACK, dependencies=[PUBLIC], name="sign_in_callback")
    def callback(request: Request) -> Response:
        if request.scope.get(WAS_HEAD):
            # A HEAD must not finish a sign-in: that would use up the one-time state.
            return Response(status_code=405, headers={"Allow": "GET"})
        return _finish(request, service)

    @routes.get(SIGNED_OUT_PATH, dependencies=[PUBLIC], name="signed_out")
    def signed_out(request: Request) -> Response:
        return render(request, "signed_out.html", "You have signed out")

    return routes


def _door_route(routes: APIRouter, door: Door, service: SignInService) -> None:
    @routes.get(door.path, dependencies=[PUBLIC], name=f"{door.kind}_provider_sign_in")
    def begin(request: Request) -> Response:
        return _begin(request, service, door)


# --- beginning ---------------------------------------------------------------------------


def _begin(request: Request, service: SignInService, door: Door) -> Response:
    query = request.query_params
    valid, ask = parse_ask(query.get("level"), query.get("max_age"), service.top_level)
    if not valid:
        return _problem(
            request, 400, "This sign-in link is not valid", "Go back and try again.", door.path
        )
    target = local_path(query.get("next"), door.home)
    given = request.cookies.get(_binding_name(request))
    browser = given if given and RANDOM_FORMAT.match(given) else new_random()
    try:
        url = service.begin(door.kind, browser, target, ask)
    except ProviderUnavailable as down:
        return _provider_down(request, door.path, down)
    response = RedirectResponse(url, 303)
    response.set_cookie(
        _binding_name(request),
        browser,
        max_age=int(REQUEST_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",  # sent on the provider's top-level redirect back to the callback
        secure=_secure(request),
        path="/",
    )
    return response


# --- finishing ---------------------------------------------------------------------------


def _finish(request: Request, service: SignInService) -> Response:
    query = request.query_params
    browser = request.cookies.get(_binding_name(request))
    try:
        finished = service.finish(
            query.get("state"), query.get("code"), query.get("error"), browser
        )
    except SignInFailed as failed:
        _audit_failure(request, failed)
        return _failed_page(request, failed)
    except ProviderUnavailable as down:
        _audit_failure(request, SignInFailed("provider_unavailable"))
        return _provider_down(request, CUSTOMER_SIGN_IN, down)
    return _signed_in(request, finished)


def _signed_in(request: Request, finished: Finished) -> Response:
    """A new session (the browser's previous one ends: the id rotates, on a step-up too), its
    CSRF token, and on to where the person was going."""
    sessions = request.app.state.sessions
    before = sessions.principal(request)
    step_up = finished.step_up_level is not None and _same_person(before, finished.principal)
    response = RedirectResponse(finished.return_to, 303)
    session_id = sessions.sign_in(request, response, finished.principal, step_up=step_up)
    request.state.csrf_token = request.app.state.csrf.issue(session_id)
    request.app.state.csrf.remember(request, response)
    response.delete_cookie(
        _binding_name(request), path="/", secure=_secure(request), httponly=True, samesite="lax"
    )
    return response


def _same_person(before: Principal | None, after: Principal) -> bool:
    """A step-up proves again who is signed in; anyone else signing in is a new sign-in."""
    return before is not None and (before.kind, before.subject) == (after.kind, after.subject)


def _audit_failure(request: Request, failed: SignInFailed) -> None:
    action = Action.STEP_UP if failed.step_up else Action.SIGN_IN_FAILED
    details: dict[str, Detail] = {"reason": failed.reason}
    if failed.kind is not None:
        details["kind"] = failed.kind.value
    request.app.state.audit.record(
        Entry(action, Outcome.FAILURE, failed.actor, origin(request), details=details)
    )
    log.info("sign_in.failed", reason=failed.reason)


def _failed_page(request: Request, failed: SignInFailed) -> Response:
    door = STAFF_SIGN_IN if failed.kind is Kind.STAFF else CUSTOMER_SIGN_IN
    if failed.reason == "no_role":
        message = (
            "Your account has no role in this service. "
            "Ask your administrator to give you one, then sign in again."
        )
    elif failed.reason == "provider_access_denied":
        message = "The sign-in was cancelled or refused at the sign-in service."
    elif failed.step_up:
        message = "We needed a stronger or more recent sign-in, and did not get one."
    else:
        message = "The sign-in did not complete safely, so we stopped it. Nothing was changed."
    return _problem(request, 400, "We could not sign you in", message, door)


def _provider_down(request: Request, door: str, down: ProviderUnavailable) -> Response:
    log.warning("sign_in.provider_unavailable", error=str(down))
    response = _problem(
        request,
        503,
        "Sign-in is not available right now",
        "The sign-in service is not answering. Please try again in a few minutes.",
        door,
    )
    response.headers["Retry-After"] = "30"
    return response


def _problem(request: Request, status: int, heading: str, message: str, door: str) -> Response:
    return render(
        request,
        "sign_in_problem.html",
        heading,
        status,
        heading=heading,
        message=message,
        try_again=door,
    )


# --- the binding cookie ------------------------------------------------------------------


def _secure(request: Request) -> bool:
    return bool(request.app.state.sessions.cookies.secure)


def _binding_name(request: Request) -> str:
    """Named like Wayline's other cookies: `__Host-` when served over HTTPS (web/cookies.py)."""
    return (HOST_PREFIX if _secure(request) else "") + BINDING_COOKIE
