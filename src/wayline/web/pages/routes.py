"""The customer's web journey: server-rendered pages that work without JavaScript
(plain form posts, POST-redirect-GET) and are enhanced by it (autosave, multi-file upload).

Pages use the same commands and queries as the API (runtime/commands, runtime/queries) and
never call the engine: what a step shows, where the journey stands and what an answer reads
as in words all come from the queries. Routes only parse forms, redirect and render."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from wayline.documents.intake import Rejected
from wayline.errors import Conflict
from wayline.runtime.commands import Commands, FieldError, InvalidAnswers, Refused
from wayline.runtime.queries import (
    CHECK_ANSWERS,
    CheckAnswersPage,
    Queries,
    Redirect,
    StepForm,
    StepPage,
)
from wayline.web.pages import forms
from wayline.web.pages.display import OUTCOME_WORDS, STATUS_WORDS, event_words
from wayline.web.pages.render import render
from wayline.web.services import CommandsDep, QueriesDep
from wayline.web.uploads import accept_upload

router = APIRouter(include_in_schema=False)
MAX_FILES = 10


class SignInRequired(Exception):
    """Raised for a page that needs a signed-in customer; answered by a redirect."""


async def page_customer(request: Request) -> str:
    session = await request.app.state.sessions.load(request)
    if session is None:
        raise SignInRequired()
    return str(session.subject)


Customer = Annotated[str, Depends(page_customer)]


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token has been checked."""
    form = await request.form(max_files=MAX_FILES + 1, max_fields=200)
    await request.app.state.sessions.load(request)  # the check reads it: off the event loop
    token = form.get("csrf_token")
    request.app.state.csrf.check(request, token if isinstance(token, str) else None)
    return form


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def step_url(journey_id: str, step: str | None, change: bool = False) -> str:
    if step is None:
        return f"/journeys/{journey_id}/status"
    if step == CHECK_ANSWERS:
        return f"/journeys/{journey_id}/check-answers"
    return f"/journeys/{journey_id}/steps/{step}" + ("?change=1" if change else "")


# --- signing in (demo) and the customer's journeys ---------------------------------------


@router.get("/")
def home(request: Request, read: QueriesDep) -> Response:
    return render(request, "home.html", "Home", journey_types=read.journey_types())


@router.get("/sign-in")
def sign_in_page(request: Request, next: str = "/journeys") -> Response:
    if not request.app.state.settings.demo:
        return render(
            request,
            "error.html",
            "Sign in",
            404,
            heading="Page not found",
            message="Sign-in is provided by your organisation's identity service.",
        )
    return render(
        request,
        "sign_in.html",
        "Sign in",
        customers=list(request.app.state.demo_customers.values()),
        next=_local(next),
        errors=[],
    )


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    if not request.app.state.settings.demo:
        return Response(status_code=404)
    form = await checked_form(request)
    choice, target = form.get("customer"), _local(str(form.get("next", "/journeys")))
    customers = request.app.state.demo_customers
    if choice not in customers:
        errors = [FieldError("customer", "Select who you want to sign in as")]
        return render(
            request,
            "sign_in.html",
            "Sign in",
            customers=list(customers.values()),
            next=target,
            errors=errors,
        )
    response = redirect(target)
    session_id = await run_in_threadpool(
        request.app.state.sessions.sign_in, request, response, str(choice)
    )
    request.state.csrf_token = request.app.state.csrf.issue(session_id)
    request.app.state.csrf.remember(request, response)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    await checked_form(request)
    response = redirect("/")
    await run_in_threadpool(request.app.state.sessions.sign_out, request, response)
    return response


@router.get("/journeys")
def your_journeys(
    request: Request, customer: Customer, read: QueriesDep, saved: str = ""
) -> Response:
    journeys = read.journeys_of(customer)
    for row in journeys:
        row["status_words"] = STATUS_WORDS.get(row["status"], row["status"])
    return render(
        request, "journeys.html", "Your claims and applications", journeys=journeys, saved=saved
    )


# --- starting -----------------------------------------------------------------------------


@router.get("/start/{journey_type}")
def start_page(request: Request, journey_type: str, read: QueriesDep) -> Response:
    journey = read.journey_type(journey_type)
    if journey is None:
        return _not_found(request)
    return render(request, "start.html", journey.title, journey=journey)


@router.post("/start/{journey_type}")
async def start(request: Request, journey_type: str, do: CommandsDep) -> Response:
    form = await checked_form(request)
    del form
    customer = request.app.state.sessions.customer(request)
    if customer is None:
        return redirect(f"/sign-in?next={quote('/start/' + journey_type)}")
    changed = await run_in_threadpool(do.start, customer, journey_type)
    return redirect(step_url(changed.journey_id, changed.position.current))


@router.get("/journeys/{journey_id}")
def resume(journey_id: str, customer: Customer, read: QueriesDep) -> Response:
    return redirect(step_url(journey_id, read.current_step(customer, journey_id)))


# --- steps --------------------------------------------------------------------------------


@router.get("/journeys/{journey_id}/steps/{step}")
def step_page(
    request: Request,
    journey_id: str,
    step: str,
    customer: Customer,
    read: QueriesDep,
    change: str = "",
) -> Response:
    page = read.step_page(customer, journey_id, step)
    if page is None:
        return _not_found(request)
    if isinstance(page, Redirect):
        return redirect(step_url(journey_id, page.step))
    shown = forms.form_values(page.step, page.values)
    return _render_step(request, page, page.fields(shown), [], bool(change))


@router.post("/journeys/{journey_id}/steps/{step}")
async def submit_step(
    request: Request,
    journey_id: str,
    step: str,
    customer: Customer,
    do: CommandsDep,
    read: QueriesDep,
) -> Response:
    posted = await run_in_threadpool(read.step_form, customer, journey_id, step)
    if posted is None:
        return _not_found(request)
    form = await checked_form(request)
    forms.check_keys(posted.step, form)
    action = "remove" if form.get("remove") else str(form.get("action", "continue"))
    change = form.get("change") == "1"
    revision = forms.revision(form)
    if action == "remove":
        answers: dict[str, Any] = posted.without_file(str(form.get("remove")))
        errors: list[FieldError] = []
    else:
        answers = forms.answers_from_form(posted.step, form)
        # Checking files decodes images and parses PDFs: off the event loop.
        errors = await run_in_threadpool(
            _take_uploads, request, customer, journey_id, posted, form, answers
        )
    return await run_in_threadpool(
        _write_step,
        request,
        do,
        read,
        customer,
        posted,
        form,
        answers,
        errors,
        action,
        change,
        revision,
    )


def _write_step(
    request: Request,
    do: Commands,
    read: Queries,
    customer: str,
    posted: StepForm,
    form: FormData,
    answers: dict[str, Any],
    errors: list[FieldError],
    action: str,
    change: bool,
    revision: int,
) -> Response:
    """The posted step saved as a draft (Save and come back later, Remove, or files that were
    refused) or submitted; then the next page, or this one again with what went wrong."""
    journey_id, step = posted.journey_id, posted.step.name
    try:
        if action in ("save", "remove") or errors:
            do.save_draft(customer, journey_id, step, answers, revision)
            if action == "save":
                return redirect(f"/journeys?saved={journey_id}")
            if not errors:
                return redirect(step_url(journey_id, step, change))
            raise InvalidAnswers("There is a problem with the files", errors)
        changed = do.submit_step(customer, journey_id, step, answers, revision)
    except InvalidAnswers as refused:
        page = read.step_page(customer, journey_id, step, follow_position=False)
        assert isinstance(page, StepPage)
        shown = forms.form_from_raw(page.step, form)
        fields = page.fields(shown, refused.errors, values=answers)
        return _render_step(request, page, fields, refused.errors, change)
    except Conflict:
        page = read.step_page(customer, journey_id, step, follow_position=False)
        assert isinstance(page, StepPage)
        fields = page.fields(forms.form_values(page.step, page.values))
        notice = "Your answers were changed in another window. Check them and continue."
        return _render_step(request, page, fields, [], change, notice=notice)
    current = changed.position.current
    return redirect(step_url(journey_id, current, change and current != CHECK_ANSWERS))


@router.post("/journeys/{journey_id}/steps/{step}/draft")
async def autosave(
    request: Request,
    journey_id: str,
    step: str,
    customer: Customer,
    do: CommandsDep,
    read: QueriesDep,
) -> Response:
    """Autosave from the page script: the form as it stands, kept as a draft."""
    posted = await run_in_threadpool(read.step_form, customer, journey_id, step)
    if posted is None:
        return JSONResponse({"detail": "No such step"}, status_code=404)
    form = await checked_form(request)
    forms.check_keys(posted.step, form)
    answers = forms.answers_from_form(posted.step, form)
    changed = await run_in_threadpool(
        do.save_draft, customer, journey_id, step, answers, forms.revision(form)
    )
    return JSONResponse(
        {"revision": changed.revision, "saved_at": changed.state.updated_at.isoformat()}
    )


def _take_uploads(
    request: Request,
    customer: str,
    journey_id: str,
    posted: StepForm,
    form: FormData,
    answers: dict[str, Any],
) -> list[FieldError]:
    """Files sent with the form (without JavaScript): keep each, or say why not."""
    errors = []
    for name, uploads in forms.uploads_from_form(posted.step, form).items():
        listed = list(answers.get(name) or [])
        for upload in uploads:
            try:
                listed.append(accept_upload(request, customer, journey_id, name, upload)["id"])
            except Rejected as rejected:
                errors.append(FieldError(name, f"{upload.filename}: {rejected}"))
                break
        answers[name] = listed
    return errors


def _render_step(
    request: Request,
    page: StepPage,
    fields: list[Any],
    errors: list[FieldError],
    change: bool,
    notice: str | None = None,
) -> Response:
    spec = page.step
    # A page of one question (fields it reveals aside) that the step is named after asks it
    # as the page's heading; the step's hint then belongs to that question.
    single = len(fields) == 1 and fields[0].spec.label == spec.title
    if single and spec.hint and not fields[0].spec.hint:
        fields[0].spec = fields[0].spec.model_copy(update={"hint": spec.hint})
    return render(
        request,
        "step.html",
        f"{spec.title} – {page.journey.title}",
        journey=page.journey,
        journey_id=page.journey_id,
        step=spec,
        fields=fields,
        single=single,
        errors=errors,
        revision=page.revision,
        change=change,
        notice=notice,
        multipart=page.multipart,
        back=step_url(page.journey_id, page.back) if page.back else "/journeys",
    )


# --- check answers, declaration, confirmation and status -----------------------------------


@router.get("/journeys/{journey_id}/check-answers")
def check_answers(
    request: Request, journey_id: str, customer: Customer, read: QueriesDep
) -> Response:
    page = read.check_answers(customer, journey_id)
    if isinstance(page, Redirect):
        return redirect(step_url(journey_id, page.step))
    return _render_check_answers(request, page, [])


@router.post("/journeys/{journey_id}/check-answers")
async def send(
    request: Request, journey_id: str, customer: Customer, do: CommandsDep, read: QueriesDep
) -> Response:
    form = await checked_form(request)
    unknown = set(form.keys()) - {"csrf_token", "revision", "declaration"}
    if unknown:
        raise forms.TamperedForm("The form has fields this page does not have")
    revision, declaration = forms.revision(form), form.get("declaration") == "yes"
    return await run_in_threadpool(
        _send, request, do, read, customer, journey_id, revision, declaration
    )


def _send(
    request: Request,
    do: Commands,
    read: Queries,
    customer: str,
    journey_id: str,
    revision: int,
    declaration: bool,
) -> Response:
    try:
        do.submit(customer, journey_id, revision, declaration)
    except InvalidAnswers as refused:
        page = read.check_answers(customer, journey_id, follow_position=False)
        assert isinstance(page, CheckAnswersPage)
        return _render_check_answers(request, page, refused.errors)
    except (Conflict, Refused):
        return redirect(f"/journeys/{journey_id}")
    return redirect(f"/journeys/{journey_id}/confirmation")


def _render_check_answers(
    request: Request, page: CheckAnswersPage, errors: list[FieldError]
) -> Response:
    journey = page.journey
    return render(
        request,
        "check_answers.html",
        f"{journey.definition.check_answers_title} – {journey.title}",
        journey=journey,
        journey_id=page.journey_id,
        sections=page.sections,
        errors=errors,
        revision=page.revision,
        declaration=page.declaration,
    )


@router.get("/journeys/{journey_id}/confirmation")
def confirmation(
    request: Request, journey_id: str, customer: Customer, read: QueriesDep
) -> Response:
    page = read.journey_page(customer, journey_id)
    if not page.view["reference"]:
        return redirect(f"/journeys/{journey_id}")
    return render(
        request,
        "confirmation.html",
        f"Sent – {page.journey.title}",
        journey=page.journey,
        view=page.view,
    )


@router.get("/journeys/{journey_id}/status")
def status(request: Request, journey_id: str, customer: Customer, read: QueriesDep) -> Response:
    page = read.journey_page(customer, journey_id)
    view, journey = page.view, page.journey
    events = [
        {"words": event_words(journey, e), "at": e["at"]}
        for e in view["events"]
        if e["type"] != "step.saved"
    ]
    return render(
        request,
        "status.html",
        f"Progress – {journey.title}",
        journey=journey,
        view=view,
        events=list(reversed(events)),
        outcome_words=OUTCOME_WORDS.get((view["outcome"] or {}).get("outcome", ""), ""),
        status_words=STATUS_WORDS.get(view["status"], view["status"]),
    )


# --- theme --------------------------------------------------------------------------------


@router.get("/theme.css")
def theme_css(request: Request) -> Response:
    return Response(
        request.app.state.theme.css(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/brand/logo")
def logo(request: Request) -> Response:
    path = request.app.state.settings.logo
    if not request.app.state.theme.has_logo:
        return Response(status_code=404)
    return FileResponse(path)


def _local(target: str) -> str:
    """Only same-site paths are followed after sign-in (no open redirects)."""
    return target if target.startswith("/") and not target.startswith("//") else "/journeys"


def _not_found(request: Request) -> Response:
    return render(
        request,
        "error.html",
        "Page not found",
        404,
        heading="Page not found",
        message="If you typed the web address, check it is correct.",
    )
