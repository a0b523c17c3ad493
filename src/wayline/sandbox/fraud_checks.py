"""The fraud bureau's checks for the newer journeys, added to its simulator: account opening
(markers and the Immigration Act 2014 disqualified-person check), card delivery to a new
address, and payments.

Account opening by last name (any case): Fraud (and the name Jordan Lee) has a "high"
impersonation marker; Status is a disqualified person. Card delivery: `refer` for jordan, else
`clear`. Payments: jordan's "high" marker, else none. The checks read and decide nothing, so a
key is optional; with one, a repeat gets the first answer."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from wayline.sandbox import dataset
from wayline.sandbox.idempotency import KeyedAnswers, OptionalIdempotencyKey

NAME = r"^[A-Za-z][A-Za-z '\-]{0,49}$"


class OpeningCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first_name: str = Field(pattern=NAME)
    last_name: str = Field(pattern=NAME)
    date_of_birth: date
    postcode: str = Field(min_length=5, max_length=8)
    email: str | None = Field(None, max_length=254)


class DeliveryAddress(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line_1: str = Field(min_length=1, max_length=35)
    line_2: str | None = Field(None, max_length=35)
    town: str = Field(min_length=1, max_length=35)
    postcode: str = Field(min_length=5, max_length=8)


class DeliveryCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: str = Field(max_length=20)
    card_id: str = Field(max_length=40)
    address: DeliveryAddress


class PaymentCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: str = Field(max_length=20)
    amount_pence: int = Field(gt=0, le=100_000_000)
    new_payee: bool
    sort_code: str = Field(pattern=r"^[0-9]{2}-[0-9]{2}-[0-9]{2}$")
    account_number: str = Field(pattern=r"^[0-9]{8}$")


def opening(request: OpeningCheck) -> dict[str, Any]:
    surname = request.last_name.strip().lower()
    named = f"{request.first_name} {request.last_name}".strip().lower()
    markers = []
    if surname == "fraud" or named == "jordan lee":
        markers.append({"kind": "impersonation", "level": "high"})
    disqualified = surname == "status"
    return {
        "result": "refer" if markers or disqualified else "clear",
        "markers": markers,
        "disqualified_person": disqualified,
    }


def add_checks(app: FastAPI) -> None:
    """Adds the newer checks to the fraud bureau's app."""
    lock = threading.Lock()
    keys = KeyedAnswers()
    counter = iter(range(1, 1_000_000_000))

    def answer(operation: str, key: str | None, request: BaseModel, decide: Any) -> JSONResponse:
        def work() -> tuple[int, dict[str, Any]]:
            found = decide()
            return 200, {
                "check_id": f"FRC-{next(counter):06d}",
                "checked_at": datetime.now(UTC).isoformat(),
                **found,
            }

        with lock:
            return keys.answer(operation, key, request.model_dump(mode="json"), work)

    @app.post("/checks/account-opening")
    def account_opening(
        request: OpeningCheck, idempotency_key: OptionalIdempotencyKey = None
    ) -> JSONResponse:
        return answer("account_opening", idempotency_key, request, lambda: opening(request))

    @app.post("/checks/card-delivery")
    def card_delivery(
        request: DeliveryCheck, idempotency_key: OptionalIdempotencyKey = None
    ) -> JSONResponse:
        def decide() -> dict[str, Any]:
            marker = dataset.fraud_record(request.customer_id)["risk_marker"]
            return {"result": "refer" if marker else "clear", "risk_marker": marker}

        return answer("card_delivery", idempotency_key, request, decide)

    @app.post("/checks/payments")
    def payments(
        request: PaymentCheck, idempotency_key: OptionalIdempotencyKey = None
    ) -> JSONResponse:
        def decide() -> dict[str, Any]:
            return {"risk_marker": dataset.fraud_record(request.customer_id)["risk_marker"]}

        return answer("payment", idempotency_key, request, decide)
