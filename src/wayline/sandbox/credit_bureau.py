"""Credit bureau simulator: a soft `quotation` search (unseen by lenders) or an `application`
search (leaves a footprint), giving the file's status, a score band A to E, adverse flags and
the overdraft limit the band allows.

Band A for a declared income of £75,000 or more, else B. By last name (any case): Thin has a
thin file and no score (no overdraft); Adverse has a default registered 14 months ago, band E
(overdraft declined)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from wayline.sandbox.app import partner_app
from wayline.sandbox.faults import Faults
from wayline.sandbox.idempotency import IdempotencyKey, KeyedAnswers
from wayline.sandbox.partners_common import Today

NAME = r"^[A-Za-z][A-Za-z '\-]{0,49}$"
BAND_LIMITS_PENCE = {"A": 250_000, "B": 150_000, "C": 75_000, "D": 25_000, "E": 0}
AGENCY = {
    "name": "Sample Credit Reference Agency Ltd",
    "address": "PO Box 0000, Sampleton SA1 1AA",
    "phone": "0306 999 0456",
}


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    search_type: Literal["quotation", "application"]
    first_name: str = Field(pattern=NAME)
    last_name: str = Field(pattern=NAME)
    date_of_birth: date
    postcode: str = Field(min_length=5, max_length=8)
    declared_income_pence: int = Field(ge=0, le=1_000_000_000)


def _months_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, last)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def credit_file(request: SearchRequest, today: date) -> dict[str, Any]:
    surname = request.last_name.strip().lower()
    if surname == "thin":
        return {"file_status": "thin", "score_band": None, "adverse": []}
    if surname == "adverse":
        default = {"kind": "default", "registered_on": _months_before(today, 14).isoformat()}
        return {"file_status": "found", "score_band": "E", "adverse": [default]}
    band = "A" if request.declared_income_pence >= 7_500_000 else "B"
    return {"file_status": "found", "score_band": band, "adverse": []}


def credit_bureau(faults: Faults, today: Today) -> FastAPI:
    app = partner_app("credit bureau", faults)
    lock = threading.Lock()
    searches: dict[str, dict[str, Any]] = {}
    keys = KeyedAnswers()

    @app.post("/search")
    def search(request: SearchRequest, idempotency_key: IdempotencyKey) -> JSONResponse:
        def work() -> tuple[int, dict[str, Any]]:
            found = credit_file(request, today())
            band = found["score_band"]
            record = {
                "search_id": f"CRS-{len(searches) + 1:06d}",
                "search_type": request.search_type,
                "searched_at": datetime.now(UTC).isoformat(),
                "footprint": request.search_type == "application",
                **found,
                "overdraft_limit_pence": BAND_LIMITS_PENCE[band] if band else 0,
                "agency": AGENCY,
            }
            searches[record["search_id"]] = record
            return 201, record

        with lock:
            return keys.answer("search", idempotency_key, request.model_dump(mode="json"), work)

    @app.get("/searches")
    def footprints() -> list[dict[str, Any]]:
        """What other lenders would see: application searches only."""
        with lock:
            return [s for s in searches.values() if s["footprint"]]

    return app
