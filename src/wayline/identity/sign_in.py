"""Signing in through an identity provider: begin (remember the request, say where to send the
browser) and finish (check the callback against what was remembered, exchange the code, check
the ID token, and say who signed in). The web layer sets cookies, starts the session and writes
the audit entries; this module holds the rules.

A request in flight is kept server-side (store/sign_ins.py) under the SHA-256 of its `state`,
bound to the browser that began it by the SHA-256 of a random value in a short-lived cookie, for
ten minutes, and used once: the callback deletes it as it reads it, so a replayed callback, a
callback in another browser and a late one are all refused.

Who signed in comes from the ID token's claims: a customer is the value of the subject claim
(`WAYLINE_OIDC_SUBJECT_CLAIM`: their id in the systems of record); a member of staff is `sub`
with the Wayline roles the roles claim names (`WAYLINE_OIDC_ROLES_CLAIM`), and is refused
without any. The assurance level comes from `acr` and `amr`, the time of the proof from
`auth_time` (else `iat`). A step-up that came back weaker than asked, or not freshly proved, is
refused rather than sent round again.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from wayline.config import Settings
from wayline.identity.assurance import SECOND_FACTOR, AssuranceLevels
from wayline.identity.oidc import (
    OidcClient,
    ProviderConfig,
    ProviderUnavailable,
    SignInRefused,
    reason_code,
)
from wayline.identity.principal import Kind, Principal
from wayline.identity.roles import staff_roles
from wayline.runtime.clock import Clock
from wayline.store import Store
from wayline.store import sign_ins as sign_in_store
from wayline.store.sign_ins import SignInRequestRow

REQUEST_LIFETIME = timedelta(minutes=10)
SIGNED_OUT_PATH = "/signed-out"  # where a provider returns the browser after its sign-out
# What secrets.token_urlsafe(32) makes: `state` and the binding cookie. Anything else is not
# ours and never reaches the store.
RANDOM_FORMAT = re.compile(r"^[A-Za-z0-9_-]{43}$")
MAX_SUBJECT = 100  # the sessions table's subject column


class SignInFailed(Exception):
    """A sign-in that cannot finish. `reason` is a short code for the audit log; `actor` is
    who signed in at the provider when that is known (a staff member with no role), else None;
    `step_up` says whether it was a step-up that fell short."""

    def __init__(
        self,
        reason: str,
        kind: Kind | None = None,
        actor: Principal | None = None,
        step_up: bool = False,
    ):
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.actor = actor
        self.step_up = step_up


@dataclass(frozen=True)
class ClaimRules:
    """How claims become a principal (the settings say which claims)."""

    levels: AssuranceLevels = AssuranceLevels()
    subject_claim: str = "sub"
    roles_claim: str = "roles"


@dataclass(frozen=True)
class StepUpAsk:
    """A sign-in that must prove at least `level`, given within `max_age` seconds."""

    level: int
    max_age: int | None = None


@dataclass(frozen=True)
class Finished:
    """A sign-in the provider vouched for and every check passed."""

    principal: Principal
    return_to: str
    step_up_level: int | None


def new_random() -> str:
    """A fresh random value (256 bits) for `state`, `nonce` or the binding cookie."""
    return secrets.token_urlsafe(32)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("ascii")).hexdigest()


class SignInService:
    """Begins and finishes sign-ins at each kind's provider. Stateless between calls: any
    replica can finish what another began."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        providers: Mapping[Kind, OidcClient],
        rules: ClaimRules = ClaimRules(),
    ):
        self._store = store
        self._clock = clock
        self._providers = dict(providers)
        self.rules = rules

    def serves(self, kind: Kind) -> bool:
        return kind in self._providers

    @property
    def top_level(self) -> int:
        """The highest level a sign-in can be asked for: the highest the provider names in
        `acr`, or a second factor, which `amr` alone can show."""
        return max([SECOND_FACTOR, *self.rules.levels.acr_levels.values()])

    def begin(self, kind: Kind, browser: str, return_to: str, ask: StepUpAsk | None) -> str:
        """Remember a new authorization request for the browser holding `browser` (the binding
        cookie's value) and return the provider URL to send it to. Raises ProviderUnavailable
        when the provider cannot say where that is (nothing is stored then)."""
        client = self._providers[kind]
        state, nonce, verifier = new_random(), new_random(), secrets.token_urlsafe(64)
        url = client.authorization_url(
            state,
            nonce,
            verifier,
            acr_values=self.rules.levels.acr_values(ask.level) if ask else None,
            max_age=ask.max_age if ask else None,
        )
        now = self._clock.now()
        row = SignInRequestRow(
            id=digest(state),
            browser=digest(browser),
            kind=kind.value,
            nonce=nonce,
            code_verifier=verifier,
            return_to=return_to,
            step_up_level=ask.level if ask else None,
            created_at=now,
            expires_at=now + REQUEST_LIFETIME,
        )
        with self._store.write() as connection:
            sign_in_store.insert_request(connection, row)
        return url

    def finish(
        self, state: str | None, code: str | None, error: str | None, browser: str | None
    ) -> Finished:
        """Check a callback and say who signed in. Raises SignInFailed (with the reason) for
        anything amiss, and ProviderUnavailable when the provider could not answer."""
        row = self._take(state)
        kind = Kind(row.kind)
        if browser is None or not hmac.compare_digest(row.browser, digest(browser)):
            raise SignInFailed("browser_mismatch", kind)
        if self._clock.now() >= row.expires_at:
            raise SignInFailed("request_expired", kind)
        if error is not None:
            raise SignInFailed(f"provider_{reason_code(error)}", kind)
        if not code:
            raise SignInFailed("missing_code", kind)
        client = self._providers.get(kind)
        if client is None:
            raise SignInFailed("provider_not_configured", kind)
        claims = self._claims(client, code, row, kind)
        principal = principal_from(kind, claims, self.rules, client.config.issuer)
        check_step_up(row, principal, client.config.leeway)
        return Finished(principal, row.return_to, row.step_up_level)

    def _take(self, state: str | None) -> SignInRequestRow:
        if state is None:
            raise SignInFailed("missing_state")
        if not RANDOM_FORMAT.match(state):
            raise SignInFailed("unknown_state")
        with self._store.write() as connection:
            row = sign_in_store.take_request(connection, digest(state))
        if row is None:
            raise SignInFailed("unknown_state")  # never made, used already, or purged
        return row

    @staticmethod
    def _claims(client: OidcClient, code: str, row: SignInRequestRow, kind: Kind) -> dict[str, Any]:
        # A step-up asked for a fresh proof: the token must then say when it was given
        # (`auth_time`, essential once `max_age` is checked) and that it is no older than the
        # request; `iat` says only when the token was made, which a provider reusing its own
        # session does without asking anyone anything.
        max_age = int(REQUEST_LIFETIME.total_seconds()) if row.step_up_level else None
        try:
            id_token = client.exchange(code, row.code_verifier)
            return client.validate(id_token, row.nonce, max_age=max_age)
        except SignInRefused as refused:
            raise SignInFailed(refused.reason, kind) from None

    def end_session_url(self, principal: Principal, after: str) -> str | None:
        """Where to send the browser so that the provider ends its session too, then returns
        it to `after`: only for a session that provider began, and when it says how."""
        client = self._providers.get(principal.kind)
        if client is None or principal.issuer != client.config.issuer:
            return None
        try:
            return client.end_session_url(after)
        except ProviderUnavailable:
            return None

    def purge(self) -> int:
        """Forget requests whose ten minutes have passed (`wayline sessions purge`)."""
        with self._store.write() as connection:
            return sign_in_store.delete_expired(connection, self._clock.now())


def after_sign_out(
    service: SignInService | None, principal: Principal | None, public_url: str
) -> str:
    """Where a page sends the browser once Wayline's session has ended: on to the provider
    that began the session, to end its session too and come back to SIGNED_OUT_PATH, when it
    says how; otherwise home. Ask before ending the session (it needs `principal`)."""
    if service is None or principal is None:
        return "/"
    after = public_url.rstrip("/") + SIGNED_OUT_PATH
    return service.end_session_url(principal, after) or "/"


def from_settings(
    settings: Settings, store: Store, clock: Clock, redirect_uri: str
) -> SignInService | None:
    """The sign-in service for the providers the settings name (config.py checked that each is
    whole), or None when none is named."""
    providers: dict[Kind, OidcClient] = {}
    for kind, issuer, client_id, secret in (
        (Kind.CUSTOMER, settings.oidc_issuer, settings.oidc_client_id, settings.oidc_client_secret),
        (
            Kind.STAFF,
            settings.staff_oidc_issuer,
            settings.staff_oidc_client_id,
            settings.staff_oidc_client_secret,
        ),
    ):
        if issuer and client_id and secret is not None:
            config = ProviderConfig(
                issuer,
                client_id,
                secret,
                redirect_uri,
                scopes=settings.oidc_scopes,
                leeway=settings.oidc_leeway_seconds,
            )
            providers[kind] = OidcClient(config, now=lambda: clock.now().timestamp())
    if not providers:
        return None
    rules = ClaimRules(
        AssuranceLevels(dict(settings.oidc_acr_levels)),
        subject_claim=settings.oidc_subject_claim,
        roles_claim=settings.oidc_roles_claim,
    )
    return SignInService(store, clock, providers, rules)


def check_step_up(row: SignInRequestRow, principal: Principal, leeway: int) -> None:
    """A step-up sent `prompt=login` (and `max_age`), so the provider had to prove the person
    anew, after the request began, at the level asked. Raises SignInFailed (`step_up`) if not:
    asking again would only loop."""
    if row.step_up_level is None:
        return
    fresh = principal.authenticated_at >= row.created_at - timedelta(seconds=leeway)
    if principal.assurance < row.step_up_level or not fresh:
        raise SignInFailed("step_up_not_met", Kind(row.kind), principal, step_up=True)


def principal_from(
    kind: Kind, claims: Mapping[str, Any], rules: ClaimRules, issuer: str
) -> Principal:
    """Who the checked claims say signed in. Raises SignInFailed without a usable subject, and
    for a member of staff without a Wayline role (`actor` then names them)."""
    level = rules.levels.level(claims.get("acr"), _methods(claims.get("amr")))
    proved_at = _moment(claims.get("auth_time")) or _moment(claims.get("iat"))
    if proved_at is None:
        raise SignInFailed("claim_iat", kind)
    if kind is Kind.CUSTOMER:
        subject = _subject(claim_at(claims, rules.subject_claim))
        if subject is None:
            raise SignInFailed("no_subject", kind)
        return Principal.customer(subject, level, proved_at, issuer)
    staff_id = _subject(claims.get("sub"))
    if staff_id is None:
        raise SignInFailed("no_subject", kind)
    roles = staff_roles(role_names(claim_at(claims, rules.roles_claim)))
    principal = Principal(staff_id, Kind.STAFF, roles, level, proved_at, issuer)
    if not roles:
        raise SignInFailed("no_role", kind, actor=principal)
    return principal


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by name, or by a dotted path into nested objects (`realm_access.roles`) when no
    claim has the whole name (names such as `https://example.com/roles` contain dots)."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def role_names(value: Any) -> list[str]:
    """Role names from a claim's value: a list of names, or one string of names separated by
    spaces or commas (Cognito's `cognito:groups` is a list; some providers send a string)."""
    if isinstance(value, str):
        return [name for name in re.split(r"[\s,]+", value) if name]
    if isinstance(value, list):
        return [name for name in value if isinstance(name, str)]
    return []


def _methods(amr: Any) -> list[object]:
    return list(amr) if isinstance(amr, list) else []


def _moment(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _subject(value: Any) -> str | None:
    """An id from a claim: a non-empty string (or a whole number, which some systems of
    record use) short enough to store."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_SUBJECT:
        return None
    return value
