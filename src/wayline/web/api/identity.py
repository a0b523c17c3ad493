"""Identity in the API under /api/v1: who is signed in, the audit log, and revoking sessions.

- `GET /me` (anyone signed in): the session's subject, kind, roles, assurance level, when that
  proof was given and when the session ends; nothing else (no name, no token).
- `GET /audit` (auditors): entries, newest first, by actor, action, target and time; a filter
  that is not valid is a 422 naming it. Every read is itself recorded (`audit_read`).
- `POST /admin/sessions/revoke` (admins, with the CSRF header like every API change): every
  session of one subject ends now; recorded as `session_revoked` with the subject and count.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at runtime.
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field, field_validator
from starlette.concurrency import run_in_threadpool

from wayline.identity.audit import Action, Entry, Outcome
from wayline.identity.audit_query import (
    ACTION_NAME,
    MAX_ACTOR,
    MAX_LIMIT,
    MAX_TARGET_ID,
    MAX_TARGET_TYPE,
    AuditQuery,
    InvalidFilters,
    entry_json,
)
from wayline.identity.permissions import Permission
from wayline.identity.sessions import Session
from wayline.journeys.text import BadCharacter, clean
from wayline.web.access import allow, origin
from wayline.web.api.models import Body
from wayline.web.audit_reads import read_on_record
from wayline.web.problems import problem

router = APIRouter(prefix="/api/v1", tags=["identity"])
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = {code: PROBLEM for code in (401, 403, 422)}
# Bounds of the query text itself; AuditQuery checks what the text means, and the document
# says what it takes (json_schema_extra), so that clients and the contract test know. An
# empty filter is no filter.
TEXT = 200
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


class RevokeSessions(Body):
    subject: str = Field(min_length=1, max_length=MAX_ACTOR, examples=["alex"])

    @field_validator("subject")
    @classmethod
    def _one_line_of_text(cls, subject: str) -> str:
        """An id is one line of text: no control or direction characters (PostgreSQL cannot
        even hold a NUL, and the audit entry would carry it)."""
        try:
            return clean(subject)
        except BadCharacter as bad:
            raise ValueError(str(bad)) from None


@router.get(
    "/me",
    dependencies=[allow(Permission.SIGNED_IN)],
    responses=ERRORS,
    summary="Who is signed in, and how strongly",
)
async def me(request: Request) -> dict[str, Any]:
    session: Session | None = await request.app.state.sessions.load(request)
    assert session is not None  # allow(SIGNED_IN) answered 401 otherwise
    principal = session.principal
    return {
        "subject": principal.subject,
        "kind": principal.kind.value,
        "roles": sorted(role.value for role in principal.roles),
        "assurance": principal.assurance,
        "authenticated_at": principal.authenticated_at.isoformat(),
        "expires_at": session.expires_at.isoformat(),
    }


@router.get(
    "/audit",
    dependencies=[allow(Permission.READ_AUDIT_LOG)],
    responses=ERRORS,
    summary="The audit log of identity events, newest first",
)
def audit_log(
    request: Request,
    actor: str | None = Query(
        None,
        max_length=TEXT,
        description="The subject who acted.",
        json_schema_extra={"maxLength": MAX_ACTOR, "pattern": PRINTABLE},
    ),
    action: str | None = Query(
        None,
        max_length=TEXT,
        description="For example sign_in.",
        json_schema_extra={"maxLength": 60, "pattern": f"^$|{ACTION_NAME.pattern}"},
    ),
    target_type: str | None = Query(
        None,
        max_length=TEXT,
        description="With target_id.",
        json_schema_extra={"maxLength": MAX_TARGET_TYPE, "pattern": PRINTABLE},
    ),
    target_id: str | None = Query(
        None,
        max_length=TEXT,
        description="With target_type.",
        json_schema_extra={"maxLength": MAX_TARGET_ID, "pattern": PRINTABLE},
    ),
    since: str | None = Query(
        None,
        max_length=TEXT,
        description="ISO 8601; without a zone it is UTC.",
        # Empty is no filter (the staff page's form sends its blank fields).
        json_schema_extra={
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "maxLength": 0},
            ]
        },
    ),
    limit: int = Query(100, ge=1, le=MAX_LIMIT, description="At most this many entries."),
) -> JSONResponse:
    try:
        query = AuditQuery.parse(
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            since=since,
            limit=limit,
        )
    except InvalidFilters as invalid:
        errors = [{"field": e.field, "message": e.message} for e in invalid.errors]
        return problem(422, "Some filters are not valid", errors)
    rows = read_on_record(request, query)
    return JSONResponse({"entries": [entry_json(row) for row in rows]})


@router.post(
    "/admin/sessions/revoke",
    dependencies=[allow(Permission.REVOKE_SESSIONS)],
    responses=ERRORS,
    summary="End every session of one subject, now",
)
async def revoke_sessions(body: RevokeSessions, request: Request) -> JSONResponse:
    subject = body.subject.strip()
    if not subject:
        errors = [{"field": "subject", "message": "is blank"}]
        return problem(422, "Name whose sessions to end", errors)
    ended = await run_in_threadpool(_revoke, request, subject)
    return JSONResponse({"subject": subject, "ended": ended})


def _revoke(request: Request, subject: str) -> int:
    sessions = request.app.state.sessions
    ended: int = sessions.service.end_all(subject)
    request.app.state.audit.record(
        Entry(
            action=Action.SESSION_REVOKED,
            outcome=Outcome.SUCCESS,
            actor=sessions.principal(request),
            origin=origin(request),
            target_type="subject",
            target_id=subject,
            details={"count": ended, "source": "api"},
        )
    )
    return ended
