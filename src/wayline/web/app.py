"""The web application: the JSON API, operations routes, sign-out and (in demo mode) demo
sign-in."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from wayline.bootstrap import Components, demo_secret, insights
from wayline.documents.pipeline import DocumentPipeline, Limits
from wayline.identity import sign_in as provider_sign_ins
from wayline.identity.assurance import AssuranceLevels
from wayline.identity.audit import AuditLog
from wayline.identity.sessions import SessionPolicy, SessionService
from wayline.identity.visitors import VerificationPolicy, Visitors
from wayline.protection.blind_index import BlindIndexes
from wayline.web import access, docs, health, openapi, problems, rate_limits, refusals
from wayline.web import sign_in as provider_sign_in
from wayline.web.api import (
    demo,
    documents,
    group_items,
    identity,
    journeys,
    releases,
    staff_cases,
    subjects,
    tasks,
)
from wayline.web.api import visitors as visitor_api
from wayline.web.auth import Sessions
from wayline.web.cookies import CookieNames
from wayline.web.demo_accounts import DemoAccounts
from wayline.web.head import HeadAsGet
from wayline.web.middleware import BodyLimit, RequestContext
from wayline.web.origin import SameOrigin
from wayline.web.pages import common as page_common
from wayline.web.pages import demo_sign_in, staff, workbench
from wayline.web.pages import group_items as group_pages
from wayline.web.pages import insights as insight_pages
from wayline.web.pages import routes as pages
from wayline.web.pages import tasks as task_pages
from wayline.web.pages import visitors as visitor_pages
from wayline.web.request_spans import RequestSpans
from wayline.web.security import Csrf, SecurityHeaders, require_csrf_header
from wayline.web.server_errors import ServerErrors
from wayline.web.sign_in import CALLBACK
from wayline.web.strict_input import StrictInput
from wayline.web.theme import Theme

# Routes that take files get upload limits instead of the JSON body limit: one file through the
# API; a step page without JavaScript may send all of a field's files at once.
API_UPLOAD = r"^/api/v1/journeys/[^/]+/documents$"
PAGE_STEP = r"^/journeys/[^/]+/steps/[^/]+$"
# A file for a request for more information (the API), or all of them at once (the page).
API_TASK_UPLOAD = r"^/api/v1/journeys/[^/]+/tasks/[^/]+/documents$"
PAGE_TASK = r"^/journeys/[^/]+/tasks/[^/]+$"
ENVELOPE = 64 * 1024


def create_app(components: Components) -> FastAPI:
    settings = components.settings
    app = FastAPI(
        title="Wayline",
        version="0.1.0",
        description="Digital customer journeys for financial services: the JSON API.",
        docs_url=None,  # web/docs.py: Swagger UI served from here, under the CSP
        redoc_url=None,
        # FastAPI's own telemetry records the query string (where a customer's postcode can
        # be) and, with a log provider, exception messages: web/request_spans.py makes the
        # request's span instead, and Prometheus (observability/metrics.py) the metrics.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    secret = settings.secret_key or (demo_secret(settings.home) if settings.demo else None)
    if secret is None:
        raise RuntimeError("Set WAYLINE_SECRET_KEY: it signs CSRF tokens")
    app.state.settings = settings
    app.state.store = components.store
    app.state.storage = components.storage
    app.state.pipeline = DocumentPipeline(
        components.storage, components.scanner, Limits.from_settings(settings)
    )
    # What routes call: commands that change journeys, queries that read them.
    app.state.commands = components.commands
    app.state.documents = components.documents
    app.state.queries = components.queries
    app.state.demo_customers = components.demo_customers
    app.state.cases = components.cases  # the workbench, and the customer's requests
    # /insights: the event log in DuckDB, terms from the definitions deployed now.
    app.state.insights = insights(
        settings, components.store, lambda: components.catalog.current.values(), components.clock
    )
    app.state.releases = components.releases()  # releases of definition versions (admins)
    app.state.lifecycle = components.lifecycle()  # a data subject's export (auditors, admins)
    cookies = CookieNames.for_transport(secure=settings.cookies_secure())
    session_service = SessionService(
        components.store, components.clock, SessionPolicy.from_settings(settings)
    )
    app.state.audit = AuditLog(components.store, components.clock)
    app.state.sessions = Sessions(session_service, cookies, app.state.audit)
    app.state.csrf = Csrf(secret, cookies)
    app.state.visitors = make_visitors(components, secret)
    app.state.theme = Theme.from_settings(settings)
    app.state.assurance_levels = AssuranceLevels(dict(settings.oidc_acr_levels))
    problems.install(app)
    refusals.install(app)
    app.include_router(health.router)
    csrf = [Depends(require_csrf_header)]
    app.include_router(journeys.router, dependencies=csrf)
    app.include_router(group_items.router, dependencies=csrf)
    app.include_router(visitor_api.router, dependencies=csrf)  # journeys without sign-in
    app.include_router(documents.router, dependencies=csrf)
    app.include_router(tasks.router, dependencies=csrf)  # the customer's requests
    app.include_router(staff_cases.router, dependencies=csrf)  # /api/v1/staff: the workbench
    # /api/v1/me, the audit log, revoking sessions; the staff home and audit log pages.
    app.include_router(identity.router, dependencies=csrf)
    app.include_router(releases.router, dependencies=csrf)  # /api/v1/admin/releases
    app.include_router(subjects.router, dependencies=csrf)  # /api/v1/staff/subjects/export
    app.include_router(staff.router)
    app.include_router(workbench.router)  # /workbench: the handlers' pages
    app.include_router(insight_pages.router)  # /insights: the analysts' pages
    # /auth: sign-out in every mode (CSRF checked on the route), the demo sign-in in demo mode.
    demo_accounts = DemoAccounts.offered(components)
    app.include_router(demo.router(demo_accounts))
    # The sign-in pages of each kind no identity provider signs in (demo, or "not found").
    app.include_router(demo_sign_in.router(demo_accounts, settings))
    # The identity providers' sign-in, callback and signed-out page, when any is configured:
    # before the pages, whose sign-in routes (demo_sign_in) then stand aside for that kind.
    app.state.sign_in = provider_sign_ins.from_settings(
        settings, components.store, components.clock, settings.public_url.rstrip("/") + CALLBACK
    )
    if app.state.sign_in is not None:
        app.include_router(provider_sign_in.router(app.state.sign_in))
    app.include_router(visitor_pages.router)  # before the pages: /start/{type}/visitor
    app.include_router(pages.router)
    app.include_router(group_pages.router)  # a repeating group's item pages
    app.include_router(task_pages.router)
    docs.install(app)
    openapi.install(app)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    access.mark_public(app.routes[-1])
    # Last, once every route is in: a route that declared no access is refused.
    access.enforce(app)
    upload = settings.max_upload_bytes
    # Innermost, inside the body limit: no route reads a value that is not valid text or
    # a finite number (web/strict_input.py).
    app.add_middleware(StrictInput)
    app.add_middleware(HeadAsGet)
    app.add_middleware(
        BodyLimit,
        limit=settings.max_body_bytes,
        routes=[
            (API_UPLOAD, upload + ENVELOPE),
            (PAGE_STEP, page_common.MAX_FILES * upload + ENVELOPE),
            (API_TASK_UPLOAD, upload + ENVELOPE),
            (PAGE_TASK, task_pages.MAX_FILES * upload + ENVELOPE),
        ],
    )
    # Inside the origin check: a cross-site request does not use up its victim's budget.
    rate_limits.install(app, settings)
    # Outside the body limit: a cross-origin state change is refused before its body is read.
    app.add_middleware(SameOrigin, public_url=settings.public_url)
    # Inside the headers and the request id, outside the rest: every 500 carries both.
    app.add_middleware(ServerErrors, respond=problems.server_error)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestContext)
    # Around the request id: its log line is written inside the request's span (trace_id).
    app.add_middleware(RequestSpans)
    if settings.trusted_proxies:
        # Outermost: the client address every later part sees is the one the proxy names.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app


def make_visitors(components: Components, secret: str) -> Visitors:
    """Email verification and resume links for visitors, keyed by the server's secret, sending
    through the notification provider (none configured: codes cannot be sent, 503)."""
    settings = components.settings
    partners = components.partners
    send = None
    if partners is not None:

        def send(key: str, to: str, subject: str, body: str) -> object:
            return partners.send_message(key, "email", to, body, subject)

    policy = VerificationPolicy(
        code_lifetime=timedelta(minutes=settings.visitor_code_minutes),
        max_failures=settings.visitor_max_wrong_codes,
        lock_for=timedelta(minutes=settings.visitor_lock_minutes),
        link_lifetime=timedelta(hours=settings.visitor_link_hours),
    )
    key = hashlib.sha256(b"wayline.visitors:" + secret.encode()).digest()
    indexes = BlindIndexes(components.data_keys, key, settings.key_cache_seconds)
    return Visitors(
        components.store, components.clock, key, send, settings.public_url, policy, indexes
    )
