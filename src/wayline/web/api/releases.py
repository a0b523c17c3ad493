"""The releases API, for admins (docs/releases.md#the-api), under /api/v1/admin/releases.

- `GET /admin/releases[?journey=NAME]`: every release, oldest first, with its latest analysis;
- `POST /admin/releases`: release a version of a journey as a canary
  (`{"journey", "version", "canary"?, "strategy"?, "stable"?}`; `strategy` is a built-in's name
  or a strategy as an object, never a path: the server reads no file it is named);
- `POST /admin/releases/{release_id}/decisions`: a person's `rollback`, `promote`, `pause` or
  `resume`.

Every route needs `administer` (admins, with a second factor within five minutes). Errors, as
problem details: 422 naming what is wrong (an unknown journey or version, a strategy that is
not valid), 404 (no such release), 409 (an open release already, or a release that is over).
Each start and decision is in the release log and the audit log with the admin's address.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at runtime.
from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from wayline.identity.permissions import Permission
from wayline.runtime.releases.service import (
    Actor,
    ReleaseInputError,
    Releases,
    Status,
    release_json,
)
from wayline.runtime.releases.strategy import BUILT_IN, StrategyError, load, parse
from wayline.web.access import allow, origin
from wayline.web.api.models import Body
from wayline.web.problems import problem

router = APIRouter(
    prefix="/api/v1/admin/releases", tags=["releases"], dependencies=[allow(Permission.ADMINISTER)]
)
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = {code: PROBLEM for code in (401, 403, 404, 409, 422)}
NAME = r"^[a-z0-9][a-z0-9-]{0,99}$"


class StartRelease(Body):
    journey: str = Field(pattern=NAME, description="The journey type, e.g. motor-claim.")
    version: str = Field(
        min_length=4, max_length=64, pattern=r"^[0-9a-f]+$", description="The canary's version."
    )
    canary: int | None = Field(None, ge=1, le=99, description="The first stage's share.")
    strategy: str | dict[str, Any] | None = Field(
        None, description=f"A built-in ({', '.join(BUILT_IN)}) or a strategy object."
    )
    stable: str | None = Field(None, min_length=4, max_length=64, pattern=r"^[0-9a-f]+$")


class Decision(Body):
    decision: Literal["rollback", "promote", "pause", "resume"]


def _releases(request: Request) -> Releases:
    releases: Releases = request.app.state.releases
    return releases


def _actor(request: Request) -> Actor:
    principal = request.app.state.sessions.principal(request)
    where = origin(request)
    return Actor(principal.subject, "staff", where.ip, where.user_agent)


@router.get("", responses=ERRORS, summary="Releases, with their latest analysis")
def list_releases(
    request: Request, journey: str | None = Query(None, pattern=NAME)
) -> JSONResponse:
    found = _releases(request).status(journey)
    return JSONResponse({"releases": [release_json(status) for status in found]})


@router.post("", status_code=201, responses=ERRORS, summary="Release a version as a canary")
async def start_release(body: StartRelease, request: Request) -> JSONResponse:
    try:
        strategy = parse(body.strategy) if isinstance(body.strategy, dict) else None
        if strategy is None:
            if body.strategy is not None and body.strategy not in BUILT_IN:
                raise StrategyError(f"no built-in strategy '{body.strategy}'")
            strategy = load(body.strategy)
        if body.canary is not None:
            strategy = strategy.with_first_share(body.canary)
    except StrategyError as invalid:
        return problem(422, "The strategy is not valid", [_error("strategy", str(invalid))])
    releases, actor = _releases(request), _actor(request)
    try:
        row = await run_in_threadpool(
            releases.start, body.journey, body.version, strategy, actor, body.stable
        )
    except ReleaseInputError as invalid:
        return problem(422, "The release cannot start", [_error("version", str(invalid))])
    return JSONResponse(release_json(Status(row, strategy, None)), status_code=201)


@router.post(
    "/{release_id}/decisions",
    responses=ERRORS,
    summary="Roll back, promote, pause or resume a release",
)
async def decide(
    body: Decision,
    request: Request,
    release_id: str = Path(pattern=r"^[0-9A-Za-z]{1,32}$"),
) -> JSONResponse:
    releases, actor = _releases(request), _actor(request)
    row = await run_in_threadpool(releases.decide, release_id, body.decision, actor)
    return JSONResponse(release_json(Status(row, parse(row.strategy), None)))


def _error(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}
