"""Wayline's client at one OpenID Connect provider: discovery, the authorization request,
the token exchange and the ID token's checks (decision 0010: Authlib, with joserfc for JOSE).

- Discovery reads `<issuer>/.well-known/openid-configuration` once an hour at most, checks it
  with Authlib's metadata validators, and refuses a document naming another issuer.
- The authorization request is the code flow with PKCE (S256), `state` and `nonce`; a step-up
  adds `acr_values`, `max_age` and `prompt=login`, which make the provider ask again.
- The code is exchanged at the token endpoint with `client_secret_basic` and the verifier.
- The ID token's signature is checked against the provider's JWKS (kept; fetched again, at most
  once every 30 seconds, when a token names an unknown key or its signature fails: a key
  rollover), with an algorithm the provider advertises and never `none` or a shared-secret one;
  then its claims with Authlib's ID token rules over joserfc's registry: `iss`, `aud` (and `azp`
  when several audiences), `exp`, `iat`, `nonce`, `auth_time` when `max_age` was sent.

A provider that cannot be reached or answers what OpenID Connect does not is `ProviderUnavailable`
(nothing changed; try again); a token or answer that fails a check is `SignInRefused` with a
short reason code for the audit log. Neither message ever holds a token, code or secret.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core.claims import CodeIDToken
from authlib.oidc.discovery import OpenIDProviderMetadata, get_well_known_url
from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import KeySet
from pydantic import SecretStr

from wayline.errors import Unavailable, WaylineError

# Signatures by the provider's published keys only: `none` proves nothing, and an HMAC one
# would be keyed with the client secret, which is not what the JWKS holds.
PUBLIC_KEY_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
DISCOVERY_LIFETIME = 3600.0  # seconds a discovery document is kept
JWKS_REFETCH_EVERY = 30.0  # the least time between two fetches of the JWKS
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_DOCUMENT_BYTES = 512 * 1024
TOKEN_REQUEST_HEADERS = {
    "Content-Type": "application/x-www-form-urlencoded",
    "Accept": "application/json",
}  # a discovery document or JWKS is a few kilobytes


class ProviderUnavailable(Unavailable):
    """The identity provider could not be reached, or answered what OpenID Connect does not."""


class SignInRefused(WaylineError):
    """The provider's answer failed a check. `reason` is a short code for the audit log."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ProviderConfig:
    """One client at one provider. The secret stays a SecretStr until the token request."""

    issuer: str
    client_id: str
    client_secret: SecretStr
    redirect_uri: str
    scopes: str = "openid profile"
    leeway: int = 60


@dataclass(frozen=True)
class Metadata:
    """What Wayline uses of a provider's discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None
    algorithms: frozenset[str]


@dataclass
class _Kept:
    """A cached document and when it was fetched (monotonic seconds)."""

    value: Any = None
    at: float = field(default=float("-inf"))


class OidcClient:
    """The client for one provider; safe to share between threads (its caches are locked)."""

    def __init__(
        self,
        config: ProviderConfig,
        http: httpx.Client | None = None,
        now: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.config = config
        self._http = http or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
        self._now = now
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._metadata = _Kept()
        self._jwks = _Kept()
        self._refreshed_at = float("-inf")  # the last refresh a token asked for

    # --- discovery and keys -------------------------------------------------------------

    def metadata(self) -> Metadata:
        """The provider's discovery document, fetched at most once an hour."""
        with self._lock:
            if self._monotonic() - self._metadata.at < DISCOVERY_LIFETIME:
                kept: Metadata = self._metadata.value
                return kept
        fetched = self._discover()
        with self._lock:
            self._metadata = _Kept(fetched, self._monotonic())
        return fetched

    def _discover(self) -> Metadata:
        url = get_well_known_url(self.config.issuer, external=True)
        document = OpenIDProviderMetadata(self._get_json(url))
        try:
            document.validate()
        except ValueError as error:
            raise ProviderUnavailable(f"discovery document not valid: {error}") from None
        if document["issuer"] != self.config.issuer:
            raise ProviderUnavailable("discovery document names another issuer")
        end_session = document.get("end_session_endpoint")
        advertised = document.get("id_token_signing_alg_values_supported") or []
        return Metadata(
            issuer=document["issuer"],
            authorization_endpoint=_required_url(document, "authorization_endpoint"),
            token_endpoint=_required_url(document, "token_endpoint"),
            jwks_uri=_required_url(document, "jwks_uri"),
            end_session_endpoint=end_session if isinstance(end_session, str) else None,
            algorithms=frozenset(a for a in advertised if a in PUBLIC_KEY_ALGORITHMS),
        )

    def _keys(self, refresh: bool = False) -> KeySet:
        """The provider's signing keys: kept once fetched. `refresh` (a token named a key not
        kept, or its signature failed) fetches them again, unless another refresh did so less
        than JWKS_REFETCH_EVERY ago: a stream of forged tokens naming made-up keys cannot make
        Wayline hammer the provider."""
        with self._lock:
            kept: KeySet | None = self._jwks.value
            now = self._monotonic()
            if kept is not None and (not refresh or now - self._refreshed_at < JWKS_REFETCH_EVERY):
                return kept
            if refresh:
                self._refreshed_at = now
        document = self._get_json(self.metadata().jwks_uri)
        try:
            # A JSON object typed as KeySetSerialization: import_key_set checks its shape.
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise ProviderUnavailable(f"JWKS not valid: {type(error).__name__}") from None
        with self._lock:
            self._jwks = _Kept(keys, self._monotonic())
        return keys

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            answer = self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise ProviderUnavailable(f"provider not reachable: {type(error).__name__}") from None
        if answer.status_code != 200 or len(answer.content) > MAX_DOCUMENT_BYTES:
            raise ProviderUnavailable(f"provider answered {answer.status_code} for {url}")
        try:
            document = answer.json()
        except ValueError:
            raise ProviderUnavailable(f"provider answered what is not JSON for {url}") from None
        if not isinstance(document, dict):
            raise ProviderUnavailable(f"provider answered what is not a JSON object for {url}")
        return document

    # --- the code flow ---------------------------------------------------------------------

    def authorization_url(
        self,
        state: str,
        nonce: str,
        code_verifier: str,
        acr_values: str | None = None,
        max_age: int | None = None,
    ) -> str:
        """Where to send the browser: the authorization endpoint with the code flow's
        parameters; with `acr_values` or `max_age` (a step-up), `prompt=login` too."""
        extra: dict[str, Any] = {"nonce": nonce}
        if acr_values:
            extra["acr_values"] = acr_values
        if max_age is not None:
            extra["max_age"] = max_age
        if acr_values or max_age is not None:
            extra["prompt"] = "login"
        url = prepare_grant_uri(
            self.metadata().authorization_endpoint,
            client_id=self.config.client_id,
            response_type="code",
            redirect_uri=self.config.redirect_uri,
            scope=self.config.scopes,
            state=state,
            code_challenge=create_s256_code_challenge(code_verifier),
            code_challenge_method="S256",
            **extra,
        )
        return str(url)

    def exchange(self, code: str, code_verifier: str) -> str:
        """The ID token the token endpoint gives for `code` (client_secret_basic, PKCE)."""
        endpoint = self.metadata().token_endpoint
        body = prepare_token_request(
            "authorization_code",
            redirect_uri=self.config.redirect_uri,
            code=code,
            code_verifier=code_verifier,
        )
        secret = self.config.client_secret.get_secret_value()
        _, headers, body = ClientAuth(self.config.client_id, secret, "client_secret_basic").prepare(
            "POST", endpoint, dict(TOKEN_REQUEST_HEADERS), body
        )
        try:
            answer = self._http.post(endpoint, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise ProviderUnavailable(f"token endpoint failed: {type(error).__name__}") from None
        return _id_token(answer)

    # --- the ID token ----------------------------------------------------------------------

    def validate(self, id_token: str, nonce: str, max_age: int | None = None) -> dict[str, Any]:
        """The claims of `id_token` once its signature and claims pass every check; raises
        SignInRefused with the reason otherwise."""
        metadata = self.metadata()
        token = self._verified(id_token, metadata)
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": metadata.issuer},
            "aud": {"essential": True, "value": self.config.client_id},
            "sub": {"essential": True},
        }
        params: dict[str, Any] = {"nonce": nonce, "client_id": self.config.client_id}
        if max_age is not None:
            params["max_age"] = max_age
        claims = CodeIDToken(token.claims, token.header, options=options, params=params)
        try:
            claims.validate(now=int(self._now()), leeway=self.config.leeway)
        except ExpiredTokenError:
            raise SignInRefused("token_expired") from None
        except (InvalidClaimError, MissingClaimError) as error:
            raise SignInRefused(f"claim_{reason_code(error.claim)}") from None
        if max_age is not None:
            # Authlib makes auth_time essential with max_age but does not check its age.
            proved_at = float(token.claims["auth_time"])
            if proved_at + max_age + self.config.leeway < self._now():
                raise SignInRefused("claim_auth_time")
        return dict(token.claims)

    def _verified(self, id_token: str, metadata: Metadata) -> jwt.Token:
        """The token, once signed by one of the provider's keys. A key id we do not know, or a
        bad signature on a token that names no key, makes us fetch the JWKS again once (the
        provider may have rolled its keys). A bad signature by a key we know is refused
        outright: it says nothing of rollover, and must not use up the throttled refetch that
        a real rollover needs."""
        algorithms = sorted(metadata.algorithms)
        if not algorithms:
            raise ProviderUnavailable("provider advertises no public-key ID token algorithm")
        try:
            return self._decode(id_token, self._keys(), algorithms)
        except InvalidKeyIdError:
            pass
        except BadSignatureError:
            if _names_a_key(id_token):
                raise SignInRefused("bad_signature") from None
        try:
            return self._decode(id_token, self._keys(refresh=True), algorithms)
        except InvalidKeyIdError:
            raise SignInRefused("unknown_key") from None
        except BadSignatureError:
            raise SignInRefused("bad_signature") from None

    @staticmethod
    def _decode(id_token: str, keys: KeySet, algorithms: list[str]) -> jwt.Token:
        try:
            return jwt.decode(id_token, keys, algorithms=algorithms)
        except (InvalidKeyIdError, BadSignatureError):
            raise
        except UnsupportedAlgorithmError:
            raise SignInRefused("algorithm_refused") from None
        except (JoseError, ValueError, TypeError):
            raise SignInRefused("malformed_token") from None

    # --- sign-out --------------------------------------------------------------------------

    def end_session_url(self, post_logout_redirect_uri: str) -> str | None:
        """Where to send the browser to end its session at the provider too (RP-initiated
        logout), or None when the provider advertises no end_session_endpoint."""
        endpoint = self.metadata().end_session_endpoint
        if endpoint is None:
            return None
        query = httpx.QueryParams(
            client_id=self.config.client_id, post_logout_redirect_uri=post_logout_redirect_uri
        )
        return str(httpx.URL(endpoint).copy_merge_params(query))


def _names_a_key(id_token: str) -> bool:
    """Whether the token's header names its signing key (`kid`); an unreadable header names
    none (decoding has already refused anything malformed)."""
    try:
        headers = jws.extract_compact(id_token.encode("ascii")).headers()
    except (JoseError, ValueError, UnicodeError):
        return False
    return isinstance(headers.get("kid"), str)


def _id_token(answer: httpx.Response) -> str:
    """The ID token of a token response. An OAuth error (a code used twice, a wrong secret) is
    a refusal; what is not a token response at all is the provider failing."""
    try:
        document = answer.json()
    except ValueError:
        document = None
    if not isinstance(document, dict) or answer.status_code >= 500:
        raise ProviderUnavailable(f"token endpoint answered {answer.status_code}")
    if "error" in document:
        raise SignInRefused(f"token_{reason_code(document['error'])}")
    if answer.status_code != 200:
        raise ProviderUnavailable(f"token endpoint answered {answer.status_code}")
    id_token = document.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise SignInRefused("no_id_token")
    return id_token


def _required_url(document: Mapping[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise ProviderUnavailable(f"discovery document has no {name}")
    return value


def reason_code(text: object) -> str:
    """A short, safe reason code from a name a provider or library gave (an error code, a
    claim name; never a message, which may quote what was sent)."""
    word = str(text or "unknown")[:40]
    return "".join(c if c.isalnum() or c == "_" else "_" for c in word.lower())
