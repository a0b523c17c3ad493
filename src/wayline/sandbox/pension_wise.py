"""Pension Wise booking simulator: a free guidance appointment at 10am on the third working
day from today, with a `PW-` reference of six digits. (In production a support task may do
this; the investment journey books through it when the customer asks.)"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time
from typing import Any, Literal

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from wayline.sandbox.app import partner_app
from wayline.sandbox.faults import Faults
from wayline.sandbox.idempotency import IdempotencyKey, KeyedAnswers
from wayline.sandbox.partners_common import Today
from wayline.sandbox.working_days import add_working_days

FIRST_REFERENCE = 100_001


class BookingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: str = Field(min_length=1, max_length=20)
    channel: Literal["phone", "video"] = "phone"
    mobile_ending: str | None = Field(None, pattern=r"^[0-9]{4}$")


def pension_wise(faults: Faults, today: Today) -> FastAPI:
    app = partner_app("Pension Wise booking", faults)
    lock = threading.Lock()
    bookings: dict[str, dict[str, Any]] = {}
    keys = KeyedAnswers()

    @app.post("/appointments")
    def book(request: BookingRequest, idempotency_key: IdempotencyKey) -> JSONResponse:
        def work() -> tuple[int, dict[str, Any]]:
            day = add_working_days(today(), 3)
            booking = {
                "booking_reference": f"PW-{FIRST_REFERENCE + len(bookings)}",
                "customer_id": request.customer_id,
                "channel": request.channel,
                "appointment_at": datetime.combine(day, time(10, 0), tzinfo=UTC).isoformat(),
                "booked_at": datetime.now(UTC).isoformat(),
            }
            bookings[booking["booking_reference"]] = booking
            return 201, booking

        with lock:
            return keys.answer("book", idempotency_key, request.model_dump(), work)

    @app.get("/appointments/{booking_reference}")
    def appointment(booking_reference: str) -> dict[str, Any]:
        with lock:
            found = bookings.get(booking_reference)
        if found is None:
            raise HTTPException(404, "no such appointment")
        return found

    return app
