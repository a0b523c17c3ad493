"""identity/oidc.py against a small OpenID provider of the test's own, served over real HTTP on
loopback: discovery, the authorization URL, the token exchange, and every ID token check, with
RSA keys made here (joserfc). The integration tests do the same against the real test provider;
here each spoiled token is made precisely, one check at a time."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from pydantic import SecretStr

from wayline.identity.oidc import (
    OidcClient,
    ProviderConfig,
    ProviderUnavailable,
    SignInRefused,
)

CLIENT_ID = "wayline-test"
SECRET = "s3cret-for-tests"
REDIRECT_URI = "http://127.0.0.1:9/auth/callback"
NONCE = "n-0S6_WzA2Mj"


@dataclass
class Fake:
    """What the fake provider serves; tests change it between requests."""

    issuer: str = ""
    keys: list[RSAKey] = field(default_factory=list)
    discovery_extra: dict[str, Any] = field(default_factory=dict)
    discovery_body: bytes | None = None  # set: served instead of the document
    token_status: int = 200
    token_body: dict[str, Any] | str = field(default_factory=dict)
    jwks_fetches: int = 0
    token_requests: list[tuple[dict[str, str], dict[str, list[str]]]] = field(default_factory=list)

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/auth",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "end_session_endpoint": f"{self.issuer}/session/end",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
            **self.discovery_extra,
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.as_dict(private=False) for key in self.keys]}


def _handler(fake: Fake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/.well-known/openid-configuration":
                body = fake.discovery_body or json.dumps(fake.discovery()).encode()
                self._send(200, body)
            elif path == "/jwks":
                fake.jwks_fetches += 1
                self._send(200, json.dumps(fake.jwks()).encode())
            else:
                self._send(404, b"{}")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode())
            fake.token_requests.append((dict(self.headers), form))
            body = fake.token_body
            raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self._send(fake.token_status, raw)

    return Handler


@pytest.fixture
def fake() -> Iterator[Fake]:
    state = Fake(keys=[_key("A")])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@functools.cache
def _key(name: str) -> RSAKey:
    """One RSA key per name for the whole module (making them is the slow part)."""
    return RSAKey.generate_key(2048, parameters={"kid": f"key-{name}", "use": "sig"})


def _client(fake: Fake, **config: Any) -> OidcClient:
    return OidcClient(
        ProviderConfig(fake.issuer, CLIENT_ID, SecretStr(SECRET), REDIRECT_URI, **config)
    )


def _claims(fake: Fake, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": fake.issuer,
        "sub": "alex",
        "aud": CLIENT_ID,
        "exp": now + 300,
        "iat": now,
        "auth_time": now,
        "nonce": NONCE,
        "acr": "urn:wayline:loa:1",
        "amr": ["pwd"],
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def _sign(claims: dict[str, Any], key: RSAKey) -> str:
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def _refused(client: OidcClient, token: str) -> str:
    with pytest.raises(SignInRefused) as refused:
        client.validate(token, NONCE)
    return refused.value.reason


# --- the ID token -------------------------------------------------------------------------


def test_a_good_token_gives_its_claims(fake: Fake) -> None:
    claims = _client(fake).validate(_sign(_claims(fake), fake.keys[0]), NONCE)
    assert claims["sub"] == "alex"
    assert claims["acr"] == "urn:wayline:loa:1"


def test_a_tampered_token_is_refused(fake: Fake) -> None:
    header, payload, signature = _sign(_claims(fake), fake.keys[0]).split(".")
    changed = json.loads(base64.urlsafe_b64decode(payload + "=="))
    changed["sub"] = "sam"
    forged = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=").decode()
    assert _refused(_client(fake), f"{header}.{forged}.{signature}") == "bad_signature"


def test_an_expired_token_is_refused_beyond_the_leeway(fake: Fake) -> None:
    now = int(time.time())
    client = _client(fake, leeway=60)
    expired = _claims(fake, exp=now - 120, iat=now - 420, auth_time=now - 420)
    assert _refused(client, _sign(expired, fake.keys[0])) == "token_expired"
    # Within the leeway, a token a few seconds past its time is still taken (clock skew).
    just = _claims(fake, exp=now - 30, iat=now - 330)
    assert client.validate(_sign(just, fake.keys[0]), NONCE)["sub"] == "alex"


def test_a_token_issued_in_the_future_is_refused(fake: Fake) -> None:
    later = int(time.time()) + 600
    token = _sign(_claims(fake, iat=later, exp=later + 300), fake.keys[0])
    assert _refused(_client(fake), token) == "claim_iat"


def test_a_token_for_another_client_is_refused(fake: Fake) -> None:
    token = _sign(_claims(fake, aud="someone-else"), fake.keys[0])
    assert _refused(_client(fake), token) == "claim_aud"


def test_several_audiences_need_azp_naming_us(fake: Fake) -> None:
    client = _client(fake)
    both = [CLIENT_ID, "another-api"]
    assert _refused(client, _sign(_claims(fake, aud=both), fake.keys[0])) == "claim_azp"
    wrong = _claims(fake, aud=both, azp="another-api")
    assert _refused(client, _sign(wrong, fake.keys[0])) == "claim_azp"
    right = _claims(fake, aud=both, azp=CLIENT_ID)
    assert client.validate(_sign(right, fake.keys[0]), NONCE)["azp"] == CLIENT_ID


def test_a_token_with_another_nonce_or_none_is_refused(fake: Fake) -> None:
    client = _client(fake)
    assert _refused(client, _sign(_claims(fake, nonce="other"), fake.keys[0])) == "claim_nonce"
    without = _claims(fake, nonce=None)
    assert _refused(client, _sign(without, fake.keys[0])) == "claim_nonce"


def test_a_token_from_another_issuer_is_refused(fake: Fake) -> None:
    token = _sign(_claims(fake, iss="https://evil.example"), fake.keys[0])
    assert _refused(_client(fake), token) == "claim_iss"


def test_an_unsigned_token_is_refused_though_advertised(fake: Fake) -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    payload = base64.urlsafe_b64encode(json.dumps(_claims(fake)).encode()).rstrip(b"=").decode()
    assert _refused(_client(fake), f"{header}.{payload}.") == "algorithm_refused"


def test_a_token_signed_with_the_client_secret_is_refused(fake: Fake) -> None:
    # HS256 keyed with the secret would let anyone holding it mint tokens: never accepted.
    token = jwt.encode({"alg": "HS256"}, _claims(fake), OctKey.import_key(SECRET * 3))
    assert _refused(_client(fake), token) == "algorithm_refused"


def test_garbage_is_refused(fake: Fake) -> None:
    assert _refused(_client(fake), "not.a.token") == "malformed_token"


def test_a_missing_subject_or_expiry_is_refused(fake: Fake) -> None:
    client = _client(fake)
    assert _refused(client, _sign(_claims(fake, sub=None), fake.keys[0])) == "claim_sub"
    assert _refused(client, _sign(_claims(fake, exp=None), fake.keys[0])) == "claim_exp"


def test_with_max_age_a_token_must_say_when_the_proof_was_given(fake: Fake) -> None:
    """A step-up's token without auth_time is refused (iat says only when the token was
    made), and so is one whose proof is older than max_age."""
    client = _client(fake)
    old_mfa = _claims(fake, auth_time=None, amr=["pwd", "mfa"], acr="urn:wayline:loa:2")
    with pytest.raises(SignInRefused) as refused:
        client.validate(_sign(old_mfa, fake.keys[0]), NONCE, max_age=600)
    assert refused.value.reason == "claim_auth_time"
    stale = _claims(fake, auth_time=int(time.time()) - 3600)
    with pytest.raises(SignInRefused) as refused:
        client.validate(_sign(stale, fake.keys[0]), NONCE, max_age=600)
    assert refused.value.reason == "claim_auth_time"
    assert client.validate(_sign(_claims(fake), fake.keys[0]), NONCE, max_age=600)["sub"] == "alex"
    # Without max_age (a first sign-in), a token may leave auth_time out.
    assert client.validate(_sign(old_mfa, fake.keys[0]), NONCE)["sub"] == "alex"


def test_a_new_key_is_found_by_fetching_the_jwks_again(fake: Fake) -> None:
    client = _client(fake)
    client.validate(_sign(_claims(fake), fake.keys[0]), NONCE)
    assert fake.jwks_fetches == 1
    new = _key("B")
    fake.keys = [new, fake.keys[0]]  # the provider rolls its keys: B signs, A still published
    assert client.validate(_sign(_claims(fake), new), NONCE)["sub"] == "alex"
    assert fake.jwks_fetches == 2
    client.validate(_sign(_claims(fake), new), NONCE)
    assert fake.jwks_fetches == 2  # kept once fetched


def test_an_unknown_key_refetches_at_most_once_in_thirty_seconds(fake: Fake) -> None:
    client = _client(fake)
    client.validate(_sign(_claims(fake), fake.keys[0]), NONCE)
    stranger = _key("X")
    assert _refused(client, _sign(_claims(fake), stranger)) == "unknown_key"
    assert fake.jwks_fetches == 2
    for _ in range(3):
        assert _refused(client, _sign(_claims(fake), stranger)) == "unknown_key"
    assert fake.jwks_fetches == 2


def test_a_token_naming_a_published_kid_but_signed_by_another_key_is_refused(
    fake: Fake,
) -> None:
    impostor = RSAKey.import_key(_key("X").as_dict(private=True) | {"kid": fake.keys[0].kid})
    assert _refused(_client(fake), _sign(_claims(fake), impostor)) == "bad_signature"


def test_a_bad_signature_by_a_known_key_does_not_use_up_the_refetch(fake: Fake) -> None:
    """A forged token names a key we hold: refused without fetching the keys again, so the
    throttled refetch is still there when the provider really rolls its keys."""
    client = _client(fake)
    header, payload, signature = _sign(_claims(fake), fake.keys[0]).split(".")
    forged_payload = base64.urlsafe_b64encode(b'{"sub":"sam"}').rstrip(b"=").decode()
    assert _refused(client, f"{header}.{forged_payload}.{signature}") == "bad_signature"
    assert fake.jwks_fetches == 1
    new = _key("B")
    fake.keys = [new, fake.keys[0]]
    assert client.validate(_sign(_claims(fake), new), NONCE)["sub"] == "alex"
    assert fake.jwks_fetches == 2


# --- discovery ------------------------------------------------------------------------------


def test_a_discovery_document_naming_another_issuer_is_refused(fake: Fake) -> None:
    fake.discovery_extra = {"issuer": "http://127.0.0.1:1"}
    with pytest.raises(ProviderUnavailable, match="another issuer"):
        _client(fake).metadata()


def test_a_provider_answering_garbage_is_unavailable(fake: Fake) -> None:
    fake.discovery_body = b"<html>maintenance</html>"
    with pytest.raises(ProviderUnavailable, match="not JSON"):
        _client(fake).metadata()


def test_a_provider_that_is_down_is_unavailable() -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_address[1]
    config = ProviderConfig(f"http://127.0.0.1:{port}", CLIENT_ID, SecretStr(SECRET), REDIRECT_URI)
    with pytest.raises(ProviderUnavailable, match="not reachable"):
        OidcClient(config).metadata()


def test_discovery_is_kept(fake: Fake) -> None:
    client = _client(fake)
    first = client.metadata()
    fake.discovery_extra = {"token_endpoint": f"{fake.issuer}/elsewhere"}
    assert client.metadata() is first


# --- the authorization request, the exchange, sign-out --------------------------------------


def test_the_authorization_url_carries_pkce_state_and_nonce(fake: Fake) -> None:
    verifier = "v" * 64
    url = _client(fake).authorization_url("the-state", NONCE, verifier)
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{fake.issuer}/auth"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert query == {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile",
        "state": "the-state",
        "nonce": NONCE,
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }


def test_a_step_up_asks_for_the_level_freshly(fake: Fake) -> None:
    url = _client(fake).authorization_url(
        "s", NONCE, "v" * 64, acr_values="urn:wayline:loa:2", max_age=300
    )
    query = parse_qs(urlsplit(url).query)
    assert query["acr_values"] == ["urn:wayline:loa:2"]
    assert query["max_age"] == ["300"]
    assert query["prompt"] == ["login"]


def test_the_exchange_sends_the_verifier_with_basic_auth(fake: Fake) -> None:
    fake.token_body = {"access_token": "at", "token_type": "Bearer", "id_token": "the.id.token"}
    assert _client(fake).exchange("the-code", "the-verifier") == "the.id.token"
    headers, form = fake.token_requests[-1]
    expected = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    assert headers["Authorization"] == f"Basic {expected}"
    assert form == {
        "grant_type": ["authorization_code"],
        "redirect_uri": [REDIRECT_URI],
        "code": ["the-code"],
        "code_verifier": ["the-verifier"],
    }


def test_an_exchange_the_provider_refuses_is_a_refusal(fake: Fake) -> None:
    fake.token_status, fake.token_body = 400, {"error": "invalid_grant"}
    with pytest.raises(SignInRefused) as refused:
        _client(fake).exchange("used-code", "v")
    assert refused.value.reason == "token_invalid_grant"


def test_a_token_response_without_an_id_token_is_a_refusal(fake: Fake) -> None:
    fake.token_body = {"access_token": "at", "token_type": "Bearer"}
    with pytest.raises(SignInRefused) as refused:
        _client(fake).exchange("code", "v")
    assert refused.value.reason == "no_id_token"


def test_a_failing_token_endpoint_is_unavailable(fake: Fake) -> None:
    fake.token_status, fake.token_body = 502, "<html>bad gateway</html>"
    with pytest.raises(ProviderUnavailable):
        _client(fake).exchange("code", "v")


def test_the_end_session_url_names_the_client_and_where_to_return(fake: Fake) -> None:
    url = _client(fake).end_session_url("http://127.0.0.1:9/signed-out")
    assert url is not None
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{fake.issuer}/session/end"
    assert parse_qs(parts.query) == {
        "client_id": [CLIENT_ID],
        "post_logout_redirect_uri": ["http://127.0.0.1:9/signed-out"],
    }
    fake.discovery_extra = {"end_session_endpoint": None}
    assert _client(fake).end_session_url("http://127.0.0.1:9/signed-out") is None
