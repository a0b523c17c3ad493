"""The customer's web journey: server-rendered pages that work without JavaScript
(plain form posts, POST-redirect-GET) and are enhanced by it (autosave, multi-file upload).

Pages use the same commands and queries as the API (runtime/commands, runtime/queries) and
never call the engine: what a step shows, where the journey stands and what an answer reads
as in words all come from the queries. Routes only parse forms, redirect and render."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from wayline.documents.intake import Rejected
from wayline.errors import Conflict, StepUpRequired
from wayline.identity.assurance import StepUp
from wayline.identity.permissions import Permission
from wayline.identity.sign_in import after_sign_out
from wayline.journeys import personalise
from wayline.journeys.loader import Journey
from wayline.runtime.commands import Commands, FieldError, InvalidAnswers, Refused
from wayline.runtime.ownership import is_visitor
from wayline.runtime.presenter import present_computed
from wayline.runtime.queries import (
    CHECK_ANSWERS,
    CheckAnswersPage,
    Queries,
    Redirect,
    Rule,
    StepForm,
    StepPage,
)
from wayline.web.access import CUSTOMER_SIGN_IN, PUBLIC, allow, sign_in_url
from wayline.web.pages import forms, group_items
from wayline.web.pages.common import (
    Customer,
    checked_form,
    not_found,
    preview_segments,
    redirect,
    step_url,
)
from wayline.web.pages.display import ENDED_WORDS, OUTCOME_WORDS, STATUS_WORDS, event_words
from wayline.web.pages.render import render
from wayline.web.services import CommandsDep, QueriesDep
from wayline.web.step_up import proof_of
from wayline.web.uploads import accept_upload

router = APIRouter(include_in_schema=False)
IN_REVIEW = "in_review"
CONFIRMED = "You have confirmed it's you. Check your details and continue."


# --- home, signing out and the customer's journeys (sign-in: web/pages/demo_sign_in.py) ---


@router.get("/", dependencies=[PUBLIC])
def home(request: Request, read: QueriesDep) -> Response:
    return render(request, "home.html", "Home", journey_types=read.journey_types())


@router.post("/sign-out", dependencies=[PUBLIC])
async def sign_out(request: Request) -> Response:
    await checked_form(request)
    # Where to go next depends on who signed in (their provider may end its session too).
    principal = await run_in_threadpool(request.app.state.sessions.principal, request)
    state = request.app.state
    response = redirect(
        await run_in_threadpool(after_sign_out, state.sign_in, principal, state.settings.public_url)
    )
    await run_in_threadpool(request.app.state.sessions.sign_out, request, response)
    return response


@router.get("/journeys", dependencies=[allow(Permission.OWN_JOURNEYS)])
def your_journeys(
    request: Request, customer: Customer, read: QueriesDep, saved: str = ""
) -> Response:
    journeys = read.journeys_of(customer)
    for row in journeys:
        row["status_words"] = STATUS_WORDS.get(row["status"], row["status"])
        row["open_tasks"] = _open_tasks(request, customer, row["id"], row["status"])
    return render(request, "journeys.html", "Your activity", journeys=journeys, saved=saved)


# --- starting -----------------------------------------------------------------------------


# What a journey is and what it needs: for anyone, before signing in (starting asks for it).
@router.get("/start/{journey_type}", dependencies=[PUBLIC])
def start_page(request: Request, journey_type: str, read: QueriesDep) -> Response:
    journey = read.journey_type(journey_type)
    if journey is None:
        return _not_found(request)
    segments = personalise.segments(journey) if request.app.state.settings.demo else []
    return render(request, "start.html", journey.title, journey=journey, segments=segments)


@router.post("/start/{journey_type}", dependencies=[allow(Permission.OWN_JOURNEYS)])
async def start(
    request: Request, journey_type: str, customer: Customer, do: CommandsDep
) -> Response:
    form = await checked_form(request)
    changed = await run_in_threadpool(
        do.start, customer, journey_type, None, preview_segments(request, form)
    )
    return redirect(step_url(changed.journey_id, changed.position.current))


@router.get("/journeys/{journey_id}", dependencies=[allow(Permission.OWN_JOURNEYS)])
def resume(journey_id: str, customer: Customer, read: QueriesDep) -> Response:
    return redirect(step_url(journey_id, read.current_step(customer, journey_id)))


# --- steps --------------------------------------------------------------------------------


@router.get("/journeys/{journey_id}/steps/{step}", dependencies=[allow(Permission.OWN_JOURNEYS)])
def step_page(
    request: Request,
    journey_id: str,
    step: str,
    customer: Customer,
    read: QueriesDep,
    change: str = "",
    confirmed: str = "",
) -> Response:
    """The step's page. A step that asks for a step-up for any answers is shown only to a
    sign-in strong and recent enough: others go through it and come back here. `confirmed`
    marks that return (the notice says so once the sign-in meets the step's step-up)."""
    page = read.step_page(customer, journey_id, step)
    if page is None:
        return _not_found(request)
    if isinstance(page, Redirect):
        return redirect(step_url(journey_id, page.step))
    proof, before_showing = proof_of(request), page.step_up_to_show
    if before_showing is not None and not proof.meets(before_showing, page.now):
        return _through_step_up(before_showing, journey_id, step, bool(change))
    if page.step.group is not None:
        return group_items.summary(request, page, [])
    notice = CONFIRMED if confirmed and proof.meets(page.step_up, page.now) else None
    shown = forms.form_values(page.step, page.values)
    return _render_step(request, page, page.fields(shown), [], bool(change), notice=notice)


def _through_step_up(rule: Rule, journey_id: str, step: str, change: bool) -> Response:
    """Send the browser to sign in as strongly as `rule` asks, then back to the step's page."""
    back = step_url(journey_id, step, change) + ("&" if change else "?") + "confirmed=1"
    return redirect(sign_in_url(CUSTOMER_SIGN_IN, back, StepUp(rule.level, rule.within)))


@router.post("/journeys/{journey_id}/steps/{step}", dependencies=[allow(Permission.OWN_JOURNEYS)])
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
    if posted.step.group is not None:
        return await run_in_threadpool(_go_on_from_group, request, do, read, customer, posted, form)
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


def _go_on_from_group(
    request: Request,
    do: Commands,
    read: Queries,
    customer: str,
    posted: StepForm,
    form: FormData,
) -> Response:
    """A repeating group's summary posted (web/pages/group_items.py)."""
    page = read.step_page(customer, posted.journey_id, posted.step.name)
    if not isinstance(page, StepPage):
        return redirect(step_url(posted.journey_id, page.step if page else None))
    return group_items.go_on(request, do, read, customer, page, form)


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
                # A visitor keeps their answers by confirming an email address first.
                if is_visitor(customer):
                    return redirect(f"/journeys/{journey_id}/save")
                return redirect(f"/journeys?saved={journey_id}")
            if not errors:
                return redirect(step_url(journey_id, step, change))
            raise InvalidAnswers("There is a problem with the files", errors)
        try:
            changed = do.submit_step(
                customer, journey_id, step, answers, revision, proof=proof_of(request)
            )
        except StepUpRequired as needed:
            # Nothing is lost while they confirm who they are: what they typed is the draft
            # the page shows when they come back.
            do.save_draft(customer, journey_id, step, answers, revision)
            return _through_step_up(Rule(needed.level, needed.within), journey_id, step, change)
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


@router.post(
    "/journeys/{journey_id}/steps/{step}/draft",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
)
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
        content=page.content,
        fields=fields,
        single=single,
        errors=errors,
        revision=page.revision,
        change=change,
        notice=notice,
        multipart=page.multipart,
        back=step_url(page.journey_id, page.back) if page.back else "/journeys",
        shown=present_computed(page.journey, page.state, spec.show),
    )


# --- check answers, declaration, confirmation and status -----------------------------------


@router.get("/journeys/{journey_id}/check-answers", dependencies=[allow(Permission.OWN_JOURNEYS)])
def check_answers(
    request: Request, journey_id: str, customer: Customer, read: QueriesDep
) -> Response:
    page = read.check_answers(customer, journey_id)
    if isinstance(page, Redirect):
        return redirect(step_url(journey_id, page.step))
    return _render_check_answers(request, page, [])


@router.post("/journeys/{journey_id}/check-answers", dependencies=[allow(Permission.OWN_JOURNEYS)])
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
        shown=page.computed,
    )


@router.get("/journeys/{journey_id}/confirmation", dependencies=[allow(Permission.OWN_JOURNEYS)])
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


@router.get("/journeys/{journey_id}/status", dependencies=[allow(Permission.OWN_JOURNEYS)])
def status(request: Request, journey_id: str, customer: Customer, read: QueriesDep) -> Response:
    """The journey's progress, for its owner, and for the visitor who started it once it
    passed to the customer it created (this page only)."""
    owner = read.owner_for_status(customer, journey_id)
    page = read.journey_page(owner, journey_id)
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
        next_steps=_next_steps(journey, view),
        status_words=STATUS_WORDS.get(view["status"], view["status"]),
        tasks=_open_tasks(request, customer, journey_id, view["status"])
        if owner == customer
        else [],
        ended_words=_ended_words(view),
    )


def _next_steps(journey: Journey, view: dict[str, Any]) -> str | None:
    """What the definition tells the customer to do next under the outcome reached, if
    anything (an outcome staff chose outside the decision's own has none)."""
    outcome = (view["outcome"] or {}).get("outcome")
    decision = journey.definition.decision
    if outcome is None or decision is None:
        return None
    return next((o.next_steps for o in decision.outcomes if o.outcome == outcome), None)


def _ended_words(view: dict[str, Any]) -> str | None:
    ended = view.get("ended")
    if not ended:
        return None
    return ENDED_WORDS.get((ended["status"], ended["by"]), STATUS_WORDS.get(ended["status"]))


@router.post("/journeys/{journey_id}/withdraw", dependencies=[allow(Permission.OWN_JOURNEYS)])
async def withdraw(
    request: Request, journey_id: str, customer: Customer, do: CommandsDep
) -> Response:
    """Withdraw from the status page; a journey that can no longer be withdrawn (or moved
    meanwhile) is shown again as it now is."""
    form = await checked_form(request)
    if set(form.keys()) - {"csrf_token", "revision"}:
        raise forms.TamperedForm("The form has fields this page does not have")
    revision = forms.revision(form)
    with contextlib.suppress(Conflict, Refused):  # the status page shows how it now stands
        await run_in_threadpool(do.withdraw, customer, journey_id, revision)
    return redirect(f"/journeys/{journey_id}/status")


@router.post("/journeys/{journey_id}/holds/cancel", dependencies=[allow(Permission.OWN_JOURNEYS)])
async def cancel_hold(
    request: Request, journey_id: str, customer: Customer, do: CommandsDep
) -> Response:
    """Cancel a held effect from the status page, which then shows whether it was."""
    form = await checked_form(request)
    if set(form.keys()) - {"csrf_token", "revision", "key"}:
        raise forms.TamperedForm("The form has fields this page does not have")
    revision, key = forms.revision(form), str(form.get("key", ""))
    with contextlib.suppress(Conflict, Refused):  # the status page shows how it now stands
        await run_in_threadpool(do.cancel_hold, customer, journey_id, key, revision)
    return redirect(f"/journeys/{journey_id}/status")


def _open_tasks(request: Request, customer: str, journey_id: str, status: str) -> Any:
    """What a handler asked of the customer that is still open (only a journey in review
    can have any): see web/pages/tasks.py."""
    return request.app.state.cases.tasks_for(customer, journey_id) if status == IN_REVIEW else []


# --- theme --------------------------------------------------------------------------------


@router.get("/theme.css", dependencies=[PUBLIC])
def theme_css(request: Request) -> Response:
    return Response(
        request.app.state.theme.css(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/brand/logo", dependencies=[PUBLIC])
def logo(request: Request) -> Response:
    path = request.app.state.settings.logo
    if not request.app.state.theme.has_logo:
        return Response(status_code=404)
    return FileResponse(path)


def _not_found(request: Request) -> Response:
    return not_found(request)
