"""Wayline as a relying party of the REAL test provider (tests/oidc_provider: panva's
oidc-provider under Node 22), on SQLite and PostgreSQL: the app is served by uvicorn on
loopback, configured as `wayline serve` would be (no demo), and an httpx client plays the
browser: it follows the redirects and fills the provider's sign-in form.

Covered: customer sign-in and sign-out (the provider's session ends too), staff sign-in with
roles, a staff account with no role, step-up to level 2 with the one-time code, every spoiled ID
token the provider can send, a replayed callback, a callback in another browser, a provider
that says no, a provider that is down, a JWKS key rollover, the audit entries, and no code,
state or token in the logs."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from oidc_kit import (
    ONE_TIME_CODE,
    Provider,
    SignInRefused,
    follow_sign_in,
    follow_sign_out,
    free_port,
    running_provider,
)

from wayline.bootstrap import Components
from wayline.observability.logging import configure
from wayline.store.audit import AuditRow
from wayline.web.app import create_app

LOA_2_WITHIN_5_MINUTES = "level=2&max_age=300"


@pytest.fixture(scope="module")
def app_port() -> int:
    """The port every app of this module is served on: the provider knows its redirect URIs."""
    return free_port()


@pytest.fixture(scope="module")
def provider(app_port: int) -> Iterator[Provider]:
    base = f"http://127.0.0.1:{app_port}"
    with running_provider(
        redirect_uris=[f"{base}/auth/callback"],
        post_logout_redirect_uris=[f"{base}/signed-out"],
    ) as running:
        yield running


@contextmanager
def serve(app: Any, port: int) -> Iterator[str]:
    """The app on a real uvicorn server on loopback `port`, in a thread."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def wayline_for(
    make_components: Callable[..., Components], app_port: int
) -> Callable[..., Components]:
    """The application's parts as `wayline serve` builds them with both providers set."""

    def make(issuer: str, **overrides: Any) -> Components:
        values: dict[str, Any] = {
            "demo": False,
            "secure_cookies": False,  # plain HTTP on loopback
            "public_url": f"http://127.0.0.1:{app_port}",
            "oidc_issuer": issuer,
            "oidc_client_id": "wayline-customers",
            "oidc_client_secret": "wayline-customers-test-secret",
            "staff_oidc_issuer": issuer,
            "staff_oidc_client_id": "wayline-staff",
            "staff_oidc_client_secret": "wayline-staff-test-secret",
            **overrides,
        }
        return make_components(**values)

    return make


@pytest.fixture
def components(wayline_for: Callable[..., Components], provider: Provider) -> Components:
    return wayline_for(provider.issuer)


@pytest.fixture
def app(components: Components) -> Any:
    return create_app(components)


@pytest.fixture
def wayline(app: Any, app_port: int) -> Iterator[str]:
    with serve(app, app_port) as base:
        yield base


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    """A browser stand-in: its own cookies, redirects not followed (each is looked at)."""
    with httpx.Client(timeout=15) as client:
        yield client


def sign_in(
    browser: httpx.Client,
    wayline: str,
    provider: Provider,
    username: str | None,
    path: str = "/sign-in?next=/journeys",
    otp: str | None = None,
) -> httpx.Response:
    """Through Wayline's sign-in link, the provider's form and back: Wayline's answer to the
    callback."""
    callback = follow_sign_in(browser, f"{wayline}{path}", provider.issuer, username, otp=otp)
    assert callback.startswith(f"{wayline}/auth/callback?"), callback
    return browser.get(callback)


def me(browser: httpx.Client, wayline: str) -> dict[str, Any]:
    answer = browser.get(f"{wayline}/api/v1/me")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def audit(app: Any, action: str) -> list[AuditRow]:
    rows: list[AuditRow] = app.state.audit.entries(action=action)
    return rows


def refused_page(answer: httpx.Response) -> None:
    assert answer.status_code == 400, answer.text
    assert "We could not sign you in" in answer.text
    assert "Try again" in answer.text
    set_cookies = answer.headers.get_list("set-cookie")
    assert not any(cookie.startswith("wayline_session=") for cookie in set_cookies)


# --- customers ------------------------------------------------------------------------------


def test_a_customer_signs_in_and_out_through_the_provider(
    browser: httpx.Client, wayline: str, provider: Provider, app: Any
) -> None:
    assert browser.get(f"{wayline}/journeys").headers["location"].startswith("/sign-in?")
    landed = sign_in(browser, wayline, provider, "alex")
    assert landed.status_code == 303
    assert landed.headers["location"] == "/journeys"
    assert browser.get(f"{wayline}/journeys").status_code == 200
    who = me(browser, wayline)
    assert (who["subject"], who["kind"], who["roles"], who["assurance"]) == (
        "alex",
        "customer",
        ["customer"],
        1,
    )
    [entry] = audit(app, "sign_in")
    assert (entry.actor, entry.outcome, entry.ip) == ("alex", "success", "127.0.0.1")

    page = browser.get(f"{wayline}/journeys")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token is not None
    out = browser.post(f"{wayline}/sign-out", data={"csrf_token": token.group(1)})
    assert out.status_code == 303
    end_session = out.headers["location"]
    assert end_session.startswith(provider.endpoint("end_session"))
    query = parse_qs(urlsplit(end_session).query)
    assert query["client_id"] == ["wayline-customers"]
    assert query["post_logout_redirect_uri"] == [f"{wayline}/signed-out"]
    # Wayline's session is over before the provider is even asked.
    assert browser.get(f"{wayline}/api/v1/me").status_code == 401
    back = follow_sign_out(browser, end_session, provider.issuer)
    assert back == f"{wayline}/signed-out"
    assert "You have signed out" in browser.get(back).text
    [out_entry] = audit(app, "sign_out")
    assert out_entry.actor == "alex"
    # The provider's session ended too: signing in again asks for the password.
    with pytest.raises(AssertionError, match="the provider asked for a sign-in"):
        follow_sign_in(browser, f"{wayline}/sign-in", provider.issuer, None)


def test_the_browser_lands_where_it_was_going(
    browser: httpx.Client, wayline: str, provider: Provider
) -> None:
    landed = sign_in(browser, wayline, provider, "sam", "/sign-in?next=/start/motor-claim")
    assert landed.headers["location"] == "/start/motor-claim"
    elsewhere = sign_in(browser, wayline, provider, None, "/sign-in?next=https://evil.example/")
    assert elsewhere.headers["location"] == "/journeys"


def test_a_step_up_asks_the_provider_for_the_code_and_carries_on(
    browser: httpx.Client, wayline: str, provider: Provider, app: Any
) -> None:
    sign_in(browser, wayline, provider, "alex")
    first_session = browser.cookies.get("wayline_session")
    step_up = f"/sign-in?next=/journeys/j1/steps/payout&{LOA_2_WITHIN_5_MINUTES}"
    # The provider asks again (prompt=login), and the password alone is not enough.
    with pytest.raises(SignInRefused):
        sign_in(browser, wayline, provider, "alex", step_up)
    landed = sign_in(browser, wayline, provider, "alex", step_up, otp=ONE_TIME_CODE)
    assert landed.headers["location"] == "/journeys/j1/steps/payout"
    assert me(browser, wayline)["assurance"] == 2
    assert browser.cookies.get("wayline_session") != first_session  # the id rotated
    [entry] = audit(app, "step_up")
    assert (entry.actor, entry.outcome) == ("alex", "success")


# --- staff ------------------------------------------------------------------------------------


def test_a_handler_signs_in_with_their_role_and_reaches_staff_pages(
    browser: httpx.Client, wayline: str, provider: Provider
) -> None:
    landed = sign_in(browser, wayline, provider, "casey", "/staff/sign-in")
    assert landed.headers["location"] == "/staff"
    who = me(browser, wayline)
    assert (who["subject"], who["kind"], who["roles"]) == ("casey", "staff", ["handler"])
    assert browser.get(f"{wayline}/staff").status_code == 200
    assert browser.get(f"{wayline}/journeys").status_code == 403  # a customer's page


def test_a_senior_handler_steps_up_through_the_staff_client(
    browser: httpx.Client, wayline: str, provider: Provider, app: Any
) -> None:
    sign_in(browser, wayline, provider, "morgan", "/staff/sign-in")
    assert me(browser, wayline)["assurance"] == 1
    step_up = f"/staff/sign-in?next=/staff&{LOA_2_WITHIN_5_MINUTES}"
    landed = sign_in(browser, wayline, provider, "morgan", step_up, otp=ONE_TIME_CODE)
    assert landed.headers["location"] == "/staff"
    who = me(browser, wayline)
    assert (who["roles"], who["assurance"]) == (["senior_handler"], 2)
    [entry] = audit(app, "step_up")
    assert (entry.actor, entry.actor_kind, entry.outcome) == ("morgan", "staff", "success")


def test_a_customer_cannot_reach_staff_pages(
    browser: httpx.Client, wayline: str, provider: Provider
) -> None:
    sign_in(browser, wayline, provider, "jordan")
    assert browser.get(f"{wayline}/staff").status_code == 403


def test_a_staff_account_without_a_wayline_role_is_refused(
    browser: httpx.Client, wayline: str, provider: Provider, app: Any
) -> None:
    answer = sign_in(browser, wayline, provider, "nobody", "/staff/sign-in")
    refused_page(answer)
    assert "no role" in answer.text
    assert browser.get(f"{wayline}/api/v1/me").status_code == 401
    [entry] = audit(app, "sign_in_failed")
    assert (entry.actor, entry.details["reason"]) == ("nobody", "no_role")


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mischief", "reason"),
    [
        ("tamper", "bad_signature"),
        ("expire", "token_expired"),
        ("wrong_audience", "claim_aud"),
        ("wrong_nonce", "claim_nonce"),
        ("wrong_issuer", "claim_iss"),
        ("none", "algorithm_refused"),
    ],
)
def test_a_spoiled_id_token_is_refused(
    browser: httpx.Client,
    wayline: str,
    provider: Provider,
    app: Any,
    mischief: str,
    reason: str,
) -> None:
    provider.mischief(mischief)
    try:
        answer = sign_in(browser, wayline, provider, "alex")
    finally:
        provider.mischief(None)
    refused_page(answer)
    assert browser.get(f"{wayline}/api/v1/me").status_code == 401
    [entry] = audit(app, "sign_in_failed")
    assert entry.details == {"reason": reason, "kind": "customer"}
    assert entry.actor is None


def test_a_callback_used_twice_is_refused_the_second_time(
    browser: httpx.Client, wayline: str, provider: Provider, app: Any
) -> None:
    callback = follow_sign_in(browser, f"{wayline}/sign-in", provider.issuer, "sam")
    assert browser.get(callback).status_code == 303
    refused_page(browser.get(callback))
    [entry] = audit(app, "sign_in_failed")
    assert entry.details["reason"] == "unknown_state"


def test_a_head_on_the_callback_is_405_and_leaves_the_sign_in_to_finish(
    browser: httpx.Client, wayline: str, provider: Provider, app: Any
) -> None:
    callback = follow_sign_in(browser, f"{wayline}/sign-in", provider.issuer, "sam")
    head = browser.head(callback)
    assert head.status_code == 405 and head.headers["allow"] == "GET"
    assert audit(app, "sign_in_failed") == []
    assert browser.get(callback).status_code == 303  # its state was not used up
    assert browser.get(f"{wayline}/api/v1/me").json()["subject"] == "sam"


def test_a_callback_finished_in_another_browser_is_refused(
    browser: httpx.Client, wayline: str, provider: Provider, app: Any
) -> None:
    callback = follow_sign_in(browser, f"{wayline}/sign-in", provider.issuer, "sam")
    with httpx.Client(timeout=15) as other:
        refused_page(other.get(callback))
    # The request was used up by the attempt: the right browser cannot finish it now either.
    refused_page(browser.get(callback))
    reasons = [row.details["reason"] for row in audit(app, "sign_in_failed")]
    assert reasons == ["unknown_state", "browser_mismatch"]  # newest first


def test_a_provider_that_says_no_gets_a_clear_page(
    browser: httpx.Client, wayline: str, app: Any
) -> None:
    started = browser.get(f"{wayline}/sign-in")
    state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
    answer = browser.get(
        f"{wayline}/auth/callback", params={"state": state, "error": "access_denied"}
    )
    refused_page(answer)
    assert "cancelled or refused" in answer.text
    [entry] = audit(app, "sign_in_failed")
    assert entry.details["reason"] == "provider_access_denied"


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"code": "x"},
        {"state": "not-ours", "code": "x"},
        {"state": "A" * 43, "code": "x"},
    ],
)
def test_a_callback_without_a_known_state_changes_nothing(
    browser: httpx.Client, wayline: str, app: Any, query: dict[str, str]
) -> None:
    refused_page(browser.get(f"{wayline}/auth/callback", params=query))
    assert audit(app, "sign_in") == []


@pytest.mark.parametrize("link", ["level=9", "level=two", "level=2&max_age=0", "max_age=-1"])
def test_a_sign_in_link_asking_the_impossible_is_refused(
    browser: httpx.Client, wayline: str, link: str
) -> None:
    answer = browser.get(f"{wayline}/sign-in?{link}")
    assert answer.status_code == 400
    assert "not valid" in answer.text


def test_a_provider_that_is_down_gets_a_503_page(
    wayline_for: Callable[..., Components], app_port: int, browser: httpx.Client
) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    app = create_app(wayline_for(down))
    with serve(app, app_port) as base:
        answer = browser.get(f"{base}/sign-in")
        staff = browser.get(f"{base}/staff/sign-in")
    assert answer.status_code == 503
    assert "not answering" in answer.text
    assert answer.headers["retry-after"] == "30"
    assert staff.status_code == 503


def test_a_jwks_key_rollover_is_followed(
    browser: httpx.Client, wayline: str, provider: Provider
) -> None:
    sign_in(browser, wayline, provider, "alex")  # Wayline now holds key A
    try:
        provider.restart(keys=["B", "A"])  # B signs from now on
        with httpx.Client(timeout=15) as fresh:
            landed = sign_in(fresh, wayline, provider, "sam")
            assert landed.status_code == 303
            assert me(fresh, wayline)["subject"] == "sam"
    finally:
        provider.restart(keys="A")


def test_no_code_state_or_token_reaches_the_logs(
    browser: httpx.Client, wayline: str, provider: Provider
) -> None:
    stream = io.StringIO()
    configure("DEBUG", stream)
    try:
        callback = follow_sign_in(browser, f"{wayline}/sign-in", provider.issuer, "alex")
        assert browser.get(callback).status_code == 303
        browser.get(callback)  # refused: its log line names only the reason
    finally:
        configure("WARNING")
    logged = stream.getvalue()
    query = parse_qs(urlsplit(callback).query)
    assert '"route": "/auth/callback"' in logged or '"route":"/auth/callback"' in logged
    for secret in (query["code"][0], query["state"][0], "eyJ", "wayline-customers-test-secret"):
        assert secret not in logged
