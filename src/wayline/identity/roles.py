"""Who someone is to Wayline: the roles a session can carry.

A customer signs in through the customers' identity provider and is only ever a `customer`.
A visitor has not signed in at all: they started a journey anyone may start (`who: anyone`),
and their session is what owns it (identity/visitors.py).
Staff sign in through the staff provider, which names their roles in a claim
(`WAYLINE_OIDC_ROLES_CLAIM`); names Wayline does not know are ignored, never guessed at.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"
    VISITOR = "visitor"  # not signed in: owns the journeys anyone may start, and only those
    HANDLER = "handler"  # works referred cases
    SENIOR_HANDLER = "senior_handler"  # approves what a handler may not
    FRAUD_INVESTIGATOR = "fraud_investigator"
    ANALYST = "analyst"  # insights, no personal data
    AUDITOR = "auditor"  # read-only, the audit log
    ADMIN = "admin"  # releases, configuration


STAFF_ROLES = frozenset(Role) - {Role.CUSTOMER, Role.VISITOR}


def staff_roles(claimed: Iterable[object]) -> frozenset[Role]:
    """The staff roles among a provider's claimed role names (exact names; `customer` and
    unknown names are dropped: a staff provider cannot make anyone a customer)."""
    names = {name for name in claimed if isinstance(name, str)}
    return frozenset(role for role in STAFF_ROLES if role.value in names)
