"""The demo's sign-in goes through the same sessions, roles, step-up and audit log as a real
provider (web/pages/demo_sign_in.py, web/api/demo.py), on SQLite and PostgreSQL: customers and
staff sign in by password (level 1) or by one-time code (level 2), a step-up signs the same
person in again and returns to where they were, bad input is refused with 422 and changes
nothing, and the sign-in rate limit covers the staff page too."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from fastapi.testclient import TestClient
from journey_api import PROBLEM

from wayline.bootstrap import Components
from wayline.identity.assurance import PASSWORD, SECOND_FACTOR
from wayline.identity.audit import Action
from wayline.identity.permissions import Decision, Permission, decide
from wayline.identity.principal import Kind, Principal
from wayline.identity.roles import Role
from wayline.web.app import create_app

SESSION_COOKIE = "wayline_session"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
STAFF = {
    "casey": Role.HANDLER,
    "morgan": Role.SENIOR_HANDLER,
    "riley": Role.FRAUD_INVESTIGATOR,
    "avery": Role.ANALYST,
    "harper": Role.AUDITOR,
    "sasha": Role.ADMIN,
}
LEVELS = {"password": PASSWORD, "one_time_code": SECOND_FACTOR}


def principal_of(app: Any, http: TestClient) -> Principal | None:
    """Who the client's session cookie speaks for, read from the session store."""
    session = app.state.sessions.service.resolve(http.cookies.get(SESSION_COOKIE))
    return session.principal if session else None


def sign_ins(app: Any, subject: str) -> list[Any]:
    """The audit log's sign-in and step-up entries for `subject`, newest first."""
    rows = app.state.audit.entries(actor=subject)
    return [row for row in rows if row.action in (Action.SIGN_IN, Action.STEP_UP)]


def page_token(http: TestClient, path: str = "/sign-in") -> str:
    page = http.get(path)
    assert page.status_code == 200, page.text
    found = CSRF_FIELD.search(page.text)
    assert found, page.text[:300]
    return found.group(1)


def post_page(http: TestClient, path: str, **form: str) -> Any:
    data = {"csrf_token": page_token(http, path), **form}
    return http.post(path, data=data, follow_redirects=False)


# --- the API ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", [None, "password", "one_time_code"])
def test_the_api_signs_a_customer_in_at_the_level_of_the_method(
    app: Any, client: TestClient, method: str | None
) -> None:
    body = {"customer": "alex"} | ({"method": method} if method else {})
    before = app.state.sessions.service.now()
    response = client.post("/auth/demo", json=body)
    assert response.status_code == 204, response.text
    assert client.cookies.get("wayline_csrf")
    principal = principal_of(app, client)
    assert principal is not None
    assert (principal.subject, principal.kind, principal.issuer) == ("alex", Kind.CUSTOMER, "demo")
    assert principal.roles == {Role.CUSTOMER}
    assert principal.assurance == LEVELS[method or "password"]  # the default is a password
    assert before <= principal.authenticated_at <= app.state.sessions.service.now()
    (entry,) = sign_ins(app, "alex")
    assert (entry.action, entry.outcome, entry.actor_kind) == ("sign_in", "success", "customer")


@pytest.mark.parametrize("member", sorted(STAFF))
def test_the_api_signs_each_member_of_staff_in_with_their_role(
    app: Any, client: TestClient, member: str
) -> None:
    response = client.post("/auth/demo", json={"staff": member, "method": "one_time_code"})
    assert response.status_code == 204, response.text
    principal = principal_of(app, client)
    assert principal is not None
    assert (principal.subject, principal.kind) == (member, Kind.STAFF)
    assert principal.roles == {STAFF[member]}
    assert principal.assurance == SECOND_FACTOR
    # A customer's own journeys are not theirs to use, whatever the role.
    assert client.get("/api/v1/journeys").status_code == 403
    (entry,) = sign_ins(app, member)
    assert entry.actor_kind == "staff"


def test_a_one_time_code_meets_step_up_and_a_password_does_not(
    app: Any, sign_in_as: Callable[..., TestClient]
) -> None:
    """Sasha the admin: administering asks for level 2 within five minutes (the permission
    table), which only the one-time code gives, and only for five minutes."""
    now = app.state.sessions.service.now()
    by_password = principal_of(app, sign_in_as({"staff": "sasha"}))
    by_code = principal_of(app, sign_in_as({"staff": "sasha", "method": "one_time_code"}))
    assert by_password is not None and by_code is not None
    assert decide(by_password, Permission.ADMINISTER, now) is Decision.STEP_UP
    assert decide(by_code, Permission.ADMINISTER, now) is Decision.ALLOW
    later = now + timedelta(minutes=6)
    assert decide(by_code, Permission.ADMINISTER, later) is Decision.STEP_UP


def test_signing_the_same_person_in_again_by_code_is_a_step_up_in_a_new_session(
    app: Any, client: TestClient
) -> None:
    assert client.post("/auth/demo", json={"customer": "sam"}).status_code == 204
    first = client.cookies[SESSION_COOKIE]
    stronger = {"customer": "sam", "method": "one_time_code"}
    assert client.post("/auth/demo", json=stronger).status_code == 204
    assert client.cookies[SESSION_COOKIE] != first
    assert app.state.sessions.service.resolve(first) is None  # rotated: the old id is dead
    principal = principal_of(app, client)
    assert principal is not None and principal.assurance == SECOND_FACTOR
    assert [row.action for row in sign_ins(app, "sam")] == ["step_up", "sign_in"]


BAD_BODIES = {
    "an unknown customer": ({"customer": "mallory"}, "customer"),
    "an unknown member of staff": ({"staff": "mallory"}, "staff"),
    "a customer's name as staff": ({"staff": "alex"}, "staff"),
    "both a customer and staff": ({"customer": "alex", "staff": "casey"}, "staff"),
    "neither": ({}, "customer"),
    "only a method": ({"method": "one_time_code"}, "customer"),
    "an empty name": ({"customer": ""}, "customer"),
    "an empty member of staff beside a customer": ({"customer": "alex", "staff": ""}, "staff"),
    "a null member of staff beside a customer": ({"customer": "alex", "staff": None}, "staff"),
    "a null name": ({"customer": None}, "customer"),
    "a name that is not text": ({"customer": 5}, "customer"),
    "a wrong method": ({"customer": "alex", "method": "fingerprint"}, "method"),
    "a method of the wrong type": ({"customer": "alex", "method": 2}, "method"),
    "a field it does not take": ({"customer": "alex", "level": 2}, "level"),
}


@pytest.mark.parametrize("body, field", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_input_is_refused_with_422_naming_the_field_and_changes_nothing(
    app: Any, client: TestClient, body: dict[str, Any], field: str
) -> None:
    assert client.post("/auth/demo", json={"customer": "jordan"}).status_code == 204
    session = client.cookies[SESSION_COOKIE]
    response = client.post("/auth/demo", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert field in [error["field"] for error in response.json()["errors"]], response.json()
    assert "set-cookie" not in response.headers
    # Jordan is still signed in, in the same session, and nobody else was signed in.
    principal = principal_of(app, client)
    assert principal is not None and principal.subject == "jordan"
    assert client.cookies[SESSION_COOKIE] == session
    assert [row.actor for row in app.state.audit.entries()] == ["jordan"]


def test_an_unknown_name_is_told_who_the_demo_offers(client: TestClient) -> None:
    response = client.post("/auth/demo", json={"staff": "mallory"})
    assert response.status_code == 422
    for known in STAFF:
        assert known in response.json()["detail"]
    assert "alex" not in response.json()["detail"]


def test_the_openapi_document_offers_exactly_one_customer_or_member_of_staff(app: Any) -> None:
    schema = app.openapi()["components"]["schemas"]["DemoSignIn"]
    assert schema["oneOf"] == [{"required": ["customer"]}, {"required": ["staff"]}]
    assert schema["properties"]["customer"]["enum"] == ["alex", "sam", "jordan"]
    assert schema["properties"]["staff"]["enum"] == list(STAFF)
    assert schema["additionalProperties"] is False
    method = app.openapi()["components"]["schemas"]["Method"]
    assert method["enum"] == ["password", "one_time_code"]


# --- the pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["password", "one_time_code"])
def test_the_staff_page_signs_a_member_of_staff_in(
    app: Any, client: TestClient, method: str
) -> None:
    response = post_page(client, "/staff/sign-in", staff="riley", method=method)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/staff"
    principal = principal_of(app, client)
    assert principal is not None
    assert (principal.subject, principal.kind) == ("riley", Kind.STAFF)
    assert principal.roles == {Role.FRAUD_INVESTIGATOR}
    assert principal.assurance == LEVELS[method]


def test_the_customer_page_explains_each_customers_situation_in_each_journey(
    client: TestClient,
) -> None:
    page = client.get("/sign-in").text
    assert "Make a car insurance claim: one active comprehensive policy" in page
    assert "Open a current account: already banks with us" in page  # alex
    assert "Open a current account: the walk-through: 58, employed" in page  # sam


def test_the_customer_page_keeps_its_password_default(app: Any, client: TestClient) -> None:
    page = client.get("/sign-in")
    assert re.search(r'value="password"\s+checked', page.text), page.text
    response = post_page(client, "/sign-in", customer="sam")  # no method: as before
    assert response.status_code == 303
    assert response.headers["location"] == "/journeys"
    principal = principal_of(app, client)
    assert principal is not None
    assert (principal.subject, principal.kind, principal.assurance) == ("sam", Kind.CUSTOMER, 1)


@pytest.mark.parametrize(
    "path, given, lands",
    [
        (
            "/sign-in",
            "/journeys/abc/steps/payment?change=1",
            "/journeys/abc/steps/payment?change=1",
        ),
        ("/sign-in", "//evil.example/journeys", "/journeys"),
        ("/sign-in", "https://evil.example/", "/journeys"),
        ("/sign-in", "/\\evil.example", "/journeys"),
        ("/staff/sign-in", "/staff/audit?action=sign_in", "/staff/audit?action=sign_in"),
        ("/staff/sign-in", "javascript:alert(1)", "/staff"),
    ],
)
def test_after_sign_in_the_browser_goes_to_next_only_when_it_is_local(
    client: TestClient, path: str, given: str, lands: str
) -> None:
    person = {"customer": "alex"} if path == "/sign-in" else {"staff": "casey"}
    page = client.get(f"{path}?{urlencode({'next': given})}")
    assert f'name="next" value="{lands}"'.replace("&", "&amp;") in page.text
    response = post_page(client, path, next=given, **person)
    assert response.status_code == 303
    assert response.headers["location"] == lands


def test_a_step_up_confirms_the_person_signed_in_and_returns_with_the_query(
    app: Any, client: TestClient
) -> None:
    assert post_page(client, "/sign-in", customer="alex").status_code == 303
    first = client.cookies[SESSION_COOKIE]
    back_to = "/journeys/abc/steps/payment?change=1"
    query = urlencode({"next": back_to, "level": 2, "max_age": 300})
    page = client.get(f"/sign-in?{query}")
    assert page.status_code == 200
    assert "Confirm it&#39;s you" in page.text and "Alex Morgan" in page.text
    assert 'value="password"' not in page.text and "Sam Patel" not in page.text
    token = CSRF_FIELD.search(page.text)
    assert token
    form = {
        "csrf_token": token.group(1),
        "customer": "alex",
        "method": "one_time_code",
        "next": back_to,
        "level": "2",
        "max_age": "300",
    }
    response = client.post("/sign-in", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == back_to
    assert app.state.sessions.service.resolve(first) is None
    principal = principal_of(app, client)
    assert principal is not None
    assert (principal.subject, principal.assurance) == ("alex", SECOND_FACTOR)
    assert [row.action for row in sign_ins(app, "alex")] == ["step_up", "sign_in"]


def test_a_step_up_with_nobody_signed_in_offers_everyone_but_not_the_password(
    client: TestClient,
) -> None:
    page = client.get("/staff/sign-in?level=2&max_age=300&next=/staff")
    assert "Confirm it&#39;s you" in page.text
    assert re.search(r'value="password"\s+disabled', page.text), page.text
    assert re.search(r'value="one_time_code"\s+checked', page.text), page.text
    for name in ("Casey Quinn", "Morgan Blake", "Riley Shaw", "Avery Stone", "Harper Reid"):
        assert name in page.text


PAGE_ERRORS = {
    "nobody chosen": ({}, "Select who you want to sign in as"),
    "an unknown person": ({"staff": "mallory"}, "Select who you want to sign in as"),
    "a customer as staff": ({"staff": "alex"}, "Select who you want to sign in as"),
    "a wrong method": ({"staff": "casey", "method": "fingerprint"}, "Select how you want"),
    "an empty method": ({"staff": "casey", "method": ""}, "Select how you want"),
    "a password for a step-up": (
        {"staff": "casey", "method": "password", "level": "2", "max_age": "300"},
        "Sign in with a one-time code for this",
    ),
}


@pytest.mark.parametrize("form, message", PAGE_ERRORS.values(), ids=PAGE_ERRORS.keys())
def test_the_page_shows_what_is_wrong_with_422_and_signs_nobody_in(
    app: Any, client: TestClient, form: dict[str, str], message: str
) -> None:
    response = post_page(client, "/staff/sign-in", **form)
    assert response.status_code == 422, response.text
    assert message in response.text
    assert "<title>Error: " in response.text
    assert SESSION_COOKIE not in client.cookies
    assert app.state.audit.entries() == []


@pytest.mark.parametrize(
    "query",
    [
        "level=two",
        "level=3",
        "level=0",
        "level=-1",
        "max_age=0",
        "max_age=1e3",
        "level=2&max_age=x",
    ],
)
def test_a_sign_in_link_asking_for_what_the_demo_cannot_give_is_a_400(
    client: TestClient, query: str
) -> None:
    page = client.get(f"/sign-in?{query}")
    assert page.status_code == 400
    assert "This sign-in link is not valid" in page.text
    refused = post_page(client, "/sign-in", customer="alex", **dict(parse_qsl(query)))
    assert refused.status_code == 400
    assert SESSION_COOKIE not in client.cookies


def test_the_page_needs_its_csrf_token(client: TestClient) -> None:
    client.get("/staff/sign-in")
    response = client.post("/staff/sign-in", data={"staff": "casey"}, follow_redirects=False)
    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies


# --- where the demo sign-in is not offered ------------------------------------------------------


def test_outside_demo_mode_sign_in_is_the_organisations(
    make_components: Callable[..., Components],
) -> None:
    with TestClient(create_app(make_components(demo=False))) as http:
        for path in ("/sign-in", "/staff/sign-in"):
            for response in (http.get(path), http.post(path, data={"customer": "alex"})):
                assert response.status_code == 404, path
                assert "provided by your organisation&#39;s identity service" in response.text
        refused = http.post("/auth/demo", json={"customer": "alex"})
        assert refused.status_code == 404
        assert SESSION_COOKIE not in http.cookies and "__Host-wayline_session" not in http.cookies


def test_a_kind_with_an_identity_provider_is_not_offered_by_the_demo(
    make_components: Callable[..., Components],
) -> None:
    """Staff sign in through their provider: the demo offers only customers, in the API and its
    OpenAPI document, and its staff page is gone."""
    provider = {
        "staff_oidc_issuer": "http://127.0.0.1:9/",  # never asked here: nothing listens on 9
        "staff_oidc_client_id": "wayline-staff",
        "staff_oidc_client_secret": "test-only",
    }
    app = create_app(make_components(**provider))
    with TestClient(app, raise_server_exceptions=False) as http:
        refused = http.post("/auth/demo", json={"staff": "casey"})
        assert refused.status_code == 422
        assert refused.json()["errors"] == [
            {"field": "staff", "message": "is signed in by the organisation's identity service"}
        ]
        assert SESSION_COOKIE not in http.cookies
        assert "Staff sign in to the demo" not in http.get("/staff/sign-in").text
        assert http.post("/auth/demo", json={"customer": "sam"}).status_code == 204
    schema = app.openapi()["components"]["schemas"]["DemoSignIn"]
    assert "staff" not in schema["properties"] and schema["required"] == ["customer"]


# --- the rate limit -----------------------------------------------------------------------------


def test_the_staff_sign_in_shares_the_sign_in_rate_limit(
    make_components: Callable[..., Components],
) -> None:
    app = create_app(make_components(rate_limits=True, rate_limit_sign_in="2/minute"))
    with TestClient(app, client=("192.0.2.40", 50000)) as http:
        assert post_page(http, "/staff/sign-in", staff="casey").status_code == 303
        assert http.post("/auth/demo", json={"staff": "morgan"}).status_code == 204
        refused = post_page(http, "/staff/sign-in", staff="avery")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        principal = principal_of(app, http)
        assert principal is not None and principal.subject == "morgan"


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def sign_in_as(app: Any) -> Any:
    """sign_in_as(body) → a TestClient of its own, signed in through POST /auth/demo."""
    opened: list[TestClient] = []

    def make(body: dict[str, str]) -> TestClient:
        http = TestClient(app)
        opened.append(http)
        assert http.post("/auth/demo", json=body).status_code == 204
        return http

    yield make
    for http in opened:
        http.close()


def test_the_sign_in_page_says_what_each_customer_shows_in_each_journey(
    client: TestClient,
) -> None:
    page = client.get("/sign-in").text
    card = "Replace a lost, stolen or damaged card"
    assert f"{card}: Visa debit 4821 (Apple Pay, recent online payments)" in page  # alex
    assert f"{card}: no cards" in page  # sam
