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

from wayline.journeys import step_up
from wayline.journeys.engine import JourneyState, NotAvailable, UnknownStep
from wayline.journeys.loader import Journey
from wayline.runtime import partner_data
from wayline.runtime.dependencies import Dependencies
from wayline.runtime.presenter import present, present_group, present_holds
from wayline.runtime.results import Changed, Position
from wayline.store import events as event_log
from wayline.store import outbox


def journey_view(deps: Dependencies, customer_id: str, journey_id: str) -> dict[str, Any]:
    """The customer's journey with its event log (NotFound when it is not theirs)."""
    now = deps.clock.now()
    with deps.uow.reading() as connection:
        snapshot = deps.uow.load(connection, journey_id, customer_id)
        events = event_log.of(connection, journey_id)
        held = outbox.held(connection, journey_id, now)
    view = draw(deps, snapshot.journey, snapshot.state, snapshot.revision, now, events)
    return with_holds(snapshot.journey, snapshot.state, view, held)


def group_summary(
    deps: Dependencies, customer_id: str, journey_id: str, step: str
) -> dict[str, Any]:
    """A repeating group's summary with the journey's revision (NotFound when the journey is
    not theirs; UnknownStep when it has no such step, NotAvailable when the step is not a
    group, as for the group's commands)."""
    now = deps.clock.now()
    snapshot = deps.uow.read(journey_id, customer_id)
    spec = snapshot.journey.step(step)
    if spec is None:
        raise UnknownStep(f"The journey has no step called '{step}'")
    if spec.group is None:
        raise NotAvailable(f"The step '{step}' is not a repeating group")
    state = with_options(deps, snapshot.journey, snapshot.state, step, now)
    summary = present_group(snapshot.journey, state, spec, now)
    return {"revision": snapshot.revision, "step": step, **summary}


def view_of(deps: Dependencies, changed: Changed) -> dict[str, Any]:
    """The journey as a command left it, without the event log."""
    view = draw(
        deps, changed.journey, changed.state, changed.revision, changed.now, None, changed.position
    )
    with deps.uow.reading() as connection:
        held = outbox.held(connection, changed.state.id, changed.now)
    return with_holds(changed.journey, changed.state, view, held)


def with_holds(
    journey: Journey, state: JourneyState, view: dict[str, Any], held: list[dict[str, Any]]
) -> dict[str, Any]:
    """The view with `holds`: what the journey holds until a time (a payment's pause)."""
    view["holds"] = present_holds(journey, state, held)
    return view


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
    return with_step_ups(journey, present(journey, state, revision, events, now, latest, position))


def with_step_ups(journey: Journey, view: dict[str, Any]) -> dict[str, Any]:
    """The view with, on each step that asks for a stronger or more recent sign-in, what it
    asks: `step_up: {level, max_age, conditional}` (`conditional`: only for some answers), so
    that an app can ask for that sign-in before the customer types anything."""
    shown = [*view["steps"], view["current_step"]]
    for entry in shown:
        spec = journey.step(entry["name"]) if entry else None
        rule = step_up.declared(spec) if spec else None
        if entry is not None and rule is not None:
            entry["step_up"] = {
                "level": rule.level,
                "max_age": rule.max_age,
                "conditional": rule.conditional,
            }
    return view


def with_options(
    deps: Dependencies, journey: Journey, state: JourneyState, step: str | None, now: datetime
) -> JourneyState:
    """The state with the data `step`'s options need, fetched now if it does not hold it."""
    needs = partner_data.view_needs(journey, state, step, now)
    if not needs:
        return state
    fetched = deps.partners.fetch_all(state.customer_id, needs, now)
    return partner_data.record(journey, state, fetched)
