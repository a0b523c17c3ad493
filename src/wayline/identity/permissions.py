"""Who may do what: every permission Wayline checks, the roles that hold it and, for the
sensitive ones, the step-up it asks for. This table is the one place access is declared; every
route names one of these (web/access.py), and a route that names none is refused.

Customers' permissions cover their own data only: which journey is theirs is checked where the
journey is read (another customer's journey is "not found", never "forbidden").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from wayline.identity.assurance import SECOND_FACTOR, StepUp
from wayline.identity.principal import Principal
from wayline.identity.roles import STAFF_ROLES, Role


class Permission(StrEnum):
    SIGNED_IN = "signed_in"  # who am I, sign out
    OWN_JOURNEYS = "own_journeys"  # start, answer, send and read one's own journeys
    STAFF_AREA = "staff_area"  # the staff home
    WORK_CASES = "work_cases"  # queues, case views, claim, decide, ask for information
    APPROVE_OVER_LIMIT = "approve_over_limit"  # the second pair of eyes on a large payout
    SEE_FRAUD_EVIDENCE = "see_fraud_evidence"  # bureau markers, photo reuse matches
    READ_INSIGHTS = "read_insights"  # aggregates without personal data
    READ_AUDIT_LOG = "read_audit_log"
    EXPORT_SUBJECT_DATA = "export_subject_data"  # everything kept of a person, opened
    REVOKE_SESSIONS = "revoke_sessions"
    ADMINISTER = "administer"  # releases, configuration


@dataclass(frozen=True)
class Grant:
    roles: frozenset[Role]
    step_up: StepUp | None = None


_FIVE_MINUTES = timedelta(minutes=5)
_CASE_WORKERS = frozenset({Role.HANDLER, Role.SENIOR_HANDLER, Role.FRAUD_INVESTIGATOR})

TABLE: dict[Permission, Grant] = {
    Permission.SIGNED_IN: Grant(frozenset(Role)),
    # Visitors own the journeys they started without signing in (`who: anyone`) and only
    # those: starting any other journey is refused by the start command.
    Permission.OWN_JOURNEYS: Grant(frozenset({Role.CUSTOMER, Role.VISITOR})),
    Permission.STAFF_AREA: Grant(STAFF_ROLES),
    Permission.WORK_CASES: Grant(_CASE_WORKERS),
    Permission.APPROVE_OVER_LIMIT: Grant(
        frozenset({Role.SENIOR_HANDLER}), StepUp(SECOND_FACTOR, _FIVE_MINUTES)
    ),
    Permission.SEE_FRAUD_EVIDENCE: Grant(frozenset({Role.FRAUD_INVESTIGATOR, Role.SENIOR_HANDLER})),
    Permission.READ_INSIGHTS: Grant(frozenset({Role.ANALYST})),
    Permission.READ_AUDIT_LOG: Grant(frozenset({Role.AUDITOR})),
    Permission.EXPORT_SUBJECT_DATA: Grant(
        frozenset({Role.AUDITOR, Role.ADMIN}), StepUp(SECOND_FACTOR, _FIVE_MINUTES)
    ),
    Permission.REVOKE_SESSIONS: Grant(frozenset({Role.ADMIN})),
    Permission.ADMINISTER: Grant(frozenset({Role.ADMIN}), StepUp(SECOND_FACTOR, _FIVE_MINUTES)),
}


class Decision(StrEnum):
    ALLOW = "allow"
    SIGN_IN = "sign_in"  # nobody is signed in
    DENY = "deny"  # signed in, without a role that holds the permission
    STEP_UP = "step_up"  # the role is there; the sign-in is too weak or too old


def decide(principal: Principal | None, permission: Permission, now: datetime) -> Decision:
    """Whether `principal` may use `permission` now. Pure; a permission missing from the table
    is a programming error (KeyError), caught by the tests that walk every route."""
    grant = TABLE[permission]
    if principal is None:
        return Decision.SIGN_IN
    if not principal.has_any(grant.roles):
        return Decision.DENY
    if grant.step_up is not None and not grant.step_up.met_by(principal, now):
        return Decision.STEP_UP
    return Decision.ALLOW
