"""Declared read operations as data sources: what options, prefills and checks read.

Every operation a partner declares that changes nothing (`partners/<partner>.yaml`, a GET or a
declared read) is a data source named `<partner>_<operation>` (`card_issuer_list_cards`), so a
journey can show a partner's data without Python per partner. The source's `params` are the
request; a `customer_id` the operation asks for and the params do not give is the signed-in
customer's. A refusal the operation declares (a 404 for someone unknown) is an answer with no
data, never an outage; a partner that cannot answer raises, as every source does.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from wayline.connectors.http import PartnerClient
from wayline.connectors.operations import Operations, Refusal
from wayline.connectors.sources import DataSource

CUSTOMER = "customer_id"


class OperationSource:
    """A DataSource over one declared read operation of one partner."""

    def __init__(self, operations: Operations, client: PartnerClient, operation: str):
        self._operations = operations
        self._client = client
        self._operation = operation

    def fetch(self, customer_id: str, params: dict[str, Any], today: date) -> dict[str, Any]:
        qualified = f"{self._client.config.name}.{self._operation}"
        declared = self._operations.get(qualified)
        request = dict(params)
        if declared is not None and CUSTOMER in declared.properties:
            request.setdefault(CUSTOMER, customer_id)
        answer = self._operations.call(self._client, self._operation, request, None)
        return {} if isinstance(answer, Refusal) else answer


def operation_sources(
    operations: Operations, clients: dict[str, PartnerClient]
) -> dict[str, DataSource]:
    """A source for each read operation of each configured partner, by `<partner>_<op>`."""
    sources: dict[str, DataSource] = {}
    for qualified, operation in operations.signatures().items():
        partner, _, name = qualified.partition(".")
        if operation.changing or partner not in clients:
            continue
        sources[f"{partner}_{name}"] = OperationSource(operations, clients[partner], name)
    return sources
