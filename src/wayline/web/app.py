"""The web application: the JSON API, operations routes, sign-out and (in demo mode) demo
sign-in."""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from wayline.bootstrap import Components, demo_secret
from wayline.documents.pipeline import DocumentPipeline, Limits
from wayline.identity.sessions import SessionPolicy, SessionService
from wayline.web import docs, health, openapi, problems, rate_limits
from wayline.web.api import demo, documents, journeys
from wayline.web.auth import Sessions
from wayline.web.cookies import CookieNames
from wayline.web.head import HeadAsGet
from wayline.web.middleware import BodyLimit, RequestContext
from wayline.web.origin import SameOrigin
from wayline.web.pages import routes as pages
from wayline.web.security import Csrf, SecurityHeaders, require_csrf_header
from wayline.web.server_errors import ServerErrors
from wayline.web.strict_input import StrictInput
from wayline.web.theme import Theme

# Routes that take files get upload limits instead of the JSON body limit: one file through the
# API; a step page without JavaScript may send all of a field's files at once.
API_UPLOAD = r"^/api/v1/journeys/[^/]+/documents$"
PAGE_STEP = r"^/journeys/[^/]+/steps/[^/]+$"
ENVELOPE = 64 * 1024


def create_app(components: Components) -> FastAPI:
    settings = components.settings
    app = FastAPI(
        title="Wayline",
        version="0.1.0",
        description="Digital customer journeys for financial services: the JSON API.",
        docs_url=None,  # web/docs.py: Swagger UI served from here, under the CSP
        redoc_url=None,
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
    cookies = CookieNames.for_transport(secure=settings.cookies_secure())
    session_service = SessionService(
        components.store, components.clock, SessionPolicy.from_settings(settings)
    )
    app.state.sessions = Sessions(session_service, cookies)
    app.state.csrf = Csrf(secret, cookies)
    app.state.theme = Theme.from_settings(settings)
    problems.install(app)
    app.include_router(health.router)
    csrf = [Depends(require_csrf_header)]
    app.include_router(journeys.router, dependencies=csrf)
    app.include_router(documents.router, dependencies=csrf)
    # /auth: sign-out in every mode (CSRF checked on the route), the demo sign-in in demo mode.
    app.include_router(demo.router(components.demo_customers, demo=settings.demo))
    app.include_router(pages.router)
    docs.install(app)
    openapi.install(app)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    upload = settings.max_upload_bytes
    # Innermost, inside the body limit: no route reads a value that is not valid text or
    # a finite number (web/strict_input.py).
    app.add_middleware(StrictInput)
    app.add_middleware(HeadAsGet)
    app.add_middleware(
        BodyLimit,
        limit=settings.max_body_bytes,
        routes=[(API_UPLOAD, upload + ENVELOPE), (PAGE_STEP, pages.MAX_FILES * upload + ENVELOPE)],
    )
    # Inside the origin check: a cross-site request does not use up its victim's budget.
    rate_limits.install(app, settings)
    # Outside the body limit: a cross-origin state change is refused before its body is read.
    app.add_middleware(SameOrigin, public_url=settings.public_url)
    # Inside the headers and the request id, outside the rest: every 500 carries both.
    app.add_middleware(ServerErrors, respond=problems.server_error)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestContext)
    if settings.trusted_proxies:
        # Outermost: the client address every later part sees is the one the proxy names.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app
