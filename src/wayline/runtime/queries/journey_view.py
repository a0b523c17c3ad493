"""The journey as the API shows it (runtime/presenter.py draws it).

- After a command: from the state the command wrote, at the revision it wrote, with the
  position it worked out; the journey is not read again, nor its event log (a command's
  answer leaves `events` out: GET has them).
- GET: one read transaction for the journey and its event log.

Either way the options the current step shows may need partner data the state does not hold
(the repairers near the incident postcode): it is fetched after the read or the commit,
outside any transaction, for display only (submitting the step records it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wayline.journeys.engine import JourneyState
from wayline.journeys.loader import Journey
from wayline.runtime import partner_data
from wayline.runtime.dependencies import Dependencies
from wayline.runtime.presenter import present
from wayline.runtime.results import Changed, Position
from wayline.store import events as event_log


def journey_view(deps: Dependencies, customer_id: str, journey_id: str) -> dict[str, Any]:
    """The customer's journey with its event log (NotFound when it is not theirs)."""
    now = deps.clock.now()
    with deps.uow.reading() as connection:
        snapshot = deps.uow.load(connection, journey_id, customer_id)
        events = event_log.of(connection, journey_id)
    return draw(deps, snapshot.journey, snapshot.state, snapshot.revision, now, events)


def view_of(deps: Dependencies, changed: Changed) -> dict[str, Any]:
    """The journey as a command left it, without the event log."""
    return draw(
        deps, changed.journey, changed.state, changed.revision, changed.now, None, changed.position
    )


def draw(
    deps: Dependencies,
    journey: Journey,
    state: JourneyState,
    revision: int,
    now: datetime,
    events: list[dict[str, Any]] | None,
    position: Position | None = None,
) -> dict[str, Any]:
    position = position or Position.of(journey, state, now)
    state = with_options(deps, journey, state, position.current, now)
    latest = deps.catalog.get(journey.name)
    return present(journey, state, revision, events, now, latest, position)


def with_options(
    deps: Dependencies, journey: Journey, state: JourneyState, step: str | None, now: datetime
) -> JourneyState:
    """The state with the data `step`'s options need, fetched now if it does not hold it."""
    needs = partner_data.view_needs(journey, state, step, now)
    if not needs:
        return state
    fetched = deps.partners.fetch_all(state.customer_id, needs, now)
    return partner_data.record(journey, state, fetched)
