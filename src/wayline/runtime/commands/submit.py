"""Send a journey with its declaration: a reference is drawn, the engine checks every step
again, and the sending, its events and its effects (the checks, and the removal of files no
answer names) are written in one transaction."""

from __future__ import annotations

from dataclasses import replace

import structlog

from wayline.errors import Conflict
from wayline.ids import new_reference
from wayline.journeys import engine
from wayline.journeys.field_types import field_type
from wayline.journeys.loader import Journey
from wayline.observability import metrics
from wayline.runtime import superseded
from wayline.runtime.commands.common import commit_for_client, expect_revision, replay
from wayline.runtime.dependencies import Dependencies
from wayline.runtime.results import Changed
from wayline.runtime.unit_of_work import Idempotency
from wayline.store import DuplicateKey

log = structlog.get_logger("wayline.commands")
REFERENCE_DRAWS = 3  # a reference taken by another journey meanwhile: draw another


def submit(
    deps: Dependencies,
    customer_id: str,
    journey_id: str,
    revision: int,
    declaration: bool,
    idempotency: Idempotency | None = None,
) -> Changed:
    for _draw in range(REFERENCE_DRAWS):
        now = deps.clock.now()
        before, record = deps.uow.read_with_key(
            journey_id, customer_id, idempotency, documents=_asks_for_files
        )
        if record is not None:
            return replay(deps, customer_id, record)
        expect_revision(before, revision)
        journey = before.journey
        reference = new_reference(journey.definition.reference_prefix)
        transition = engine.submit(
            journey, before.state, declaration=declaration, reference=reference, now=now
        )
        # Files no answer names are deleted once it is sent: queued with the sending, and
        # done by the worker after this transaction (deleting files is I/O).
        effects = (*transition.effects, superseded.request(journey_id))
        transition = replace(transition, effects=effects)
        try:
            changed = commit_for_client(deps, customer_id, before, transition, now, idempotency)
        except DuplicateKey:
            continue  # the key's first request committed meanwhile, or the reference was taken
        metrics.JOURNEYS_SUBMITTED.labels(journey.name, journey.version).inc()
        log.info("journey.submitted", journey_id=journey_id, journey=journey.name)
        return changed
    raise Conflict("The journey could not be sent just now; try again")


def _asks_for_files(journey: Journey) -> bool:
    return any(field_type(spec).holds_files for spec in journey.fields.values())
