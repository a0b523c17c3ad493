"""The journeys API under /api/v1: start, read, save a draft, submit a step, submit."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse

from wayline.runtime.service import Idempotency, JourneyService, Result
from wayline.web.api.models import StartJourney, StepAnswers, SubmitJourney
from wayline.web.auth import current_customer

router = APIRouter(prefix="/api/v1", tags=["journeys"])
Customer = Annotated[str, Depends(current_customer)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
PROBLEM = {"content": {"application/problem+json": {}}}
ERRORS = {code: PROBLEM for code in (400, 401, 404, 409, 413, 422)}


async def service(request: Request) -> JourneyService:
    return request.app.state.service


Service = Annotated[JourneyService, Depends(service)]


def idempotency(key: str | None, request: Request, body: Any) -> Idempotency | None:
    if not key:
        return None
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    fingerprint = hashlib.sha256(f"{request.method} {request.url.path} {canonical}".encode())
    return Idempotency(key, fingerprint.hexdigest())


def respond(result: Result) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    return JSONResponse(result.body, status_code=result.status_code, headers=headers)


@router.get("/journey-types", summary="The journeys that can be started")
def journey_types(svc: Service) -> list[dict[str, Any]]:
    return svc.journey_types()


@router.post("/journeys", status_code=201, responses=ERRORS, summary="Start a journey")
def start_journey(
    body: StartJourney,
    request: Request,
    customer: Customer,
    svc: Service,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    key = idempotency(idempotency_key, request, body.model_dump())
    return respond(svc.start(customer, body.type, key))


@router.get("/journeys", responses=ERRORS, summary="The caller's own journeys")
def list_journeys(customer: Customer, svc: Service) -> list[dict[str, Any]]:
    return svc.list(customer)


@router.get("/journeys/{journey_id}", responses=ERRORS, summary="One journey, with its events")
def get_journey(journey_id: str, customer: Customer, svc: Service) -> dict[str, Any]:
    return svc.get(customer, journey_id)


@router.patch(
    "/journeys/{journey_id}/steps/{step}",
    responses=ERRORS,
    summary="Save a draft of a step: kept as typed, nothing checked or dropped",
)
def save_draft(
    journey_id: str, step: str, body: StepAnswers, customer: Customer, svc: Service
) -> JSONResponse:
    return respond(svc.save_draft(customer, journey_id, step, body.answers, body.revision))


@router.post(
    "/journeys/{journey_id}/steps/{step}",
    responses=ERRORS,
    summary="Submit a step: checked, kept, and the journey moves on",
)
def submit_step(
    journey_id: str,
    step: str,
    body: StepAnswers,
    request: Request,
    customer: Customer,
    svc: Service,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    key = idempotency(idempotency_key, request, body.model_dump())
    return respond(svc.submit_step(customer, journey_id, step, body.answers, body.revision, key))


@router.post(
    "/journeys/{journey_id}/submit",
    responses=ERRORS,
    summary="Send the journey with the declaration",
)
def submit_journey(
    journey_id: str,
    body: SubmitJourney,
    request: Request,
    customer: Customer,
    svc: Service,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    key = idempotency(idempotency_key, request, body.model_dump())
    return respond(svc.submit(customer, journey_id, body.revision, body.declaration, key))
