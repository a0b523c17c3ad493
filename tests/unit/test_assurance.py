"""Assurance levels from a provider's `acr` and `amr` claims (known, unknown and malformed
values), the `acr_values` asked for a level, and what a step-up rule accepts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wayline.identity.assurance import (
    PASSWORD,
    SECOND_FACTOR,
    AssuranceLevels,
    StepUp,
)
from wayline.identity.principal import Principal

LEVELS = AssuranceLevels()
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("acr", "amr", "level"),
    [
        ("urn:wayline:loa:1", ["pwd"], PASSWORD),
        ("urn:wayline:loa:2", ["pwd", "otp"], SECOND_FACTOR),
        ("urn:wayline:loa:2", [], SECOND_FACTOR),  # acr alone is enough
        (None, ["pwd", "mfa"], SECOND_FACTOR),  # Cognito: no acr, amr says mfa
        (None, ["otp"], SECOND_FACTOR),
        (None, ["hwk"], SECOND_FACTOR),
        ("urn:wayline:loa:1", ["pwd", "sms"], SECOND_FACTOR),  # the higher of the two
        (None, ["pwd"], PASSWORD),
        (None, [], PASSWORD),  # says nothing of itself: a password
        ("urn:someone-else:gold", ["pwd"], PASSWORD),  # a name we do not know
        ("URN:WAYLINE:LOA:2", [], PASSWORD),  # names are exact
        (2, [], PASSWORD),  # not a string
        (["urn:wayline:loa:2"], [], PASSWORD),
        (None, ["MFA"], PASSWORD),  # RFC 8176 values are lower case
        (None, [None, 3, {"otp": True}], PASSWORD),  # junk in amr is ignored
    ],
)
def test_the_level_is_the_higher_of_what_acr_and_amr_show(
    acr: object, amr: list[object], level: int
) -> None:
    assert LEVELS.level(acr, amr) == level


def test_amr_sent_as_one_string_never_raises_the_level() -> None:
    """RFC 8176 makes amr a list; a provider that sends "mfa" as a bare string is not read as
    having used a second factor (its letters are no methods)."""
    assert LEVELS.level(None, "mfa") == PASSWORD
    assert LEVELS.level(None, "otp") == PASSWORD


def test_a_provider_s_own_names_are_configured() -> None:
    keycloak = AssuranceLevels({"silver": 1, "gold": 2})
    assert keycloak.level("gold") == 2
    assert keycloak.level("silver") == 1
    assert keycloak.level("urn:wayline:loa:2") == PASSWORD  # not this provider's name
    assert keycloak.acr_values(2) == "gold"
    assert keycloak.acr_values(1) == "silver gold"


def test_acr_values_name_every_level_at_or_above_weakest_first() -> None:
    assert LEVELS.acr_values(SECOND_FACTOR) == "urn:wayline:loa:2"
    assert LEVELS.acr_values(PASSWORD) == "urn:wayline:loa:1 urn:wayline:loa:2"
    assert LEVELS.acr_values(3) == ""


def test_a_step_up_rule_is_a_level_and_a_positive_window() -> None:
    rule = StepUp(SECOND_FACTOR, timedelta(minutes=5))
    assert rule.max_age == 300
    assert StepUp(1, timedelta(seconds=90.9)).max_age == 90
    with pytest.raises(ValueError):
        StepUp(0, timedelta(minutes=5))
    with pytest.raises(ValueError):
        StepUp(SECOND_FACTOR, timedelta(0))
    with pytest.raises(ValueError):
        StepUp(SECOND_FACTOR, -timedelta(minutes=1))


@pytest.mark.parametrize(
    ("level", "ago", "met"),
    [
        (SECOND_FACTOR, timedelta(minutes=5), True),
        (SECOND_FACTOR, timedelta(minutes=5, seconds=1), False),
        (PASSWORD, timedelta(0), False),
        (SECOND_FACTOR + 1, timedelta(seconds=1), True),
    ],
)
def test_a_step_up_is_met_by_the_level_given_recently_enough(
    level: int, ago: timedelta, met: bool
) -> None:
    rule = StepUp(SECOND_FACTOR, timedelta(minutes=5))
    person = Principal.customer("alex", level, NOW - ago, "demo")
    assert rule.met_by(person, NOW) is met
