"""Journeys anyone may start (`who: anyone`), end to end over the real app on SQLite and
PostgreSQL, with the notification provider as a real HTTP service on loopback (the sandbox):
starting without signing in, verifying an email with a code read from the provider's
messages, five wrong codes locking for 15 minutes, resume links (single use, expiring,
tamper-proof), other people told the journey does not exist, and ownership passing to the
customer the definition's `owner` names when the journey is sent."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
import yaml
from fastapi.testclient import TestClient
from journey_api import CSRF_COOKIE, CSRF_HEADER, Api
from sqlalchemy import select
from structlog.testing import LogCapture

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.identity import visitors
from wayline.runtime.clock import FixedClock
from wayline.sandbox.server import Sandbox
from wayline.sandbox.wiring import demo_options
from wayline.store import cases as case_rows
from wayline.store import journeys as journey_rows
from wayline.store import tables
from wayline.store.cases import CaseRow
from wayline.web.app import create_app

OPEN = """\
journey: open-test-account
title: Open a test account
who: anyone
owner: answers.customer_number
reference_prefix: OPN
steps:
  - name: about
    title: About you
    fields:
      - name: full_name
        type: text
        label: Full name
        classification: personal
        required: Enter your full name
  - name: customer
    title: Your customer number
    fields:
      - name: customer_number
        type: text
        label: Customer number
        classification: internal
        required: Enter your customer number
declaration:
  text: My answers are true
"""
MEMBERS = """\
journey: members-only
title: For customers
reference_prefix: MEM
steps:
  - name: about
    title: About you
    fields:
      - name: note
        type: text
        label: Note
        classification: internal
declaration:
  text: My note is true
"""
JOURNEY = "open-test-account"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    running = Sandbox().start()
    yield running
    running.stop()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def system(
    make_settings: Callable[..., Settings], sandbox: Sandbox, clock: FixedClock, tmp_path: Path
) -> Iterator[Components]:
    journeys = tmp_path / "journeys"
    journeys.mkdir()
    (journeys / f"{JOURNEY}.yaml").write_text(OPEN, encoding="utf-8")
    (journeys / "members-only.yaml").write_text(MEMBERS, encoding="utf-8")
    connectors = tmp_path / "connectors.yaml"
    partners = {name: {"base_url": url} for name, url in sandbox.urls().items()}
    connectors.write_text(yaml.safe_dump({"partners": partners}))
    settings = make_settings(journeys_dir=journeys, connectors=connectors)
    components = build(
        settings, migrate=True, clock=clock, **demo_options(in_process_sources=False)
    )
    yield components
    components.store.engine.dispose()
    if components.partners:
        components.partners.close()


@pytest.fixture
def app(system: Components) -> Any:
    return create_app(system)


@pytest.fixture
def browser(app: Any) -> Iterator[Callable[[], TestClient]]:
    """browser() → a new client with no cookies: a new person."""
    opened: list[TestClient] = []

    def make() -> TestClient:
        http = TestClient(app)
        opened.append(http)
        return http

    yield make
    for http in opened:
        http.close()


def carry_csrf(http: TestClient) -> None:
    """API clients send the CSRF cookie's value back in a header."""
    http.headers[CSRF_HEADER] = http.cookies.get(CSRF_COOKIE) or ""


def start(http: TestClient, journey: str = JOURNEY) -> dict[str, Any]:
    response = http.post("/api/v1/visitor/journeys", json={"type": journey})
    assert response.status_code == 201, response.text
    carry_csrf(http)
    return response.json()


def new_email() -> str:
    return f"visitor-{uuid.uuid4().hex[:10]}@example.com"


def sent_to(sandbox: Sandbox, email: str) -> list[dict[str, Any]]:
    messages = httpx.get(f"{sandbox.urls()['notification_provider']}/messages").json()
    return [message for message in messages if message["to"] == email]


def last_code(sandbox: Sandbox, email: str) -> str:
    codes = [re.search(r"code is (\d{6})", m["body"]) for m in sent_to(sandbox, email)]
    found = [match.group(1) for match in codes if match]
    assert found, f"no code was sent to {email}"
    return found[-1]


def last_link(sandbox: Sandbox, email: str) -> str:
    links = [re.search(r"/resume/(\S+)", m["body"]) for m in sent_to(sandbox, email)]
    found = [match.group(1) for match in links if match]
    assert found, f"no link was sent to {email}"
    return found[-1]


def ask_code(http: TestClient, journey_id: str, email: str) -> httpx.Response:
    return http.post(f"/api/v1/journeys/{journey_id}/email/code", json={"email": email})


def give_code(http: TestClient, journey_id: str, email: str, code: str) -> httpx.Response:
    body = {"email": email, "code": code}
    return http.post(f"/api/v1/journeys/{journey_id}/email/verify", json=body)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def verified(http: TestClient, sandbox: Sandbox, journey_id: str, email: str) -> str:
    """Verify `email` for the journey; the resume link sent."""
    assert ask_code(http, journey_id, email).status_code == 202
    response = give_code(http, journey_id, email, last_code(sandbox, email))
    assert response.status_code == 200, response.text
    return last_link(sandbox, email)


# --- starting -----------------------------------------------------------------------------


def test_a_visitor_starts_without_signing_in_and_nobody_else_sees_the_journey(
    browser, sign_in, app
):
    visitor = browser()
    journey = start(visitor)
    me = visitor.get("/api/v1/me").json()
    assert me["kind"] == "visitor" and me["roles"] == ["visitor"] and me["assurance"] == 0
    answered = Api(visitor).step(journey, "about", {"full_name": "Sam Visitor"})
    assert answered["revision"] == 2
    other = browser()
    start(other)  # another visitor, with a journey of their own
    assert other.get(f"/api/v1/journeys/{journey['id']}").status_code == 404
    assert other.get(f"/journeys/{journey['id']}/steps/about").status_code == 404
    assert ask_code(other, journey["id"], new_email()).status_code == 404
    alex = sign_in("alex", app=app)
    assert alex.get_journey(journey["id"]).status_code == 404
    assert alex.http.get("/api/v1/journeys").json() == []
    assert visitor.get(f"/api/v1/journeys/{journey['id']}").status_code == 200


def test_a_journey_for_customers_is_not_started_by_a_visitor(browser):
    nobody = browser()
    response = nobody.post("/api/v1/visitor/journeys", json={"type": "members-only"})
    assert response.status_code == 401
    assert "Sign in" in response.json()["detail"]
    visitor = browser()
    start(visitor)
    refused = visitor.post("/api/v1/journeys", json={"type": "members-only"})
    assert refused.status_code == 403, refused.text
    assert visitor.get("/api/v1/journeys").json()[0]["type"] == JOURNEY  # only the first


def test_a_signed_in_customer_may_start_it_and_has_nothing_to_verify(sign_in, app):
    alex = sign_in("alex", app=app)
    journey = alex.start(JOURNEY)
    again = alex.http.post("/api/v1/visitor/journeys", json={"type": JOURNEY})
    assert again.status_code == 201
    assert len(alex.http.get("/api/v1/journeys").json()) == 2
    response = ask_code(alex.http, journey["id"], new_email())
    assert response.status_code == 409


# --- codes --------------------------------------------------------------------------------


def test_five_wrong_codes_lock_for_15_minutes_whatever_new_code_is_asked_for(
    browser, sandbox, clock
):
    visitor, email = browser(), new_email()
    journey = start(visitor)
    assert ask_code(visitor, journey["id"], email).status_code == 202
    code = last_code(sandbox, email)
    for left in (4, 3, 2, 1):
        response = give_code(visitor, journey["id"], email, wrong(code))
        assert response.status_code == 422
        assert response.json()["detail"] == "The code is not correct"
        assert response.json()["attempts_left"] == left
    fifth = give_code(visitor, journey["id"], email, wrong(code))
    assert fifth.status_code == 429 and fifth.json()["locked"] is True
    assert int(fifth.headers["Retry-After"]) == 15 * 60
    # The right code is refused while locked, and a new code is not sent.
    assert give_code(visitor, journey["id"], email, code).status_code == 429
    sent = len(sent_to(sandbox, email))
    assert ask_code(visitor, journey["id"], email).status_code == 429
    assert len(sent_to(sandbox, email)) == sent
    # Another address for the same journey is locked too (the journey's lock).
    assert ask_code(visitor, journey["id"], new_email()).status_code == 429
    clock.advance(timedelta(minutes=14, seconds=59))
    assert give_code(visitor, journey["id"], email, code).status_code == 429
    clock.advance(timedelta(seconds=1))
    # The lock is over; the old code has expired meanwhile (10 minutes): a new one works.
    assert give_code(visitor, journey["id"], email, code).status_code == 422
    assert ask_code(visitor, journey["id"], email).status_code == 202
    fresh = last_code(sandbox, email)
    assert give_code(visitor, journey["id"], email, fresh).json() == {
        "verified": True,
        "link_sent": True,
    }


def test_wrong_codes_lock_the_email_address_for_other_journeys_too(browser, sandbox):
    email = new_email()
    first, second = browser(), browser()
    journey = start(first)
    ask_code(first, journey["id"], email)
    code = last_code(sandbox, email)
    for _ in range(5):
        give_code(first, journey["id"], email, wrong(code))
    other = start(second)
    assert ask_code(second, other["id"], email).status_code == 429
    assert ask_code(second, other["id"], new_email()).status_code == 202


def test_a_code_expires_after_10_minutes_and_works_once(browser, sandbox, clock):
    visitor, email = browser(), new_email()
    journey = start(visitor)
    ask_code(visitor, journey["id"], email)
    code = last_code(sandbox, email)
    clock.advance(timedelta(minutes=10))
    expired = give_code(visitor, journey["id"], email, code)
    assert expired.status_code == 422 and expired.json()["expired"] is True
    ask_code(visitor, journey["id"], email)
    code = last_code(sandbox, email)
    assert give_code(visitor, journey["id"], email, code).status_code == 200
    again = give_code(visitor, journey["id"], email, code)
    assert again.status_code == 422 and again.json()["expired"] is True


def test_a_new_code_replaces_the_last_and_a_code_is_for_its_own_address(browser, sandbox):
    visitor, email = browser(), new_email()
    journey = start(visitor)
    ask_code(visitor, journey["id"], email)
    first = last_code(sandbox, email)
    ask_code(visitor, journey["id"], email)
    second = last_code(sandbox, email)
    if first != second:
        assert give_code(visitor, journey["id"], email, first).status_code == 422
    assert give_code(visitor, journey["id"], new_email(), second).status_code == 422
    assert give_code(visitor, journey["id"], email, second).status_code == 200


def test_bad_email_and_code_shapes_are_422_and_not_counted(browser, sandbox):
    visitor, email = browser(), new_email()
    journey = start(visitor)
    bad = ask_code(visitor, journey["id"], "not-an-address")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "email"
    assert ask_code(visitor, journey["id"], email).status_code == 202
    for _ in range(6):
        shape = give_code(visitor, journey["id"], email, "12ab")
        assert shape.status_code == 422
        assert shape.json()["detail"] == "The code must be 6 numbers"
    assert give_code(visitor, journey["id"], email, last_code(sandbox, email)).status_code == 200


def test_no_email_address_or_code_reaches_the_logs(browser, sandbox, caplog, monkeypatch):
    visitor, email = browser(), new_email()
    journey = start(visitor)
    # Every event as logged: the visitors' own events before rendering, and the standard
    # logging records of everything else. The visitors' logger is replaced by a capturing one
    # of its own: whatever configured logging earlier in this process (a CLI test's level, a
    # logger cached then) cannot hide its events.
    capture = LogCapture()
    own = structlog.wrap_logger(
        structlog.PrintLogger(),
        processors=[capture],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
    )
    monkeypatch.setattr(visitors, "log", own)
    caplog.set_level(logging.DEBUG)
    verified(visitor, sandbox, journey["id"], email)
    events = capture.entries
    logged = repr(events) + repr([record.msg for record in caplog.records]) + caplog.text
    assert "visitor.email_verified" in logged or "visitor.code_sent" in logged
    assert email not in logged
    assert last_code(sandbox, email) not in logged


# --- resume links -------------------------------------------------------------------------


def test_a_resume_link_gives_a_fresh_session_once(browser, sandbox):
    visitor, email = browser(), new_email()
    journey = start(visitor)
    Api(visitor).step(journey, "about", {"full_name": "Sam Visitor"})
    link = verified(visitor, sandbox, journey["id"], email)
    later = browser()
    response = later.post("/api/v1/visitor/resume", json={"link": link})
    assert response.status_code == 200 and response.json() == {"journey_id": journey["id"]}
    carry_csrf(later)
    back = later.get(f"/api/v1/journeys/{journey['id']}")
    assert back.status_code == 200 and back.json()["answers"]["full_name"] == "Sam Visitor"
    # The session the link replaced ended: only the browser that followed it holds the journey.
    assert visitor.get(f"/api/v1/journeys/{journey['id']}").status_code == 401
    used = browser().post("/api/v1/visitor/resume", json={"link": link})
    assert used.status_code == 410 and "already been used" in used.json()["detail"]


def test_a_tampered_link_is_refused_and_an_expired_one_too(browser, sandbox, clock):
    visitor, email = browser(), new_email()
    journey = start(visitor)
    link = verified(visitor, sandbox, journey["id"], email)
    nonce, signature = link.split(".")
    tampered = f"{nonce[:-1]}{'A' if nonce[-1] != 'A' else 'B'}.{signature}"
    refused = browser().post("/api/v1/visitor/resume", json={"link": tampered})
    assert refused.status_code == 404 and "not valid" in refused.json()["detail"]
    assert browser().post("/api/v1/visitor/resume", json={"link": "x"}).status_code == 404
    # "Save and come back later" sends a new link; it expires after 24 hours.
    assert visitor.post(f"/api/v1/journeys/{journey['id']}/email/save").status_code == 202
    saved = last_link(sandbox, email)
    assert saved != link
    clock.advance(timedelta(hours=24))
    expired = browser().post("/api/v1/visitor/resume", json={"link": saved})
    assert expired.status_code == 410 and "expired" in expired.json()["detail"]


def test_save_for_later_needs_a_verified_email(browser):
    visitor = browser()
    journey = start(visitor)
    response = visitor.post(f"/api/v1/journeys/{journey['id']}/email/save")
    assert response.status_code == 409 and "Verify an email" in response.json()["detail"]


# --- ownership ----------------------------------------------------------------------------


def test_when_sent_the_journey_passes_to_the_customer_and_the_visitor_keeps_its_status(
    browser, sandbox, sign_in, app, system
):
    visitor, email = browser(), new_email()
    journey = start(visitor)
    link = verified(visitor, sandbox, journey["id"], email)
    api = Api(visitor)
    journey = api.step(journey, "about", {"full_name": "Sam Visitor"})
    journey = api.step(journey, "customer", {"customer_number": "alex"})
    sent = api.submit(journey)
    assert sent["status"] == "submitted"
    alex = sign_in("alex", app=app)
    mine = alex.get_journey(journey["id"])
    assert mine.status_code == 200 and mine.json()["answers"]["full_name"] == "Sam Visitor"
    assert [j["id"] for j in alex.http.get("/api/v1/journeys").json()] == [journey["id"]]
    # The visitor sees its status page only.
    assert visitor.get(f"/api/v1/journeys/{journey['id']}").status_code == 404
    assert visitor.get(f"/journeys/{journey['id']}/steps/about").status_code == 404
    status = visitor.get(f"/journeys/{journey['id']}/status")
    assert status.status_code == 200 and "Open a test account" in status.text
    nobody = browser().get(f"/journeys/{journey['id']}/status", follow_redirects=False)
    assert nobody.status_code == 303
    # Its links no longer lead anywhere, and the change is in the audit log.
    assert browser().post("/api/v1/visitor/resume", json={"link": link}).status_code == 410
    entries = app.state.audit.entries(action="owner_changed")
    assert [(e.target_id, e.details["to"]) for e in entries] == [(journey["id"], "alex")]
    assert entries[0].details["from"].startswith("visitor-")


def test_the_journeys_cases_pass_to_the_customer_with_it(browser, sign_in, app, system, clock):
    visitor = browser()
    journey = start(visitor)
    now = clock.now()
    case = CaseRow(
        id="case-of-a-visitor",
        journey_id=journey["id"],
        journey=JOURNEY,
        customer_id=journey_owner(system, journey["id"]),
        reference=None,
        queue="applications",
        status=case_rows.OPEN,
        priority="normal",
        assignee=None,
        rule="open_when:0",
        reasons=[],
        opened_at=now,
        due_at=now + timedelta(days=2),
        updated_at=now,
    )
    with system.store.write() as connection:
        case_rows.insert_case(connection, case)
    api = Api(visitor)
    journey = api.step(journey, "about", {"full_name": "Sam"})
    journey = api.step(journey, "customer", {"customer_number": "alex"})
    api.submit(journey)
    with system.store.read() as connection:
        owners = (
            connection.execute(
                select(tables.cases.c.customer_id).where(tables.cases.c.journey_id == journey["id"])
            )
            .scalars()
            .all()
        )
    assert owners == ["alex"] == [journey_owner(system, journey["id"])]


def journey_owner(system: Components, journey_id: str) -> str | None:
    with system.store.read() as connection:
        return journey_rows.owner_of(connection, journey_id)


def test_a_journey_started_by_a_customer_stays_theirs(sign_in, app):
    alex = sign_in("alex", app=app)
    journey = alex.start(JOURNEY)
    journey = alex.step(journey, "about", {"full_name": "Alex"})
    journey = alex.step(journey, "customer", {"customer_number": "jordan"})
    alex.submit(journey)
    assert alex.get_journey(journey["id"]).status_code == 200
    assert app.state.audit.entries(action="owner_changed") == []


# --- pages, without JavaScript -------------------------------------------------------------


def form_token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_the_pages_walk_a_visitor_through_saving_and_coming_back(browser, sandbox):
    visitor, email = browser(), new_email()
    start_page = visitor.get(f"/start/{JOURNEY}")
    assert f'action="/start/{JOURNEY}/visitor"' in start_page.text
    started = visitor.post(
        f"/start/{JOURNEY}/visitor",
        data={"csrf_token": form_token(start_page.text)},
        follow_redirects=False,
    )
    assert started.status_code == 303
    step = started.headers["location"]
    journey_id = step.split("/")[2]
    page = visitor.get(step)
    assert page.status_code == 200 and "Save and come back later" in page.text
    saving = visitor.post(
        step,
        data={
            "csrf_token": form_token(page.text),
            "revision": "1",
            "full_name": "Sam",
            "action": "save",
        },
        follow_redirects=False,
    )
    assert saving.headers["location"] == f"/journeys/{journey_id}/save"
    save = visitor.get(f"/journeys/{journey_id}/save")
    assert "Email address" in save.text
    bad = visitor.post(
        f"/journeys/{journey_id}/email", data={"csrf_token": form_token(save.text), "email": "x"}
    )
    assert bad.status_code == 400 and "like name@example.com" in bad.text
    code_page = visitor.post(
        f"/journeys/{journey_id}/email", data={"csrf_token": form_token(save.text), "email": email}
    )
    assert code_page.status_code == 200 and "Enter the code" in code_page.text
    assert "expires in 10 minutes" in code_page.text
    code = last_code(sandbox, email)
    wrong_page = visitor.post(
        f"/journeys/{journey_id}/email/code",
        data={"csrf_token": form_token(code_page.text), "email": email, "code": wrong(code)},
    )
    assert wrong_page.status_code == 400 and "The code is not correct" in wrong_page.text
    assert "4 more tries" in wrong_page.text
    right = visitor.post(
        f"/journeys/{journey_id}/email/code",
        data={"csrf_token": form_token(code_page.text), "email": email, "code": code},
    )
    assert right.status_code == 200 and "Your answers are saved" in right.text
    link = last_link(sandbox, email)
    later = browser()
    landing = later.get(f"/resume/{link}")
    assert landing.status_code == 200 and "Continue your application" in landing.text
    back = later.post(
        f"/resume/{link}", data={"csrf_token": form_token(landing.text)}, follow_redirects=False
    )
    assert back.status_code == 303 and back.headers["location"] == f"/journeys/{journey_id}"
    assert later.get(f"/journeys/{journey_id}/steps/about").status_code == 200
    again = browser()
    used = again.post(
        f"/resume/{link}",
        data={"csrf_token": form_token(again.get(f"/resume/{link}").text)},
    )
    assert used.status_code == 410 and "This link has already been used" in used.text


def test_the_code_page_says_when_verification_is_locked(browser, sandbox):
    visitor, email = browser(), new_email()
    journey = start(visitor)
    ask_code(visitor, journey["id"], email)
    code = last_code(sandbox, email)
    for _ in range(5):
        give_code(visitor, journey["id"], email, wrong(code))
    page = visitor.get(f"/journeys/{journey['id']}/save")
    locked = visitor.post(
        f"/journeys/{journey['id']}/email/code",
        data={"csrf_token": form_token(page.text), "email": email, "code": code},
    )
    assert locked.status_code == 429 and "Too many wrong codes" in locked.text


def test_sending_codes_is_rate_limited_per_address(sandbox: Sandbox, system: Components):
    settings = system.settings.model_copy(
        update={"rate_limits": True, "rate_limit_email_codes": "2/minute"}
    )
    limited = build(settings, migrate=False, **demo_options(in_process_sources=False))
    try:
        with TestClient(create_app(limited)) as visitor:
            journey = start(visitor)
            email = new_email()
            assert ask_code(visitor, journey["id"], email).status_code == 202
            assert ask_code(visitor, journey["id"], email).status_code == 202
            sent = len(sent_to(sandbox, email))
            third = ask_code(visitor, journey["id"], email)
            assert third.status_code == 429 and int(third.headers["Retry-After"]) >= 1
            assert len(sent_to(sandbox, email)) == sent
            # "Save and come back later" counts against the same limit.
            assert visitor.post(f"/api/v1/journeys/{journey['id']}/email/save").status_code == 429
    finally:
        limited.store.engine.dispose()
        if limited.partners:
            limited.partners.close()
