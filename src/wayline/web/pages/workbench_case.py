"""One case on one page (`/workbench/cases/{case_id}`), and the forms that work it: claim,
release, reassign, add a note, approve or decline with a declared reason, ask the customer
for more information, refer to fraud, send to another queue (cleared of fraud, back to claims),
resolve.

Every form posts with its CSRF token and is answered by a redirect back to the case with what
was done (POST-redirect-GET), or by the case again with the error beside the form it came
from and what was typed kept: 422 for a value the service refused, 409 for a case someone else
holds (naming them) or not in the state the action needs, 403 for a four-eyes refusal. A
second approval over the limit without a fresh second factor sends the browser through the
staff sign-in's step-up and back to the case, its reason chosen again. A case in a queue the
person does not work does not exist for them (404). Every view of the case is audited by the
service (`case.viewed`), with where the request came from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from wayline.errors import Conflict, Forbidden, NotFound, StepUpRequired
from wayline.identity.audit import Origin
from wayline.identity.permissions import Decision, Permission
from wayline.identity.permissions import decide as decide_access
from wayline.identity.principal import Principal
from wayline.journeys.engine import FieldError, InvalidAnswers
from wayline.runtime.cases import Cases, HeldBy
from wayline.store.cases import AWAITING_APPROVAL
from wayline.web.access import STAFF_SIGN_IN, allow, origin, sign_in_url
from wayline.web.pages.common import checked_form
from wayline.web.pages.workbench_forms import PageError, page_errors, values
from wayline.web.pages.workbench_page import cases_of, not_found, page, staff_of
from wayline.web.step_up import asked

WORK = [allow(Permission.WORK_CASES)]
SENT = ("submitted", "in_review", "decided")  # a journey staff may still close by hand
router = APIRouter(include_in_schema=False)
NO_CASE = "There is no case with that id in the queues you work."
OWN = "own"  # the information form's choice of writing one's own request
DONE = {
    "claimed": "You are now working on this case.",
    "released": "You released the case: it is back in its queue.",
    "reassigned": "The case was given to someone else.",
    "noted": "Your note was added.",
    "decided": "The case is decided. The customer will be told.",
    "proposed": "Your approval is proposed: a senior handler must give the second approval.",
    "requested": "The customer has been asked for more information.",
    "resolved": "The case is resolved and closed.",
    "closed_as": "The journey is closed as you chose, and so is the case.",
    "returned": "The case was sent to the queue you chose, for someone there to pick up.",
}
CONFIRMED = "You have confirmed it's you. Give your approval again to finish."
Form = dict[str, str]
# An action: the service, who acts, the case, the form's values, where the request came
# from → the word for what was done (a key of DONE, or "referred").
Act = Callable[[Cases, Principal, str, dict[str, str], Origin], str]


def case_url(case_id: str, **query: str) -> str:
    path = f"/workbench/cases/{quote(case_id, safe='')}"
    return f"{path}?{urlencode(query)}" if query else path


# --- the page ------------------------------------------------------------------------------


@router.get("/workbench/cases/{case_id}", dependencies=WORK)
def case_page(request: Request, case_id: str) -> Response:
    """The case. `done` says what was just done; `verdict` and `reason` choose a decision's
    reason again (after a step-up, with `confirmed`)."""
    query = request.query_params
    kept = {"verdict": query.get("verdict", ""), "reason": query.get("reason", "")}
    notice = DONE.get(query.get("done", ""))
    if query.get("confirmed") and _stepped_up(request):
        notice = CONFIRMED
    return show(request, case_id, kept=kept, notice=notice)


def _stepped_up(request: Request) -> bool:
    """Whether the sign-in now meets what the second approval over the limit asks."""
    now = request.app.state.sessions.service.now()
    return decide_access(staff_of(request), Permission.APPROVE_OVER_LIMIT, now) is Decision.ALLOW


def show(
    request: Request,
    case_id: str,
    errors: list[PageError] | None = None,
    status: int = 200,
    kept: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    """The case page (audited as a view of the case), with `errors` beside their forms."""
    staff = staff_of(request)
    try:
        view = cases_of(request).case(staff, case_id, origin=origin(request))
    except NotFound:
        return not_found(request, NO_CASE)
    errors = errors or []
    return page(
        request,
        "workbench/case.html",
        f"Case {view['case']['reference']}",
        status,
        view=view,
        may=_may(view, staff),
        errors=errors,
        error_for={e.field: e.message for e in errors},
        kept=kept or {},
        notice=notice,
        own=OWN,
    )


def _may(view: dict[str, Any], staff: Principal) -> dict[str, bool]:
    """Which forms to offer: what the service would let this person do now (it still
    decides; a form offered to the wrong person is refused with its reason)."""
    case = view["case"]
    mine = case["assignee"] == staff.subject
    open_ = case["status"] != "closed"
    in_review = view["journey"]["status"] == "in_review"
    awaiting = case["status"] == AWAITING_APPROVAL
    proposer = (case.get("proposal") or {}).get("by") == staff.subject
    actions = view.get("actions") or {}
    fraud_queue = actions.get("fraud_queue")
    elsewhere = [q for q in actions.get("queues") or [] if q["name"] != case["queue"]]
    return {
        "claim": open_ and case["assignee"] is None,
        "release": open_ and case["assignee"] is not None,
        "reassign": open_,
        "decide": open_ and in_review and ((mine and not awaiting) or (awaiting and not proposer)),
        "proposer": awaiting and proposer,
        "request": open_ and in_review and mine and not awaiting,
        "refer": open_ and mine and bool(fraud_queue) and case["queue"] != fraud_queue,
        "return": mine and case["status"] == "open" and bool(elsewhere),
        "resolve": open_ and mine and not in_review,
        "close_as": open_ and mine and not awaiting and view["journey"]["status"] in SENT,
        "second": awaiting,
    }


# --- the actions ---------------------------------------------------------------------------


@router.post("/workbench/cases/{case_id}/claim", dependencies=WORK)
async def claim(request: Request, case_id: str) -> Response:
    return await _act(request, case_id, set(), _claim, "claim", {})


@router.post("/workbench/cases/{case_id}/release", dependencies=WORK)
async def release(request: Request, case_id: str) -> Response:
    return await _act(request, case_id, set(), _release, "release", {})


@router.post("/workbench/cases/{case_id}/reassign", dependencies=WORK)
async def reassign(request: Request, case_id: str) -> Response:
    return await _act(request, case_id, {"to"}, _reassign, "reassign-to", {"to": "reassign-to"})


@router.post("/workbench/cases/{case_id}/notes", dependencies=WORK)
async def add_note(request: Request, case_id: str) -> Response:
    return await _act(request, case_id, {"note"}, _note, "note", {"note": "note"})


@router.post("/workbench/cases/{case_id}/refer-to-fraud", dependencies=WORK)
async def refer_to_fraud(request: Request, case_id: str) -> Response:
    return await _act(request, case_id, set(), _refer, "refer", {})


@router.post("/workbench/cases/{case_id}/return", dependencies=WORK)
async def return_to_queue(request: Request, case_id: str) -> Response:
    targets = {"queue": "return-queue", "note": "return-note"}
    fields = {"queue", "note"}
    return await _act(request, case_id, fields, _return, "return-queue", targets)


@router.post("/workbench/cases/{case_id}/resolve", dependencies=WORK)
async def resolve(request: Request, case_id: str) -> Response:
    targets = {"note": "resolve-note"}
    return await _act(request, case_id, {"note"}, _resolve, "resolve-note", targets)


@router.post("/workbench/cases/{case_id}/close-as", dependencies=WORK)
async def close_as(request: Request, case_id: str) -> Response:
    targets = {"as": "close-as", "reason": "close-reason"}
    return await _act(request, case_id, {"as", "reason"}, _close_as, "close-as", targets)


@router.post("/workbench/cases/{case_id}/request-information", dependencies=WORK)
async def request_information(request: Request, case_id: str) -> Response:
    targets = {"code": "request", "kind": "kind", "prompt": "prompt", "accept": "kind"}
    fields = {"request", "kind", "prompt"}
    return await _act(request, case_id, fields, _request, "request", targets)


@router.post("/workbench/cases/{case_id}/decide", dependencies=WORK)
async def decide(request: Request, case_id: str) -> Response:
    """Approve or decline (`verdict`), with a declared `reason` and an optional `note`."""
    form = values(await checked_form(request), {"verdict", "reason", "note"})
    verdict = form["verdict"] if form["verdict"] in ("approve", "decline") else "approve"
    targets = {f: f"{verdict}-{f}" for f in ("reason", "note")} | {"verdict": f"{verdict}-reason"}
    try:
        return await _run(request, case_id, form, _decide, f"{verdict}-reason", targets)
    except StepUpRequired as error:
        back = case_url(case_id, verdict=verdict, reason=form["reason"], confirmed="1")
        return RedirectResponse(sign_in_url(STAFF_SIGN_IN, back, asked(error)), 303)


async def _act(
    request: Request,
    case_id: str,
    fields: set[str],
    act: Act,
    anchor: str,
    targets: dict[str, str],
) -> Response:
    form = values(await checked_form(request), fields)
    return await _run(request, case_id, form, act, anchor, targets)


async def _run(
    request: Request,
    case_id: str,
    form: dict[str, str],
    act: Act,
    anchor: str,
    targets: dict[str, str],
) -> Response:
    """Run `act` for the signed-in person; the case again with the error beside `anchor` (or
    the field `targets` names) when the service refuses it, nothing changed."""
    staff = staff_of(request)
    try:
        done = await run_in_threadpool(
            act, cases_of(request), staff, case_id, form, origin(request)
        )
    except NotFound:
        return not_found(request, NO_CASE)
    except InvalidAnswers as invalid:
        errors, status = page_errors(invalid, targets, anchor), 422
    except HeldBy as held:
        errors, status = [PageError(anchor, f"{held.holder} is working on this case")], 409
    except Conflict as conflict:
        errors, status = [PageError(anchor, str(conflict))], 409
    except Forbidden as refused:
        errors, status = [PageError(anchor, str(refused))], 403
    else:
        return RedirectResponse(_after(case_id, done), 303)
    kept = {**form, "action": anchor}
    return await run_in_threadpool(show, request, case_id, errors, status, kept)


def _after(case_id: str, done: str) -> str:
    """Where the browser goes once the action is done: the case, saying what was done; the
    cases list after a referral to fraud (the case may have left the person's queues)."""
    if done == "referred":
        return "/workbench/cases?done=referred"
    return case_url(case_id, done=done)


# What each action does through the service, and the word for what was done.


def _claim(cases: Cases, staff: Principal, case_id: str, form: Form, at: Origin) -> str:
    cases.claim(staff, case_id, origin=at)
    return "claimed"


def _release(cases: Cases, staff: Principal, case_id: str, form: Form, at: Origin) -> str:
    cases.release(staff, case_id, origin=at)
    return "released"


def _reassign(cases: Cases, staff: Principal, case_id: str, form: Form, at: Origin) -> str:
    cases.reassign(staff, case_id, form["to"], origin=at)
    return "reassigned"


def _note(cases: Cases, staff: Principal, case_id: str, form: Form, at: Origin) -> str:
    cases.add_note(staff, case_id, form["note"], origin=at)
    return "noted"


def _refer(cases: Cases, staff: Principal, case_id: str, form: Form, at: Origin) -> str:
    cases.refer_to_fraud(staff, case_id, origin=at)
    return "referred"


def _return(cases: Cases, staff: Principal, case_id: str, form: Form, at: Origin) -> str:
    """To the queue chosen, with what was found; both missing are both said at once."""
    missing = [
        FieldError(field, message)
        for field, message in (
            ("queue", "Choose the queue to send the case to"),
            ("note", "Say what you found"),
        )
        if not form[field].strip()
    ]
    if missing:
        raise InvalidAnswers(missing[0].message, missing)
    cases.return_to_queue(staff, case_id, form["queue"], form["note"], origin=at)
    return "returned"


def _resolve(cases: Cases, staff: Principal, case_id: str, form: Form, at: Origin) -> str:
    cases.resolve(staff, case_id, form["note"], origin=at)
    return "resolved"


def _close_as(cases: Cases, staff: Principal, case_id: str, form: Form, at: Origin) -> str:
    cases.close_as(staff, case_id, form["as"], form["reason"], origin=at)
    return "closed_as"


def _decide(cases: Cases, staff: Principal, case_id: str, form: Form, at: Origin) -> str:
    note = form["note"] or None
    left = cases.decide(staff, case_id, form["verdict"], form["reason"], note, origin=at)
    return "proposed" if left.status == AWAITING_APPROVAL else "decided"


def _request(cases: Cases, staff: Principal, case_id: str, form: Form, at: Origin) -> str:
    """A declared request by its code, or (`own`) the handler's own prompt of `kind`."""
    chosen = form["request"]
    if not chosen:
        message = "Choose what to ask for, or write your own request"
        raise InvalidAnswers(message, [FieldError("code", message)])
    if chosen == OWN:
        kind = form["kind"] or None
        cases.request_information(staff, case_id, kind=kind, prompt=form["prompt"], origin=at)
    else:
        cases.request_information(staff, case_id, code=chosen, origin=at)
    return "requested"
