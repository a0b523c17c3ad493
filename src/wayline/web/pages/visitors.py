"""The visitors' pages: starting a journey anyone may start without signing in, "Save and come
back later" (an email address, then the code sent to it), and the resume link's landing page.

Like every page, they work without JavaScript (plain form posts). A resume link's page only
shows a button: following the link is a POST, so a mail scanner fetching the link does not
use it up.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from wayline.errors import Forbidden, NotFound
from wayline.identity.permissions import Permission
from wayline.identity.visitors import (
    CODE_FORMAT,
    LinkVerdict,
    Verdict,
    Visitors,
    normalised_email,
)
from wayline.web.access import CUSTOMER_SIGN_IN, PUBLIC, SignInNeeded, allow
from wayline.web.pages.common import (
    Customer,
    checked_form,
    preview_segments,
    redirect,
    step_url,
)
from wayline.web.pages.render import render
from wayline.web.services import CommandsDep, QueriesDep
from wayline.web.visitors import (
    CODE_SHAPE,
    EMAIL_FORMAT,
    EXPIRED,
    LINK_WORDS,
    WRONG,
    VisitorsDep,
    anyone_may_start,
    become,
    owner_or_new_visitor,
    until_words,
)

router = APIRouter(include_in_schema=False)
LINK_HEADINGS = {
    LinkVerdict.TAMPERED: "This link is not valid",
    LinkVerdict.USED: "This link has already been used",
    LinkVerdict.EXPIRED: "This link has expired",
}


@router.post("/start/{journey_type}/visitor", dependencies=[PUBLIC])
async def start_as_visitor(
    request: Request, journey_type: str, do: CommandsDep, read: QueriesDep
) -> Response:
    """Start without signing in: a new visitor session when there is none. A journey that
    needs a sign-in sends the browser to sign in instead."""
    form = await checked_form(request)
    journey = read.journey_type(journey_type)
    if journey is None:
        raise NotFound(f"There is no journey type '{journey_type}'")
    if not anyone_may_start(journey):
        raise SignInNeeded(CUSTOMER_SIGN_IN)
    response = redirect("/")
    owner = await run_in_threadpool(owner_or_new_visitor, request, response)
    preview = preview_segments(request, form)
    try:
        changed = await run_in_threadpool(do.start, owner, journey_type, None, preview)
    except Forbidden:
        raise SignInNeeded(CUSTOMER_SIGN_IN) from None
    response.headers["location"] = step_url(changed.journey_id, changed.position.current)
    return response


# --- save and come back later -------------------------------------------------------------


def _context(visitors: Visitors, read: Any, owner: str, journey_id: str) -> dict[str, Any]:
    """What every page here shows: the journey's title and the policy's figures. NotFound
    unless `owner` owns the journey (Conflict for a customer: nothing to verify)."""
    visitors.check_owner(owner, journey_id)
    page = read.journey_page(owner, journey_id)
    return {
        "journey_id": journey_id,
        "journey_title": page.journey.title,
        "code_minutes": math.ceil(visitors.policy.code_lifetime.total_seconds() / 60),
        "link_hours": math.ceil(visitors.policy.link_lifetime.total_seconds() / 3600),
    }


@router.get("/journeys/{journey_id}/save", dependencies=[allow(Permission.OWN_JOURNEYS)])
def save_page(
    request: Request, journey_id: str, customer: Customer, visitors: VisitorsDep, read: QueriesDep
) -> Response:
    context = _context(visitors, read, customer, journey_id)
    verified = visitors.verified_email(customer, journey_id)
    return render(
        request, "visitors/save.html", "Save and come back later", verified=verified, **context
    )


@router.post("/journeys/{journey_id}/save", dependencies=[allow(Permission.OWN_JOURNEYS)])
async def save(
    request: Request, journey_id: str, customer: Customer, visitors: VisitorsDep, read: QueriesDep
) -> Response:
    context = await run_in_threadpool(_context, visitors, read, customer, journey_id)
    await checked_form(request)
    if not await run_in_threadpool(visitors.save_for_later, customer, journey_id):
        return redirect(f"/journeys/{journey_id}/save")
    return render(request, "visitors/saved.html", "Your answers are saved", **context)


@router.post("/journeys/{journey_id}/email", dependencies=[allow(Permission.OWN_JOURNEYS)])
async def send_code(
    request: Request, journey_id: str, customer: Customer, visitors: VisitorsDep, read: QueriesDep
) -> Response:
    context = await run_in_threadpool(_context, visitors, read, customer, journey_id)
    form = await checked_form(request)
    given = str(form.get("email", ""))[:320]
    email = normalised_email(given)
    if email is None:
        errors = [{"field": "email", "message": EMAIL_FORMAT}]
        return render(
            request,
            "visitors/save.html",
            "Save and come back later",
            400,
            errors=errors,
            email_error=EMAIL_FORMAT,
            email=given,
            verified=False,
            **context,
        )
    result = await run_in_threadpool(visitors.request_code, customer, journey_id, email)
    if result.verdict is Verdict.LOCKED:
        assert result.until is not None
        return _code_page(request, context, email, locked=until_words(result.until), status=429)
    return _code_page(request, context, email, sent=True)


@router.post("/journeys/{journey_id}/email/code", dependencies=[allow(Permission.OWN_JOURNEYS)])
async def check_code(
    request: Request, journey_id: str, customer: Customer, visitors: VisitorsDep, read: QueriesDep
) -> Response:
    context = await run_in_threadpool(_context, visitors, read, customer, journey_id)
    form = await checked_form(request)
    email = normalised_email(str(form.get("email", ""))[:320])
    if email is None:
        return redirect(f"/journeys/{journey_id}/save")
    code = str(form.get("code", "")).strip()
    if not CODE_FORMAT.match(code):
        message = "Enter the code" if not code else CODE_SHAPE
        return _code_page(request, context, email, error=message)
    result = await run_in_threadpool(visitors.check_code, customer, journey_id, email, code)
    if result.verdict is Verdict.VERIFIED:
        return render(request, "visitors/saved.html", "Your answers are saved", **context)
    if result.verdict is Verdict.LOCKED:
        assert result.until is not None
        return _code_page(request, context, email, locked=until_words(result.until), status=429)
    if result.verdict is Verdict.WRONG:
        left = f" You have {result.left} more {'try' if result.left == 1 else 'tries'}."
        return _code_page(request, context, email, error=WRONG + "." + left)
    return _code_page(request, context, email, error=EXPIRED)


def _code_page(
    request: Request,
    context: dict[str, Any],
    email: str,
    *,
    sent: bool = False,
    error: str | None = None,
    locked: str | None = None,
    status: int | None = None,
) -> Response:
    errors = [{"field": "code", "message": error}] if error else []
    return render(
        request,
        "visitors/code.html",
        "Enter the code",
        status or (400 if error else 200),
        errors=errors,
        code_error=error,
        locked=locked,
        sent=sent,
        email=email,
        **context,
    )


# --- the resume link ----------------------------------------------------------------------


@router.get("/resume/{link}", dependencies=[PUBLIC])
def resume_page(request: Request, link: str, visitors: VisitorsDep) -> Response:
    """The link's landing page: a button that follows it (a link that is not ours is said to
    be so at once; whether it is used or expired is known only by following it)."""
    if not visitors.signed(link):
        return _link_problem(request, LinkVerdict.TAMPERED)
    return render(request, "visitors/resume.html", "Continue your application", link=link)


@router.post("/resume/{link}", dependencies=[PUBLIC])
async def resume(request: Request, link: str, visitors: VisitorsDep) -> Response:
    await checked_form(request)
    redeemed = await run_in_threadpool(visitors.redeem, link)
    if redeemed.verdict is not LinkVerdict.GOOD or redeemed.owner is None:
        return _link_problem(request, redeemed.verdict)
    response = redirect(f"/journeys/{redeemed.journey_id}")
    await run_in_threadpool(become, request, response, redeemed.owner)
    return response


def _link_problem(request: Request, verdict: LinkVerdict) -> Response:
    """Why a link does not lead to the journey: 404 for one that is not ours, 410 for one
    used or expired."""
    return render(
        request,
        "visitors/link_problem.html",
        LINK_HEADINGS[verdict],
        404 if verdict is LinkVerdict.TAMPERED else 410,
        heading=LINK_HEADINGS[verdict],
        message=LINK_WORDS[verdict],
    )
