"""What demo mode wires into `bootstrap.build`: the demo dataset as data sources, and the demo
customers the sign-in offers. Used by the edges only (the CLI's demo mode, the tests)."""

from __future__ import annotations

from typing import Any

from wayline.bootstrap import DemoCustomer
from wayline.sandbox.dataset import CUSTOMERS
from wayline.sandbox.sources import demo_sources


def demo_customers() -> dict[str, DemoCustomer]:
    """The demo customers, by sign-in id."""
    return {c.id: DemoCustomer(c.id, c.name) for c in CUSTOMERS.values()}


def demo_options(in_process_sources: bool = True) -> dict[str, Any]:
    """Keyword arguments for `bootstrap.build` in demo mode: the sign-in's customers and,
    unless partners are reached over HTTP (the simulators), the in-process dataset."""
    options: dict[str, Any] = {"demo_customers": demo_customers()}
    if in_process_sources:
        options["sources"] = demo_sources()
    return options
