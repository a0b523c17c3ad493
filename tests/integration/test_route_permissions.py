"""Every route × every caller, on SQLite and PostgreSQL: what each may do is read from the route's
declaration (web/access.py) and the permission table (identity/permissions.TABLE), and each
request must be answered accordingly.

Callers: nobody; Alex, a customer who owns the journey in the paths; Sam, a customer who does
not; and one member of staff per staff role. Each request is made with a session of its own,
started directly in the session store (no demo sign-in), with its CSRF token on every write:

- a public route: never 401 or 403;
- the permission held: never 401 or 403; Alex reaches his journey (not 404) and Sam is told it
  does not exist (404, never 200 or 403);
- not held: 403 for anyone signed in, and for nobody 401 from the API or a 303 to the right
  sign-in page (customers' or staff's) from a page;
- held, but the sign-in too weak or old for the permission's step-up: RFC 9470's 401 from the
  API, a 303 to a stronger sign-in from a page.

The route list is read from the app itself, so a new route is walked (and must be declared)
as soon as it exists. A route added without a declaration is refused.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cases_kit import case_of, casey, referred
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient
from journey_api import JOURNEYS_DIR, PROBLEM, Api, png_bytes
from starlette.responses import PlainTextResponse

from wayline.bootstrap import build
from wayline.config import Settings
from wayline.identity.assurance import SECOND_FACTOR
from wayline.identity.permissions import TABLE, Permission
from wayline.identity.principal import Kind, Principal
from wayline.identity.roles import STAFF_ROLES, Role
from wayline.sandbox.wiring import demo_options
from wayline.web import access
from wayline.web.app import create_app

STAFF = sorted(role.value for role in STAFF_ROLES)
CALLERS = ["nobody", "alex", "sam", *STAFF]
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
PUBLIC = "public"


@dataclass(frozen=True)
class Endpoint:
    """One method of one route, and what it declared (a permission, `public`, or None)."""

    method: str
    path: str
    declared: str | None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def api(self) -> bool:
        return self.path.startswith(("/api/", "/auth/"))

    @property
    def permission(self) -> Permission | None:
        known = {p.value for p in Permission}
        return Permission(self.declared) if self.declared in known else None


def endpoints(app: Any) -> list[Endpoint]:
    """Every method of every route the app serves (a mount serves GET; HEAD is GET's)."""
    found = []
    for route in access.served(app):
        check = access.declared(route)
        declared = None if check is None else (check.permission or PUBLIC)
        path = str(route.path) if route.methods else f"{route.path}/{{path}}"
        for method in sorted(route.methods or {"GET"}):
            if method != "HEAD":
                found.append(Endpoint(method, path, declared))
    return found


def _app_routes() -> list[Endpoint]:
    """The routes, read once at collection from an app on a throwaway SQLite database."""
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(
            home=Path(home),
            database_url=f"sqlite:///{home}/wayline.db",
            demo=True,
            secret_key="test",
            journeys_dir=JOURNEYS_DIR,
            rate_limits=False,
        )
        components = build(settings, migrate=True, **demo_options())
        try:
            return endpoints(create_app(components))
        finally:
            components.store.engine.dispose()


ENDPOINTS = _app_routes()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "endpoint" in metafunc.fixturenames:
        cases = [(endpoint, caller) for endpoint in ENDPOINTS for caller in CALLERS]
        metafunc.parametrize(("endpoint", "caller"), cases, ids=[f"{e} as {c}" for e, c in cases])


# --- the world: an app, Alex's journey and document, sessions made to order -------------------


@dataclass
class World:
    app: Any
    http: TestClient
    ids: dict[str, str]

    def principal(self, caller: str) -> Principal | None:
        now = self.app.state.sessions.service.now()
        if caller == "nobody":
            return None
        if caller in ("alex", "sam"):
            return Principal.customer(caller, 1, now, "demo")
        return Principal(f"staff-{caller}", Kind.STAFF, frozenset({Role(caller)}), 1, now, "demo")

    def request(self, endpoint: Endpoint, principal: Principal | None) -> Any:
        """The endpoint asked by `principal` in a session of its own (a sign-out ends only
        that one), with a CSRF token bound to it on a write."""
        sessions, csrf = self.app.state.sessions, self.app.state.csrf
        cookies: dict[str, str] = {}
        session_id = "anonymous"
        if principal is not None:
            started = sessions.service.start(principal)
            cookies[sessions.cookies.session] = started.token
            session_id = started.session.id
        token = csrf.issue(session_id)
        cookies[csrf.cookie] = token
        self.http.cookies.clear()
        options: dict[str, Any] = {
            "headers": {
                "cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
                "x-csrf-token": token,
            },
            "follow_redirects": False,
        }
        if endpoint.method in WRITES:
            options.update(_body(endpoint, token))
        return self.http.request(endpoint.method, self.concrete(endpoint.path), **options)

    def concrete(self, template: str) -> str:
        ids = self.ids
        if "/tasks" in template:  # requests for more information: on Alex's referred claim
            ids = {**ids, "journey_id": ids["referred_journey_id"]}
        return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: ids[m.group(1)], template)


# Writes carry a body their route accepts, so that what answers is the route's access and
# ownership checks, not the body's validation (which comes first).
STEP_ANSWERS = {"json": {"answers": {}, "revision": 1}}
JSON_BODIES: dict[str, dict[str, Any]] = {
    "PATCH /api/v1/journeys/{journey_id}/steps/{step}": STEP_ANSWERS,
    "POST /api/v1/journeys/{journey_id}/steps/{step}": STEP_ANSWERS,
    "POST /api/v1/journeys/{journey_id}/submit": {"json": {"revision": 1, "declaration": True}},
    "POST /api/v1/journeys/{journey_id}/steps/{step}/items": STEP_ANSWERS,
    "PUT /api/v1/journeys/{journey_id}/steps/{step}/items/{number}": STEP_ANSWERS,
    "POST /api/v1/journeys/{journey_id}/steps/{step}/items/{number}/remove": {
        "json": {"revision": 1}
    },
    # A revision the journey is never at: the walk must not withdraw the journey it walks.
    "POST /api/v1/journeys/{journey_id}/withdraw": {"json": {"revision": 99999}},
    # A key no journey holds: refused with 422 for Alex (a hold is its journey's).
    "POST /api/v1/journeys/{journey_id}/holds/cancel": {"json": {"revision": 1, "key": "zz"}},
    "POST /api/v1/journeys/{journey_id}/documents": {
        "data": {"field": "damage_photos"},
        "files": {"file": ("photo.png", png_bytes(), "image/png")},
    },
    "POST /api/v1/journeys": {"json": {"type": "motor-claim"}},
    # Visitors: a type that does not exist (404 for everyone: the route is public), a link
    # that is not one (404); an address on Alex's claim (409: a customer has nothing to verify).
    "POST /api/v1/visitor/journeys": {"json": {"type": "zz-no-such-journey"}},
    "POST /api/v1/visitor/resume": {"json": {"link": "zz-not-a-link"}},
    "POST /api/v1/journeys/{journey_id}/email/code": {"json": {"email": "alex@example.com"}},
    "POST /api/v1/journeys/{journey_id}/email/verify": {
        "json": {"email": "alex@example.com", "code": "123456"}
    },
    "POST /api/v1/admin/sessions/revoke": {"json": {"subject": "zz-no-such-subject"}},
    # Releases: a journey with no version in the store (422), a release that does not exist.
    "POST /api/v1/admin/releases": {"json": {"journey": "zz-no-such-journey", "version": "abcd"}},
    "POST /api/v1/admin/releases/{release_id}/decisions": {"json": {"decision": "pause"}},
    # The staff API: bodies it takes, on a case that does not exist (404 for case workers).
    "POST /api/v1/staff/views": {"json": {"name": "Walked", "filters": {"queue": "fraud"}}},
    "POST /api/v1/staff/cases/{case_id}/reassign": {"json": {"to": "zz-someone"}},
    "POST /api/v1/staff/cases/{case_id}/notes": {"json": {"note": "Walked"}},
    "POST /api/v1/staff/cases/{case_id}/resolve": {"json": {"note": "Walked"}},
    "POST /api/v1/staff/cases/{case_id}/close-as": {"json": {"as": "completed", "reason": "W"}},
    "POST /api/v1/staff/cases/{case_id}/return": {"json": {"queue": "claims", "note": "Walked"}},
    "POST /api/v1/staff/cases/{case_id}/decide": {
        "json": {"verdict": "approve", "reason": "verified"}
    },
    "POST /api/v1/staff/cases/{case_id}/request-information": {"json": {"code": "parked_where"}},
    # The customer's requests: a question task, so no walk answers it or adds a file to it
    # (an empty answer and a file for a question are refused with 422 for Alex).
    "POST /api/v1/journeys/{journey_id}/tasks/{task_id}": {"json": {"answer": " "}},
    "POST /api/v1/journeys/{journey_id}/tasks/{task_id}/documents": {
        "files": {"file": ("photo.png", png_bytes(), "image/png")},
    },
}
FORM_FIELDS: dict[str, dict[str, str]] = {
    "POST /journeys/{journey_id}/check-answers": {"revision": "1", "declaration": "yes"},
    # A revision the journey is never at: the walk must not withdraw the journey it walks.
    "POST /journeys/{journey_id}/withdraw": {"revision": "99999"},
    "POST /journeys/{journey_id}/holds/cancel": {"revision": "1", "key": "zz"},
}


def _body(endpoint: Endpoint, token: str) -> dict[str, Any]:
    if endpoint.api:
        return JSON_BODIES.get(str(endpoint), {"json": {}})
    return {"data": {"csrf_token": token, **FORM_FIELDS.get(str(endpoint), {})}}


@pytest.fixture(scope="module")
def world(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = Settings(
        home=tmp_path_factory.mktemp("permissions"),
        database_url=module_database_url,
        demo=True,
        secret_key="test",
        journeys_dir=JOURNEYS_DIR,
        rate_limits=False,
    )
    components = build(settings, migrate=True, **demo_options())
    app = create_app(components)
    http = TestClient(app, raise_server_exceptions=False)
    try:
        ids = _alex_s_things(app)
        ids.update(_alex_s_request(components, app))
        yield World(app, http, ids)
    finally:
        http.close()
        components.store.engine.dispose()


def _alex_s_things(app: Any) -> dict[str, str]:
    """Alex's journey and a photo on it, made through the API in a session of his own."""
    sessions, csrf = app.state.sessions, app.state.csrf
    started = sessions.service.start(Principal.customer("alex", 1, sessions.service.now(), "demo"))
    token = csrf.issue(started.session.id)
    with TestClient(app) as http:
        http.cookies.set(sessions.cookies.session, started.token)
        http.cookies.set(csrf.cookie, token)
        http.headers["x-csrf-token"] = token
        alex = Api(http, "alex")
        journey = alex.start()
        document = alex.upload(journey, "damage_photos", png_bytes())
    return {
        "journey_id": journey["id"],
        "document_id": document,
        "step": "incident",
        "number": "1",  # an item of a repeating group (the motor claim has none: 409, 303)
        "journey_type": "motor-claim",
        "path": "app.css",
        "case_id": "zz-no-such-case",
        "view_id": "zz-no-such-view",
        "link": "zz-not-a-link",
        "release_id": "zzNoSuchRelease",
    }


def _alex_s_request(components: Any, app: Any) -> dict[str, str]:
    """Alex's referred claim with a question a handler asked him (the task routes' paths)."""
    sessions, csrf = app.state.sessions, app.state.csrf
    started = sessions.service.start(Principal.customer("alex", 1, sessions.service.now(), "demo"))
    token = csrf.issue(started.session.id)
    with TestClient(app) as http:
        http.cookies.set(sessions.cookies.session, started.token)
        http.cookies.set(csrf.cookie, token)
        http.headers["x-csrf-token"] = token
        journey_id = referred(components, Api(http, "alex"), settlement="cash", amount="4000")
    case_id = case_of(components, journey_id)["id"]
    components.cases.claim(casey(), case_id)
    task = components.cases.request_information(casey(), case_id, code="parked_where")
    return {"referred_journey_id": journey_id, "task_id": task.id}


# --- the walk ----------------------------------------------------------------------------------


def test_every_route_declares_who_may_call_it(world: World) -> None:
    undeclared = [str(e) for e in endpoints(world.app) if e.declared is None]
    assert undeclared == []
    assert access.enforce(world.app) == []


def test_the_walk_covers_every_route_of_this_app(world: World) -> None:
    assert set(endpoints(world.app)) == set(ENDPOINTS)
    assert len(ENDPOINTS) > 40  # API, pages, staff, docs and static files are all there


def test_route_answers_each_caller_as_the_table_says(
    world: World, endpoint: Endpoint, caller: str
) -> None:
    principal = world.principal(caller)
    response = world.request(endpoint, principal)
    status = response.status_code
    said = f"{endpoint} as {caller}: {status} {response.text[:200]}"
    assert status < 500, said
    if endpoint.declared == PUBLIC:
        assert status not in (401, 403), said
        return
    assert endpoint.permission is not None, f"{endpoint} declared no access"
    grant = TABLE[endpoint.permission]
    if principal is None:
        _asked_to_sign_in(endpoint, grant.roles, response, said)
    elif not principal.has_any(grant.roles):
        assert status == 403, said
    elif grant.step_up is not None and principal.assurance < grant.step_up.level:
        _asked_to_step_up(endpoint, response, said)
    else:
        assert status not in (401, 403), said
        if "{journey_id}" in endpoint.path:
            # Another customer's journey does not exist for Sam; Alex's own is found.
            assert (status == 404) is (caller == "sam"), said


def _asked_to_sign_in(endpoint: Endpoint, roles: frozenset[Role], response: Any, said: str) -> None:
    if endpoint.api:
        assert response.status_code == 401, said
        assert response.headers["content-type"].startswith(PROBLEM), said
        return
    assert response.status_code == 303, said
    sign_in = "/sign-in" if Role.CUSTOMER in roles else "/staff/sign-in"
    location = urlsplit(response.headers["location"])
    assert location.path == sign_in, said
    assert "next" in parse_qs(location.query), said


def _asked_to_step_up(endpoint: Endpoint, response: Any, said: str) -> None:
    if endpoint.api:
        assert response.status_code == 401, said
        challenge = response.headers["www-authenticate"]
        assert 'error="insufficient_user_authentication"' in challenge, said
        assert "acr_values=" in challenge and "max_age=" in challenge, said
        return
    assert response.status_code == 303, said
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert "level" in query and "max_age" in query, said


# --- routes without a declaration, and step-up on a route that asks for it -------------------


def test_a_route_added_without_a_declaration_is_refused() -> None:
    app = FastAPI()
    router = APIRouter()

    @router.get("/included", dependencies=[access.PUBLIC])
    def included() -> str:
        return "declared"

    @router.get("/included-undeclared")
    def included_undeclared() -> str:
        return "should never be served"

    app.include_router(router)

    @app.post("/direct-undeclared")
    def direct_undeclared() -> str:
        return "should never be served"

    async def plain(request: Request) -> PlainTextResponse:
        return PlainTextResponse("should never be served")

    app.add_route("/plain-undeclared", plain)

    refused = access.enforce(app)

    assert {"/included-undeclared", "/direct-undeclared", "/plain-undeclared"} <= set(refused)
    assert "/included" not in refused
    with TestClient(app) as http:
        assert http.get("/included").json() == "declared"
        for method, path in [
            ("GET", "/included-undeclared"),
            ("POST", "/direct-undeclared"),
            ("GET", "/plain-undeclared"),
        ]:
            response = http.request(method, path)
            assert response.status_code == 403, path
            assert response.headers["content-type"].startswith(PROBLEM)
            assert "declared" in response.json()["detail"]


def test_a_step_up_route_asks_for_a_fresh_second_factor(app: Any) -> None:
    """No route of the app asks for a step-up through the table yet (the journey does, for
    payout details): one declared on ADMINISTER shows the API's and the pages' answers."""
    extra = APIRouter()

    @extra.get("/api/v1/zz-administer", dependencies=[access.allow(Permission.ADMINISTER)])
    def administer_api() -> str:
        return "done"

    @extra.get("/zz-administer", dependencies=[access.allow(Permission.ADMINISTER)])
    def administer_page() -> str:
        return "done"

    app.include_router(extra)
    service = app.state.sessions.service
    now = service.now()
    step_up = TABLE[Permission.ADMINISTER].step_up
    assert step_up is not None

    def as_admin(level: int, ago: timedelta, path: str) -> Any:
        admin = Principal("ada", Kind.STAFF, frozenset({Role.ADMIN}), level, now - ago, "demo")
        with TestClient(app) as http:
            http.cookies.set(app.state.sessions.cookies.session, service.start(admin).token)
            return http.get(path, follow_redirects=False)

    weak = as_admin(1, timedelta(0), "/api/v1/zz-administer")
    assert weak.status_code == 401
    challenge = weak.headers["www-authenticate"]
    assert challenge.startswith('Bearer error="insufficient_user_authentication"')
    assert 'acr_values="urn:wayline:loa:2"' in challenge
    assert f"max_age={step_up.max_age}" in challenge
    stale = as_admin(SECOND_FACTOR, step_up.within + timedelta(seconds=1), "/api/v1/zz-administer")
    assert stale.status_code == 401
    fresh = as_admin(SECOND_FACTOR, step_up.within - timedelta(seconds=5), "/api/v1/zz-administer")
    assert fresh.status_code == 200 and fresh.json() == "done"

    page = as_admin(1, timedelta(0), "/zz-administer")
    assert page.status_code == 303
    location = urlsplit(page.headers["location"])
    assert location.path == "/staff/sign-in"
    assert parse_qs(location.query) == {
        "next": ["/zz-administer"],
        "level": [str(SECOND_FACTOR)],
        "max_age": [str(step_up.max_age)],
    }
