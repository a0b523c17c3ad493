"""The customer's web journey: server-rendered pages that work without JavaScript
(plain form posts, POST-redirect-GET) and are enhanced by it (autosave, multi-file upload)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from wayline.documents.intake import Rejected
from wayline.errors import Conflict
from wayline.journeys import engine
from wayline.journeys.engine import CHECK_ANSWERS, FieldError, InvalidAnswers, Refused
from wayline.journeys.loader import Journey
from wayline.journeys.schema import FieldType
from wayline.runtime.presenter import step_warnings
from wayline.runtime.service import JourneyService
from wayline.web.pages import forms
from wayline.web.pages.display import OUTCOME_WORDS, STATUS_WORDS, answer_text, event_words
from wayline.web.pages.render import render, step_fields
from wayline.web.uploads import accept_upload

router = APIRouter(include_in_schema=False)
MAX_FILES = 10


class SignInRequired(Exception):
    """Raised for a page that needs a signed-in customer; answered by a redirect."""


async def page_customer(request: Request) -> str:
    session = await request.app.state.sessions.load(request)
    if session is None:
        raise SignInRequired()
    return session.subject


async def service(request: Request) -> JourneyService:
    return request.app.state.service


Customer = Annotated[str, Depends(page_customer)]
Service = Annotated[JourneyService, Depends(service)]


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
def home(request: Request, svc: Service) -> Response:
    return render(request, "home.html", "Home", journey_types=svc.journey_types())


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
def your_journeys(request: Request, customer: Customer, svc: Service, saved: str = "") -> Response:
    journeys = svc.list(customer)
    for row in journeys:
        row["status_words"] = STATUS_WORDS.get(row["status"], row["status"])
    return render(
        request, "journeys.html", "Your claims and applications", journeys=journeys, saved=saved
    )


# --- starting -----------------------------------------------------------------------------


@router.get("/start/{journey_type}")
def start_page(request: Request, journey_type: str, svc: Service) -> Response:
    journey = svc.catalog.get(journey_type)
    if journey is None:
        return _not_found(request)
    return render(request, "start.html", journey.title, journey=journey)


@router.post("/start/{journey_type}")
async def start(request: Request, journey_type: str, svc: Service) -> Response:
    form = await checked_form(request)
    del form
    customer = request.app.state.sessions.customer(request)
    if customer is None:
        return redirect(f"/sign-in?next={quote('/start/' + journey_type)}")
    result = svc.start(customer, journey_type)
    body = result.body
    return redirect(step_url(body["id"], body["current_step"]["name"]))


@router.get("/journeys/{journey_id}")
def resume(journey_id: str, customer: Customer, svc: Service) -> Response:
    view = svc.get(customer, journey_id)
    current = view["current_step"]["name"] if view["current_step"] else None
    return redirect(step_url(journey_id, current))


# --- steps --------------------------------------------------------------------------------


@router.get("/journeys/{journey_id}/steps/{step}")
def step_page(
    request: Request, journey_id: str, step: str, customer: Customer, svc: Service, change: str = ""
) -> Response:
    journey, state, revision = svc.find(customer, journey_id)
    spec = journey.step(step)
    if spec is None:
        return _not_found(request)
    now = svc.clock.now()
    current = engine.current_step(journey, state, now)
    if current is None:
        return redirect(step_url(journey_id, None))
    if spec.name not in state.completed and spec.name != current:
        return redirect(step_url(journey_id, current))
    return _render_saved(request, svc, journey, state, revision, spec.name, bool(change))


@router.post("/journeys/{journey_id}/steps/{step}")
async def submit_step(
    request: Request, journey_id: str, step: str, customer: Customer, svc: Service
) -> Response:
    journey, state, revision = svc.find(customer, journey_id)
    spec = journey.step(step)
    if spec is None:
        return _not_found(request)
    form = await checked_form(request)
    forms.check_keys(spec, form)
    action = "remove" if form.get("remove") else str(form.get("action", "continue"))
    change = form.get("change") == "1"
    revision = forms.revision(form)
    if action == "remove":
        answers = _without_file(journey, state, spec, str(form.get("remove")))
        errors: list[FieldError] = []
    else:
        answers = forms.answers_from_form(spec, form)
        # Checking files decodes images and parses PDFs: off the event loop.
        errors = await run_in_threadpool(
            _take_uploads, request, svc, customer, journey_id, spec, form, answers
        )
    try:
        if action in ("save", "remove") or errors:
            result = svc.save_draft(customer, journey_id, step, answers, revision)
            if action == "save":
                return redirect(f"/journeys?saved={journey_id}")
            if not errors:
                return redirect(step_url(journey_id, step, change))
            revision = result.body["revision"]
            raise InvalidAnswers("There is a problem with the files", errors)
        result = svc.submit_step(customer, journey_id, step, answers, revision)
    except InvalidAnswers as refused:
        journey, state, revision = svc.find(customer, journey_id)
        state = svc.with_options(journey, state, step)
        return _render_step(
            request,
            svc,
            journey,
            state,
            revision,
            step,
            answers,
            forms.form_from_raw(spec, form),
            refused.errors,
            change,
        )
    except Conflict:
        return _render_saved(
            request,
            svc,
            *svc.find(customer, journey_id),
            step,
            change,
            notice="Your answers were changed in another window. Check them and continue.",
        )
    current = result.body["current_step"]["name"] if result.body["current_step"] else None
    return redirect(step_url(journey_id, current, change and current != CHECK_ANSWERS))


@router.post("/journeys/{journey_id}/steps/{step}/draft")
async def autosave(
    request: Request, journey_id: str, step: str, customer: Customer, svc: Service
) -> Response:
    """Autosave from the page script: the form as it stands, kept as a draft."""
    journey = svc.definition_for(customer, journey_id)
    spec = journey.step(step)
    if spec is None:
        return JSONResponse({"detail": "No such step"}, status_code=404)
    form = await checked_form(request)
    forms.check_keys(spec, form)
    answers = forms.answers_from_form(spec, form)
    result = svc.save_draft(customer, journey_id, step, answers, forms.revision(form))
    return JSONResponse(
        {"revision": result.body["revision"], "saved_at": result.body["updated_at"]}
    )


def _without_file(journey: Journey, state, spec, document_id: str) -> dict[str, list[str]]:
    """The step's file answers with one document taken out (the no-JavaScript Remove)."""
    values = engine.step_values(journey, state, spec)
    return {
        field.name: [d for d in values.get(field.name) or [] if d != document_id]
        for field in spec.fields
        if field.type == FieldType.FILE and document_id in (values.get(field.name) or [])
    }


def _take_uploads(
    request: Request,
    svc: JourneyService,
    customer: str,
    journey_id: str,
    spec,
    form: FormData,
    answers: dict[str, Any],
) -> list[FieldError]:
    """Files sent with the form (without JavaScript): keep each, or say why not."""
    errors = []
    for name, uploads in forms.uploads_from_form(spec, form).items():
        listed = list(answers.get(name) or [])
        for upload in uploads:
            try:
                listed.append(accept_upload(request, svc, customer, journey_id, name, upload)["id"])
            except Rejected as rejected:
                errors.append(FieldError(name, f"{upload.filename}: {rejected}"))
                break
        answers[name] = listed
    return errors


def _render_saved(
    request: Request,
    svc: JourneyService,
    journey: Journey,
    state,
    revision: int,
    step: str,
    change: bool,
    notice: str | None = None,
) -> Response:
    """A step as saved: each field shows its draft, else its answer, else its prefill."""
    spec = journey.step(step)
    assert spec is not None
    state = svc.with_options(journey, state, step)
    values = engine.step_values(journey, state, spec)
    return _render_step(
        request,
        svc,
        journey,
        state,
        revision,
        step,
        values,
        forms.form_values(spec, values),
        [],
        change,
        notice=notice,
    )


def _render_step(
    request: Request,
    svc: JourneyService,
    journey: Journey,
    state,
    revision: int,
    step: str,
    values: dict,
    shown: dict,
    errors: list[FieldError],
    change: bool,
    notice: str | None = None,
) -> Response:
    spec = journey.step(step)
    assert spec is not None
    documents = svc.documents(state.customer_id, state.id)
    fields = step_fields(journey, state, spec, values, shown, errors, documents, svc.clock.now())
    # A page of one question (fields it reveals aside) that the step is named after asks it
    # as the page's heading; the step's hint then belongs to that question.
    single = len(fields) == 1 and fields[0].spec.label == spec.title
    if single and spec.hint and not fields[0].spec.hint:
        fields[0].spec = fields[0].spec.model_copy(update={"hint": spec.hint})
    return render(
        request,
        "step.html",
        f"{spec.title} – {journey.title}",
        journey=journey,
        journey_id=state.id,
        step=spec,
        fields=fields,
        single=single,
        errors=errors,
        revision=revision,
        change=change,
        notice=notice,
        multipart=any(f.type == FieldType.FILE for f in spec.fields),
        back=_back_link(journey, state, step, svc),
    )


def _back_link(journey: Journey, state, step: str, svc: JourneyService) -> str:
    names = [s.name for s in engine.applicable_steps(journey, state, svc.clock.now())]
    index = names.index(step) if step in names else 0
    return step_url(state.id, names[index - 1]) if index > 0 else "/journeys"


# --- check answers, declaration, confirmation and status -----------------------------------


@router.get("/journeys/{journey_id}/check-answers")
def check_answers(request: Request, journey_id: str, customer: Customer, svc: Service) -> Response:
    journey, state, revision = svc.find(customer, journey_id)
    current = engine.current_step(journey, state, svc.clock.now())
    if current != CHECK_ANSWERS:
        return redirect(step_url(journey_id, current))
    return _render_check_answers(request, svc, journey, state, revision, [])


@router.post("/journeys/{journey_id}/check-answers")
async def send(request: Request, journey_id: str, customer: Customer, svc: Service) -> Response:
    form = await checked_form(request)
    unknown = set(form.keys()) - {"csrf_token", "revision", "declaration"}
    if unknown:
        raise forms.TamperedForm("The form has fields this page does not have")
    journey, state, revision = svc.find(customer, journey_id)
    try:
        svc.submit(
            customer, journey_id, forms.revision(form), form.get("declaration") == "yes"
        )
    except InvalidAnswers as refused:
        return _render_check_answers(request, svc, journey, state, revision, refused.errors)
    except (Conflict, Refused):
        return redirect(f"/journeys/{journey_id}")
    return redirect(f"/journeys/{journey_id}/confirmation")


def _render_check_answers(
    request: Request,
    svc: JourneyService,
    journey: Journey,
    state,
    revision: int,
    errors: list[FieldError],
) -> Response:
    documents = svc.documents(state.customer_id, state.id)
    now = svc.clock.now()
    sections = []
    for step in engine.applicable_steps(journey, state, now):
        rows = [
            {
                "label": spec.label,
                "field": spec.name,
                "text": answer_text(journey, state, spec, state.answers.get(spec.name), documents),
            }
            for spec in engine.visible_fields(journey, state, step, state.answers, now)
        ]
        warnings = step_warnings(journey, state, step.name)
        sections.append({"step": step, "rows": rows, "warnings": warnings})
    return render(
        request,
        "check_answers.html",
        f"{journey.definition.check_answers_title} – {journey.title}",
        journey=journey,
        journey_id=state.id,
        sections=sections,
        errors=errors,
        revision=revision,
        declaration=journey.definition.declaration,
    )


@router.get("/journeys/{journey_id}/confirmation")
def confirmation(request: Request, journey_id: str, customer: Customer, svc: Service) -> Response:
    view = svc.get(customer, journey_id)
    if not view["reference"]:
        return redirect(f"/journeys/{journey_id}")
    journey = svc.definition_for(customer, journey_id)
    return render(
        request, "confirmation.html", f"Sent – {journey.title}", journey=journey, view=view
    )


@router.get("/journeys/{journey_id}/status")
def status(request: Request, journey_id: str, customer: Customer, svc: Service) -> Response:
    view = svc.get(customer, journey_id)
    journey = svc.definition_for(customer, journey_id)
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
