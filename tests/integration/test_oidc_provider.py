"""The test OpenID provider itself (tests/oidc_provider, through tests/oidc_kit.py) behaves as
Wayline's identity tests expect: discovery, PKCE, both clients, the claims of each account, the
sign-in strength (acr, amr, auth_time) and step-up, sign-out, the spoiled ID tokens of its test
hooks, and a JWKS key rollover. The code flow is driven with httpx; ID tokens are checked with
joserfc against the provider's published JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError, InvalidKeyIdError, UnsupportedAlgorithmError
from joserfc.jwk import KeySet
from oidc_kit import (
    CUSTOMERS,
    DEFAULT_REDIRECT_URIS,
    KEY_IDS,
    LOA_1,
    LOA_2,
    ONE_TIME_CODE,
    STAFF_ROLES,
    Client,
    Provider,
    SignInRefused,
    follow_sign_in,
    follow_sign_out,
    forms,
    running_provider,
)

REDIRECT_URI = DEFAULT_REDIRECT_URIS[0]
SIGNED_OUT_URI = "http://127.0.0.1/signed-out"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider(post_logout_redirect_uris=[SIGNED_OUT_URI]) as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """A browser stand-in: its own cookies, redirects not followed."""
    with httpx.Client(timeout=10) as client:
        yield client


@dataclass
class Request:
    """One authorization request: its PKCE verifier, state and nonce."""

    client: Client
    verifier: str
    state: str
    nonce: str

    @classmethod
    def new(cls, client: Client) -> Request:
        return cls(
            client, secrets.token_urlsafe(48), secrets.token_urlsafe(12), secrets.token_urlsafe(12)
        )

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def url(self, provider: Provider, **extra: str) -> str:
        params = {
            "client_id": self.client.client_id,
            "response_type": "code",
            "scope": "openid profile email",
            "redirect_uri": REDIRECT_URI,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
            **extra,
        }
        return str(httpx.URL(provider.endpoint("authorization"), params=params))

    def redeem(
        self, provider: Provider, http: httpx.Client, back: str, verifier: str | None = None
    ) -> httpx.Response:
        """The token endpoint's answer for the code in `back` (the redirect URI it came to)."""
        params = httpx.URL(back).params
        assert params.get("state") == self.state, back
        form = {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier or self.verifier,
        }
        auth = (self.client.client_id, self.client.client_secret)
        return http.post(provider.endpoint("token"), data=form, auth=auth)


def jwks(provider: Provider) -> KeySet:
    """The provider's published keys, as a relying party fetches them."""
    return KeySet.import_key_set(httpx.get(jwks_uri(provider), timeout=10).json())


def jwks_uri(provider: Provider) -> str:
    return str(provider.discovery()["jwks_uri"])


def verified(
    provider: Provider, id_token: str, keys: KeySet | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of an ID token whose RS256 signature checks out."""
    token = jwt.decode(id_token, keys or jwks(provider), algorithms=["RS256"])
    return dict(token.header), dict(token.claims)


def unverified(id_token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload = (
        json.loads(base64.urlsafe_b64decode(part + "==")) for part in id_token.split(".")[:2]
    )
    return header, payload


def sign_in(
    provider: Provider,
    http: httpx.Client,
    username: str | None,
    client: Client | None = None,
    otp: str | None = None,
    **extra: str,
) -> tuple[Request, str]:
    """A whole code flow; returns the request and the ID token the token endpoint gave."""
    request = Request.new(client or provider.customers)
    back = follow_sign_in(http, request.url(provider, **extra), provider.issuer, username, otp=otp)
    answer = request.redeem(provider, http, back)
    assert answer.status_code == 200, answer.text
    id_token = answer.json()["id_token"]
    assert isinstance(id_token, str)
    return request, id_token


def shows_sign_in_form(http: httpx.Client, url: str) -> httpx.Response | None:
    """The sign-in page the provider sends `url` to, or None when it goes straight back."""
    response = http.get(url)
    while "location" in response.headers:
        location = httpx.URL(str(response.url)).join(response.headers["location"])
        if location.port != response.url.port:
            return None
        response = http.get(location)
    assert response.status_code == 200
    return response


def test_discovery_lists_the_endpoints_and_levels(provider: Provider) -> None:
    document = provider.discovery()
    assert document["issuer"] == provider.issuer
    for name in ("authorization", "token", "end_session", "userinfo"):
        assert str(document[f"{name}_endpoint"]).startswith(f"{provider.issuer}/")
    assert str(document["jwks_uri"]).startswith(f"{provider.issuer}/")
    assert document["acr_values_supported"] == [LOA_1, LOA_2]
    assert document["code_challenge_methods_supported"] == ["S256"]
    claims = set(document["claims_supported"])
    assert {"acr", "amr", "auth_time", "roles", "name", "email"} <= claims


def test_pkce_s256_is_required(provider: Provider, http: httpx.Client) -> None:
    request = Request.new(provider.customers)
    without = request.url(provider, code_challenge="", code_challenge_method="")
    for url in (without, request.url(provider, code_challenge_method="plain")):
        location = http.get(url).headers["location"]
        assert location.startswith(REDIRECT_URI) and "error=invalid_request" in location
    back = follow_sign_in(http, request.url(provider), provider.issuer, "alex")
    wrong = request.redeem(provider, http, back, verifier=secrets.token_urlsafe(48))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"


def test_both_clients_exist_and_others_do_not(provider: Provider, http: httpx.Client) -> None:
    for client in (provider.customers, provider.staff):
        response = http.get(Request.new(client).url(provider))
        assert response.status_code == 303 and "/interaction/" in response.headers["location"]
    stranger = Client("wayline-strangers", "secret")
    response = http.get(Request.new(stranger).url(provider))
    assert response.status_code == 400 and "invalid_client" in response.text
    assert "node_modules" not in response.text  # an error page, not a stack trace
    request = Request.new(provider.staff)
    back = follow_sign_in(http, request.url(provider), provider.issuer, "casey")
    request.client = Client(provider.staff.client_id, "not-the-secret")
    assert request.redeem(provider, http, back).status_code == 401


def test_a_customer_signs_in_with_a_password(provider: Provider, http: httpx.Client) -> None:
    before = int(time.time())
    request, id_token = sign_in(provider, http, "alex")
    header, claims = verified(provider, id_token)
    assert header["kid"] == KEY_IDS["A"]
    assert claims["iss"] == provider.issuer and claims["aud"] == provider.customers.client_id
    assert claims["sub"] == "alex" and claims["name"] == CUSTOMERS["alex"]
    assert claims["email"] == "alex@example.com"
    assert claims["nonce"] == request.nonce
    assert claims["acr"] == LOA_1 and claims["amr"] == ["pwd"]
    assert before <= claims["auth_time"] <= int(time.time()) + 1
    assert "roles" not in claims


@pytest.mark.parametrize("username", sorted(STAFF_ROLES))
def test_staff_sign_in_with_a_code_carries_their_roles(
    provider: Provider, http: httpx.Client, username: str
) -> None:
    _, id_token = sign_in(provider, http, username, provider.staff, otp=ONE_TIME_CODE)
    _, claims = verified(provider, id_token)
    assert claims["sub"] == username and claims["aud"] == provider.staff.client_id
    assert claims["acr"] == LOA_2 and claims["amr"] == ["pwd", "otp"]
    assert claims.get("roles", []) == STAFF_ROLES[username]


@pytest.mark.parametrize(
    ("username", "password", "otp"),
    [
        ("alex", "wrong horse", None),
        ("alex", "correct horse", "654321"),
        ("mallory", "correct horse", None),
    ],
)
def test_wrong_details_show_the_form_again(
    provider: Provider, http: httpx.Client, username: str, password: str, otp: str | None
) -> None:
    url = Request.new(provider.customers).url(provider)
    with pytest.raises(SignInRefused) as refused:
        follow_sign_in(http, url, provider.issuer, username, password=password, otp=otp)
    page = refused.value.page
    assert page.status_code == 400
    assert "is not right" in page.text and 'id="username"' in page.text
    assert "node_modules" not in page.text


def test_a_stronger_level_asks_for_the_code_then_signs_in_at_level_2(
    provider: Provider, http: httpx.Client
) -> None:
    _, first = sign_in(provider, http, "alex")
    assert unverified(first)[1]["acr"] == LOA_1
    # The provider session is enough for level 1: no form.
    assert shows_sign_in_form(http, Request.new(provider.customers).url(provider)) is None
    step_up = Request.new(provider.customers).url(provider, acr_values=LOA_2)
    form = shows_sign_in_form(http, step_up)
    assert (
        form is not None
        and 'name="otp" inputmode="numeric" aria-describedby="otp-hint" required' in form.text
    )
    with pytest.raises(SignInRefused) as refused:
        follow_sign_in(http, step_up, provider.issuer, "alex")
    assert "stronger sign-in" in refused.value.page.text
    _, second = sign_in(provider, http, "alex", otp=ONE_TIME_CODE, acr_values=LOA_2)
    _, claims = verified(provider, second)
    assert claims["acr"] == LOA_2 and claims["amr"] == ["pwd", "otp"]
    assert claims["auth_time"] >= unverified(first)[1]["auth_time"]
    # Level 2 now stands for later requests, through the claims parameter too.
    essential = json.dumps({"id_token": {"acr": {"essential": True, "values": [LOA_2]}}})
    assert (
        shows_sign_in_form(http, Request.new(provider.customers).url(provider, claims=essential))
        is None
    )


def test_max_age_and_prompt_login_ask_again(provider: Provider, http: httpx.Client) -> None:
    sign_in(provider, http, "sam")
    fresh = Request.new(provider.customers)
    assert shows_sign_in_form(http, fresh.url(provider, max_age="600")) is None
    assert shows_sign_in_form(http, fresh.url(provider, prompt="login")) is not None
    time.sleep(1.1)  # max_age counts whole seconds
    assert shows_sign_in_form(http, fresh.url(provider, max_age="0")) is not None


def test_consent_is_never_asked(provider: Provider, http: httpx.Client) -> None:
    sign_in(provider, http, "jordan")
    request = Request.new(provider.customers)
    back = follow_sign_in(http, request.url(provider, prompt="consent"), provider.issuer)
    assert request.redeem(provider, http, back).status_code == 200


def test_sign_out_ends_the_provider_session(provider: Provider, http: httpx.Client) -> None:
    _, id_token = sign_in(provider, http, "alex")
    params = {"id_token_hint": id_token, "post_logout_redirect_uri": SIGNED_OUT_URI, "state": "bye"}
    url = str(httpx.URL(provider.endpoint("end_session"), params=params))
    page = http.get(url)
    assert 'id="logout"' in page.text and ">Sign out</button>" in page.text
    assert any(form.form_id == "op.logoutForm" for form in forms(page))
    assert follow_sign_out(http, url, provider.issuer) == f"{SIGNED_OUT_URI}?state=bye"
    assert shows_sign_in_form(http, Request.new(provider.customers).url(provider)) is not None


def test_an_interaction_without_its_cookie_is_refused(provider: Provider) -> None:
    page = httpx.get(f"{provider.issuer}/interaction/not-a-real-one", timeout=10)
    assert page.status_code == 400 and "start again" in page.text


@pytest.mark.parametrize(
    "kind", ["tamper", "none", "expire", "wrong_audience", "wrong_nonce", "wrong_issuer"]
)
def test_mischief_spoils_the_next_id_token_once(
    provider: Provider, http: httpx.Client, kind: str
) -> None:
    _, clean = sign_in(provider, http, "alex")
    provider.mischief(kind)
    request, spoiled = sign_in(provider, http, None)
    header, claims = unverified(spoiled)
    now = time.time()
    if kind == "tamper":
        assert claims["sub"] == "alex-tampered"
        with pytest.raises(BadSignatureError):
            verified(provider, spoiled)
    elif kind == "none":
        assert header["alg"] == "none" and spoiled.endswith(".")
        with pytest.raises(UnsupportedAlgorithmError):
            verified(provider, spoiled)
    else:
        _, claims = verified(provider, spoiled)  # re-signed with the real key
        spoilt = {
            "expire": claims["exp"] < now - 1800 and claims["iat"] < now - 1800,
            "wrong_audience": claims["aud"] == "someone-else",
            "wrong_nonce": claims["nonce"] != request.nonce,
            "wrong_issuer": claims["iss"] != provider.issuer,
        }
        assert spoilt[kind], claims
    _, after = sign_in(provider, http, None)
    assert verified(provider, after)[1]["sub"] == "alex"
    assert verified(provider, after)[1]["iss"] == verified(provider, clean)[1]["iss"]


def test_mischief_refuses_an_unknown_kind(provider: Provider) -> None:
    answer = httpx.post(f"{provider.issuer}/test/mischief", json={"id_token": "chaos"}, timeout=10)
    assert answer.status_code == 400 and "one of" in answer.json()["error"]


def test_a_restart_rolls_the_signing_key_over_on_the_same_issuer(http: httpx.Client) -> None:
    with running_provider() as provider:
        issuer = provider.issuer
        old_keys = jwks(provider)
        _, before = sign_in(provider, http, "casey", provider.staff)
        assert verified(provider, before, old_keys)[0]["kid"] == KEY_IDS["A"]
        provider.restart(keys=["B", "A"])
        assert provider.issuer == issuer
        published = [key["kid"] for key in httpx.get(jwks_uri(provider)).json()["keys"]]
        assert published == [KEY_IDS["B"], KEY_IDS["A"]]
        _, after = sign_in(provider, http, "casey", provider.staff)  # sessions did not survive
        assert verified(provider, after)[0]["kid"] == KEY_IDS["B"]
        with pytest.raises(InvalidKeyIdError):  # a client holding the old JWKS must fetch it again
            verified(provider, after, old_keys)
        verified(provider, before)  # tokens signed with A still check out against the new JWKS
