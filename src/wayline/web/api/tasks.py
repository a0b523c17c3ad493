"""The customer's open requests for more information, under /api/v1, for the journey's owner
only (anyone else is told the journey does not exist, 404):

- GET /api/v1/journeys/{id}/tasks: what a handler asked that is still open (a question, or an
  upload with the file types it takes), oldest first; never who asked or why;
- POST /api/v1/journeys/{id}/tasks/{task}/documents (multipart: `file`): one file for an
  upload task, through the same checks as any upload; 201 with the document, 422 with the
  reason when refused, 503 when the scanner could not look at it (held, not usable);
- POST /api/v1/journeys/{id}/tasks/{task}: the answer, `{"answer": "..."}` for a question or
  `{"documents": [ids uploaded for this task]}` for an upload. 200 with the task as answered;
  the case goes back to its queue once none of its tasks is open. 409 when it was answered
  already or the journey has been decided; 422 naming the field for an empty or unusable answer.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from wayline.identity.permissions import Permission
from wayline.runtime.cases import TaskRow
from wayline.web.access import allow
from wayline.web.api.journeys import ERRORS, Customer
from wayline.web.api.models import Body
from wayline.web.customer_tasks import CasesDep, accept_task_upload

router = APIRouter(prefix="/api/v1", tags=["more information"])
MAX_ANSWER = 5000
MAX_DOCUMENTS = 10
DocumentId = Annotated[str, Field(min_length=1, max_length=100)]


class TaskAnswer(Body):
    """Words for a question, or the ids of the files uploaded for an upload task."""

    answer: str | None = Field(
        None, max_length=MAX_ANSWER, examples=["In the supermarket car park"]
    )
    documents: list[DocumentId] | None = Field(None, max_length=MAX_DOCUMENTS)


def answered(task: TaskRow) -> dict[str, Any]:
    """A task as its customer may read it once answered."""
    return {
        "id": task.id,
        "kind": task.kind,
        "prompt": task.prompt,
        "status": task.status,
        "answer": task.answer,
        "documents": list(task.documents),
        "answered_at": task.answered_at.isoformat() if task.answered_at else None,
    }


@router.get(
    "/journeys/{journey_id}/tasks",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    responses=ERRORS,
    summary="What we have asked the customer for that is still open",
)
def list_tasks(journey_id: str, customer: Customer, svc: CasesDep) -> list[dict[str, Any]]:
    return svc.tasks_for(customer, journey_id)


@router.post(
    "/journeys/{journey_id}/tasks/{task_id}/documents",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    status_code=201,
    responses={**ERRORS, 503: ERRORS[409]},
    summary="Upload a file for a request for more information",
)
async def upload_for_task(
    journey_id: str, task_id: str, request: Request, customer: Customer, file: UploadFile
) -> JSONResponse:
    # Checking a file decodes images and parses PDFs: off the event loop.
    document = await run_in_threadpool(
        accept_task_upload, request, customer, journey_id, task_id, file
    )
    return JSONResponse(document, status_code=201)


@router.post(
    "/journeys/{journey_id}/tasks/{task_id}",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    responses=ERRORS,
    summary="Answer a request for more information",
)
def answer_task(
    journey_id: str, task_id: str, body: TaskAnswer, customer: Customer, svc: CasesDep
) -> dict[str, Any]:
    task = svc.answer_task(customer, journey_id, task_id, body.answer, body.documents)
    return answered(task)
