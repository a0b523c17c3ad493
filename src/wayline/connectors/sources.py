"""Customer data sources: where prefills, run-time options and checks get partner data.

A source answers `fetch(customer_id, params, today)` with plain JSON data. Partner connectors
(policy administration, core banking, the repairer network) implement it over HTTP
(connectors/partners.py); the demo's in-process dataset implements it too (in the sandbox,
which only the CLI and the tests wire in).

Sources are only ever asked outside a database transaction (runtime/partner_data.py, and the
guard in wayline.guards).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol


class DataSource(Protocol):
    def fetch(self, customer_id: str, params: dict[str, Any], today: date) -> dict[str, Any]: ...
