"""From an ID token's checked claims to the principal a session speaks for (identity/sign_in.py):
the subject claim, staff roles by claim name or dotted path, a string or a list, the assurance
level from acr and amr, and the time of the proof. Also the sign-in links' step-up and `next`
(web/sign_in.py), which decide what is asked of the provider and where the browser lands."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from wayline.config import Settings
from wayline.identity.assurance import AssuranceLevels
from wayline.identity.principal import Kind, Principal
from wayline.identity.roles import Role
from wayline.identity.sign_in import (
    ClaimRules,
    SignInFailed,
    StepUpAsk,
    check_step_up,
    claim_at,
    principal_from,
    role_names,
)
from wayline.store.sign_ins import SignInRequestRow
from wayline.web.access import local_path, parse_ask

ISSUER = "https://login.example.com"
AUTH_TIME = 1_764_680_000
IAT = AUTH_TIME + 30


def _claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "sub": "f1c3-77",
        "iat": IAT,
        "auth_time": AUTH_TIME,
        "acr": "urn:wayline:loa:1",
        "amr": ["pwd"],
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def test_a_customer_is_the_subject_claims_value_with_level_and_time() -> None:
    rules = ClaimRules(subject_claim="customer_number")
    principal = principal_from(Kind.CUSTOMER, _claims(customer_number="alex"), rules, ISSUER)
    assert principal.subject == "alex"  # not `sub`: the claim that names their record
    assert principal.kind is Kind.CUSTOMER
    assert principal.roles == {Role.CUSTOMER}
    assert principal.assurance == 1
    assert principal.authenticated_at == datetime.fromtimestamp(AUTH_TIME, UTC)
    assert principal.issuer == ISSUER


def test_a_customer_without_the_subject_claim_is_refused() -> None:
    rules = ClaimRules(subject_claim="customer_number")
    with pytest.raises(SignInFailed) as failed:
        principal_from(Kind.CUSTOMER, _claims(), rules, ISSUER)
    assert failed.value.reason == "no_subject"


@pytest.mark.parametrize("value", ["", "   ", "x" * 101, ["alex"], True, {"id": "alex"}])
def test_a_subject_that_is_not_a_usable_id_is_refused(value: Any) -> None:
    with pytest.raises(SignInFailed):
        principal_from(Kind.CUSTOMER, _claims(sub=value), ClaimRules(), ISSUER)


def test_a_numeric_customer_number_is_taken_as_text() -> None:
    principal = principal_from(Kind.CUSTOMER, _claims(sub=100042), ClaimRules(), ISSUER)
    assert principal.subject == "100042"


def test_the_time_of_proof_is_auth_time_else_iat() -> None:
    without = principal_from(Kind.CUSTOMER, _claims(auth_time=None), ClaimRules(), ISSUER)
    assert without.authenticated_at == datetime.fromtimestamp(IAT, UTC)


@pytest.mark.parametrize(
    ("acr", "amr", "level"),
    [
        ("urn:wayline:loa:1", ["pwd"], 1),
        ("urn:wayline:loa:2", ["pwd", "otp"], 2),
        (None, ["pwd", "mfa"], 2),  # Cognito sends no acr: amr shows the second factor
        ("gold", ["pwd"], 2),  # a provider's own name, mapped in the settings
        ("unheard-of", None, 1),
    ],
)
def test_the_level_comes_from_acr_and_amr(
    acr: str | None, amr: list[str] | None, level: int
) -> None:
    rules = ClaimRules(AssuranceLevels({"urn:wayline:loa:1": 1, "urn:wayline:loa:2": 2, "gold": 2}))
    principal = principal_from(Kind.CUSTOMER, _claims(acr=acr, amr=amr), rules, ISSUER)
    assert principal.assurance == level


def test_staff_get_the_wayline_roles_their_claim_names() -> None:
    claims = _claims(roles=["handler", "unknown-role", "customer"])
    principal = principal_from(Kind.STAFF, claims, ClaimRules(), ISSUER)
    assert principal.kind is Kind.STAFF
    assert principal.subject == "f1c3-77"
    assert principal.roles == {Role.HANDLER}  # unknown names and `customer` are dropped


def test_keycloak_roles_are_reached_by_a_dotted_path() -> None:
    claims = _claims(realm_access={"roles": ["senior_handler", "offline_access"]})
    rules = ClaimRules(roles_claim="realm_access.roles")
    assert principal_from(Kind.STAFF, claims, rules, ISSUER).roles == {Role.SENIOR_HANDLER}


def test_cognito_groups_and_a_space_separated_string_are_read() -> None:
    cognito = principal_from(
        Kind.STAFF,
        _claims(**{"cognito:groups": ["analyst"]}),
        ClaimRules(roles_claim="cognito:groups"),
        ISSUER,
    )
    assert cognito.roles == {Role.ANALYST}
    text = principal_from(Kind.STAFF, _claims(roles="auditor admin"), ClaimRules(), ISSUER)
    assert text.roles == {Role.AUDITOR, Role.ADMIN}


def test_a_claim_whose_name_has_dots_is_found_whole() -> None:
    claims = {"https://example.com/roles": ["handler"]}
    assert claim_at(claims, "https://example.com/roles") == ["handler"]
    assert claim_at({"a": {"b": 1}}, "a.c") is None
    assert claim_at({"a": "text"}, "a.b") is None


@pytest.mark.parametrize(
    ("value", "names"),
    [
        (["a", "b"], ["a", "b"]),
        ("a, b  c", ["a", "b", "c"]),
        (["a", 3, None], ["a"]),
        (7, []),
        (None, []),
    ],
)
def test_role_names_from_any_shape(value: Any, names: list[str]) -> None:
    assert role_names(value) == names


def test_staff_with_no_known_role_are_refused_and_named() -> None:
    with pytest.raises(SignInFailed) as failed:
        principal_from(Kind.STAFF, _claims(roles=["viewer"]), ClaimRules(), ISSUER)
    assert failed.value.reason == "no_role"
    assert failed.value.actor is not None and failed.value.actor.subject == "f1c3-77"


# --- the sign-in link --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "max_age", "expected"),
    [
        (None, None, (True, None)),
        ("2", "300", (True, StepUpAsk(2, 300))),
        ("2", None, (True, StepUpAsk(2, None))),
        (None, "60", (True, StepUpAsk(1, 60))),
        ("3", "300", (False, None)),  # above any level the provider names
        ("0", None, (False, None)),
        ("two", None, (False, None)),
        ("2", "0", (False, None)),
        ("2", "-5", (False, None)),
        ("2", "99999999999", (False, None)),
        ("２", None, (False, None)),  # a full-width digit is not a number here
    ],
)
def test_a_step_up_link_is_read_strictly(
    level: str | None, max_age: str | None, expected: tuple[bool, StepUpAsk | None]
) -> None:
    assert parse_ask(level, max_age, top_level=2) == expected


@pytest.mark.parametrize(
    ("target", "landing"),
    [
        ("/journeys/abc/steps/payout?change=1", "/journeys/abc/steps/payout?change=1"),
        (None, "/journeys"),
        ("https://evil.example/", "/journeys"),
        ("//evil.example/", "/journeys"),
        ("/\\evil.example", "/journeys"),
        ("/a\nb", "/journeys"),
        ("/" + "x" * 2000, "/journeys"),
    ],
)
def test_only_a_local_path_is_followed(target: str | None, landing: str) -> None:
    assert local_path(target, "/journeys") == landing


# --- the settings ------------------------------------------------------------------------


def test_half_a_provider_refuses_to_start() -> None:
    with pytest.raises(ValidationError, match="WAYLINE_OIDC_CLIENT_SECRET"):
        Settings(oidc_issuer=ISSUER, oidc_client_id="wayline")
    with pytest.raises(ValidationError, match="WAYLINE_STAFF_OIDC_ISSUER"):
        Settings(staff_oidc_client_id="wayline", staff_oidc_client_secret="s")


def test_the_secret_never_shows_in_the_settings() -> None:
    settings = Settings(oidc_issuer=ISSUER, oidc_client_id="w", oidc_client_secret="hunter2-x")
    assert "hunter2-x" not in repr(settings)
    assert "hunter2-x" not in str(settings.model_dump())


def test_acr_levels_come_from_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLINE_OIDC_ACR_LEVELS", '{"silver": 1, "gold": 2}')
    assert Settings().oidc_acr_levels == {"silver": 1, "gold": 2}
    monkeypatch.setenv("WAYLINE_OIDC_ACR_LEVELS", '{"lead": 0}')
    with pytest.raises(ValidationError, match="from 1 up"):
        Settings()


# --- a step-up's answer ----------------------------------------------------------------------


def _request(step_up_level: int | None) -> SignInRequestRow:
    began = datetime.fromtimestamp(AUTH_TIME, UTC)
    return SignInRequestRow(
        "id", "browser", "customer", "nonce", "verifier", "/next", step_up_level, began, began
    )


def _proved(level: int, seconds_after_request: int) -> Principal:
    at = datetime.fromtimestamp(AUTH_TIME + seconds_after_request, UTC)
    return Principal.customer("alex", level, at, ISSUER)


def test_a_step_up_answered_at_the_level_freshly_passes() -> None:
    check_step_up(_request(2), _proved(2, 5), leeway=60)
    check_step_up(_request(2), _proved(2, -30), leeway=60)  # clock skew within the leeway
    check_step_up(_request(None), _proved(1, -9999), leeway=60)  # not a step-up: no demands


@pytest.mark.parametrize(
    "principal",
    [_proved(1, 5), _proved(2, -3600)],  # too weak; proved long before it was asked
)
def test_a_step_up_answered_weakly_or_from_an_old_proof_is_refused(principal: Principal) -> None:
    with pytest.raises(SignInFailed) as failed:
        check_step_up(_request(2), principal, leeway=60)
    assert (failed.value.reason, failed.value.step_up) == ("step_up_not_met", True)
    assert failed.value.actor == principal
