"""The customer's side of "more information", as the API and the pages share it: the workbench
service (`runtime.cases.Cases`) as a dependency, and one file taken for an upload task.

A task's file goes through the same checks as any upload (documents.pipeline: size, type by
content, malware scan, images re-encoded for display) against the types the task accepts; only
then is it stored and recorded for the task (Cases.record_task_upload: kept under the field
task:<id>). A file refused for what it is changes nothing: nothing is stored, no row written.
A file stored but then not recorded (the task was answered meanwhile) is deleted again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import UploadFile

from wayline.documents.intake import Rejected
from wayline.documents.pipeline import HELD, Checked, DocumentPipeline
from wayline.journeys.field_types import FieldType
from wayline.journeys.schema import Classification, FieldSpec
from wayline.runtime.cases import Cases, TaskRow
from wayline.web.uploads import Held, keep, safe_name

UPLOAD = "upload"
QUESTION = "question"


async def cases(request: Request) -> Cases:
    # Async, so FastAPI runs it inline instead of in the threadpool: it does no I/O.
    found: Cases = request.app.state.cases  # Starlette's State is untyped; the app set it
    return found


CasesDep = Annotated[Cases, Depends(cases)]


def task_spec(task: TaskRow) -> FieldSpec:
    """The file question an upload task amounts to: one file at a time, of the types it
    accepts, checked as any upload is."""
    return FieldSpec(
        name="task_upload",
        type=FieldType.FILE,
        label=task.prompt,
        classification=Classification.PERSONAL,
        accept=list(task.accept),
    )


def accept_task_upload(
    request: Request, customer: str, journey_id: str, task_id: str, upload: UploadFile
) -> dict[str, Any]:
    """Check, store and record one file for the customer's open upload task; its document.
    See accept_task_uploads."""
    return accept_task_uploads(request, customer, journey_id, task_id, [upload])[0]


def accept_task_uploads(
    request: Request, customer: str, journey_id: str, task_id: str, uploads: list[UploadFile]
) -> list[dict[str, Any]]:
    """Check every file, then store and record each for the customer's open upload task;
    their documents. Every file is checked before any is kept, so a refused one (Rejected,
    its reason naming the file when there are several) changes nothing. Held when the scanner
    could not look at one (it is kept, not usable); NotFound or Conflict (from Cases) for a
    task that is not theirs or not open; Rejected for a task answered in words."""
    svc: Cases = request.app.state.cases
    pipeline: DocumentPipeline = request.app.state.pipeline
    task = svc.open_task(customer, journey_id, task_id)
    if task.kind != UPLOAD:
        raise Rejected("This request is answered in words, not with files", "not_an_upload")
    checked: list[tuple[UploadFile, Checked]] = []
    try:
        for upload in uploads:
            try:
                checked.append((upload, pipeline.check(task_spec(task), upload.file)))
            except Rejected as rejected:
                if len(uploads) == 1:
                    raise
                name = safe_name(upload.filename)
                raise Rejected(f"{name}: {rejected.reason}", rejected.code) from None
        documents = [_keep(svc, pipeline, customer, task, upload, one) for upload, one in checked]
    finally:
        for _upload, one in checked:
            one.close()
    for document in documents:
        if document["status"] == HELD:
            raise Held(document["reason"] or "", document)
    return documents


def _keep(
    svc: Cases,
    pipeline: DocumentPipeline,
    customer: str,
    task: TaskRow,
    upload: UploadFile,
    checked: Checked,
) -> dict[str, Any]:
    kept, described, record = keep(pipeline, checked, task.journey_id, upload.filename)
    document = {**described, "task": task.id}
    try:
        svc.record_task_upload(customer, task.journey_id, task.id, record)
    except Exception:
        pipeline.discard(kept)  # no row names it: it would be kept for ever
        raise
    return document
