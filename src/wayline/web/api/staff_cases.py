"""The staff API of the handlers' workbench, under /api/v1/staff (docs/workbench.md#the-staff-api).

Every route needs `work_cases` (handlers, senior handlers, fraud investigators): anyone else
signed in gets 403, nobody 401. A case in a queue the caller may not work does not exist for
them (404), in listings, views and actions alike. Every view of a case, every document opened
and every action is in the audit log with the caller's address and user agent.

Errors, as problem details: 404 (no such case, view or document for this caller), 409 (the
case is closed or not in the state the action needs; `holder` names who holds a case someone
else has), 403 (a four-eyes refusal, with its reason), 401 with RFC 9470's WWW-Authenticate
(the second approval of a payout over the limit without a fresh second factor), 422 naming
the field (a body, filter, reason or request that is not valid). Actions answer with the case
as they left it (a summary, as in the queue); the case view has everything else.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at runtime.
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from wayline.identity.audit import Origin
from wayline.identity.permissions import Permission
from wayline.identity.principal import Principal
from wayline.runtime.cases import CaseFilters, CaseRow, Cases, TaskRow, ViewRow
from wayline.runtime.cases.queries import summary
from wayline.web.access import STAFF_SIGN_IN, SignInNeeded, allow, origin
from wayline.web.api import case_files
from wayline.web.api.staff_models import (
    NAME,
    CloseAs,
    Decide,
    Note,
    Priority,
    Reassign,
    RequestInformation,
    ReturnToQueue,
    SaveView,
    Status,
    one_kind_of_request,
    only_the_view,
    plain,
)

router = APIRouter(
    prefix="/api/v1/staff", tags=["workbench"], dependencies=[allow(Permission.WORK_CASES)]
)
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = {code: PROBLEM for code in (401, 403, 404, 409, 422)}
FOUR_EYES = (
    "An approval over the four-eyes limit is only a proposal (status `awaiting_approval`). "
    "The second approval needs a senior handler who did not propose it (403 otherwise) "
    "signed in with a second factor within five minutes: 401 with `WWW-Authenticate: Bearer "
    'error="insufficient_user_authentication"`, `acr_values` and `max_age` (RFC 9470) when '
    "the sign-in falls short. Nothing is written on a refusal."
)


class Acting:
    """Who is acting and from where: the signed-in member of staff (allow(WORK_CASES) let
    only staff with a case-working role through) and the request's origin for the audit log."""

    def __init__(self, request: Request):
        principal: Principal | None = request.app.state.sessions.principal(request)
        if principal is None:  # the access check answered 401 already; never on -O either
            raise SignInNeeded(STAFF_SIGN_IN)
        self.staff = principal
        self.origin: Origin = origin(request)
        self.cases: Cases = request.app.state.cases
        self._sessions = request.app.state.sessions

    def now(self) -> datetime:
        now: datetime = self._sessions.service.now()
        return now

    def case(self, row: CaseRow) -> dict[str, Any]:
        return summary(row, self.now())


Staff = Annotated[Acting, Depends(Acting)]


# --- queues, cases and saved views -----------------------------------------------------------


@router.get("/queues", responses=ERRORS, summary="The queues the caller may work, with counts")
def queues(acting: Staff) -> list[dict[str, Any]]:
    return acting.cases.queues(acting.staff)


@router.get(
    "/cases",
    responses=ERRORS,
    summary="Cases in the caller's queues, most pressing first",
    description="Without `status`, closed cases are left out. `view` lists a saved view's "
    "cases instead (the other filters must then be left out).",
)
def list_cases(
    acting: Staff,
    queue: Annotated[str | None, Query(min_length=1, max_length=NAME)] = None,
    journey: Annotated[str | None, Query(min_length=1, max_length=NAME)] = None,
    status: Status | None = None,
    assignee: Annotated[
        str | None,
        Query(min_length=1, max_length=NAME, description="A staff id, `me` or `nobody`."),
    ] = None,
    priority: Priority | None = None,
    overdue: bool = False,
    view: Annotated[str | None, Query(min_length=1, max_length=NAME)] = None,
) -> list[dict[str, Any]]:
    given = {
        "queue": plain(queue, "queue"),
        "journey": plain(journey, "journey"),
        "status": status,
        "assignee": plain(assignee, "assignee"),
        "priority": priority,
        "overdue": overdue or None,
    }
    if view is not None:
        only_the_view(given)
        return acting.cases.view_cases(acting.staff, plain(view, "view") or "")
    filters = CaseFilters.of({key: value for key, value in given.items() if value is not None})
    return acting.cases.cases(acting.staff, filters)


@router.get("/views", responses=ERRORS, summary="The caller's saved views")
def list_views(acting: Staff) -> list[dict[str, Any]]:
    return [_view(row) for row in acting.cases.views(acting.staff)]


@router.post("/views", status_code=201, responses=ERRORS, summary="Save filters as a view")
def save_view(body: SaveView, acting: Staff) -> dict[str, Any]:
    filters = body.filters.model_dump(exclude_defaults=True)
    for key in ("journey", "queue", "assignee"):
        plain(filters.get(key), f"filters.{key}")
    return _view(acting.cases.save_view(acting.staff, body.name, filters))


@router.delete(
    "/views/{view_id}",
    status_code=204,
    responses=ERRORS,
    summary="Delete one of the caller's views",
)
def delete_view(view_id: str, acting: Staff) -> Response:
    acting.cases.delete_view(acting.staff, view_id)
    return Response(status_code=204)


# --- one case ----------------------------------------------------------------------------------


@router.get(
    "/cases/{case_id}",
    responses=ERRORS,
    summary="One case with everything a handler needs (audited)",
    description="The answers by step with where prefilled ones came from, the documents, the "
    "checks and the decision's reasons, the journey's events, the notes and tasks, and what "
    "the definition lets a handler choose. `fraud_evidence` (the fraud bureau's data and photo "
    "reuse matches) is null for staff without `see_fraud_evidence`.",
)
def view_case(case_id: str, acting: Staff) -> dict[str, Any]:
    return acting.cases.case(acting.staff, case_id, acting.origin)


@router.get(
    "/cases/{case_id}/documents/{document_id}/content",
    responses={**ERRORS, 200: {"content": {t: {} for t in case_files.SERVED}}},
    response_class=StreamingResponse,
    summary="A document of the case's journey: a photo's display copy inline, or the original",
)
def document_content(
    case_id: str,
    document_id: str,
    request: Request,
    acting: Staff,
    copy: Literal["display", "original"] = "display",
) -> StreamingResponse:
    record = acting.cases.document(acting.staff, case_id, document_id, copy, acting.origin)
    return case_files.serve(request.app.state.pipeline, record, copy)


# --- actions -----------------------------------------------------------------------------------


@router.post("/cases/{case_id}/claim", responses=ERRORS, summary="Take the case (atomic)")
def claim(case_id: str, acting: Staff) -> dict[str, Any]:
    """409 with `holder` when someone else has it; claiming one's own case changes nothing."""
    return acting.case(acting.cases.claim(acting.staff, case_id, acting.origin))


@router.post("/cases/{case_id}/release", responses=ERRORS, summary="Put the case back, unassigned")
def release(case_id: str, acting: Staff) -> dict[str, Any]:
    return acting.case(acting.cases.release(acting.staff, case_id, acting.origin))


@router.post("/cases/{case_id}/reassign", responses=ERRORS, summary="Give the case to someone")
def reassign(case_id: str, body: Reassign, acting: Staff) -> dict[str, Any]:
    to = plain(body.to, "to") or ""
    return acting.case(acting.cases.reassign(acting.staff, case_id, to, acting.origin))


@router.post(
    "/cases/{case_id}/notes", status_code=201, responses=ERRORS, summary="Add a note for staff"
)
def add_note(case_id: str, body: Note, acting: Staff) -> dict[str, Any]:
    row = acting.cases.add_note(acting.staff, case_id, body.note, acting.origin)
    return {"id": row.id, "at": row.at.isoformat(), "author": row.author, "text": row.text}


@router.post(
    "/cases/{case_id}/decide",
    responses=ERRORS,
    summary="Approve or decline, with a declared reason",
    description=FOUR_EYES,
)
def decide(case_id: str, body: Decide, acting: Staff) -> dict[str, Any]:
    row = acting.cases.decide(
        acting.staff, case_id, body.verdict, body.reason, body.note, acting.origin
    )
    return acting.case(row)


@router.post(
    "/cases/{case_id}/request-information",
    status_code=201,
    responses=ERRORS,
    summary="Ask the customer a question or for files",
)
def request_information(case_id: str, body: RequestInformation, acting: Staff) -> dict[str, Any]:
    one_kind_of_request(body.code, body.kind)
    task = acting.cases.request_information(
        acting.staff,
        case_id,
        code=body.code,
        kind=body.kind,
        prompt=body.prompt,
        accept=body.accept,
        origin=acting.origin,
    )
    return _task(task)


@router.post(
    "/cases/{case_id}/refer-to-fraud", responses=ERRORS, summary="Move the case to the fraud queue"
)
def refer_to_fraud(case_id: str, acting: Staff) -> dict[str, Any]:
    return acting.case(acting.cases.refer_to_fraud(acting.staff, case_id, acting.origin))


@router.post(
    "/cases/{case_id}/return",
    responses=ERRORS,
    summary="Send the case to another queue, unassigned, saying what was found",
    description="For the case's holder, to a queue they work: a fraud investigator clearing "
    "a claim of fraud sends it back to `claims`, where a handler decides it. The case is open "
    "and unassigned there, at that queue's priority; the note is kept as a case note. 422 "
    "naming `queue` for a queue not declared or not the caller's, 409 for the case's own "
    "queue or a case waiting for the customer or a second approval.",
)
def return_to_queue(case_id: str, body: ReturnToQueue, acting: Staff) -> dict[str, Any]:
    queue = plain(body.queue, "queue") or ""
    row = acting.cases.return_to_queue(acting.staff, case_id, queue, body.note, acting.origin)
    return acting.case(row)


@router.post(
    "/cases/{case_id}/resolve",
    responses=ERRORS,
    summary="Close a case on a journey already decided, saying what was found",
)
def resolve(case_id: str, body: Note, acting: Staff) -> dict[str, Any]:
    return acting.case(acting.cases.resolve(acting.staff, case_id, body.note, acting.origin))


@router.post(
    "/cases/{case_id}/close-as",
    responses=ERRORS,
    summary="End the case's journey by hand as completed, declined or withdrawn, with a reason",
)
def close_as(case_id: str, body: CloseAs, acting: Staff) -> dict[str, Any]:
    closed = acting.cases.close_as(acting.staff, case_id, body.as_, body.reason, acting.origin)
    return acting.case(closed)


def _view(row: ViewRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "filters": row.filters,
        "created_at": row.created_at.isoformat(),
    }


def _task(task: TaskRow) -> dict[str, Any]:
    return {
        "id": task.id,
        "case_id": task.case_id,
        "kind": task.kind,
        "prompt": task.prompt,
        "accept": list(task.accept),
        "status": task.status,
        "requested_by": task.requested_by,
        "requested_at": task.requested_at.isoformat(),
    }
