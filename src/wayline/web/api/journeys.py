"""The journeys API under /api/v1: start, read, save a draft, submit a step, submit,
withdraw, and cancel what a journey holds.

Routes turn the commands' domain results into HTTP: a command returns the journey as it
wrote it (runtime/results.Changed), and `respond` answers with its view (201 for a new
journey; `Idempotent-Replayed: true` when an Idempotency-Key was replayed). A command's
answer leaves the event log out: GET /journeys/{id} has it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse

from wayline.identity.permissions import Permission
from wayline.runtime.commands import Idempotency
from wayline.runtime.queries import Queries
from wayline.runtime.results import Changed
from wayline.web.access import PUBLIC, allow
from wayline.web.api.models import (
    AtRevision,
    CancelHold,
    StartJourney,
    StepAnswers,
    SubmitJourney,
)
from wayline.web.auth import current_customer
from wayline.web.services import CommandsDep, QueriesDep
from wayline.web.step_up import proof_of

router = APIRouter(prefix="/api/v1", tags=["journeys"])
Customer = Annotated[str, Depends(current_customer)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = {code: PROBLEM for code in (400, 401, 404, 409, 413, 422)}


def idempotency(key: str | None, request: Request, body: Any) -> Idempotency | None:
    if not key:
        return None
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    fingerprint = hashlib.sha256(f"{request.method} {request.url.path} {canonical}".encode())
    return Idempotency(key, fingerprint.hexdigest())


def respond(changed: Changed, read: Queries) -> JSONResponse:
    """A command's result as HTTP: the journey's view, built after the commit."""
    headers = {"Idempotent-Replayed": "true"} if changed.replayed else None
    status = 201 if changed.created else 200
    return JSONResponse(read.view_of(changed), status_code=status, headers=headers)


@router.get("/journey-types", dependencies=[PUBLIC], summary="The journeys that can be started")
def journey_types(read: QueriesDep) -> list[dict[str, Any]]:
    return read.journey_types()


@router.post(
    "/journeys",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    status_code=201,
    responses=ERRORS,
    summary="Start a journey",
)
def start_journey(
    body: StartJourney,
    request: Request,
    customer: Customer,
    do: CommandsDep,
    read: QueriesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    key = idempotency(idempotency_key, request, body.model_dump())
    return respond(do.start(customer, body.type, key), read)


@router.get(
    "/journeys",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    responses=ERRORS,
    summary="The caller's own journeys",
)
def list_journeys(customer: Customer, read: QueriesDep) -> list[dict[str, Any]]:
    return read.journeys_of(customer)


@router.get(
    "/journeys/{journey_id}",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    responses=ERRORS,
    summary="One journey, with its events",
)
def get_journey(journey_id: str, customer: Customer, read: QueriesDep) -> dict[str, Any]:
    return read.journey_view(customer, journey_id)


@router.patch(
    "/journeys/{journey_id}/steps/{step}",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    responses=ERRORS,
    summary="Save a draft of a step: kept as typed, nothing checked or dropped",
)
def save_draft(
    journey_id: str,
    step: str,
    body: StepAnswers,
    customer: Customer,
    do: CommandsDep,
    read: QueriesDep,
) -> JSONResponse:
    changed = do.save_draft(customer, journey_id, step, body.answers, body.revision)
    return respond(changed, read)


@router.post(
    "/journeys/{journey_id}/steps/{step}",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    responses=ERRORS,
    summary="Submit a step: checked, kept, and the journey moves on",
    description="A step that asks for a stronger or more recent sign-in (its `step_up` in the "
    "journey's view) answers 401 with `WWW-Authenticate: Bearer "
    'error="insufficient_user_authentication"`, `acr_values` and `max_age` (RFC 9470) when '
    "the caller's sign-in falls short; nothing is written. Sign in again as asked and retry.",
)
def submit_step(
    journey_id: str,
    step: str,
    body: StepAnswers,
    request: Request,
    customer: Customer,
    do: CommandsDep,
    read: QueriesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    key = idempotency(idempotency_key, request, body.model_dump())
    proof = proof_of(request)
    changed = do.submit_step(customer, journey_id, step, body.answers, body.revision, key, proof)
    return respond(changed, read)


@router.post(
    "/journeys/{journey_id}/submit",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    responses=ERRORS,
    summary="Send the journey with the declaration",
)
def submit_journey(
    journey_id: str,
    body: SubmitJourney,
    request: Request,
    customer: Customer,
    do: CommandsDep,
    read: QueriesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    key = idempotency(idempotency_key, request, body.model_dump())
    changed = do.submit(customer, journey_id, body.revision, body.declaration, key)
    return respond(changed, read)


@router.post(
    "/journeys/{journey_id}/withdraw",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    responses=ERRORS,
    summary="Withdraw the journey: a draft, or a sent one where its definition allows",
)
def withdraw_journey(
    journey_id: str, body: AtRevision, customer: Customer, do: CommandsDep, read: QueriesDep
) -> JSONResponse:
    return respond(do.withdraw(customer, journey_id, body.revision), read)


@router.post(
    "/journeys/{journey_id}/holds/cancel",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    responses=ERRORS,
    summary="Cancel something the journey holds (its `holds`) before it runs",
    description="409 when it has already begun or was cancelled; 422 for a key the journey "
    "does not hold.",
)
def cancel_hold(
    journey_id: str,
    body: CancelHold,
    customer: Customer,
    do: CommandsDep,
    read: QueriesDep,
) -> JSONResponse:
    return respond(do.cancel_hold(customer, journey_id, body.key, body.revision), read)
