"""The visitors' API: start a journey anyone may start without signing in, verify an email
address with a code to save it, ask for a resume link, and come back by one.

Starting without a session gives the caller a visitor's session (cookie) and a CSRF token
(cookie, sent back in X-CSRF-Token); everything else about the journey is the journeys API's.
A wrong, expired or locked code is a problem that says which, and changes nothing else.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from wayline.identity.permissions import Permission
from wayline.identity.visitors import (
    CODE_FORMAT,
    LinkVerdict,
    Verdict,
    Verification,
    normalised_email,
)
from wayline.web.access import PUBLIC, allow
from wayline.web.api.journeys import idempotency, respond
from wayline.web.api.models import Body, StartJourney
from wayline.web.auth import current_customer
from wayline.web.problems import problem
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

router = APIRouter(prefix="/api/v1", tags=["visitors"])
Owner = Annotated[str, Depends(current_customer)]
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    code: PROBLEM for code in (401, 404, 409, 410, 422, 429, 503)
}
AFTER_LINK = " Start again and ask for a new code with the same email address."


class EmailAddress(Body):
    email: str = Field(min_length=1, max_length=320, examples=["sam@example.com"])


class EmailCode(Body):
    email: str = Field(min_length=1, max_length=320, examples=["sam@example.com"])
    code: str = Field(min_length=1, max_length=20, examples=["042917"])


class ResumeLink(Body):
    link: str = Field(min_length=1, max_length=200, description="The part after /resume/.")


def _email(given: str) -> str | JSONResponse:
    email = normalised_email(given)
    if email is None:
        return problem(422, EMAIL_FORMAT, [{"field": "email", "message": EMAIL_FORMAT}])
    return email


def locked(result: Verification) -> JSONResponse:
    assert result.until is not None
    words = (
        "Too many wrong codes: checking codes is locked for this application and email "
        f"address until {until_words(result.until)}. Nothing else has changed."
    )
    return problem(429, words, headers={"Retry-After": str(result.retry_after)}, locked=True)


@router.post(
    "/visitor/journeys",
    dependencies=[PUBLIC],
    status_code=201,
    responses=ERRORS,
    summary="Start a journey without signing in (journeys anyone may start)",
    description="Without a session, the caller becomes a visitor: the response sets a session "
    "cookie and a CSRF cookie whose value goes in X-CSRF-Token on later writes. Signed-in "
    "customers and visitors start the journey as themselves. A journey that needs a sign-in "
    "is refused (403).",
)
async def start_as_visitor(
    body: StartJourney, request: Request, do: CommandsDep, read: QueriesDep
) -> Response:
    journey = read.journey_type(body.type)
    if journey is None:
        return problem(404, f"There is no journey type '{body.type}'")
    if await request.app.state.sessions.load(request) is None and not anyone_may_start(journey):
        return problem(401, "Sign in to start this journey", headers={"WWW-Authenticate": "Cookie"})
    cookies = Response()
    owner = await run_in_threadpool(owner_or_new_visitor, request, cookies)
    key = idempotency(request.headers.get("Idempotency-Key"), request, body.model_dump())
    changed = await run_in_threadpool(do.start, owner, body.type, key)
    response = respond(changed, read)
    for name, value in cookies.headers.items():
        if name == "set-cookie":
            response.headers.append(name, value)
    return response


@router.post(
    "/journeys/{journey_id}/email/code",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    status_code=202,
    responses=ERRORS,
    summary="Send a six-digit code to an email address, to save a visitor's journey",
)
def request_code(
    journey_id: str, body: EmailAddress, owner: Owner, visitors: VisitorsDep
) -> Response:
    visitors.check_owner(owner, journey_id)
    email = _email(body.email)
    if isinstance(email, JSONResponse):
        return email
    result = visitors.request_code(owner, journey_id, email)
    if result.verdict is Verdict.LOCKED:
        return locked(result)
    minutes = math.ceil(visitors.policy.code_lifetime.total_seconds() / 60)
    return JSONResponse({"sent": True, "expires_in_minutes": minutes}, status_code=202)


@router.post(
    "/journeys/{journey_id}/email/verify",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    responses=ERRORS,
    summary="Check the code: the journey is saved to the email address, and a link sent",
)
def verify_code(journey_id: str, body: EmailCode, owner: Owner, visitors: VisitorsDep) -> Response:
    visitors.check_owner(owner, journey_id)
    email = _email(body.email)
    if isinstance(email, JSONResponse):
        return email
    if not CODE_FORMAT.match(body.code.strip()):  # a slip of the keyboard: not counted
        return problem(422, CODE_SHAPE, [{"field": "code", "message": CODE_SHAPE}])
    result = visitors.check_code(owner, journey_id, email, body.code)
    if result.verdict is Verdict.VERIFIED:
        return JSONResponse({"verified": True, "link_sent": True})
    if result.verdict is Verdict.LOCKED:
        return locked(result)
    if result.verdict is Verdict.WRONG:
        return problem(422, WRONG, [{"field": "code", "message": WRONG}], attempts_left=result.left)
    return problem(422, EXPIRED, [{"field": "code", "message": EXPIRED}], expired=True)


@router.post(
    "/journeys/{journey_id}/email/save",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    status_code=202,
    responses=ERRORS,
    summary="Save and come back later: a new resume link, sent to the verified email",
)
def save_for_later(journey_id: str, owner: Owner, visitors: VisitorsDep) -> Response:
    visitors.check_owner(owner, journey_id)
    if not visitors.save_for_later(owner, journey_id):
        return problem(409, "Verify an email address first: ask for a code, then send it back")
    return JSONResponse({"sent": True}, status_code=202)


@router.post(
    "/visitor/resume",
    dependencies=[PUBLIC],
    responses=ERRORS,
    summary="Come back by a resume link: a new visitor session owning the journey",
    description="A link works once and expires. The response sets a new session cookie (any "
    "other session of the visitor ends) and a CSRF cookie.",
)
async def resume(body: ResumeLink, request: Request, visitors: VisitorsDep) -> Response:
    redeemed = await run_in_threadpool(visitors.redeem, body.link)
    if redeemed.verdict is not LinkVerdict.GOOD or redeemed.owner is None:
        status = 404 if redeemed.verdict is LinkVerdict.TAMPERED else 410
        return problem(status, LINK_WORDS[redeemed.verdict] + AFTER_LINK)
    await request.app.state.sessions.load(request)
    response = JSONResponse({"journey_id": redeemed.journey_id})
    await run_in_threadpool(become, request, response, redeemed.owner)
    return response
