"""The staff area's pages: the staff home (who is signed in, their roles, what their roles open)
and the audit log for auditors. Sign-in is elsewhere (`/staff/sign-in`); signing out is the
same form post as the customers' (`/sign-out`).

Access is declared on each route like everywhere else (web/access.py); the links on the home
page come from the same permission table, so a link is shown only to those it would let in.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from wayline.identity.assurance import SECOND_FACTOR
from wayline.identity.audit import Action
from wayline.identity.audit_query import MAX_LIMIT, AuditQuery, FilterError, InvalidFilters
from wayline.identity.permissions import Decision, Permission, decide
from wayline.identity.principal import Principal
from wayline.identity.roles import Role
from wayline.store.audit import AuditRow
from wayline.web.access import allow
from wayline.web.audit_reads import read_on_record
from wayline.web.pages.render import render

router = APIRouter(include_in_schema=False)

ROLE_WORDS = {
    Role.HANDLER: "Handler",
    Role.SENIOR_HANDLER: "Senior handler",
    Role.FRAUD_INVESTIGATOR: "Fraud investigator",
    Role.ANALYST: "Analyst",
    Role.AUDITOR: "Auditor",
    Role.ADMIN: "Administrator",
    Role.CUSTOMER: "Customer",
}
# The audit page's filter fields and their labels (an error names its field by its label).
FILTER_LABELS = {
    "actor": "Who acted",
    "action": "Action",
    "target_type": "Target type",
    "target_id": "Target id",
    "since": "Since",
    "limit": "Show at most",
}


@dataclass(frozen=True)
class StaffPage:
    """A page of the staff area, and the permission that opens it."""

    permission: Permission
    path: str
    title: str
    description: str


STAFF_PAGES = [
    StaffPage(
        Permission.WORK_CASES,
        "/workbench",
        "Workbench",
        "The queues of referred cases you can work: claim, review and decide them.",
    ),
    StaffPage(
        Permission.READ_INSIGHTS,
        "/insights",
        "Insights",
        "Where customers struggle: each journey's funnel, errors, times and outcomes.",
    ),
    StaffPage(
        Permission.READ_AUDIT_LOG,
        "/staff/audit",
        "Audit log",
        "Sign-ins, sign-outs, step-ups, refusals and revoked sessions, newest first.",
    ),
]


def open_to(principal: Principal, request: Request) -> list[StaffPage]:
    """The staff pages this person's roles open (a page asking for a stronger sign-in is
    listed: following it asks for one)."""
    now = request.app.state.sessions.service.now()
    return [page for page in STAFF_PAGES if decide(principal, page.permission, now) in _OPEN]


_OPEN = {Decision.ALLOW, Decision.STEP_UP}


@router.get("/staff", dependencies=[allow(Permission.STAFF_AREA)])
def staff_home(request: Request) -> Response:
    principal = _principal(request)
    return _render(
        request,
        "staff/home.html",
        "Staff home",
        principal=principal,
        roles=sorted(ROLE_WORDS[role] for role in principal.roles),
        second_factor=principal.assurance >= SECOND_FACTOR,
        pages=open_to(principal, request),
    )


@router.get("/staff/audit", dependencies=[allow(Permission.READ_AUDIT_LOG)])
async def audit_page(request: Request) -> Response:
    """The audit log with its filters as a GET form; filters that are not valid show what is
    wrong (422) and read nothing."""
    asked = {name: request.query_params.get(name, "") for name in FILTER_LABELS}
    try:
        query = AuditQuery.parse(**asked)
    except InvalidFilters as invalid:
        errors = [
            FilterError(e.field, f"{FILTER_LABELS[e.field]} {e.message}") for e in invalid.errors
        ]
        return _render_audit(request, asked, entries=None, errors=errors, status=422)
    entries = await run_in_threadpool(read_on_record, request, query)
    return _render_audit(request, asked, entries=entries, errors=[], status=200)


def _render_audit(
    request: Request,
    asked: dict[str, str],
    entries: list[AuditRow] | None,
    errors: list[FilterError],
    status: int,
) -> Response:
    return _render(
        request,
        "staff/audit.html",
        "Audit log",
        status,
        principal=_principal(request),
        asked=asked,
        actions=[action.value for action in Action],
        entries=entries,
        errors=errors,
        error_for={error.field: error.message for error in errors},
        max_limit=MAX_LIMIT,
    )


def _principal(request: Request) -> Principal:
    principal = request.app.state.sessions.principal(request)
    assert principal is not None  # the route's access check answered otherwise
    return principal  # type: ignore[no-any-return]  # Starlette's State is untyped


def _render(
    request: Request, template: str, title: str, status: int = 200, **context: object
) -> Response:
    # `demo` off: the header's demo sign-in link is for customers, and staff here are signed
    # in; the staff bar in staff/layout.html has their sign-out.
    return render(request, template, title, status, staff_page=True, **context)
