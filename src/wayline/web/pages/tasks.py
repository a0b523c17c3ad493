"""The customer's pages for "more information": one page per open request a handler made
(a question answered in a text box, or files to upload), its answer, and a confirmation.
They work without JavaScript: a plain form post (files sent with the form, several at once),
then a redirect to the confirmation (POST-redirect-GET).

Only the journey's owner sees or answers (anyone else: 404, as for a journey that does not
exist). A request answered already, or no longer needed, is a 409 page that says so; an empty
answer or a refused file shows the page again with the error, and nothing is changed.
"""

from __future__ import annotations

from typing import Any, NoReturn

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from wayline.documents.intake import NAMES, Rejected
from wayline.errors import Conflict
from wayline.identity.permissions import Permission
from wayline.journeys.engine import FieldError, InvalidAnswers
from wayline.runtime.cases import Cases, TaskRow
from wayline.web.access import allow
from wayline.web.customer_tasks import UPLOAD, CasesDep, accept_task_uploads
from wayline.web.pages.common import Customer, checked_form, redirect
from wayline.web.pages.forms import TamperedForm
from wayline.web.pages.render import render
from wayline.web.services import QueriesDep
from wayline.web.uploads import Held

router = APIRouter(include_in_schema=False)
MAX_FILES = 10
ANSWER, FILES = "answer", "files"
HELD_MESSAGE = "We could not check a file for viruses just now. Try again in a few minutes."


def task_url(journey_id: str, task_id: str) -> str:
    return f"/journeys/{journey_id}/tasks/{task_id}"


@router.get("/journeys/{journey_id}/tasks/{task_id}", dependencies=[allow(Permission.OWN_JOURNEYS)])
def task_page(
    request: Request,
    journey_id: str,
    task_id: str,
    customer: Customer,
    svc: CasesDep,
    read: QueriesDep,
) -> Response:
    """The request's page: its prompt as the question, a text box or a file input."""
    task = svc.open_task(customer, journey_id, task_id)
    return _render_task(request, read.journey_page(customer, journey_id).journey.title, task, [])


@router.post(
    "/journeys/{journey_id}/tasks/{task_id}", dependencies=[allow(Permission.OWN_JOURNEYS)]
)
async def answer(
    request: Request,
    journey_id: str,
    task_id: str,
    customer: Customer,
    svc: CasesDep,
    read: QueriesDep,
) -> Response:
    task = await run_in_threadpool(svc.open_task, customer, journey_id, task_id)
    form = await checked_form(request)
    _check_keys(task, form)
    try:
        if task.kind == UPLOAD:
            # Checking files decodes images and parses PDFs: off the event loop.
            await run_in_threadpool(_answer_with_files, request, svc, customer, task, form)
        else:
            words = form.get(ANSWER)
            answer_text = words if isinstance(words, str) else None
            await run_in_threadpool(
                svc.answer_task, customer, journey_id, task_id, answer_text, None
            )
    except InvalidAnswers as refused:
        title = (await run_in_threadpool(read.journey_page, customer, journey_id)).journey.title
        shown = form.get(ANSWER) if task.kind != UPLOAD else None
        return _render_task(request, title, task, refused.errors, shown, 422)
    return redirect(task_url(journey_id, task_id) + "/answered")


@router.get(
    "/journeys/{journey_id}/tasks/{task_id}/answered",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
)
def answered(
    request: Request,
    journey_id: str,
    task_id: str,
    customer: Customer,
    svc: CasesDep,
    read: QueriesDep,
) -> Response:
    """The confirmation, once the request is no longer open (a request still open goes back
    to its page), with whatever else is still asked."""
    try:
        svc.open_task(customer, journey_id, task_id)
    except Conflict:
        page = read.journey_page(customer, journey_id)
        return render(
            request,
            "tasks/answered.html",
            f"Thank you – {page.journey.title}",
            journey=page.journey,
            journey_id=journey_id,
            reference=page.view["reference"],
            tasks=svc.tasks_for(customer, journey_id),
        )
    return redirect(task_url(journey_id, task_id))


def _check_keys(task: TaskRow, form: FormData) -> None:
    expected = {"csrf_token", FILES if task.kind == UPLOAD else ANSWER}
    unknown = set(form.keys()) - expected
    if unknown:
        raise TamperedForm("The form has fields this page does not have")
    value = form.get(ANSWER)
    if isinstance(value, UploadFile) or len(form.getlist(ANSWER)) > 1:
        raise TamperedForm("The answer is one piece of text")


def _answer_with_files(
    request: Request, svc: Cases, customer: str, task: TaskRow, form: FormData
) -> None:
    """Every file sent with the form checked, kept for the request, then given as its answer."""
    sent = form.getlist(FILES)
    if any(isinstance(value, str) and value for value in sent):
        raise TamperedForm("Files are sent as files")
    uploads = [value for value in sent if isinstance(value, UploadFile) and value.filename]
    if not uploads:
        _refuse("Select a file to upload")
    if len(uploads) > MAX_FILES:
        _refuse(f"Select no more than {MAX_FILES} files")
    try:
        documents = accept_task_uploads(request, customer, task.journey_id, task.id, uploads)
    except Held:
        _refuse(HELD_MESSAGE)
    except Rejected as rejected:
        _refuse(rejected.reason)
    ids = [document["id"] for document in documents]
    svc.answer_task(customer, task.journey_id, task.id, None, ids)


def _refuse(message: str) -> NoReturn:
    raise InvalidAnswers(message, [FieldError(FILES, message)])


def _render_task(
    request: Request,
    journey_title: str,
    task: TaskRow,
    errors: list[FieldError],
    typed: Any = None,
    status_code: int = 200,
) -> Response:
    accepts = ", ".join(NAMES.get(kind, kind) for kind in task.accept)
    return render(
        request,
        "tasks/task.html",
        f"{task.prompt} – {journey_title}",
        status_code,
        journey_title=journey_title,
        task=task,
        errors=[_on_input(task, error) for error in errors],
        error=errors[0].message if errors else None,
        typed=typed if isinstance(typed, str) else "",
        accepts=accepts,
        back=f"/journeys/{task.journey_id}/status",
    )


def _on_input(task: TaskRow, error: FieldError) -> FieldError:
    """An error as the page shows it: beside the one input the page has."""
    return FieldError(FILES if task.kind == UPLOAD else ANSWER, error.message)
