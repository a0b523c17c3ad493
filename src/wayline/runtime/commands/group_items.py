"""A repeating group's items: add, change and remove one, each like a step's submission (read
the journey for its owner, check the revision the client named, fetch the partner data the
item's fields need, let the engine decide, write it all in one transaction, replay a used
Idempotency-Key). A group's step that asks for a step-up asks it of each change too: judged
on the items as they would be kept, before anything is written. Going on from the group's
summary is an ordinary step submission."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from wayline.journeys import engine, step_up
from wayline.journeys.engine import JourneyState, Transition
from wayline.journeys.loader import Journey
from wayline.runtime import partner_data
from wayline.runtime.commands.common import commit_for_client, expect_revision, replay
from wayline.runtime.dependencies import Dependencies
from wayline.runtime.proof import NONE, Proof
from wayline.runtime.results import Changed
from wayline.runtime.unit_of_work import Idempotency
from wayline.store import DuplicateKey

# What the engine is asked, once the partner data is held: (journey, state, now) -> Transition.
Decide = Callable[[Journey, JourneyState, datetime], Transition]


def add_item(
    deps: Dependencies,
    customer_id: str,
    journey_id: str,
    step: str,
    answers: dict[str, Any],
    revision: int,
    idempotency: Idempotency | None = None,
    proof: Proof = NONE,
) -> Changed:
    def decide(journey: Journey, state: JourneyState, now: datetime) -> Transition:
        return engine.add_item(journey, state, step, answers, now)

    return _run(deps, customer_id, journey_id, step, answers, revision, idempotency, decide, proof)


def change_item(
    deps: Dependencies,
    customer_id: str,
    journey_id: str,
    step: str,
    number: int,
    answers: dict[str, Any],
    revision: int,
    idempotency: Idempotency | None = None,
    proof: Proof = NONE,
) -> Changed:
    def decide(journey: Journey, state: JourneyState, now: datetime) -> Transition:
        return engine.change_item(journey, state, step, number, answers, now)

    return _run(deps, customer_id, journey_id, step, answers, revision, idempotency, decide, proof)


def remove_item(
    deps: Dependencies,
    customer_id: str,
    journey_id: str,
    step: str,
    number: int,
    revision: int,
    idempotency: Idempotency | None = None,
    proof: Proof = NONE,
) -> Changed:
    def decide(journey: Journey, state: JourneyState, now: datetime) -> Transition:
        return engine.remove_item(journey, state, step, number, now)

    return _run(deps, customer_id, journey_id, step, {}, revision, idempotency, decide, proof)


def _run(
    deps: Dependencies,
    customer_id: str,
    journey_id: str,
    step: str,
    answers: dict[str, Any],
    revision: int,
    idempotency: Idempotency | None,
    decide: Decide,
    proof: Proof,
) -> Changed:
    now = deps.clock.now()
    before, record = deps.uow.read_with_key(journey_id, customer_id, idempotency)
    if record is not None:
        return replay(deps, customer_id, record)
    expect_revision(before, revision)
    journey = before.journey
    needs = engine.data_needs(journey, before.state, step, answers, now)
    fetched = deps.partners.fetch_all(customer_id, needs, now)
    state = partner_data.record(journey, before.state, fetched)
    transition = decide(journey, state, now)
    proof.require(step_up.needed(journey, step, transition.state, now), now)
    try:
        return commit_for_client(deps, customer_id, before, transition, now, idempotency)
    except DuplicateKey:
        record = deps.uow.recorded(customer_id, idempotency)
        if record is None:
            raise
        return replay(deps, customer_id, record)
