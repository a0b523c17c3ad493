"""Sanctions and PEP screening simulator: names checked against the UK Sanctions List and a
list of politically exposed persons, and screened customers put under ongoing monitoring.

By last name (any case): Sanction gives a possible UK Sanctions List match (score 0.91, birth
year only); Politico a domestic PEP, a Member of Parliament in office. Anyone else: no hits."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from wayline.sandbox.app import partner_app
from wayline.sandbox.faults import Faults
from wayline.sandbox.idempotency import IdempotencyKey, KeyedAnswers, OptionalIdempotencyKey
from wayline.sandbox.partners_common import Today

NAME = r"^[A-Za-z][A-Za-z '\-]{0,49}$"


class ScreenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first_name: str = Field(pattern=NAME)
    last_name: str = Field(pattern=NAME)
    date_of_birth: date
    nationality: str | None = Field(None, max_length=60)


class MonitorRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    screening_id: str = Field(max_length=20)
    customer_id: str = Field(max_length=20)


def hits(request: ScreenRequest) -> list[dict[str, Any]]:
    surname = request.last_name.strip().lower()
    if surname == "sanction":
        return [
            {
                "list": "uk_sanctions_list",
                "entry": f"{request.last_name.upper()}, {request.first_name} (Group ID 16000)",
                "score": 0.91,
                "matched_on": ["name", "birth_year"],
                "pep_class": None,
            }
        ]
    if surname == "politico":
        return [
            {
                "list": "pep",
                "entry": f"{request.first_name} {request.last_name}, Member of Parliament (UK)",
                "score": 0.88,
                "matched_on": ["name", "date_of_birth"],
                "pep_class": {
                    "role": "Member of Parliament (UK)",
                    "kind": "domestic",
                    "in_office": True,
                },
            }
        ]
    return []


def screening(faults: Faults, today: Today) -> FastAPI:
    app = partner_app("screening", faults)
    lock = threading.Lock()
    screenings: dict[str, dict[str, Any]] = {}
    monitors: dict[str, dict[str, Any]] = {}
    keys = KeyedAnswers()

    @app.post("/screen")
    def screen(
        request: ScreenRequest, idempotency_key: OptionalIdempotencyKey = None
    ) -> JSONResponse:
        def work() -> tuple[int, dict[str, Any]]:
            found: dict[str, Any] = {
                "screening_id": f"SCR-{len(screenings) + 1:06d}",
                "screened_at": datetime.now(UTC).isoformat(),
                "hits": hits(request),
            }
            screenings[found["screening_id"]] = found
            return 200, found

        with lock:
            return keys.answer("screen", idempotency_key, request.model_dump(mode="json"), work)

    @app.post("/monitor")
    def monitor(request: MonitorRequest, idempotency_key: IdempotencyKey) -> JSONResponse:
        def work() -> tuple[int, dict[str, Any]]:
            if request.screening_id not in screenings:
                return 404, {"error": "no_such_screening"}
            record = {
                "monitor_id": f"MON-{len(monitors) + 1:06d}",
                **request.model_dump(),
                "status": "monitoring",
                "since": datetime.now(UTC).isoformat(),
            }
            monitors[record["monitor_id"]] = record
            return 201, record

        with lock:
            return keys.answer("monitor", idempotency_key, request.model_dump(), work)

    return app
