"""The real `wayline serve` process, outside demo mode, signs a customer in and out through the
test OpenID provider (tests/oidc_provider), as a new user would set it up: the provider's
issuer, client id and secret in `WAYLINE_OIDC_*`, and the provider knowing Wayline's callback
and signed-out URLs. The browser is an httpx client (cookies kept, redirects followed by hand);
the provider's own pages are driven by `oidc_kit`. Between sign-in and sign-out, `GET
/api/v1/me` answers as the customer; after, the session is gone at Wayline and at the provider,
and `wayline audit list` shows both events with where they came from."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from journey_api import REPO, ServerProcess, run_cli, server_env
from oidc_kit import Provider, follow_sign_in, follow_sign_out, forms, running_provider

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
USER_AGENT = "wayline-serve-test/1.0"


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, Provider]]:
    """`wayline serve` (not demo mode: real settings, partners from connectors.yaml, none of
    them called here) with both kinds of sign-in at a test provider that knows its URLs."""
    home = tmp_path / "home"
    server = ServerProcess(["serve"], {}, tmp_path, tmp_path / "serve.log")
    with running_provider(
        redirect_uris=[f"{server.base_url}/auth/callback"],
        post_logout_redirect_uris=[f"{server.base_url}/signed-out"],
        log_path=tmp_path / "provider.log",
    ) as provider:
        server.env = server_env(
            home,
            database_url,
            WAYLINE_DEMO="false",
            WAYLINE_CONNECTORS=str(REPO / "connectors.yaml"),
            WAYLINE_SECURE_COOKIES="false",  # plain HTTP on loopback
            WAYLINE_PUBLIC_URL=server.base_url,
            WAYLINE_OIDC_ISSUER=provider.issuer,
            WAYLINE_OIDC_CLIENT_ID=provider.customers.client_id,
            WAYLINE_OIDC_CLIENT_SECRET=provider.customers.client_secret,
            WAYLINE_STAFF_OIDC_ISSUER=provider.issuer,
            WAYLINE_STAFF_OIDC_CLIENT_ID=provider.staff.client_id,
            WAYLINE_STAFF_OIDC_CLIENT_SECRET=provider.staff.client_secret,
        )
        run_cli(["migrate"], server.env, tmp_path)
        server.start()
        try:
            yield server, provider
        finally:
            server.stop()


def _csrf_token(page: httpx.Response) -> str:
    """The CSRF token of the page's sign-out form."""
    form = next(f for f in forms(page) if urlsplit(f.action).path == "/sign-out")
    return form.fields["csrf_token"]


def _shows_sign_in_form(http: httpx.Client, url: str, issuer: str) -> bool:
    """Whether following redirects from `url` ends on the provider's sign-in form (rather than
    straight back at the client, as a live provider session would)."""
    response = http.get(url)
    for _ in range(10):
        location = response.headers.get("location")
        if location is None:
            break
        target = urljoin(str(response.url), location)
        if not target.startswith(f"{issuer}/"):
            return False
        response = http.get(target)
    return any(form.action.endswith("/login") for form in forms(response))


def test_serve_signs_a_customer_in_and_out_through_the_provider(
    site: tuple[ServerProcess, Provider], tmp_path: Path
) -> None:
    server, provider = site
    base = server.base_url
    headers = {"User-Agent": USER_AGENT}
    with httpx.Client(base_url=base, timeout=10, headers=headers) as http:
        assert http.get("/api/v1/me").status_code == 401

        callback = follow_sign_in(http, f"{base}/sign-in?next=/journeys", provider.issuer, "alex")
        assert callback.startswith(f"{base}/auth/callback?")
        assert set(parse_qs(urlsplit(callback).query)) >= {"code", "state"}
        landed = http.get(callback)
        assert landed.status_code == 303, landed.text
        assert landed.headers["location"] == "/journeys"

        me = http.get("/api/v1/me")
        assert me.status_code == 200, me.text
        assert me.json()["subject"] == "alex"
        assert me.json()["kind"] == "customer"
        assert me.json()["roles"] == ["customer"]
        assert me.json()["assurance"] == 1
        journeys = http.get("/journeys")
        assert journeys.status_code == 200
        assert "Your activity" in journeys.text
        # A browser may follow the sign-out form on to the provider (CSP form-action).
        policy = journeys.headers["content-security-policy"]
        assert f"form-action 'self' {provider.issuer};" in policy

        signed_out = http.post("/sign-out", data={"csrf_token": _csrf_token(journeys)})
        assert signed_out.status_code == 303
        end_session = signed_out.headers["location"]
        assert end_session.startswith(provider.endpoint("end_session"))
        query = parse_qs(urlsplit(end_session).query)
        assert query["client_id"] == [provider.customers.client_id]
        assert query["post_logout_redirect_uri"] == [f"{base}/signed-out"]
        assert http.get("/api/v1/me").status_code == 401  # Wayline's session ended first

        back = follow_sign_out(http, end_session, provider.issuer)
        assert back.startswith(f"{base}/signed-out")
        assert http.get(back).status_code == 200
        # The provider's session ended too: signing in again asks for the password.
        assert _shows_sign_in_form(http, f"{base}/sign-in", provider.issuer)
        assert http.get("/api/v1/me").status_code == 401

    listed = run_cli(["audit", "list", "--actor", "alex", "--json"], server.env, tmp_path)
    entries = [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]
    by_action = {entry["action"]: entry for entry in entries}
    assert {"sign_in", "sign_out"} <= set(by_action), entries
    for action in ("sign_in", "sign_out"):
        assert by_action[action]["outcome"] == "success"
        assert by_action[action]["ip"] == "127.0.0.1"
        assert by_action[action]["user_agent"] == USER_AGENT
    assert "code=" not in listed.stdout and "eyJ" not in listed.stdout  # no codes, no tokens
