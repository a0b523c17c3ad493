"""A data subject's export for staff (docs/data-protection.md#export), under /api/v1/staff/subjects.

- `POST /staff/subjects/export` with `{"customer": ID}`: everything Wayline keeps of that
  customer, opened, as one zip: a JSON document per journey, the original documents and a
  manifest of every file's size and SHA-256. It is the archive `wayline subject export` writes.

Needs `export_subject_data` (auditors and admins, with a second factor within five minutes: the
archive is the person's whole file). Each export is in the audit log (`subject_exported`, the
customer as target, how many journeys and files) with the caller's address; the archive's
contents are not. Errors, as problem details: 404 when nothing is kept of the customer, 422
naming the field (an id that is not one line of text), 401/403 as for every staff route.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at runtime.
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import Field, field_validator
from starlette.concurrency import run_in_threadpool

from wayline.identity.audit import Action, Entry, Outcome
from wayline.identity.audit_query import MAX_TARGET_ID
from wayline.identity.permissions import Permission
from wayline.journeys.text import BadCharacter, clean
from wayline.runtime.export import Archive
from wayline.web.access import allow, origin
from wayline.web.api.models import Body
from wayline.web.problems import problem

router = APIRouter(
    prefix="/api/v1/staff/subjects",
    tags=["data protection"],
    dependencies=[allow(Permission.EXPORT_SUBJECT_DATA)],
)
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = {code: PROBLEM for code in (401, 403, 404, 422)}
ZIP = "application/zip"


class ExportRequest(Body):
    customer: str = Field(
        min_length=1, max_length=MAX_TARGET_ID, examples=["alex"], description="The customer's id."
    )

    @field_validator("customer")
    @classmethod
    def _one_line_of_text(cls, customer: str) -> str:
        """An id is one line of text (it is the audit entry's target): no control or
        direction characters, nothing but spaces."""
        try:
            cleaned = clean(customer).strip()
        except BadCharacter as bad:
            raise ValueError(str(bad)) from None
        if not cleaned:
            raise ValueError("is blank")
        return cleaned


@router.post(
    "/export",
    responses={**ERRORS, 200: {"content": {ZIP: {}}, "description": "The archive, a zip."}},
    response_class=Response,
    summary="Everything kept of one customer, opened, as a zip with a manifest (audited)",
)
async def export_subject(body: ExportRequest, request: Request) -> Response:
    archive = await run_in_threadpool(_export, request, body.customer)
    if archive is None:
        return problem(404, f"Nothing is kept of customer {body.customer}")
    zipped = await run_in_threadpool(archive.zipped)
    return Response(
        zipped,
        media_type=ZIP,
        headers={"content-disposition": 'attachment; filename="subject-export.zip"'},
    )


def _export(request: Request, customer: str) -> Archive | None:
    """The archive, recorded in the audit log; None (and nothing recorded) when nothing of the
    customer is kept."""
    archive: Archive = request.app.state.lifecycle.export(customer)
    journeys = sum(1 for path in archive.files if path.startswith("journeys/"))
    if not journeys:
        return None
    request.app.state.audit.record(
        Entry(
            action=Action.SUBJECT_EXPORTED,
            outcome=Outcome.SUCCESS,
            actor=request.app.state.sessions.principal(request),
            origin=origin(request),
            target_type="customer",
            target_id=customer,
            details={"journeys": journeys, "files": len(archive.files) - 1, "source": "api"},
        )
    )
    return archive
