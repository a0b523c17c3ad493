"""Customer data sources: where prefills and run-time options come from.

A source answers `fetch(customer_id, params, today)` with plain JSON data. The demo dataset is
the first source; partner connectors (policy administration, core banking, the repairer network)
implement the same interface over HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

from wayline.sandbox import dataset


class SourceUnavailable(Exception):
    """The source could not answer; the journey goes on without its data."""


class DataSource(Protocol):
    def fetch(self, customer_id: str, params: dict[str, Any], today: date) -> dict[str, Any]: ...


class FunctionSource:
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
    from wayline.sandbox.partners import confirm_payee

    return confirm_payee(
        str(params.get("name") or ""),
        str(params.get("sort_code") or ""),
        str(params.get("account_number") or ""),
    )


def demo_sources() -> dict[str, DataSource]:
    """The demo dataset, served in-process: what tests use when no partner runs."""
    return {
        "policies": FunctionSource(lambda c, p, t: {"policies": dataset.policies(c, t)}),
        "customer": FunctionSource(lambda c, p, t: dataset.customer(c) or {"accounts": []}),
        "repairers": FunctionSource(_repairers),
        "fraud_history": FunctionSource(lambda c, p, t: dataset.fraud_record(c)),
        "confirm_payee": FunctionSource(_confirm_payee),
    }
