"""The workbench's pages for staff who work cases: the queues their roles allow
(`/workbench`), the cases in them with filters and saved views (`/workbench/cases`), and, in
workbench_case.py, one case with everything a handler needs and its actions.

Server-rendered, without JavaScript needed (a small script adds single-key shortcuts that can
be turned off): filters are a GET form, every change a form post with its CSRF token, answered
by a redirect (POST-redirect-GET) or the page again with each error beside its field. Every
route declares `work_cases`; a queue a person's roles do not name does not exist for them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from wayline.errors import Conflict, NotFound
from wayline.identity.permissions import Permission
from wayline.journeys.engine import InvalidAnswers
from wayline.journeys.review import PRIORITIES
from wayline.runtime.cases import ViewRow
from wayline.store.cases import STATUSES
from wayline.web.access import allow
from wayline.web.pages import workbench_case
from wayline.web.pages.common import checked_form
from wayline.web.pages.workbench_forms import (
    FILTER_FIELDS,
    PageError,
    asked_filters,
    filter_query,
    filters_of,
    page_errors,
    values,
)
from wayline.web.pages.workbench_page import cases_of, not_found, page, staff_of

WORK = [allow(Permission.WORK_CASES)]
router = APIRouter(include_in_schema=False)
router.include_router(workbench_case.router)


# --- the queues ----------------------------------------------------------------------------


@router.get("/workbench", dependencies=WORK)
def queues_page(request: Request) -> Response:
    """The queues this person may work, each with its counts and how many are overdue."""
    queues = cases_of(request).queues(staff_of(request))
    return page(request, "workbench/queues.html", "Workbench", queues=queues)


# --- the cases, filtered or by a saved view ------------------------------------------------


@router.get("/workbench/cases", dependencies=WORK)
def cases_page(request: Request) -> Response:
    """The cases matching the filters of the query string, or of the saved view `view`;
    filters that are not valid show what is wrong (422) and list nothing."""
    staff, cases = staff_of(request), cases_of(request)
    view_id = request.query_params.get("view", "")
    if view_id:
        chosen = _view(cases.views(staff), view_id)
        if chosen is None:
            return not_found(request, "You have no saved view with that id.")
        asked = asked_filters(filter_query(chosen.filters))
    else:
        asked = asked_filters(request.query_params)
    try:
        found = cases.cases(staff, filters_of(asked))
    except InvalidAnswers as invalid:
        return _cases_page(request, asked, None, page_errors(invalid, {}), 422)
    return _cases_page(request, asked, found, [], 200, view=view_id)


def _view(views: list[ViewRow], view_id: str) -> ViewRow | None:
    return next((view for view in views if view.id == view_id), None)


def _cases_page(
    request: Request,
    asked: dict[str, str],
    found: list[dict[str, Any]] | None,
    errors: list[PageError],
    status: int,
    view: str = "",
    name: str = "",
) -> Response:
    staff, cases = staff_of(request), cases_of(request)
    queues = cases.queues(staff)
    return page(
        request,
        "workbench/cases.html",
        "Cases",
        status,
        asked=asked,
        cases=found,
        errors=errors,
        error_for={e.field: e.message for e in errors},
        labels={"view-name": "Name of the view"},
        queues=queues,
        journeys=sorted({q["journey"] for q in queues}),
        statuses=STATUSES,
        priorities=PRIORITIES,
        views=cases.views(staff),
        view=view,
        name=name,
        saved=request.query_params.get("saved") == "1",
    )


# --- saved views ---------------------------------------------------------------------------


@router.post("/workbench/views", dependencies=WORK)
async def save_view(request: Request) -> Response:
    """Keep the filters the form carries under a name; the page again with the error beside
    the name when it is empty, too long or already used, or beside a filter not valid."""
    form = values(await checked_form(request), {"name", *FILTER_FIELDS})
    asked = {name: form[name] for name in FILTER_FIELDS}
    try:
        filters = filters_of(asked).to_dict()
        saved = await run_in_threadpool(
            cases_of(request).save_view, staff_of(request), form["name"], filters
        )
    except InvalidAnswers as invalid:
        errors = page_errors(invalid, {"name": "view-name"})
        return await _again(request, asked, errors, 422, form["name"])
    except Conflict as taken:
        errors = [PageError("view-name", str(taken))]
        return await _again(request, asked, errors, 409, form["name"])
    return RedirectResponse(f"/workbench/cases?{urlencode({'view': saved.id})}&saved=1", 303)


async def _again(
    request: Request, asked: dict[str, str], errors: list[PageError], status: int, name: str
) -> Response:
    """The cases page again after a view could not be saved, listing what the filters list
    (none when the filters themselves are at fault)."""
    try:
        filters = filters_of(asked)
    except InvalidAnswers:
        found = None
    else:
        found = await run_in_threadpool(cases_of(request).cases, staff_of(request), filters)
    return _cases_page(request, asked, found, errors, status, name=name)


@router.post("/workbench/views/{view_id}/delete", dependencies=WORK)
async def delete_view(request: Request, view_id: str) -> Response:
    """Forget one of the person's own saved views (anyone else's is not found)."""
    values(await checked_form(request), set())
    try:
        await run_in_threadpool(cases_of(request).delete_view, staff_of(request), view_id)
    except NotFound:
        return not_found(request, "You have no saved view with that id.")
    return RedirectResponse("/workbench/cases?deleted=1", 303)
