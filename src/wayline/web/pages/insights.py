"""The analysts' page, `/insights`: where customers struggle in each journey, two versions
side by side, for journeys started within a date range.

Filters are a GET form; dates that are not real dates, a range that ends before it starts or
more than two versions show what is wrong (422) and read nothing. The page takes in new events
first (WAYLINE_INSIGHTS_REFRESH_ON_LOAD; an incremental read, cheap once caught up), then
answers from the insights DuckDB file. Another process holding that file answers 503 with a
message, never a half-drawn page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from wayline.identity.permissions import Permission
from wayline.insights.filters import Asked, FilterError, InvalidFilters
from wayline.insights.service import Insights, Report
from wayline.insights.warehouse import Busy
from wayline.web.access import allow
from wayline.web.pages.insight_views import FILTERS, short_version, version_view
from wayline.web.pages.render import TEMPLATES, render

router = APIRouter(include_in_schema=False)
TEMPLATES.env.filters.update(FILTERS)
TEMPLATES.env.filters["short_version"] = short_version


@router.get("/insights", dependencies=[allow(Permission.READ_INSIGHTS)])
async def insights_page(request: Request) -> Response:
    params = request.query_params
    asked_text = {name: params.get(name, "") for name in ("journey", "since", "until")}
    versions = params.getlist("version")
    try:
        asked = Asked.parse(versions=versions, **asked_text)
    except InvalidFilters as invalid:
        return _page(request, asked_text, versions, None, invalid.errors, 422)
    service: Insights = request.app.state.insights
    refresh = request.app.state.settings.insights_refresh_on_load
    try:
        report = await run_in_threadpool(service.report, asked, refresh)
    except Busy:
        busy = FilterError("journey", "Insights are being refreshed elsewhere: try again shortly")
        return _page(request, asked_text, versions, None, [busy], 503)
    return _page(request, asked_text, versions, report, [], 200)


def _page(
    request: Request,
    asked: dict[str, str],
    versions: list[str],
    report: Report | None,
    errors: list[FilterError],
    status: int,
) -> Response:
    journey = report.journey if report else None
    shown = []
    if report is not None and report.journey is not None:
        shown = [version_view(report.journey, r, i) for i, r in enumerate(report.shown)]
    chosen = {view.version for view in shown} or set(versions)
    return render(
        request,
        "staff/insights.html",
        "Insights",
        status,
        staff_page=True,
        principal=request.app.state.sessions.principal(request),
        asked=asked,
        chosen=chosen,
        report=report,
        journey=journey,
        shown=shown,
        errors=errors,
        error_for={error.field: error.message for error in errors},
    )
