"""The journey as clients see it: the API body, also what the pages render from.

Clients are customers, so the view holds only what a customer may be told: checks and decision
reasons declared for staff (fraud, risk) are left out or replaced by the neutral reason (see
journeys/disclosure.py). Staff keep them in the stored state and events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wayline.journeys import engine, follow_up
from wayline.journeys.disclosure import Disclosure
from wayline.journeys.engine import CHECK_ANSWERS, JourneyState
from wayline.journeys.expressions import holds
from wayline.journeys.field_types import field_type
from wayline.journeys.loader import Journey
from wayline.journeys.schema import FieldSpec, StepSpec
from wayline.runtime.results import Position


def present(
    journey: Journey,
    state: JourneyState,
    revision: int,
    events: list[dict[str, Any]] | None,
    now: datetime,
    latest: Journey | None = None,
    position: Position | None = None,
) -> dict[str, Any]:
    """The customer's view of a journey on its definition version `journey`; `latest`, the
    type's current version, can only hide more from them (see journeys/disclosure.py).
    `events` None leaves the event log out (a command's answer: GET has it); `position`, when
    the caller worked it out already, is not worked out again."""
    told = Disclosure.of(journey, latest)
    position = position or Position.of(journey, state, now)
    current = position.current
    view = {
        "id": state.id,
        "type": journey.name,
        "title": journey.title,
        "version": state.version,
        "status": state.status.value,
        "revision": revision,
        "reference": state.reference,
        "current_step": present_step(journey, state, current, now) if current else None,
        "steps": present_steps(journey, state, current, now, list(position.applicable)),
        "answers": state.answers,
        "drafts": state.drafts,
        "created_at": state.created_at.isoformat(),
        "updated_at": state.updated_at.isoformat(),
        "submitted_at": state.submitted_at.isoformat() if state.submitted_at else None,
        "checks": told.check_results(state.checks),
        "outcome": told.outcome(state.outcome),
    }
    if events is not None:
        view["events"] = [
            {key: e[key] for key in ("type", "at", "step", "data") if key in e}
            for e in told.events(events)
        ]
    return view


def step_warnings(journey: Journey, state: JourneyState, step: str) -> list[str]:
    """What the customer is told about a step's `on_fail: warn` checks: the reason of one that
    failed, or that it could not be made just now (a partner down is not a mismatch)."""
    shown = Disclosure.of(journey).shown_checks
    warnings = []
    for check in journey.definition.checks:
        result = state.checks.get(check.name)
        if (
            result
            and check.name in shown
            and check.at == f"step:{step}"
            and check.on_fail == "warn"
            and (follow_up.failed(result) or result.get(follow_up.UNAVAILABLE))
            and result.get("reason")
        ):
            warnings.append(str(result["reason"]))
    return warnings


def present_steps(
    journey: Journey,
    state: JourneyState,
    current: str | None,
    now: datetime,
    applicable: list[StepSpec] | None = None,
) -> list[dict[str, Any]]:
    """The applicable steps with their status (`applicable` if the caller has them)."""
    steps = []
    if applicable is None:
        applicable = engine.applicable_steps(journey, state, now)
    for step in applicable:
        status = "completed" if step.name in state.completed else "upcoming"
        if step.name == current:
            status = "current"
        steps.append({"name": step.name, "title": step.title, "status": status})
    return steps


def present_step(journey: Journey, state: JourneyState, name: str, now: datetime) -> dict[str, Any]:
    if name == CHECK_ANSWERS:
        declaration = journey.definition.declaration
        return {
            "name": CHECK_ANSWERS,
            "title": journey.definition.check_answers_title,
            "fields": [],
            "declaration": {"text": declaration.text, "button": declaration.button},
        }
    step = journey.step(name)
    assert step is not None
    values = engine.step_values(journey, state, step)
    conditions = [spec.when for spec in step.fields]
    conditions += [rule.when for spec in step.fields for rule in spec.rules]
    scope = engine.condition_scope(
        engine.context(journey, state, {**state.answers, **values}, now), conditions
    )
    return {
        "name": step.name,
        "title": step.title,
        "hint": step.hint,
        "fields": [
            present_field(journey, state, step, spec, values, scope) for spec in step.fields
        ],
    }


def present_field(
    journey: Journey,
    state: JourneyState,
    step: StepSpec,
    spec: FieldSpec,
    values: dict[str, Any],
    scope: dict[str, Any],
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": spec.name,
        "type": spec.type.value,
        "label": spec.label,
        "hint": spec.hint,
        "required": is_required(spec, scope),
        "applies": holds(spec.when, scope),
        "value": values.get(spec.name),
    }
    if engine.typed_in(state, spec) and spec.options_from:
        # The options' source is down: the customer is told, and types the answer instead.
        body.update(type="text", hint=spec.options_from.unavailable, unavailable=True)
    elif field_type(spec).takes_options:
        body["options"] = [
            o.model_dump(exclude_none=True) for o in engine.options_for(journey, state, spec)
        ]
    if field_type(spec).holds_files:
        body["accept"] = list(spec.accept)
    if spec.name in state.prefill:
        prefill = state.prefill[spec.name]
        body["prefilled"] = {
            "source": prefill["source"],
            "fetched_at": prefill["fetched_at"],
            "editable": spec.prefill.editable if spec.prefill else True,
        }
    return body


def is_required(spec: FieldSpec, scope: dict[str, Any]) -> bool:
    if spec.required:
        return True
    return any(rule.rule == "min_items" and holds(rule.when, scope) for rule in spec.rules)
