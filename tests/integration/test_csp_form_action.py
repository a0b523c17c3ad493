"""The CSP's `form-action` lets a form's redirect reach the configured identity providers, and
nothing else: signing out (a form) goes on to the provider's end-session page, and a step-up
asked by a form goes to its sign-in page, and browsers hold every hop to `form-action`
(tests/browser/test_web_oidc.py shows Chromium doing so)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from wayline.web.app import create_app
from wayline.web.security import content_security_policy, provider_origins

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _form_action(policy: str) -> list[str]:
    [directive] = [d.strip() for d in policy.split(";") if d.strip().startswith("form-action ")]
    return directive.split()[1:]


@SQLITE
def test_without_a_provider_forms_stay_on_the_site(client: TestClient) -> None:
    policy = client.get("/").headers["content-security-policy"]
    assert _form_action(policy) == ["'self'"]


@SQLITE
def test_forms_may_lead_to_each_configured_provider(make_components: Any) -> None:
    components = make_components(
        oidc_issuer="https://login.example.com/realms/customers",
        oidc_client_id="wayline",
        oidc_client_secret="s",
        staff_oidc_issuer="https://Staff.Example.NET:8443/tenant/v2.0",
        staff_oidc_client_id="wayline-staff",
        staff_oidc_client_secret="s",
    )
    with TestClient(create_app(components)) as http:
        for path in ("/", "/journeys", "/no-such-page", "/api/v1/me"):
            policy = http.get(path, follow_redirects=False).headers["content-security-policy"]
            assert _form_action(policy) == [
                "'self'",
                "https://login.example.com",
                "https://staff.example.net:8443",
            ], path
            assert "frame-ancestors 'none'" in policy  # the rest of the policy is unchanged


def test_provider_origins_take_only_http_urls() -> None:
    class Given:
        oidc_issuer = "javascript:alert(1)"
        staff_oidc_issuer = "http://127.0.0.1:9400"

    assert provider_origins(Given()) == ["http://127.0.0.1:9400"]
    assert provider_origins(None) == []
    same = content_security_policy(["https://a.example", "https://a.example"])
    assert _form_action(same) == ["'self'", "https://a.example"]
