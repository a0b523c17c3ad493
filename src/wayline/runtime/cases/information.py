"""Asking the customer for more information, and their answer.

A handler holding a case asks a question (answered in words) or for files, with a prompt
picked from the definition's `information_requests` or written for this customer. The case
then waits on the customer, and the `information_template` notification is queued in the
same transaction (the outbox). The customer's pages show the task; their answer (words, or
documents uploaded for the task) is recorded, `case.information_received` goes into the
journey's log, and once no task of the case is open the case is back in its queue, with the
handler who asked still holding it (they know what they asked and why).
"""

from __future__ import annotations

from typing import Any

from wayline.documents.intake import Rejected
from wayline.errors import Conflict, NotFound
from wayline.ids import new_id
from wayline.journeys import review
from wayline.journeys.engine import Event, FieldError, InvalidAnswers, Status
from wayline.runtime import file_room
from wayline.runtime.cases import records
from wayline.runtime.cases.access import Staff
from wayline.runtime.cases.records import Origin
from wayline.runtime.cases.working import CaseDeps, Working, change, held_by, text, working
from wayline.store import Connection, outbox
from wayline.store import cases as case_rows
from wayline.store import documents as document_rows
from wayline.store import events as event_log
from wayline.store import journeys as journey_rows
from wayline.store.cases import CaseRow, TaskRow

REQUESTED = "case.information_requested"
RECEIVED = "case.information_received"
DOCUMENT_RECEIVED = "document.received"
QUESTION, UPLOAD = "question", "upload"
KINDS = (QUESTION, UPLOAD)
DEFAULT_ACCEPT = ("image/jpeg", "image/png", "application/pdf")
MAX_PROMPT = 500
TASK_FIELD = "task:"  # documents uploaded for a task are kept under the field task:<id>
AWAITING_SECOND_APPROVAL = "This case is waiting for a second approval: decide it first"


def task_field(task_id: str) -> str:
    return f"{TASK_FIELD}{task_id}"


def request_information(
    cd: CaseDeps,
    staff: Staff,
    case_id: str,
    *,
    code: str | None = None,
    kind: str | None = None,
    prompt: str | None = None,
    accept: list[str] | None = None,
    origin: Origin | None = None,
) -> TaskRow:
    """A task for the customer: the request the definition declares as `code`, or one of
    `kind` (question or upload) with the handler's own `prompt` (and `accept`, the file types
    an upload takes). The caller must hold the case; the journey must be in review."""
    with working(cd, staff, case_id, origin) as at:
        held_by(at.case, staff)
        if at.case.status == case_rows.AWAITING_APPROVAL:
            raise Conflict(AWAITING_SECOND_APPROVAL)
        if at.snapshot.state.status != Status.IN_REVIEW:
            raise Conflict("This journey is not waiting for a decision")
        task = _task(at, staff, code, kind, prompt, accept)
        case_rows.add_task(at.connection, task)
        notice = review.information_notice(at.snapshot.journey, at.snapshot.state, task.id)
        if notice is not None:
            outbox.enqueue(at.connection, at.case.journey_id, (notice,), at.now)
        values = {"status": case_rows.AWAITING_CUSTOMER}
        change(at, REQUESTED, staff.subject, values, {"task": task.id, "kind": task.kind})
        return task


def _task(
    at: Working,
    staff: Staff,
    code: str | None,
    kind: str | None,
    prompt: str | None,
    accept: list[str] | None,
) -> TaskRow:
    if code is not None:
        declared = review.information_request(at.review, code)
        if declared is None:
            message = "Choose a request from the list"
            raise InvalidAnswers(message, [FieldError("code", message)])
        kind, prompt, accept = declared.kind, declared.prompt, list(declared.accept)
    if kind not in KINDS:
        message = "Choose a question or an upload"
        raise InvalidAnswers(message, [FieldError("kind", message)])
    words = text(prompt, "prompt", "Enter what you need from the customer", MAX_PROMPT)
    types = list(accept or DEFAULT_ACCEPT) if kind == UPLOAD else []
    return TaskRow(
        id=new_id(),
        case_id=at.case.id,
        journey_id=at.case.journey_id,
        kind=kind,
        prompt=words,
        accept=types,
        status=case_rows.TASK_OPEN,
        requested_by=staff.subject,
        requested_at=at.now,
    )


def open_task(cd: CaseDeps, customer_id: str, journey_id: str, task_id: str) -> TaskRow:
    """The customer's open task (NotFound for another's journey or an unknown task; Conflict
    once it is answered or no longer needed)."""
    with cd.deps.uow.reading() as connection:
        cd.deps.uow.load(connection, journey_id, customer_id)
        return _open(connection, journey_id, task_id)[0]


def record_upload(
    cd: CaseDeps, customer_id: str, journey_id: str, task_id: str, document: dict[str, Any]
) -> None:
    """Keep a document the customer uploaded for an upload task (its record as the upload
    pipeline made it), under the field task:<id>, with a document.received event. Its content
    type must be one the task accepts, and the task keeps at most as many files as a file
    field without `max_items` (runtime/file_room.py): Rejected (too_many_stored_files) once
    it has them, counting held ones."""
    with cd.deps.uow.writing() as connection:
        journey_rows.lock(connection, journey_id)
        cd.deps.uow.load(connection, journey_id, customer_id)
        task, _case = _open(connection, journey_id, task_id)
        if task.kind != UPLOAD:
            raise Conflict("This request is answered in words, not with files")
        if document["content_type"] not in task.accept:
            message = "Upload a file of a type this request takes"
            raise InvalidAnswers(message, [FieldError("documents", message)])
        field = task_field(task_id)
        limit = file_room.stored_limit(None, cd.deps.file_replacements)
        if document_rows.stored_count(connection, journey_id, field) >= limit:
            raise Rejected(
                f"You have uploaded {limit} files for this request, which is as many as we "
                "can keep. Send the files you have uploaded, or contact us to send more.",
                file_room.TOO_MANY_STORED,
            )
        now = cd.deps.clock.now()
        document_rows.insert_document(connection, journey_id, {**document, "field": field}, now)
        data = {"document": document["id"], "field": field}
        event_log.append(connection, journey_id, (Event(DOCUMENT_RECEIVED, now, None, (), data),))


def answer_task(
    cd: CaseDeps,
    customer_id: str,
    journey_id: str,
    task_id: str,
    answer: str | None = None,
    documents: list[str] | None = None,
    origin: Origin | None = None,
) -> TaskRow:
    """The customer's answer: words for a question, the ids of documents uploaded for an
    upload task. Puts the case back in its queue once none of its tasks is open."""
    with cd.deps.uow.writing() as connection:
        journey_rows.lock(connection, journey_id)
        snapshot = cd.deps.uow.load(connection, journey_id, customer_id)
        task, case = _open(connection, journey_id, task_id, lock=True)
        words, files = _answer(connection, task, answer, documents or [])
        now = cd.deps.clock.now()
        if not case_rows.answer_task(connection, task.id, words, files, now):
            raise Conflict("This request has already been answered")
        open_left = [
            t for t in case_rows.tasks_of_case(connection, [case.id]) if t.status == "open"
        ]
        values: dict[str, Any] = {}
        if not open_left and case.status == case_rows.AWAITING_CUSTOMER:
            values["status"] = case_rows.OPEN
        at = Working(connection, case, snapshot, now, cd.deps.uow, origin)
        data: dict[str, records.Detail] = {"task": task.id, "documents": len(files)}
        change(at, RECEIVED, customer_id, values, data, actor_kind=records.CUSTOMER)
        return case_rows.task(connection, journey_id, task.id) or task


def _open(
    connection: Connection, journey_id: str, task_id: str, lock: bool = False
) -> tuple[TaskRow, CaseRow]:
    task = case_rows.task(connection, journey_id, task_id)
    case = case_rows.get(connection, task.case_id, lock=lock) if task else None
    if task is None or case is None:
        raise NotFound(f"There is no request '{task_id}'")
    if task.status != case_rows.TASK_OPEN:
        raise Conflict("This request has already been answered")
    if case.status == case_rows.CLOSED:
        raise Conflict("This request is no longer needed: the claim has been decided")
    return task, case


def _answer(
    connection: Connection, task: TaskRow, answer: str | None, documents: list[str]
) -> tuple[str | None, list[str]]:
    if task.kind == QUESTION:
        return text(answer, "answer", "Enter your answer"), []
    uploaded = {
        document_id
        for document_id, row in document_rows.listed(connection, task.journey_id).items()
        if row["field"] == task_field(task.id) and row["status"] == document_rows.ACCEPTED
    }
    chosen = list(dict.fromkeys(documents))
    if not chosen:
        message = "Upload at least one file"
        raise InvalidAnswers(message, [FieldError("documents", message)])
    if any(document_id not in uploaded for document_id in chosen):
        message = "Choose only files you uploaded for this request"
        raise InvalidAnswers(message, [FieldError("documents", message)])
    return None, chosen
