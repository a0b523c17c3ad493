"""Typed clients for each partner, with the shapes their answers must have.

An answer of the wrong shape is a PartnerError (handled: the journey goes on or the effect is
retried), never a crash. The customer data sources used for prefill and run-time options are
built on these clients.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from wayline.connectors.http import PartnerClient, PartnerConfig
from wayline.connectors.sources import DataSource


class Shape(BaseModel):
    # Partners may add fields; what we rely on must be there and be of the right type.
    model_config = ConfigDict(extra="ignore")


class Policy(Shape):
    policy_number: str
    car: str
    registration: str
    cover: str
    cover_label: str
    start: date
    end: date
    status: str


class Policies(Shape):
    policies: list[Policy]


class BankAccount(Shape):
    id: str
    label: str
    sort_code: str
    account_number: str


class CustomerRecord(Shape):
    id: str
    name: str
    email: str
    mobile: str
    accounts: list[BankAccount] = []


class Repairer(Shape):
    id: str
    name: str
    distance_miles: float
    next_available: date


class Repairers(Shape):
    repairers: list[Repairer]


class FraudHistory(Shape):
    claims_last_two_years: int
    risk_marker: str | None = None


class PayeeCheck(Shape):
    result: Literal["match", "close_match", "no_match"]
    name: str | None = None
    reason: str | None = None


class Point(Shape):
    lat: float
    lon: float


class Message(Shape):
    message_id: str


class Partners:
    """The partner clients, by configuration."""

    def __init__(self, configs: dict[str, PartnerConfig]):
        self.clients = {name: PartnerClient(config) for name, config in configs.items()}

    def client(self, name: str) -> PartnerClient:
        if name not in self.clients:
            raise LookupError(f"no partner named '{name}' is configured")
        return self.clients[name]

    def close(self) -> None:
        for client in self.clients.values():
            client.close()

    # --- customer data ---------------------------------------------------------------------

    def policies(self, customer_id: str) -> Policies:
        return self.client("policy_administration").get(
            f"/customers/{customer_id}/policies", Policies
        )

    def customer(self, customer_id: str) -> CustomerRecord:
        return self.client("core_banking").get(f"/customers/{customer_id}", CustomerRecord)

    def repairers(self, postcode: str) -> Repairers:
        return self.client("repairer_network").get(
            "/repairers", Repairers, params={"postcode": postcode}
        )

    def fraud_history(self, customer_id: str) -> FraudHistory:
        return self.client("fraud_bureau").get(f"/subjects/{customer_id}/history", FraudHistory)

    def geocode(self, postcode: str) -> Point:
        return self.client("geocoder").get(f"/postcodes/{postcode}", Point)

    # --- payments and notifications ----------------------------------------------------------

    def confirm_payee(self, name: str, sort_code: str, account_number: str) -> PayeeCheck:
        body = {"name": name, "sort_code": sort_code, "account_number": account_number}
        # A read at the provider: safe to repeat.
        return self.client("payment_provider").post(
            "/confirmation-of-payee", PayeeCheck, body, repeatable=True
        )

    def send_message(
        self, key: str, channel: str, to: str, body: str, subject: str | None = None
    ) -> Message:
        message: dict[str, Any] = {"channel": channel, "to": to, "body": body}
        if subject:
            message["subject"] = subject
        return self.client("notification_provider").post(
            "/messages", Message, message, idempotency_key=key
        )


class PartnerSources:
    """Customer data sources over the partners: what prefill and options read."""

    def __init__(self, partners: Partners):
        self.partners = partners

    def as_sources(self) -> dict[str, DataSource]:
        """Each source name a journey may read, answered by the partner that holds it."""
        return {
            "policies": _Source(lambda c, p: self.partners.policies(c)),
            "customer": _Source(lambda c, p: self.partners.customer(c)),
            "repairers": _Source(self._repairers),
            "fraud_history": _Source(lambda c, p: self.partners.fraud_history(c)),
            "confirm_payee": _Source(
                lambda c, p: self.partners.confirm_payee(
                    str(p.get("name") or ""),
                    str(p.get("sort_code") or ""),
                    str(p.get("account_number") or ""),
                )
            ),
        }

    def _repairers(self, customer_id: str, params: dict[str, Any]) -> Repairers:
        postcode = params.get("postcode")
        if not postcode:
            return Repairers(repairers=[])
        return self.partners.repairers(str(postcode))


PartnerCall = Callable[[str, dict[str, Any]], BaseModel]


class _Source:
    """A DataSource over one partner call: its typed answer, as plain JSON data."""

    def __init__(self, call: PartnerCall):
        self._call = call

    def fetch(self, customer_id: str, params: dict[str, Any], today: date) -> dict[str, Any]:
        return self._call(customer_id, params).model_dump(mode="json")
