"""Submit a step: read the journey, fetch the partner data the step needs for these answers
(outside any transaction), let the engine check and keep the answers, make sure the caller's
sign-in is strong and recent enough when the step declares a step-up for what would be kept,
run the step's checks, then write it all in one transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wayline.journeys import engine, follow_up, step_up
from wayline.journeys.engine import InvalidAnswers, Refused
from wayline.journeys.field_types import field_type
from wayline.journeys.loader import Journey
from wayline.observability import metrics
from wayline.runtime import partner_data
from wayline.runtime.commands.common import (
    as_it_is_now,
    commit_for_client,
    expect_revision,
    replay,
)
from wayline.runtime.dependencies import Dependencies
from wayline.runtime.proof import NONE, Proof
from wayline.runtime.results import Changed
from wayline.runtime.unit_of_work import Idempotency
from wayline.store import DuplicateKey


def submit_step(
    deps: Dependencies,
    customer_id: str,
    journey_id: str,
    step: str,
    answers: dict[str, Any],
    revision: int,
    idempotency: Idempotency | None = None,
    proof: Proof = NONE,
) -> Changed:
    """Raises StepUpRequired, before anything is written, when the step asks for a stronger
    or more recent sign-in for these answers than `proof` (NONE meets no step-up)."""
    now = deps.clock.now()

    def asks_for_files(journey: Journey) -> bool:
        spec = journey.step(step)
        return spec is not None and any(field_type(f).holds_files for f in spec.fields)

    before, record = deps.uow.read_with_key(
        journey_id, customer_id, idempotency, documents=asks_for_files
    )
    if record is not None:
        return replay(deps, customer_id, record)
    expect_revision(before, revision)
    journey = before.journey
    needs = partner_data.step_needs(journey, before.state, step, answers, now)
    fetched = deps.partners.fetch_all(customer_id, needs, now)
    state = partner_data.record(journey, before.state, fetched)
    try:
        transition = engine.submit_step(journey, state, step, answers, now)
    except Refused as refused:
        _count(journey, step, refused)
        _record_refusal(deps, journey, journey_id, step, refused, now)
        raise
    # Judged on the answers as they would be kept; nothing is written yet.
    proof.require(step_up.needed(journey, step, transition.state, now), now)
    _count(journey, step, None)
    transition = follow_up.after_step(journey, transition, step, now)
    try:
        changed = commit_for_client(deps, customer_id, before, transition, now, idempotency)
    except DuplicateKey:
        record = deps.uow.recorded(customer_id, idempotency)
        if record is None:
            raise
        return replay(deps, customer_id, record)
    if deps.immediate.run(journey, journey_id, transition.effects):
        return as_it_is_now(deps, customer_id, changed)
    return changed


def _count(journey: Journey, step: str, refused: Refused | None) -> None:
    """Metrics: each submission of a known step, and each field's validation errors."""
    if journey.step(step) is None:
        return
    result = "accepted" if refused is None else "invalid"
    metrics.STEP_SUBMISSIONS.labels(journey.name, journey.version, step, result).inc()
    for error in refused.errors if refused else []:
        if error.field in journey.fields:
            metrics.VALIDATION_ERRORS.labels(journey.name, journey.version, step, error.field).inc()


def _record_refusal(
    deps: Dependencies,
    journey: Journey,
    journey_id: str,
    step: str,
    refused: Refused,
    now: datetime,
) -> None:
    """Answers refused on a step of the definition leave an `answers.refused` event (field
    names and message templates) for insights. Only the definition's own fields are named: a
    client's unknown keys are its mistake, not a customer's struggle, and unbounded."""
    if not isinstance(refused, InvalidAnswers) or journey.step(step) is None:
        return
    known = [e for e in refused.errors if e.field in journey.fields]
    if known:
        shown = InvalidAnswers(refused.detail, known)
        deps.uow.append_events(journey_id, (engine.refusal_event(step, shown, now),))
