"""Who the demo sign-in offers, and the principal each choice signs in as.

The demo has no passwords: choosing a person signs them in. How they "proved" it is chosen too,
so that the demo goes through the same sessions, roles and step-up as a real provider: a
password stands for assurance level 1, a one-time code for level 2. The principal's issuer is
`demo` and its authentication time is the moment of the choice.

Each kind of person (customers, staff) is offered only in demo mode, and only while no identity
provider is configured for that kind: once one is, that provider is the only way in. The people
come from `bootstrap.Components` (the edge that runs the demo wires the sandbox's in); the web
layer never imports the sandbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from wayline.bootstrap import Components, DemoCustomer, DemoStaff
from wayline.config import Settings
from wayline.identity.assurance import PASSWORD, SECOND_FACTOR
from wayline.identity.principal import Kind, Principal

ISSUER = "demo"


class Method(StrEnum):
    """How the demo person says they proved who they are."""

    PASSWORD = "password"
    ONE_TIME_CODE = "one_time_code"

    @property
    def level(self) -> int:
        return SECOND_FACTOR if self is Method.ONE_TIME_CODE else PASSWORD


def has_provider(settings: Settings, kind: Kind) -> bool:
    """Whether an identity provider signs this kind of person in."""
    issuer = settings.oidc_issuer if kind is Kind.CUSTOMER else settings.staff_oidc_issuer
    return bool(issuer)


@dataclass(frozen=True)
class DemoAccounts:
    """The people the demo sign-in offers, by id: empty for a kind it does not offer."""

    customers: Mapping[str, DemoCustomer]
    staff: Mapping[str, DemoStaff]

    @classmethod
    def offered(cls, components: Components) -> DemoAccounts:
        """Demo mode's people, less each kind an identity provider signs in."""
        settings = components.settings
        if not settings.demo:
            return cls({}, {})
        customers = {} if has_provider(settings, Kind.CUSTOMER) else components.demo_customers
        staff = {} if has_provider(settings, Kind.STAFF) else components.demo_staff
        return cls(dict(customers), dict(staff))

    def people(self, kind: Kind) -> Mapping[str, DemoCustomer | DemoStaff]:
        return self.customers if kind is Kind.CUSTOMER else self.staff

    def offers(self, kind: Kind) -> bool:
        return bool(self.people(kind))

    def principal(self, kind: Kind, person: str, method: Method, now: datetime) -> Principal:
        """The principal `person` (one of `people(kind)`; KeyError otherwise) signs in as."""
        if kind is Kind.CUSTOMER:
            return Principal.customer(self.customers[person].id, method.level, now, ISSUER)
        member = self.staff[person]
        return Principal(member.id, Kind.STAFF, member.roles, method.level, now, ISSUER)
