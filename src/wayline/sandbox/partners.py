"""Partner simulators: real HTTP services serving the demo dataset, with realistic failures.

Policy administration, core banking, the fraud bureau, the repairer network, the payment
provider and the notification provider, each its own app on its own port; the partners of the
newer journeys have a module each (core banking, identity verification, screening, the credit
bureau, address lookup, the card issuer, the wealth platform, Pension Wise booking; the fraud
bureau's newer checks and the payment provider's Faster Payments are added to their apps) and
are listed here too. They are part of the product: the demo and the reliability tests run on
them.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from wayline.sandbox import dataset
from wayline.sandbox.address_lookup import address_lookup
from wayline.sandbox.app import partner_app
from wayline.sandbox.card_issuer import card_issuer
from wayline.sandbox.core_banking import core_banking
from wayline.sandbox.credit_bureau import credit_bureau
from wayline.sandbox.faster_payments import add_payments
from wayline.sandbox.faults import Faults
from wayline.sandbox.fraud_checks import add_checks
from wayline.sandbox.identity_verification import identity_verification
from wayline.sandbox.pension_wise import pension_wise
from wayline.sandbox.screening import screening
from wayline.sandbox.wealth_platform import wealth_platform

Today = Callable[[], date]
POSTCODE = re.compile(r"^(?P<area>[A-Z]{1,2})[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")
REGISTRATION = re.compile(r"[A-Z0-9]{2,7}")  # a UK registration, spaces aside

# Accounts the confirmation-of-payee service knows, across banks (sort code, number) → name.
PAYEES = {
    ("20-00-00", "55779911"): "Alex Morgan",
    ("20-00-00", "31924242"): "Jordan Lee",
    ("40-47-84", "70872490"): "Sam Patel",
    ("30-94-57", "00733445"): "Samira Patel",
}


def _base(name: str, faults: Faults) -> FastAPI:
    return partner_app(name, faults)


def policy_administration(faults: Faults, today: Today) -> FastAPI:
    app = _base("policy administration", faults)

    @app.get("/customers/{customer_id}/policies")
    def policies(customer_id: str) -> dict[str, Any]:
        if customer_id not in dataset.CUSTOMERS:
            raise HTTPException(404, "no such customer")
        return {"customer_id": customer_id, "policies": dataset.policies(customer_id, today())}

    return app


def fraud_bureau(faults: Faults, today: Today) -> FastAPI:
    app = _base("fraud bureau", faults)

    @app.get("/subjects/{customer_id}/history")
    def history(customer_id: str) -> dict[str, Any]:
        return {"subject": customer_id, **dataset.fraud_record(customer_id)}

    add_checks(app)
    return app


class BookingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    repairer_id: str = Field(min_length=1, max_length=50)
    reference: str = Field(min_length=1, max_length=20)
    registration: str = Field(min_length=1, max_length=10)


def repairer_network(faults: Faults, today: Today) -> FastAPI:
    app = _base("repairer network", faults)
    bookings: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()

    @app.post("/bookings")
    def book(
        request: BookingRequest,
        idempotency_key: Annotated[str, Header(min_length=8, max_length=200)],
    ) -> JSONResponse:
        with lock:
            if idempotency_key in bookings:
                return JSONResponse(bookings[idempotency_key])
            if not REGISTRATION.fullmatch(request.registration.replace(" ", "").upper()):
                # The network books a car it can identify: a final answer (booking_refused).
                raise HTTPException(422, "registration is not a UK vehicle registration")
            booking = {
                "booking_id": f"BK-{len(bookings) + 1:06d}",
                **request.model_dump(),
                "booked_for": today().isoformat(),
            }
            bookings[idempotency_key] = booking
            return JSONResponse(booking, status_code=201)

    @app.get("/bookings")
    def all_bookings() -> list[dict[str, Any]]:
        with lock:
            return list(bookings.values())

    @app.get("/repairers")
    def repairers(postcode: Annotated[str, Query(max_length=10)]) -> dict[str, Any]:
        normal = re.sub(r"\s+", " ", postcode.strip().upper())
        if not POSTCODE.match(normal):
            raise HTTPException(422, "postcode is not a valid UK postcode")
        return {"postcode": normal, "repairers": dataset.repairers(normal, today())}

    return app


class Account(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=70)
    sort_code: str = Field(pattern=r"^[0-9]{2}-[0-9]{2}-[0-9]{2}$")
    account_number: str = Field(pattern=r"^[0-9]{8}$")


class PayoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_pence: int = Field(gt=0, le=10_000_000)
    currency: str = Field(pattern=r"^GBP$")
    account: Account
    reference: str = Field(min_length=1, max_length=18)


class PaymentLedger:
    """Payouts by idempotency key: the same key pays once, whatever happens to the answer."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.payouts: dict[str, dict[str, Any]] = {}

    def pay(self, key: str, request: PayoutRequest) -> tuple[int, dict[str, Any]]:
        fingerprint = hashlib.sha256(request.model_dump_json().encode()).hexdigest()
        with self.lock:
            existing = self.payouts.get(key)
            if existing:
                if existing["fingerprint"] != fingerprint:
                    raise HTTPException(422, "idempotency key reused with a different payout")
                return 200, _public(existing)
            payout = {
                "payout_id": f"PO-{len(self.payouts) + 1:06d}",
                "idempotency_key": key,
                "status": "paid",
                "amount_pence": request.amount_pence,
                "currency": request.currency,
                "reference": request.reference,
                "account_ending": request.account.account_number[-4:],
                "paid_at": datetime.now(UTC).isoformat(),
                "fingerprint": fingerprint,
            }
            self.payouts[key] = payout
            return 201, _public(payout)


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "fingerprint"}


def _name_match(given: str, actual: str) -> str:
    def words(text: str) -> list[str]:
        return re.sub(r"[^a-z ]", "", text.lower()).split()

    a, b = words(given), words(actual)
    if a == b:
        return "match"
    if a and b and a[-1] == b[-1] and a[0][0] == b[0][0]:
        return "close_match"
    return "no_match"


def confirm_payee(name: str, sort_code: str, account_number: str) -> dict[str, Any]:
    """Confirmation of payee: does the name match the account's holder?"""
    actual = PAYEES.get((sort_code, account_number))
    if actual is None:
        return {"result": "no_match", "reason": "account_not_found"}
    result = _name_match(name, actual)
    body: dict[str, Any] = {"result": result}
    if result == "close_match":
        body["name"] = actual
    return body


def payment_provider(faults: Faults, today: Today, ledger: PaymentLedger | None = None) -> FastAPI:
    app = _base("payment provider", faults)
    app.state.ledger = ledger = ledger or PaymentLedger()

    @app.post("/payouts")
    def payout(
        request: PayoutRequest,
        idempotency_key: Annotated[str, Header(min_length=8, max_length=200)],
    ) -> JSONResponse:
        status, body = ledger.pay(idempotency_key, request)
        return JSONResponse(body, status_code=status)

    @app.get("/payouts")
    def payouts() -> list[dict[str, Any]]:
        with ledger.lock:
            return [_public(p) for p in ledger.payouts.values()]

    @app.post("/confirmation-of-payee")
    def confirmation_of_payee(account: Account) -> dict[str, Any]:
        return confirm_payee(account.name, account.sort_code, account.account_number)

    add_payments(app)
    return app


class MessageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str = Field(pattern=r"^(email|sms)$")
    to: str = Field(min_length=3, max_length=254)
    subject: str | None = Field(None, max_length=200)
    body: str = Field(min_length=1, max_length=5000)


class Outbox:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: dict[str, dict[str, Any]] = {}

    def send(self, key: str, message: MessageRequest) -> tuple[int, dict[str, Any]]:
        with self.lock:
            if key in self.messages:
                return 200, self.messages[key]
            record = {
                "message_id": f"MSG-{len(self.messages) + 1:06d}",
                **message.model_dump(),
                "sent_at": datetime.now(UTC).isoformat(),
            }
            self.messages[key] = record
            return 201, record


def notification_provider(faults: Faults, today: Today, outbox: Outbox | None = None) -> FastAPI:
    app = _base("notification provider", faults)
    app.state.outbox = outbox = outbox or Outbox()

    @app.post("/messages")
    def send(
        message: MessageRequest,
        idempotency_key: Annotated[str, Header(min_length=8, max_length=200)],
    ) -> JSONResponse:
        status, body = outbox.send(idempotency_key, message)
        return JSONResponse(body, status_code=status)

    @app.get("/messages")
    def messages() -> list[dict[str, Any]]:
        with outbox.lock:
            return list(outbox.messages.values())

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        with outbox.lock:
            rows = list(reversed(outbox.messages.values()))
        items = (
            "".join(
                f"<tr><td>{html.escape(m['sent_at'][:19].replace('T', ' '))}</td>"
                f"<td>{html.escape(m['channel'])}</td><td>{html.escape(m['to'])}</td>"
                f"<td>{html.escape(m.get('subject') or '')}</td>"
                f"<td>{html.escape(m['body'])}</td></tr>"
                for m in rows
            )
            or '<tr><td colspan="5">Nothing sent yet.</td></tr>'
        )
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            "<title>Notification provider (sandbox)</title></head><body>"
            "<h1>Messages sent</h1><table><thead><tr><th>Sent (UTC)</th><th>Channel</th>"
            "<th>To</th><th>Subject</th><th>Message</th></tr></thead>"
            f"<tbody>{items}</tbody></table></body></html>"
        )

    return app


# Approximate centres of postcode areas (the letters before the first digit).
AREAS = {
    "SW": (51.46, -0.17),
    "W": (51.51, -0.21),
    "WC": (51.52, -0.12),
    "EC": (51.52, -0.09),
    "E": (51.53, -0.03),
    "N": (51.57, -0.11),
    "NW": (51.55, -0.20),
    "SE": (51.46, -0.05),
    "M": (53.48, -2.24),
    "B": (52.48, -1.90),
    "L": (53.41, -2.98),
    "LS": (53.80, -1.55),
    "G": (55.86, -4.25),
    "EH": (55.95, -3.19),
    "CF": (51.48, -3.18),
    "BS": (51.45, -2.59),
    "NE": (54.97, -1.61),
    "S": (53.38, -1.47),
    "NG": (52.95, -1.15),
    "OX": (51.75, -1.26),
    "CB": (52.20, 0.12),
    "BN": (50.82, -0.14),
    "PO": (50.80, -1.09),
    "SO": (50.90, -1.40),
    "RG": (51.45, -0.97),
    "GU": (51.24, -0.57),
    "BT": (54.60, -5.93),
    "AB": (57.15, -2.10),
}


def geocode(postcode: str) -> tuple[float, float] | None:
    """A point for a UK postcode: its area's centre, moved a little by the rest of it, so
    nearby postcodes are near and the same postcode is always in the same place."""
    normal = re.sub(r"\s+", " ", postcode.strip().upper())
    valid = POSTCODE.match(normal)
    if not valid:
        return None
    area = valid.group("area")
    seed = hashlib.sha256(normal.encode()).digest()
    if area in AREAS:
        lat, lon = AREAS[area]
    else:  # somewhere in Great Britain, always the same place for the same area
        area_seed = hashlib.sha256(area.encode()).digest()
        lat, lon = 50.5 + area_seed[0] / 255 * 5.5, -4.5 + area_seed[1] / 255 * 5.5
    return round(lat + (seed[0] - 128) / 128 * 0.04, 5), round(
        lon + (seed[1] - 128) / 128 * 0.06, 5
    )


def geocoder(faults: Faults, today: Today) -> FastAPI:
    app = _base("postcode geocoder", faults)

    @app.get("/postcodes/{postcode}")
    def locate(postcode: str) -> dict[str, Any]:
        point = geocode(postcode)
        if point is None:
            raise HTTPException(404, "not a UK postcode")
        return {
            "postcode": re.sub(r"\s+", " ", postcode.strip().upper()),
            "lat": point[0],
            "lon": point[1],
        }

    return app


PARTNERS: dict[str, Callable[[Faults, Today], FastAPI]] = {
    "policy_administration": policy_administration,
    "core_banking": core_banking,
    "fraud_bureau": fraud_bureau,
    "repairer_network": repairer_network,
    "payment_provider": payment_provider,
    "notification_provider": notification_provider,
    "geocoder": geocoder,
    # The account-opening, card-replacement, payment and investment journeys' partners.
    "identity_verification": identity_verification,
    "screening": screening,
    "credit_bureau": credit_bureau,
    "address_lookup": address_lookup,
    "card_issuer": card_issuer,
    "wealth_platform": wealth_platform,
    "pension_wise": pension_wise,
}
