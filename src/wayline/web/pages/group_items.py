"""A repeating group's pages ("add another"), without JavaScript (plain forms,
POST-redirect-GET), through the same commands and queries as the API:

- the summary, at the group step's own address: each item with Change and Remove, the
  add-another question, and Continue, which goes on from the group (routes.py sends a group
  step's page and post here);
- `/items/new`: add an item (also what the step's address shows while the group is empty);
- `/items/{n}`: change item n;
- `/items/{n}/remove`: confirm, then remove item n.

Every change goes back to the summary, which checks the bounds and the rules across items
when the customer goes on.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from wayline.errors import Conflict, StepUpRequired
from wayline.identity.assurance import StepUp
from wayline.identity.permissions import Permission
from wayline.runtime.commands import Commands, FieldError, InvalidAnswers, Refused
from wayline.runtime.queries import Queries, Redirect, StepPage
from wayline.web.access import CUSTOMER_SIGN_IN, allow, sign_in_url
from wayline.web.pages import forms
from wayline.web.pages.common import Customer, checked_form, not_found, redirect, step_url
from wayline.web.pages.render import render
from wayline.web.services import CommandsDep, QueriesDep
from wayline.web.step_up import proof_of

router = APIRouter(include_in_schema=False)
ITEMS = "/journeys/{journey_id}/steps/{step}/items"
ADD_ANOTHER = "add_another"
CONFIRM = "confirm"
CHANGED_ELSEWHERE = "Your answers were changed in another window. Check them and continue."


def item_url(journey_id: str, step: str, number: int | None = None) -> str:
    return f"/journeys/{journey_id}/steps/{step}/items/" + (str(number) if number else "new")


# --- the summary (the group step's own page) ------------------------------------------------


def summary(
    request: Request, page: StepPage, errors: list[FieldError], notice: str | None = None
) -> Response:
    """The group's summary; while it has no items and can take one, the add page instead."""
    group = page.group
    if not group["items"] and group["can_add"] and not errors:
        return _item_form(
            request, page, None, page.fields(forms.form_values(page.step, {}), in_item=True), []
        )
    error_target = ADD_ANOTHER if group["can_add"] else "item-1"
    return render(
        request,
        "group_summary.html",
        f"{group['title']} – {page.journey.title}",
        journey=page.journey,
        journey_id=page.journey_id,
        step=page.step,
        group=group,
        errors=errors,
        error_targets={group["name"]: error_target, ADD_ANOTHER: ADD_ANOTHER},
        revision=page.revision,
        notice=notice,
        back=step_url(page.journey_id, page.back) if page.back else "/journeys",
    )


def go_on(
    request: Request, do: Commands, read: Queries, customer: str, page: StepPage, form: Any
) -> Response:
    """The summary posted: add another (to the add page), or go on from the group."""
    unknown = set(form.keys()) - {"csrf_token", "revision", ADD_ANOTHER}
    if unknown:
        raise forms.TamperedForm("The form has fields this page does not have")
    group = page.group
    answer = form.get(ADD_ANOTHER)
    if group["can_add"] and answer not in ("yes", "no"):
        message = page.step.group.add_another_required if page.step.group else ""
        return summary(request, page, [FieldError(ADD_ANOTHER, message)])
    if group["can_add"] and answer == "yes":
        return redirect(item_url(page.journey_id, page.step.name))
    try:
        changed = do.submit_step(
            customer, page.journey_id, page.step.name, {}, forms.revision(form)
        )
    except InvalidAnswers as refused:
        return summary(request, _again(read, customer, page), refused.errors)
    except Conflict:
        return summary(request, _again(read, customer, page), [], CHANGED_ELSEWHERE)
    return redirect(step_url(page.journey_id, changed.position.current))


# --- add and change -------------------------------------------------------------------------


@router.get(ITEMS + "/new", dependencies=[allow(Permission.OWN_JOURNEYS)])
def add_page(
    request: Request, journey_id: str, step: str, customer: Customer, read: QueriesDep
) -> Response:
    page = _group_page(request, read, customer, journey_id, step)
    if not isinstance(page, StepPage):
        return page
    return _item_form(
        request, page, None, page.fields(forms.form_values(page.step, {}), in_item=True), []
    )


@router.get(ITEMS + "/{number}", dependencies=[allow(Permission.OWN_JOURNEYS)])
def change_page(
    request: Request,
    journey_id: str,
    step: str,
    number: int,
    customer: Customer,
    read: QueriesDep,
) -> Response:
    page = _group_page(request, read, customer, journey_id, step)
    if not isinstance(page, StepPage):
        return page
    values = page.item_values(number)
    if values is None:
        return redirect(step_url(journey_id, step))
    shown = forms.form_values(page.step, values)
    return _item_form(request, page, number, page.fields(shown, values=values, in_item=True), [])


@router.post(ITEMS + "/new", dependencies=[allow(Permission.OWN_JOURNEYS)])
async def add(
    request: Request,
    journey_id: str,
    step: str,
    customer: Customer,
    do: CommandsDep,
    read: QueriesDep,
) -> Response:
    return await _save_item(request, journey_id, step, None, customer, do, read)


@router.post(ITEMS + "/{number}", dependencies=[allow(Permission.OWN_JOURNEYS)])
async def change(
    request: Request,
    journey_id: str,
    step: str,
    number: int,
    customer: Customer,
    do: CommandsDep,
    read: QueriesDep,
) -> Response:
    return await _save_item(request, journey_id, step, number, customer, do, read)


async def _save_item(
    request: Request,
    journey_id: str,
    step: str,
    number: int | None,
    customer: str,
    do: Commands,
    read: Queries,
) -> Response:
    page = await run_in_threadpool(_group_page, request, read, customer, journey_id, step)
    if not isinstance(page, StepPage):
        return page
    form = await checked_form(request)
    forms.check_keys(page.step, form)
    answers = forms.answers_from_form(page.step, form)
    revision = forms.revision(form)

    proof = proof_of(request)

    def write() -> Response:
        try:
            if number is None:
                do.add_item(customer, journey_id, step, answers, revision, proof=proof)
            else:
                do.change_item(customer, journey_id, step, number, answers, revision, proof=proof)
        except StepUpRequired as needed:
            # Nothing was kept: the customer confirms who they are and comes back to the page.
            back = item_url(journey_id, step, number)
            return redirect(
                sign_in_url(CUSTOMER_SIGN_IN, back, StepUp(needed.level, needed.within))
            )
        except InvalidAnswers as refused:
            fields = page.fields(
                forms.form_from_raw(page.step, form), refused.errors, answers, in_item=True
            )
            return _item_form(request, page, number, fields, refused.errors)
        except (Conflict, Refused):
            return redirect(step_url(journey_id, step))
        return redirect(step_url(journey_id, step))

    return await run_in_threadpool(write)


def _item_form(
    request: Request,
    page: StepPage,
    number: int | None,
    fields: list[Any],
    errors: list[FieldError],
) -> Response:
    group = page.step.group
    assert group is not None
    title = group.item_title or page.step.title
    items = page.group["items"]
    label = next((i["label"] for i in items if i["number"] == number), None)
    # Back to the summary, or, while the group is empty, to the step before it.
    back = step_url(page.journey_id, page.step.name) if items else None
    if back is None:
        back = step_url(page.journey_id, page.back) if page.back else "/journeys"
    return render(
        request,
        "group_item.html",
        f"{title} – {page.journey.title}",
        journey=page.journey,
        journey_id=page.journey_id,
        step=page.step,
        heading=title,
        label=label,
        fields=fields,
        errors=errors,
        revision=page.revision,
        action=item_url(page.journey_id, page.step.name, number),
        back=back,
    )


# --- remove ---------------------------------------------------------------------------------


@router.get(ITEMS + "/{number}/remove", dependencies=[allow(Permission.OWN_JOURNEYS)])
def remove_page(
    request: Request,
    journey_id: str,
    step: str,
    number: int,
    customer: Customer,
    read: QueriesDep,
) -> Response:
    page = _group_page(request, read, customer, journey_id, step)
    if not isinstance(page, StepPage):
        return page
    return _remove_form(request, page, number, [])


@router.post(ITEMS + "/{number}/remove", dependencies=[allow(Permission.OWN_JOURNEYS)])
async def remove(
    request: Request,
    journey_id: str,
    step: str,
    number: int,
    customer: Customer,
    do: CommandsDep,
    read: QueriesDep,
) -> Response:
    page = await run_in_threadpool(_group_page, request, read, customer, journey_id, step)
    if not isinstance(page, StepPage):
        return page
    form = await checked_form(request)
    if set(form.keys()) - {"csrf_token", "revision", CONFIRM}:
        raise forms.TamperedForm("The form has fields this page does not have")
    answer, revision = form.get(CONFIRM), forms.revision(form)
    if answer not in ("yes", "no"):
        label = _label(page, number) or "this item"
        return _remove_form(
            request,
            page,
            number,
            [FieldError(CONFIRM, f"Select yes if you want to remove {label}")],
        )
    if answer == "yes":
        back = item_url(journey_id, step, number) + "/remove"
        try:
            await run_in_threadpool(
                do.remove_item,
                customer,
                journey_id,
                step,
                number,
                revision,
                proof=proof_of(request),
            )
        except StepUpRequired as needed:
            return redirect(
                sign_in_url(CUSTOMER_SIGN_IN, back, StepUp(needed.level, needed.within))
            )
        except (Conflict, Refused):
            pass  # the summary shows the group as it now is
    return redirect(step_url(journey_id, step))


def _remove_form(
    request: Request, page: StepPage, number: int, errors: list[FieldError]
) -> Response:
    label = _label(page, number)
    if label is None or not page.group["can_remove"]:
        return redirect(step_url(page.journey_id, page.step.name))
    question = f"Are you sure you want to remove {label}?"
    return render(
        request,
        "group_remove.html",
        f"{question} – {page.journey.title}",
        journey=page.journey,
        journey_id=page.journey_id,
        question=question,
        errors=errors,
        error_targets={CONFIRM: CONFIRM},
        revision=page.revision,
        action=item_url(page.journey_id, page.step.name, number) + "/remove",
        back=step_url(page.journey_id, page.step.name),
    )


# --- helpers --------------------------------------------------------------------------------


def _label(page: StepPage, number: int) -> str | None:
    return next((i["label"] for i in page.group["items"] if i["number"] == number), None)


def _group_page(
    request: Request, read: Queries, customer: str, journey_id: str, step: str
) -> StepPage | Response:
    """The group step's page, or where to go instead: the journey's own position for a step
    not reached, the step's own page for a step that is not a group, a not-found page for a
    step the journey does not have."""
    page = read.step_page(customer, journey_id, step)
    if isinstance(page, Redirect):
        return redirect(step_url(journey_id, page.step))
    if page is None:
        return not_found(request)
    if page.step.group is None:
        return redirect(step_url(journey_id, step))
    return page


def _again(read: Queries, customer: str, page: StepPage) -> StepPage:
    fresh = read.step_page(customer, page.journey_id, page.step.name, follow_position=False)
    assert isinstance(fresh, StepPage)
    return fresh
