"""The person a session speaks for, and how strongly they proved it.

`assurance` is a small ordered level (1: a password; 2: a password and a second factor), read
from the provider's `acr` and `amr` claims at sign-in (identity/assurance.py);
`authenticated_at` is the provider's `auth_time`, when that proof was given (not when the
session started: a provider may sign someone in from its own session without asking again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from wayline.identity.roles import Role


class Kind(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    VISITOR = "visitor"


VISITOR_ISSUER = "visitor"  # nobody vouched for a visitor: they never signed in


@dataclass(frozen=True)
class Principal:
    """Who signed in. `subject` is the customer's id in the systems of record (the claim
    `WAYLINE_OIDC_SUBJECT_CLAIM` names), the staff member's id, or a visitor's random id;
    `issuer` names the provider (`demo` for the demo sign-in, `visitor` for nobody)."""

    subject: str
    kind: Kind
    roles: frozenset[Role]
    assurance: int
    authenticated_at: datetime
    issuer: str

    def __post_init__(self) -> None:
        if not self.subject:
            raise ValueError("A principal needs a subject")
        if self.assurance < 0:
            raise ValueError("Assurance is a level from 0 up")
        if self.kind is Kind.CUSTOMER and self.roles != {Role.CUSTOMER}:
            raise ValueError("A customer's only role is customer")
        if self.kind is Kind.VISITOR and (self.roles != {Role.VISITOR} or self.assurance):
            raise ValueError("A visitor's only role is visitor, at assurance 0")
        if self.kind is Kind.STAFF and self.roles & {Role.CUSTOMER, Role.VISITOR}:
            raise ValueError("Staff are never customers through the staff sign-in")

    @classmethod
    def customer(
        cls, subject: str, assurance: int, authenticated_at: datetime, issuer: str
    ) -> Principal:
        return cls(
            subject, Kind.CUSTOMER, frozenset({Role.CUSTOMER}), assurance, authenticated_at, issuer
        )

    @classmethod
    def visitor(cls, subject: str, at: datetime) -> Principal:
        """Someone who has not signed in, known only by the random `subject` their session and
        the journeys they started carry."""
        return cls(subject, Kind.VISITOR, frozenset({Role.VISITOR}), 0, at, VISITOR_ISSUER)

    @property
    def owns_journeys(self) -> bool:
        """Customers and visitors own journeys (staff work them)."""
        return self.kind is not Kind.STAFF

    def has_any(self, roles: frozenset[Role]) -> bool:
        return not self.roles.isdisjoint(roles)
