"""Sessions end on the server: sign-out, a new sign-in, the idle timeout and the absolute
lifetime each leave a copied cookie worth nothing, on SQLite and PostgreSQL, also after a
restart. Cookies are Secure and `__Host-` named outside demo mode."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from journey_api import CSRF_COOKIE, PROBLEM, Api
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.identity.principal import Principal
from wayline.runtime.clock import FixedClock
from wayline.sandbox.wiring import demo_options
from wayline.store import Store, tables
from wayline.store.database import make_engine
from wayline.web.app import create_app

SESSION_COOKIE = "wayline_session"


def copy_of(api: Api, app: Any) -> TestClient:
    """Another client holding a copy of `api`'s cookies (a stolen or copied cookie)."""
    copy = TestClient(app)
    for name, value in api.http.cookies.items():
        copy.cookies.set(name, value)
    return copy


def sign_out(api: Api) -> None:
    """Sign out through the page's form, as the browser does."""
    response = api.http.post(
        "/sign-out", data={"csrf_token": api.http.cookies[CSRF_COOKIE]}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


def refused(client: TestClient) -> None:
    """The API says 401 and the pages send the customer to sign in."""
    api = client.get("/api/v1/journeys")
    assert api.status_code == 401, api.text
    assert api.headers["content-type"].startswith(PROBLEM)
    page = client.get("/journeys", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/sign-in?next=/journeys"


def session_rows(components: Components) -> list[Any]:
    with components.store.read() as connection:
        return list(connection.execute(select(tables.sessions)).all())


# --- sign-out, restart, sign-in ---------------------------------------------------------------


def test_sign_out_ends_the_session_for_every_copy_of_the_cookie_also_after_a_restart(
    app: Any, sign_in: Callable[..., Api], make_components: Callable[..., Components]
) -> None:
    alex = sign_in("alex")
    journey = alex.start()
    with copy_of(alex, app) as copied:
        assert copied.get(f"/api/v1/journeys/{journey['id']}").status_code == 200
        # Sessions are kept in the database: a restart (a new app on it) keeps them...
        with copy_of(alex, create_app(make_components())) as after_restart:
            assert after_restart.get(f"/api/v1/journeys/{journey['id']}").status_code == 200

        sign_out(alex)

        # ...and keeps them ended: the copy is refused here and by a fresh app alike.
        refused(copied)
        assert copied.get(f"/api/v1/journeys/{journey['id']}").status_code == 401
        with copy_of(alex, create_app(make_components())) as after_restart:
            refused(after_restart)
    refused(alex.http)


def test_a_new_sign_in_ends_the_browsers_previous_session(app: Any, client: TestClient) -> None:
    first = Api(client).sign_in("alex")
    old = client.cookies[SESSION_COOKIE]
    with copy_of(first, app) as copied:
        Api(client).sign_in("sam")  # the same browser, signing in again
        assert client.cookies[SESSION_COOKIE] != old
        assert client.get("/api/v1/journeys").status_code == 200
        refused(copied)


def test_page_sign_in_rotates_the_session_too(app: Any, client: TestClient) -> None:
    alex = Api(client).sign_in("alex")
    with copy_of(alex, app) as copied:
        page = client.get("/sign-in")
        assert page.status_code == 200
        response = client.post(
            "/sign-in",
            data={
                "customer": "sam",
                "next": "/journeys",
                "csrf_token": client.cookies[CSRF_COOKIE],
            },
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        refused(copied)
    assert client.get("/journeys").status_code == 200


# --- API sign-out ----------------------------------------------------------------------------


def _cleared(response: Any, name: str) -> bool:
    """Whether `response` clears cookie `name` (Max-Age=0, path /)."""
    header = _cookie_headers(response).get(name, "").lower()
    return "max-age=0" in header and "path=/" in header


def test_api_sign_out_ends_the_session_and_clears_both_cookies(
    app: Any, sign_in: Callable[..., Api]
) -> None:
    alex = sign_in("alex")
    journey = alex.start()
    with copy_of(alex, app) as copied:
        out = alex.http.post("/auth/sign-out")  # the X-CSRF-Token header set at sign-in
        assert out.status_code == 204, out.text
        assert _cleared(out, SESSION_COOKIE) and _cleared(out, CSRF_COOKIE)
        # A copy of the cookie taken before is worth nothing: 401 on the API.
        assert copied.get(f"/api/v1/journeys/{journey['id']}").status_code == 401
        refused(copied)
        again = copied.post("/auth/sign-out", headers={"X-CSRF-Token": "x"})
        assert again.status_code == 401, again.text
        assert again.headers["content-type"].startswith(PROBLEM)
    refused(alex.http)


def test_api_sign_out_needs_the_csrf_header_and_a_session(
    client: TestClient, sign_in: Callable[..., Api]
) -> None:
    nobody = client.post("/auth/sign-out")
    assert nobody.status_code == 401, nobody.text
    assert nobody.headers["content-type"].startswith(PROBLEM)
    alex = sign_in("alex")
    token = alex.http.headers.pop("X-CSRF-Token")
    for headers in ({}, {"X-CSRF-Token": "forged.0123"}):
        refused_out = alex.http.post("/auth/sign-out", headers=headers)
        assert refused_out.status_code == 403, refused_out.text
        assert SESSION_COOKIE not in _cookie_headers(refused_out)
        assert alex.http.get("/api/v1/journeys").status_code == 200  # still signed in
    assert alex.http.post("/auth/sign-out", headers={"X-CSRF-Token": token}).status_code == 204


def test_api_sign_out_is_served_outside_demo_mode(
    make_components: Callable[..., Components],
) -> None:
    app = create_app(make_components(demo=False))
    name, header = _started_session(app)
    token = header.split("=", 1)[1].split(";", 1)[0]
    with TestClient(app, base_url="https://testserver") as client:
        client.cookies.set(name, token)
        assert client.get("/journeys").status_code == 200  # hands out the session's CSRF token
        csrf = client.cookies["__Host-wayline_csrf"]
        out = client.post("/auth/sign-out", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 204, out.text
        for cookie in ("__Host-wayline_session", "__Host-wayline_csrf"):
            assert _cleared(out, cookie) and "secure" in _cookie_headers(out)[cookie].lower()
        client.cookies.clear()
        client.cookies.set(name, token)
        assert client.get("/api/v1/journeys").status_code == 401


def test_page_sign_out_clears_the_csrf_cookie_too(sign_in: Callable[..., Api]) -> None:
    alex = sign_in("alex")
    out = alex.http.post(
        "/sign-out", data={"csrf_token": alex.http.cookies[CSRF_COOKIE]}, follow_redirects=False
    )
    assert out.status_code == 303, out.text
    assert _cleared(out, SESSION_COOKIE) and _cleared(out, CSRF_COOKIE)


def test_the_cookie_holds_an_opaque_id_and_the_database_only_its_hash(
    sign_in: Callable[..., Api], components: Components
) -> None:
    alex = sign_in("alex")
    token = alex.http.cookies[SESSION_COOKIE]
    assert "alex" not in token and "." not in token  # not a signed document: a random id
    rows = session_rows(components)
    assert [row.subject for row in rows] == ["alex"]
    assert rows[0].id == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in str(value) for value in rows[0])
    assert rows[0].revoked_at is None


def test_a_cookie_that_is_not_ours_is_nobody(client: TestClient) -> None:
    for value in ("x" * 43, "", "a" * 5000, "eyJjdXN0b21lciI6ImFsZXgifQ.forged.signature"):
        client.cookies.set(SESSION_COOKIE, value)
        refused(client)


# --- idle timeout and absolute lifetime (an injected clock) --------------------------------------


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def clocked(
    make_settings: Callable[..., Settings], clock: FixedClock
) -> Iterator[Callable[..., Any]]:
    """An app whose clock the test moves, with settings overridden."""
    built: list[Components] = []

    def make(**overrides: Any) -> Any:
        components = build(make_settings(**overrides), migrate=True, clock=clock, **demo_options())
        built.append(components)
        return create_app(components)

    yield make
    for components in built:
        components.store.engine.dispose()


def test_a_session_ends_after_30_idle_minutes_and_activity_keeps_it(
    clocked: Callable[..., Any], clock: FixedClock
) -> None:
    with TestClient(clocked()) as client:
        Api(client).sign_in("alex")
        for _ in range(6):  # three hours, a request every 29 minutes
            clock.advance(timedelta(minutes=29))
            assert client.get("/api/v1/journeys").status_code == 200
        clock.advance(timedelta(minutes=30))
        refused(client)


def test_the_idle_timeout_is_configurable(clocked: Callable[..., Any], clock: FixedClock) -> None:
    with TestClient(clocked(session_idle_minutes=5)) as client:
        Api(client).sign_in("alex")
        clock.advance(timedelta(minutes=4))
        assert client.get("/api/v1/journeys").status_code == 200
        clock.advance(timedelta(minutes=5))
        refused(client)


def test_a_session_ends_at_its_absolute_lifetime_however_active(
    clocked: Callable[..., Any], clock: FixedClock
) -> None:
    with TestClient(clocked(session_max_hours=2)) as client:
        Api(client).sign_in("alex")
        for _ in range(11):  # 1 h 50 min, a request every ten minutes
            clock.advance(timedelta(minutes=10))
            assert client.get("/api/v1/journeys").status_code == 200
        clock.advance(timedelta(minutes=10))
        refused(client)


def test_the_default_absolute_lifetime_is_twelve_hours(
    clocked: Callable[..., Any], clock: FixedClock
) -> None:
    with TestClient(clocked()) as client:
        Api(client).sign_in("alex")
        for _ in range(47):  # 11 h 45 min
            clock.advance(timedelta(minutes=15))
            assert client.get("/api/v1/journeys").status_code == 200
        clock.advance(timedelta(minutes=15))
        refused(client)


def test_activity_is_recorded_at_most_once_a_minute(
    make_settings: Callable[..., Settings], clock: FixedClock
) -> None:
    """Reads stay reads: last_seen is written only when it is a minute old."""
    components = build(make_settings(), migrate=True, clock=clock, **demo_options())
    try:
        with TestClient(create_app(components)) as client:
            Api(client).sign_in("alex")
            signed_in_at = clock.now()
            clock.advance(timedelta(seconds=59))
            assert client.get("/api/v1/journeys").status_code == 200
            assert _last_seen(components) == signed_in_at
            clock.advance(timedelta(seconds=1))
            assert client.get("/api/v1/journeys").status_code == 200
            assert _last_seen(components) == clock.now()
    finally:
        components.store.engine.dispose()


def _last_seen(components: Components) -> datetime:
    (row,) = session_rows(components)
    seen = row.last_seen_at
    return seen if seen.tzinfo else seen.replace(tzinfo=UTC)


# --- cookie names and flags ---------------------------------------------------------------------


def _cookie_headers(response: Any) -> dict[str, str]:
    """Set-Cookie headers by cookie name (of an httpx or a Starlette response)."""
    items = getattr(response.headers, "multi_items", response.headers.items)()
    headers = [value for key, value in items if key.lower() == "set-cookie"]
    return {header.split("=", 1)[0]: header for header in headers}


def _started_session(app: Any) -> tuple[str, str]:
    """Start a session through the app's own sign-in (outside demo there is no sign-in route
    yet: the identity service brings one). Returns the cookie's name and its Set-Cookie."""
    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "app": app}
    response = Response(status_code=204)
    alex = Principal.customer("alex", 1, app.state.sessions.service.now(), "demo")
    app.state.sessions.sign_in(Request(scope), response, alex)
    ((name, header),) = _cookie_headers(response).items()
    return name, header


def test_outside_demo_cookies_are_secure_and_host_prefixed(
    make_components: Callable[..., Components],
) -> None:
    app = create_app(make_components(demo=False))
    name, header = _started_session(app)
    assert name == "__Host-wayline_session"
    for flag in ("Secure", "HttpOnly", "Path=/", "SameSite=lax"):
        assert flag.lower() in header.lower()
    assert "domain" not in header.lower()
    token = header.split("=", 1)[1].split(";", 1)[0]
    with TestClient(app, base_url="https://testserver") as client:
        # The CSRF cookie a page hands out is Secure and __Host- named as well.
        home = client.get("/")
        csrf = _cookie_headers(home)["__Host-wayline_csrf"]
        assert "secure" in csrf.lower() and "path=/" in csrf.lower()
        assert "domain" not in csrf.lower()
        # The server reads the prefixed cookie, and not the plain one.
        client.cookies.set("wayline_session", token)
        assert client.get("/api/v1/journeys").status_code == 401
        client.cookies.clear()
        client.cookies.set("__Host-wayline_session", token)
        assert client.get("/api/v1/journeys").status_code == 200
        # Signing out ends it and clears the cookie with the same attributes (or browsers
        # would refuse to clear a __Host- cookie).
        assert client.get("/journeys").status_code == 200  # hands out the session's token
        form = {"csrf_token": client.cookies["__Host-wayline_csrf"]}
        out = client.post("/sign-out", data=form, follow_redirects=False)
        assert out.status_code == 303, out.text
        cleared = _cookie_headers(out)["__Host-wayline_session"]
        assert "max-age=0" in cleared.lower() and "secure" in cleared.lower()
        client.cookies.set("__Host-wayline_session", token)
        assert client.get("/api/v1/journeys").status_code == 401


def test_in_demo_cookies_keep_plain_names_for_plain_http(client: TestClient) -> None:
    response = client.post("/auth/demo", json={"customer": "alex"})
    cookies = _cookie_headers(response)
    assert set(cookies) == {"wayline_session", "wayline_csrf"}
    assert all("secure" not in header.lower() for header in cookies.values())


def test_secure_cookies_setting_overrides_the_mode(
    make_components: Callable[..., Components],
) -> None:
    secure_demo = create_app(make_components(secure_cookies=True))
    assert _started_session(secure_demo)[0] == "__Host-wayline_session"
    plain = create_app(make_components(demo=False, secure_cookies=False))
    name, header = _started_session(plain)
    assert name == "wayline_session" and "secure" not in header.lower()


# --- the session store down ------------------------------------------------------------------


def test_while_the_database_is_down_a_signed_in_customer_gets_503_not_500(
    sign_in: Callable[..., Api], components: Components, tmp_path: Path
) -> None:
    """Looking the session up fails like any other read (503, retry later), and the error page
    does not look it up again (which would turn the 503 into a 500)."""
    alex = sign_in("alex")
    folder = tmp_path / "gone"
    folder.mkdir()
    down = dataclasses.replace(
        components, store=Store(make_engine(f"sqlite:///{folder / 'wayline.db'}"))
    )
    shutil.rmtree(folder)
    try:
        with copy_of(alex, create_app(down)) as copied:
            api = copied.get("/api/v1/journeys")
            assert api.status_code == 503, api.text
            assert api.headers["content-type"].startswith(PROBLEM)
            page = copied.get("/journeys", headers={"Accept": "text/html"})
            assert page.status_code == 503, page.text
            assert page.headers["content-type"].startswith("text/html")
            # A cross-site form is still refused as such, not with a 500.
            foreign = {"Origin": "https://evil.example", "Accept": "text/html"}
            assert copied.post("/start/motor-claim", headers=foreign).status_code == 403
    finally:
        down.store.engine.dispose()


def test_a_form_posted_after_the_session_ended_returns_to_its_page_after_sign_in(
    app: Any, sign_in: Callable[..., Api]
) -> None:
    """A post cannot be replayed by a redirect (its URL answers GET with 405): after signing
    in again the browser goes back to the page the form was on (its Referer, when that is a
    page of this site), else home; never to another site."""
    alex = sign_in("alex")
    journey = alex.start()
    step_page = f"/journeys/{journey['id']}/steps/policy?change=1"
    with copy_of(alex, app) as expired:
        sign_out(alex)

        def posted(referer: str | None) -> str:
            headers = {"referer": referer} if referer else {}
            response = expired.post(
                f"/journeys/{journey['id']}/steps/policy",
                data={"policy_number": "MTR-100001"},
                headers=headers,
                follow_redirects=False,
            )
            assert response.status_code == 303, response.text
            return str(response.headers["location"])

        assert posted(f"http://testserver{step_page}") == (
            "/sign-in?next=/journeys/" + journey["id"] + "/steps/policy%3Fchange%3D1"
        )
        assert posted(None) == "/sign-in?next=/journeys"
        assert posted(f"https://evil.example{step_page}") == "/sign-in?next=/journeys"
