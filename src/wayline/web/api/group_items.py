"""A repeating group's items under /api/v1: see the summary, add, change and remove an item.

Items are numbered from 1 in the order they were added; a number is only meaningful at the
revision it was read at, which every change names (409 when the journey has moved on). A
group's step that asks for a step-up asks it of each change (401 as for a step's submission;
nothing is written). Going on from the summary is an ordinary step submission with no answers
(`POST /journeys/{id}/steps/{step}` with `{"answers": {}, "revision": n}`), which checks the
count and the rules across items.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from wayline.identity.permissions import Permission
from wayline.web.access import allow
from wayline.web.api.journeys import ERRORS, Customer, IdempotencyKey, idempotency, respond
from wayline.web.api.models import ItemAnswers, Revision
from wayline.web.services import CommandsDep, QueriesDep
from wayline.web.step_up import proof_of

router = APIRouter(prefix="/api/v1", tags=["journeys"])
ITEMS = "/journeys/{journey_id}/steps/{step}/items"
Number = Annotated[int, Path(ge=1, le=1000, description="The item's number, from 1.")]


@router.get(
    ITEMS,
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    responses=ERRORS,
    summary="A repeating group's summary: its items, labels and bounds",
)
def group_summary(
    journey_id: str, step: str, customer: Customer, read: QueriesDep
) -> dict[str, Any]:
    return read.group_summary(customer, journey_id, step)


@router.post(
    ITEMS,
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    responses=ERRORS,
    summary="Add an item to a repeating group",
    description="The item's answers are checked by its fields' rules (422 with every "
    "message); a group at its maximum, or one made from an earlier choice, refuses (422, "
    "409).",
)
def add_item(
    journey_id: str,
    step: str,
    body: ItemAnswers,
    request: Request,
    customer: Customer,
    do: CommandsDep,
    read: QueriesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    key = idempotency(idempotency_key, request, body.model_dump())
    changed = do.add_item(
        customer, journey_id, step, body.answers, body.revision, key, proof_of(request)
    )
    return respond(changed, read)


@router.put(
    ITEMS + "/{number}",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    responses=ERRORS,
    summary="Change an item of a repeating group",
    description="What is sent replaces those answers of the item; the item is checked again.",
)
def change_item(
    journey_id: str,
    step: str,
    number: Number,
    body: ItemAnswers,
    request: Request,
    customer: Customer,
    do: CommandsDep,
    read: QueriesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    key = idempotency(idempotency_key, request, body.model_dump())
    changed = do.change_item(
        customer, journey_id, step, number, body.answers, body.revision, key, proof_of(request)
    )
    return respond(changed, read)


@router.post(
    ITEMS + "/{number}/remove",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    responses=ERRORS,
    summary="Remove an item of a repeating group",
    description="POST rather than DELETE so that the revision travels in a body like every "
    "other change.",
)
def remove_item(
    journey_id: str,
    step: str,
    number: Number,
    body: Revision,
    request: Request,
    customer: Customer,
    do: CommandsDep,
    read: QueriesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    key = idempotency(idempotency_key, request, body.model_dump())
    changed = do.remove_item(
        customer, journey_id, step, number, body.revision, key, proof_of(request)
    )
    return respond(changed, read)
