"""What every customer page module shares: the signed-in customer, the checked form, the
redirect after a post, and each step's address."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from wayline.runtime.queries import CHECK_ANSWERS
from wayline.web.access import CUSTOMER_SIGN_IN, SignInNeeded
from wayline.web.pages.render import render

MAX_FILES = 10


async def page_customer(request: Request) -> str:
    session = await request.app.state.sessions.load(request)
    if session is None:
        raise SignInNeeded(CUSTOMER_SIGN_IN)  # the route's access check comes first
    return str(session.subject)


Customer = Annotated[str, Depends(page_customer)]


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token has been checked."""
    form = await request.form(max_files=MAX_FILES + 1, max_fields=200)
    await request.app.state.sessions.load(request)  # the check reads it: off the event loop
    token = form.get("csrf_token")
    request.app.state.csrf.check(request, token if isinstance(token, str) else None)
    return form


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def step_url(journey_id: str, step: str | None, change: bool = False) -> str:
    if step is None:
        return f"/journeys/{journey_id}/status"
    if step == CHECK_ANSWERS:
        return f"/journeys/{journey_id}/check-answers"
    return f"/journeys/{journey_id}/steps/{step}" + ("?change=1" if change else "")


def not_found(request: Request) -> Response:
    return render(
        request,
        "error.html",
        "Page not found",
        404,
        heading="Page not found",
        message="If you typed the web address, check it is correct.",
    )


def preview_segments(request: Request, form: FormData) -> list[str] | None:
    """The demo's preview switch: the journey started as a customer in the segment chosen
    ("none": in no segment). Outside the demo the field is ignored: segments come from the
    customer's data only."""
    chosen = form.get("preview_segment")
    if not request.app.state.settings.demo or not isinstance(chosen, str) or not chosen:
        return None
    return [] if chosen == "none" else [chosen]
