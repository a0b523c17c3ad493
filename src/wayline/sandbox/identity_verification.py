"""Identity verification simulator: a document and a selfie are checked for the document's
authenticity, a face match and liveness; the result comes a few seconds after the check starts.

The applicant's last name (any case) picks the outcome: Retake (first attempt `retake` for
glare, later ones clear), Refer (authenticity inconclusive), Fail (face does not match, every
attempt), Mismatch (clear, but the document's birth date is a year earlier); anyone else is
clear with a face-match score of 0.97. `DELETE /checks/{id}` erases the images."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from wayline.sandbox.app import partner_app
from wayline.sandbox.faults import Faults
from wayline.sandbox.idempotency import IdempotencyKey, KeyedAnswers
from wayline.sandbox.partners_common import Today

NAME = r"^[A-Za-z][A-Za-z '\-]{0,49}$"


class IdentitySettings(BaseModel):
    check_seconds: float = Field(3.0, ge=0, le=600, description="How long a check takes.")


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first_name: str = Field(pattern=NAME)
    last_name: str = Field(pattern=NAME)
    date_of_birth: date
    document_type: Literal["passport", "driving_licence"]
    reference: str | None = Field(None, max_length=40, description="The caller's reference.")


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def outcome(request: CheckRequest, attempt: int, today: date) -> dict[str, Any]:
    """The finished check for this applicant's `attempt`-th try (1 is the first)."""
    surname = request.last_name.strip().lower()
    born = request.date_of_birth
    result: dict[str, Any] = {
        "result": "clear",
        "retake_reason": None,
        "document_authenticity": "pass",
        "face_match": "match",
        "face_match_score": 0.97,
        "liveness": "pass",
    }
    if surname == "retake" and attempt == 1:
        result |= {"result": "retake", "retake_reason": "glare"}
    elif surname == "refer":
        result |= {"result": "refer", "document_authenticity": "inconclusive"}
    elif surname == "fail":
        result |= {"result": "fail", "face_match": "no_match", "face_match_score": 0.21}
    elif surname == "mismatch":
        born = born.replace(year=born.year - 1) if (born.month, born.day) != (2, 29) else born
    result["document"] = {
        "first_name": request.first_name,
        "last_name": request.last_name,
        "date_of_birth": born.isoformat(),
        "document_type": request.document_type,
        "expiry": _years_after(today, 4).isoformat(),
    }
    return result


class Checks:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.checks: dict[str, dict[str, Any]] = {}
        self.attempts: dict[tuple[str, str, str], int] = {}

    def start(self, request: CheckRequest, today: date) -> tuple[int, dict[str, Any]]:
        person = (request.first_name.lower(), request.last_name.lower(), str(request.date_of_birth))
        attempt = self.attempts[person] = self.attempts.get(person, 0) + 1
        check_id = f"IDV-{len(self.checks) + 1:06d}"
        self.checks[check_id] = {
            "check_id": check_id,
            "attempt": attempt,
            "started_at": datetime.now(UTC),
            "started": time.monotonic(),
            "outcome": outcome(request, attempt, today),
            "images_erased_at": None,
        }
        return 202, {"check_id": check_id, "status": "pending", "attempt": attempt}

    def view(self, check_id: str, check_seconds: float) -> dict[str, Any]:
        check = self.checks.get(check_id)
        if check is None:
            raise HTTPException(404, "no such check")
        done = time.monotonic() - check["started"] >= check_seconds
        erased = check["images_erased_at"]
        body: dict[str, Any] = {
            "check_id": check_id,
            "attempt": check["attempt"],
            "status": "complete" if done else "pending",
            "started_at": check["started_at"].isoformat(),
            "completed_at": (
                (check["started_at"] + timedelta(seconds=check_seconds)).isoformat()
                if done
                else None
            ),
            "images_erased": erased is not None,
        }
        if done:
            body |= check["outcome"]
        return body


def identity_verification(faults: Faults, today: Today) -> FastAPI:
    app = partner_app("identity verification", faults, IdentitySettings())
    app.state.checks = checks = Checks()
    keys = KeyedAnswers()

    @app.post("/checks")
    def start(request: CheckRequest, idempotency_key: IdempotencyKey) -> JSONResponse:
        body = request.model_dump(mode="json")
        with checks.lock:
            return keys.answer(
                "start_check", idempotency_key, body, lambda: checks.start(request, today())
            )

    @app.get("/checks/{check_id}")
    def view(check_id: str) -> dict[str, Any]:
        with checks.lock:
            return checks.view(check_id, app.state.settings.check_seconds)

    @app.delete("/checks/{check_id}")
    def erase(check_id: str, idempotency_key: IdempotencyKey) -> JSONResponse:
        def work() -> tuple[int, dict[str, Any]]:
            check = checks.checks.get(check_id)
            if check is None:
                return 404, {"error": "no_such_check"}
            check["images_erased_at"] = check["images_erased_at"] or datetime.now(UTC)
            erased_at = check["images_erased_at"].isoformat()
            return 200, {"check_id": check_id, "images_erased": True, "erased_at": erased_at}

        with checks.lock:
            return keys.answer("erase_images", idempotency_key, {"check_id": check_id}, work)

    return app
