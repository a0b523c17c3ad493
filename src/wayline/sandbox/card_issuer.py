"""Card issuer simulator: the demo customers' cards and their last 30 days of payments;
freezing and unfreezing; replacements (the fee charged once, a new number for a lost, stolen
or never-received card, the same number for a damaged one); digital cards; new cards for new
accounts; and the events of each order (ordered, dispatched, delivered, activated).

A changing call takes an `Idempotency-Key`: a repeated key returns the first answer and
changes nothing; the same key with another request is refused (409). Times are relative to
now; the demo's dispatch and delivery come minutes after an order (`/_sandbox/settings`)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from fastapi import Body, FastAPI, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from wayline.sandbox.app import partner_app
from wayline.sandbox.faults import Faults
from wayline.sandbox.idempotency import IdempotencyKey, KeyedAnswers
from wayline.sandbox.partners_common import Today
from wayline.sandbox.working_days import add_working_days

# How strong a freeze's reason is: a second freeze keeps the stronger.
REASON_STRENGTH = {"customer_app": 0, "not_received": 1, "lost": 2, "stolen": 3}
NEW_NUMBER_REASONS = {"lost", "stolen", "not_received"}

# card id, customer, kind, last four, account id, account label, status, wallets, sent days ago
_CARDS = [
    (
        "card-alex-4821",
        "alex",
        "Visa debit",
        "4821",
        "acc-alex-9911",
        "Everyday account ending 9911",
        "active",
        ["apple_pay"],
        None,
    ),
    (
        "card-alex-7310",
        "alex",
        "Mastercard credit",
        "7310",
        "acc-alex-credit",
        "credit card account",
        "active",
        [],
        None,
    ),
    (
        "card-jordan-5550",
        "jordan",
        "Visa debit",
        "5550",
        "acc-jordan-4242",
        "Everyday account ending 4242",
        "active",
        ["google_pay"],
        None,
    ),
    (
        "card-jordan-1187",
        "jordan",
        "Mastercard credit",
        "1187",
        "acc-jordan-credit",
        "credit card account",
        "sent",
        [],
        12,
    ),
]

# card id, how long ago, merchant, method, amount in pence, pending
_TRANSACTIONS = [
    ("card-alex-4821", timedelta(hours=1), "AMZN Mktp UK", "online", 24_999, True),
    ("card-alex-4821", timedelta(hours=2), "JD Sports", "online", 16_400, True),
    ("card-alex-4821", timedelta(hours=3), "Tesco Express", "contactless", 4_210, False),
    (
        "card-alex-4821",
        timedelta(hours=20),
        "Pret A Manger, Victoria Street",
        "contactless",
        645,
        False,
    ),
    ("card-alex-7310", timedelta(days=4), "British Airways", "online", 31_240, False),
    ("card-jordan-5550", timedelta(minutes=30), "Cash machine, Leeds", "cash", 25_000, False),
    ("card-jordan-5550", timedelta(minutes=40), "Currys, Leeds", "chip_and_pin", 18_900, False),
    ("card-jordan-5550", timedelta(hours=5), "Greggs, Leeds Station", "contactless", 320, False),
]


class IssuerSettings(BaseModel):
    dispatch_seconds: float = Field(120, ge=0, description="From order to `dispatched`.")
    deliver_seconds: float = Field(240, ge=0, description="From order to `delivered` (next day).")


class FreezeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Literal["customer_app", "not_received", "lost", "stolen"]


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line_1: str = Field(min_length=1, max_length=35)
    line_2: str | None = Field(None, max_length=35)
    town: str = Field(min_length=1, max_length=35)
    postcode: str = Field(min_length=5, max_length=8)


class ReplacementRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Literal["lost", "stolen", "damaged", "not_received"]
    speed: Literal["standard", "next_day"]
    address: Address
    fee_pence: int = Field(ge=0, le=10_000)


class NewCardRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account_id: str = Field(min_length=1, max_length=40)
    account_number: str = Field(pattern=r"^[0-9]{8}$")
    name: str = Field(min_length=1, max_length=70)
    address: Address


def next_number(last_four: str) -> str:
    """A replacement's new last four: each digit plus one, mod 10 (4821 → 5932)."""
    return "".join(str((int(digit) + 1) % 10) for digit in last_four)


class Issuer:
    """The cards, orders and fees the issuer holds, changed under one lock."""

    def __init__(self, today: Today) -> None:
        self.today = today
        self.lock = threading.RLock()
        self.cards: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.charges: list[dict[str, Any]] = []
        self.digital: dict[str, dict[str, Any]] = {}
        now = datetime.now(UTC)
        for card_id, owner, kind, last_four, account, label, status, wallets, sent in _CARDS:
            self.cards[card_id] = self._card(card_id, owner, kind, last_four, account, label)
            self.cards[card_id] |= {
                "status": status,
                "wallets": list(wallets),
                "sent_on": None if sent is None else (today() - timedelta(days=sent)).isoformat(),
            }
        self.transactions: dict[str, list[dict[str, Any]]] = {}
        for index, (card_id, ago, merchant, method, pence, pending) in enumerate(_TRANSACTIONS):
            self.transactions.setdefault(card_id, []).append(
                {
                    "transaction_id": f"txn-{index + 1:04d}",
                    "time": (now - ago).isoformat(),
                    "merchant": merchant,
                    "method": method,
                    "amount_pence": pence,
                    "currency": "GBP",
                    "status": "pending" if pending else "posted",
                }
            )

    @staticmethod
    def _card(
        card_id: str, owner: str, kind: str, last_four: str, account: str, label: str
    ) -> dict[str, Any]:
        return {
            "card_id": card_id,
            "customer_id": owner,
            "kind": kind,
            "label": f"{kind} card ending {last_four}",
            "last_four": last_four,
            "account_id": account,
            "account_label": label,
            "status": "ordered",
            "frozen_reason": None,
            "frozen_at": None,
            "sent_on": None,
            "open_replacement_id": None,
            "wallets": [],
        }

    def card(self, card_id: str) -> dict[str, Any]:
        found = self.cards.get(card_id)
        if found is None:
            raise HTTPException(404, "no such card")
        return found

    def freeze(self, card_id: str, reason: str) -> tuple[int, dict[str, Any]]:
        card = self.card(card_id)
        if card["status"] == "cancelled":
            return 409, {"error": "card_cancelled"}
        already = card["status"] == "frozen"
        if not already:
            card |= {"status": "frozen", "frozen_at": datetime.now(UTC).isoformat()}
            card["frozen_reason"] = reason
        elif REASON_STRENGTH[reason] > REASON_STRENGTH[card["frozen_reason"]]:
            card["frozen_reason"] = reason
        return 200, {
            "card_id": card_id,
            "frozen_at": card["frozen_at"],
            "already_frozen": already,
            "reason": card["frozen_reason"],
        }

    def unfreeze(self, card_id: str) -> tuple[int, dict[str, Any]]:
        card = self.card(card_id)
        if card["status"] == "cancelled":
            return 409, {"error": "card_cancelled"}
        was_frozen = card["status"] == "frozen"
        card |= {"status": "active", "frozen_reason": None, "frozen_at": None}
        when = datetime.now(UTC).isoformat()
        return 200, {
            "card_id": card_id,
            "status": "active",
            "was_frozen": was_frozen,
            "unfrozen_at": when,
        }

    def replace(self, card_id: str, request: ReplacementRequest) -> tuple[int, dict[str, Any]]:
        card = self.card(card_id)
        if card["status"] == "cancelled":
            return 409, {"error": "card_cancelled"}
        if card["open_replacement_id"]:
            return 409, {"error": "replacement_in_progress"}
        if request.address.line_1.strip().lower() == "undeliverable":
            return 422, {"error": "undeliverable_address"}
        same_number = request.reason not in NEW_NUMBER_REASONS
        last_four = card["last_four"] if same_number else next_number(card["last_four"])
        order_id = f"RPL-{len(self.orders) + 1:06d}"
        new_id = f"card-{card['customer_id']}-{last_four}" + ("-r" if same_number else "")
        new_id += "" if new_id not in self.cards else f"-{len(self.orders) + 1}"
        self.cards[new_id] = self._card(
            new_id,
            card["customer_id"],
            card["kind"],
            last_four,
            card["account_id"],
            card["account_label"],
        )
        if not same_number:
            card["status"] = "cancelled"
        card["open_replacement_id"] = order_id
        expected = self._order(order_id, card_id, new_id, request.speed, request.reason)
        if request.fee_pence:
            self.charges.append(
                {
                    "account_id": card["account_id"],
                    "amount_pence": request.fee_pence,
                    "replacement_id": order_id,
                    "charged_at": datetime.now(UTC).isoformat(),
                }
            )
        return 201, {
            "replacement_id": order_id,
            "new_card_id": new_id,
            "new_last_four": last_four,
            "same_number": same_number,
            "expected_by": expected.isoformat(),
            "fee_charged_pence": request.fee_pence,
        }

    def new_card(self, request: NewCardRequest) -> tuple[int, dict[str, Any]]:
        last_four = request.account_number[-4:]
        card_id = f"card-{request.account_id}-{last_four}"
        if card_id in self.cards:
            return 409, {"error": "card_exists"}
        self.cards[card_id] = self._card(
            card_id,
            request.account_id,
            "Visa debit",
            last_four,
            request.account_id,
            f"Account ending {last_four}",
        )
        order_id = f"RPL-{len(self.orders) + 1:06d}"
        expected = self._order(order_id, None, card_id, "standard", "new_account")
        return 201, {
            "card_id": card_id,
            "last_four": last_four,
            "order_id": order_id,
            "expected_by": expected.isoformat(),
        }

    def _order(self, order_id: str, old: str | None, new: str, speed: str, reason: str) -> date:
        expected = add_working_days(self.today(), 1 if speed == "next_day" else 3)
        self.orders[order_id] = {
            "replacement_id": order_id,
            "card_id": old,
            "new_card_id": new,
            "reason": reason,
            "speed": speed,
            "expected_by": expected.isoformat(),
            "ordered_at": datetime.now(UTC),
            "activated_at": None,
        }
        return expected

    def add_digital(self, card_id: str) -> tuple[int, dict[str, Any]]:
        card = self.card(card_id)
        if card["status"] == "cancelled":
            return 409, {"error": "card_cancelled"}
        digital = {
            "digital_card_id": f"dig-{card_id}",
            "card_id": card_id,
            "last_four": card["last_four"],
            "wallets": ["apple_pay", "google_pay"],
            "usable": True,
        }
        self.digital[card_id] = digital
        card["wallets"] = ["apple_pay", "google_pay"]
        return 201, digital

    def events(self, order_id: str, settings: IssuerSettings) -> dict[str, Any]:
        order = self.orders.get(order_id)
        if order is None:
            raise HTTPException(404, "no such order")
        now, at = datetime.now(UTC), order["ordered_at"]
        events = [{"event": "ordered", "at": at.isoformat()}]
        dispatched = at + timedelta(seconds=settings.dispatch_seconds)
        if now >= dispatched:
            events.append({"event": "dispatched", "at": dispatched.isoformat()})
        delivered = at + timedelta(seconds=settings.deliver_seconds)
        if order["speed"] == "next_day" and now >= delivered:
            events.append({"event": "delivered", "at": delivered.isoformat()})
        if order["activated_at"]:
            events.append({"event": "activated", "at": order["activated_at"].isoformat()})
        public = {k: v for k, v in order.items() if k not in ("ordered_at", "activated_at")}
        return {**public, "events": events}

    def activate(self, card_id: str) -> dict[str, Any]:
        card = self.card(card_id)
        for order in self.orders.values():
            if order["new_card_id"] == card_id and not order["activated_at"]:
                order["activated_at"] = datetime.now(UTC)
                old = self.cards.get(order["card_id"] or "")
                if old is not None:
                    old |= {"status": "cancelled", "open_replacement_id": None}
        card["status"] = "active"
        return card

    def view(self, card: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in card.items() if k != "customer_id"}


def card_issuer(faults: Faults, today: Today) -> FastAPI:
    app = partner_app("card issuer", faults, IssuerSettings())
    app.state.issuer = issuer = Issuer(today)
    keys = KeyedAnswers()

    def keyed(operation: str, key: str, request: dict[str, Any], work: Any) -> JSONResponse:
        with issuer.lock:
            return keys.answer(operation, key, request, work)

    @app.get("/customers/{customer_id}/cards")
    def cards(customer_id: str) -> dict[str, Any]:
        with issuer.lock:
            held = [
                issuer.view(c) for c in issuer.cards.values() if c["customer_id"] == customer_id
            ]
        return {"customer_id": customer_id, "cards": held}

    @app.get("/cards/{card_id}")
    def card(card_id: str) -> dict[str, Any]:
        with issuer.lock:
            return issuer.view(issuer.card(card_id))

    @app.get("/cards/{card_id}/transactions")
    def transactions(card_id: str) -> dict[str, Any]:
        with issuer.lock:
            issuer.card(card_id)
            cutoff = (datetime.now(UTC) - timedelta(days=30)).isoformat()
            recent = [t for t in issuer.transactions.get(card_id, []) if t["time"] >= cutoff]
        return {"card_id": card_id, "transactions": recent}

    @app.post("/cards/{card_id}/freeze")
    def freeze(
        card_id: str, request: FreezeRequest, idempotency_key: IdempotencyKey
    ) -> JSONResponse:
        body = {"card_id": card_id, **request.model_dump()}
        return keyed(
            "freeze", idempotency_key, body, lambda: issuer.freeze(card_id, request.reason)
        )

    @app.post("/cards/{card_id}/unfreeze")
    def unfreeze(
        card_id: str,
        idempotency_key: IdempotencyKey,
        request: dict[str, Any] | None = Body(None),  # noqa: B008 (FastAPI's idiom)
    ) -> JSONResponse:
        if request:
            raise HTTPException(422, "unfreeze takes no body")
        return keyed(
            "unfreeze", idempotency_key, {"card_id": card_id}, lambda: issuer.unfreeze(card_id)
        )

    @app.post("/cards/{card_id}/replacements")
    def replace(
        card_id: str, request: ReplacementRequest, idempotency_key: IdempotencyKey
    ) -> JSONResponse:
        body = {"card_id": card_id, **request.model_dump()}
        return keyed("replace", idempotency_key, body, lambda: issuer.replace(card_id, request))

    @app.post("/cards")
    def new_card(request: NewCardRequest, idempotency_key: IdempotencyKey) -> JSONResponse:
        return keyed(
            "new_card", idempotency_key, request.model_dump(), lambda: issuer.new_card(request)
        )

    @app.post("/cards/{card_id}/digital")
    def digital(
        card_id: str,
        idempotency_key: IdempotencyKey,
        request: dict[str, Any] | None = Body(None),  # noqa: B008
    ) -> JSONResponse:
        if request:
            raise HTTPException(422, "a digital card takes no body")
        return keyed(
            "digital", idempotency_key, {"card_id": card_id}, lambda: issuer.add_digital(card_id)
        )

    @app.get("/replacements/{replacement_id}")
    def replacement(replacement_id: str) -> dict[str, Any]:
        with issuer.lock:
            return issuer.events(replacement_id, app.state.settings)

    @app.post("/_sandbox/cards/{card_id}/activate")
    def activate(card_id: str) -> dict[str, Any]:
        with issuer.lock:
            return issuer.view(issuer.activate(card_id))

    @app.post("/_sandbox/cards/{card_id}/authorise")
    def authorise(card_id: str) -> dict[str, Any]:
        """A card, cash or wallet payment attempt: declined while frozen or cancelled."""
        with issuer.lock:
            status = issuer.card(card_id)["status"]
        return {"card_id": card_id, "approved": status == "active"}

    @app.get("/_sandbox/charges")
    def charges() -> list[dict[str, Any]]:
        with issuer.lock:
            return list(issuer.charges)

    return app
