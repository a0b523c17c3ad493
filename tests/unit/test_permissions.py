"""The permission table, decided for every permission and every role: written out here by hand
from the issue's description of each role, so that a change to the table has to be a change
to this test too. And the edges of a step-up's freshness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wayline.identity.assurance import PASSWORD, SECOND_FACTOR
from wayline.identity.permissions import TABLE, Decision, Permission, decide
from wayline.identity.principal import Kind, Principal
from wayline.identity.roles import Role

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
R = Role
HOLDERS: dict[Permission, set[Role]] = {
    Permission.SIGNED_IN: set(Role),
    Permission.OWN_JOURNEYS: {R.CUSTOMER, R.VISITOR},
    Permission.STAFF_AREA: set(Role) - {R.CUSTOMER, R.VISITOR},
    Permission.WORK_CASES: {R.HANDLER, R.SENIOR_HANDLER, R.FRAUD_INVESTIGATOR},
    Permission.APPROVE_OVER_LIMIT: {R.SENIOR_HANDLER},
    Permission.SEE_FRAUD_EVIDENCE: {R.FRAUD_INVESTIGATOR, R.SENIOR_HANDLER},
    Permission.READ_INSIGHTS: {R.ANALYST},
    Permission.READ_AUDIT_LOG: {R.AUDITOR},
    Permission.EXPORT_SUBJECT_DATA: {R.AUDITOR, R.ADMIN},
    Permission.REVOKE_SESSIONS: {R.ADMIN},
    Permission.ADMINISTER: {R.ADMIN},
}
# Sensitive: a second factor, given within the last five minutes.
STEPPED_UP = {
    Permission.APPROVE_OVER_LIMIT,
    Permission.ADMINISTER,
    Permission.EXPORT_SUBJECT_DATA,
}


def person(role: Role, level: int = SECOND_FACTOR, ago: timedelta = timedelta(0)) -> Principal:
    if role is Role.CUSTOMER:
        return Principal.customer("alex", level, NOW - ago, "demo")
    if role is Role.VISITOR:  # never signed in: assurance 0, whatever is asked
        return Principal.visitor("visitor-0123", NOW - ago)
    return Principal(f"staff-{role}", Kind.STAFF, frozenset({role}), level, NOW - ago, "demo")


def test_every_permission_is_in_the_table_and_written_out_here() -> None:
    assert set(TABLE) == set(Permission) == set(HOLDERS)


@pytest.mark.parametrize("permission", list(Permission), ids=str)
@pytest.mark.parametrize("role", list(Role), ids=str)
def test_a_fresh_strong_sign_in_is_allowed_exactly_what_its_role_holds(
    permission: Permission, role: Role
) -> None:
    expected = Decision.ALLOW if role in HOLDERS[permission] else Decision.DENY
    assert decide(person(role), permission, NOW) is expected


@pytest.mark.parametrize("permission", list(Permission), ids=str)
@pytest.mark.parametrize("role", list(Role), ids=str)
def test_a_password_alone_is_asked_to_step_up_only_for_sensitive_permissions(
    permission: Permission, role: Role
) -> None:
    decision = decide(person(role, PASSWORD), permission, NOW)
    if role not in HOLDERS[permission]:
        assert decision is Decision.DENY  # no step-up makes a role appear
    elif permission in STEPPED_UP:
        assert decision is Decision.STEP_UP
    else:
        assert decision is Decision.ALLOW


@pytest.mark.parametrize("permission", list(Permission), ids=str)
def test_nobody_is_asked_to_sign_in(permission: Permission) -> None:
    assert decide(None, permission, NOW) is Decision.SIGN_IN


def test_several_roles_hold_what_any_of_them_holds() -> None:
    both = Principal(
        "morgan", Kind.STAFF, frozenset({Role.HANDLER, Role.AUDITOR}), SECOND_FACTOR, NOW, "demo"
    )
    assert decide(both, Permission.WORK_CASES, NOW) is Decision.ALLOW
    assert decide(both, Permission.READ_AUDIT_LOG, NOW) is Decision.ALLOW
    assert decide(both, Permission.ADMINISTER, NOW) is Decision.DENY


@pytest.mark.parametrize(
    ("ago", "expected"),
    [
        (timedelta(0), Decision.ALLOW),
        (timedelta(minutes=4, seconds=59), Decision.ALLOW),
        (timedelta(minutes=5), Decision.ALLOW),  # `within` is inclusive
        (timedelta(minutes=5, microseconds=1), Decision.STEP_UP),
        (timedelta(hours=3), Decision.STEP_UP),
        (-timedelta(seconds=30), Decision.ALLOW),  # a provider's clock a little ahead
    ],
    ids=["now", "4m59s", "5m", "5m+1us", "3h", "30s-ahead"],
)
def test_a_step_up_is_fresh_for_five_minutes(ago: timedelta, expected: Decision) -> None:
    senior = person(Role.SENIOR_HANDLER, SECOND_FACTOR, ago)
    assert decide(senior, Permission.APPROVE_OVER_LIMIT, NOW) is expected


def test_a_level_above_the_one_asked_for_counts() -> None:
    admin = person(Role.ADMIN, SECOND_FACTOR + 1)
    assert decide(admin, Permission.ADMINISTER, NOW) is Decision.ALLOW


def test_freshness_alone_is_not_enough_without_the_level() -> None:
    admin = person(Role.ADMIN, PASSWORD, timedelta(0))
    assert decide(admin, Permission.ADMINISTER, NOW) is Decision.STEP_UP
