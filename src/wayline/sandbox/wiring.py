"""What demo mode wires into `bootstrap.build`: the demo dataset as data sources, and the demo
customers and staff the sign-in offers. Used by the edges only (the CLI's demo mode, the
tests)."""

from __future__ import annotations

from typing import Any

from wayline.bootstrap import DemoCustomer, DemoStaff
from wayline.identity.roles import Role
from wayline.sandbox.dataset import CUSTOMERS, SITUATIONS, STAFF
from wayline.sandbox.sources import demo_sources


def demo_customers() -> dict[str, DemoCustomer]:
    """The demo customers, by sign-in id."""
    return {
        c.id: DemoCustomer(
            c.id,
            c.name,
            tuple((journey, shown[c.id]) for journey, shown in SITUATIONS.items() if c.id in shown),
        )
        for c in CUSTOMERS.values()
    }


def demo_staff() -> dict[str, DemoStaff]:
    """The demo staff, one for each staff role, by sign-in id."""
    return {s.id: DemoStaff(s.id, s.name, frozenset({Role(s.role)})) for s in STAFF.values()}


def demo_options(in_process_sources: bool = True) -> dict[str, Any]:
    """Keyword arguments for `bootstrap.build` in demo mode: the sign-in's customers and staff
    and, unless partners are reached over HTTP (the simulators), the in-process dataset."""
    options: dict[str, Any] = {"demo_customers": demo_customers(), "demo_staff": demo_staff()}
    if in_process_sources:
        options["sources"] = demo_sources()
    return options
