"""How a refused request is answered (web/access.py decides; this module answers): a page is
sent to sign in, or through a stronger sign-in, and back; the API gets problem details, with
RFC 9470's challenge when its sign-in falls short."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from wayline.errors import StepUpRequired
from wayline.identity.assurance import AssuranceLevels, StepUp
from wayline.web.access import (
    CUSTOMER_SIGN_IN,
    Forbidden,
    SignInNeeded,
    StepUpNeeded,
    local_path,
    sign_in_url,
    step_up_challenge,
)
from wayline.web.pages.render import render
from wayline.web.problems import error_response, problem
from wayline.web.step_up import asked


def _is_page(request: Request) -> bool:
    path = request.url.path
    return not (path.startswith("/api/") or path.startswith("/auth/"))


def _back_to(request: Request, sign_in_path: str) -> str:
    """Where to return after signing in: this page. A form post cannot be replayed by a
    redirect (its URL answers GET with 405, or not at all), so it returns to the page the form
    was on, named by the browser's Referer when that is a page of this site, else home."""
    if request.method in ("GET", "HEAD"):
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    home = "/journeys" if sign_in_path == CUSTOMER_SIGN_IN else "/staff"
    referer = urlsplit(request.headers.get("referer", ""))
    if (referer.scheme, referer.netloc) != (request.url.scheme, request.url.netloc):
        return home
    page = referer.path + (f"?{referer.query}" if referer.query else "")
    return local_path(page, home)


def _sign_in_needed(request: Request, error: Exception) -> Response:
    assert isinstance(error, SignInNeeded)
    if _is_page(request):
        return RedirectResponse(
            sign_in_url(error.sign_in_path, _back_to(request, error.sign_in_path)), 303
        )
    return error_response(request, 401, str(error), headers={"WWW-Authenticate": "Cookie"})


def _forbidden(request: Request, error: Exception) -> Response:
    if _is_page(request):
        return render(
            request,
            "error.html",
            "You do not have access",
            403,
            heading="You do not have access to this page",
            message="Your account does not have a role that can use this page.",
        )
    return problem(403, str(error))


def _step_up_needed(request: Request, error: Exception) -> Response:
    assert isinstance(error, StepUpNeeded)
    return _step_up(request, error.step_up, error.sign_in_path, str(error))


def _step_up_required(request: Request, error: Exception) -> Response:
    """A command refused a journey's step for a weak or old sign-in (the step's `step_up`):
    customers' steps, so the customer's sign-in. Step pages handle it themselves, keeping what
    was typed; this answers the API and any page that did not."""
    assert isinstance(error, StepUpRequired)
    return _step_up(request, asked(error), CUSTOMER_SIGN_IN, str(error))


def _step_up(request: Request, step_up: StepUp, sign_in_path: str, detail: str) -> Response:
    if _is_page(request):
        return RedirectResponse(
            sign_in_url(sign_in_path, _back_to(request, sign_in_path), step_up), 303
        )
    levels: AssuranceLevels = request.app.state.assurance_levels
    return problem(
        401,
        detail,
        headers={"WWW-Authenticate": step_up_challenge(step_up, levels)},
        acr_values=levels.acr_values(step_up.level),
        max_age=step_up.max_age,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(SignInNeeded, _sign_in_needed)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(StepUpNeeded, _step_up_needed)
    app.add_exception_handler(StepUpRequired, _step_up_required)
