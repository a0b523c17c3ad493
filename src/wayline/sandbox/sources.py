"""The demo dataset as in-process data sources: what the tests and `wayline serve` in demo
mode (WAYLINE_DEMO without connectors) read when no partner simulator runs.

Only the edges wire these in (the CLI and the tests): production code never imports the
sandbox, and `bootstrap.build` takes its sources as a parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from wayline.connectors.sources import DataSource
from wayline.sandbox import dataset
from wayline.sandbox.partners import confirm_payee


class FunctionSource:
    """A data source that is a function of (customer, params, today)."""

    def __init__(self, function: Callable[[str, dict[str, Any], date], dict[str, Any]]):
        self._function = function

    def fetch(self, customer_id: str, params: dict[str, Any], today: date) -> dict[str, Any]:
        return self._function(customer_id, params, today)


def _repairers(customer_id: str, params: dict[str, Any], today: date) -> dict[str, Any]:
    postcode = params.get("postcode")
    if not postcode:
        return {"repairers": []}
    return {"repairers": dataset.repairers(str(postcode), today)}


def _confirm_payee(customer_id: str, params: dict[str, Any], today: date) -> dict[str, Any]:
    return confirm_payee(
        str(params.get("name") or ""),
        str(params.get("sort_code") or ""),
        str(params.get("account_number") or ""),
    )


def demo_sources() -> dict[str, DataSource]:
    """The demo dataset, served in-process."""
    return {
        "policies": FunctionSource(lambda c, p, t: {"policies": dataset.policies(c, t)}),
        "customer": FunctionSource(lambda c, p, t: dataset.customer(c) or {"accounts": []}),
        "repairers": FunctionSource(_repairers),
        "fraud_history": FunctionSource(lambda c, p, t: dataset.fraud_record(c)),
        "confirm_payee": FunctionSource(_confirm_payee),
        # Core banking's single customer view (what segments read), as its simulator answers.
        "core_banking_customer_profile": FunctionSource(
            lambda c, p, t: dataset.profile(c, t) or {}
        ),
    }
