"""Save a draft of a step: kept as typed, nothing checked or dropped, no partner asked.

A draft needs no step-up, even on a step that asks for one: it changes nothing that matters
(the answers stay as they were until the step is submitted), and it is what keeps a customer's
typing while they are sent to confirm who they are."""

from __future__ import annotations

from typing import Any

from wayline.journeys import engine
from wayline.runtime.commands.common import commit_for_client, expect_revision
from wayline.runtime.dependencies import Dependencies
from wayline.runtime.results import Changed


def save_draft(
    deps: Dependencies,
    customer_id: str,
    journey_id: str,
    step: str,
    answers: dict[str, Any],
    revision: int,
) -> Changed:
    now = deps.clock.now()
    before = deps.uow.read(journey_id, customer_id)
    expect_revision(before, revision)
    transition = engine.save_draft(before.journey, before.state, step, answers, now)
    return commit_for_client(deps, customer_id, before, transition, now)
