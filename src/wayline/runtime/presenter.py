"""The journey as clients see it: the API body, also what the pages render from.

Clients are customers, so the view holds only what a customer may be told: checks and decision
reasons declared for staff (fraud, risk) are left out or replaced by the neutral reason (see
journeys/disclosure.py). Staff keep them in the stored state and events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wayline.journeys import content, engine, follow_up, groups
from wayline.journeys.computed import in_words
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
        "effects": present_effects(state),
        # Worked out afresh on each read: a page reloaded shows what partner calls gave since.
        "progress": content.shown(
            list(journey.definition.progress),
            engine.context(journey, state, state.answers, now),
            in_words(journey.definition.computed, state.computed),
        )
        if state.submitted_at
        else [],
        "computed": present_computed(journey, state, list(journey.definition.computed)),
        "ended": _ended(state),
        "may_withdraw": state.status not in engine.ENDED and engine.may_withdraw(journey, state),
    }
    if events is not None:
        view["events"] = [
            {key: e[key] for key in ("type", "at", "step", "data") if key in e}
            for e in told.events(events)
        ]
    return view


def present_effects(state: JourneyState) -> dict[str, dict[str, Any]]:
    """Where each partner call stands (pending, done, refused, failed, or cancelled by the
    customer while it was held), when, and a refusal's outcome: what a client polls to "check
    again". The partner's answer itself stays with the journey, for content and later
    requests to read."""
    return {
        name: {key: result[key] for key in ("status", "at", "outcome") if key in result}
        for name, result in state.effects.items()
    }


def present_computed(
    journey: Journey, state: JourneyState, names: list[str]
) -> list[dict[str, Any]]:
    """Computed values by name, each with its label, type, currency and explanation; the
    value is None until it can be worked out."""
    shown = []
    for name in names:
        spec = journey.definition.computed.get(name)
        if spec is None:
            continue
        entry: dict[str, Any] = {
            "name": name,
            "label": spec.label,
            "type": spec.type,
            "value": state.computed.get(name),
        }
        if spec.currency:
            entry["currency"] = spec.currency
        if spec.explanation:
            entry["explanation"] = spec.explanation
        shown.append(entry)
    return shown


def _ended(state: JourneyState) -> dict[str, Any] | None:
    """How the journey ended, without staff's own words (their reason is for staff)."""
    if state.ended is None:
        return None
    return {key: state.ended[key] for key in ("status", "at", "by") if key in state.ended}


def present_holds(
    journey: Journey, state: JourneyState, held: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The journey's held effects as the customer sees them (runtime work such as deadline
    timers is not theirs to see): what waits, until when, whether they may cancel it."""
    shown = []
    for row in held:
        effect = engine.held_effect(journey, state, row["key"])
        if effect is None:
            continue
        waiting = row["status"] == "pending"
        shown.append(
            {
                "key": row["key"],
                "kind": row["kind"],
                "title": effect.title,
                "until": row["until"].isoformat(),
                "status": "held" if waiting else "cancelled",
                "cancellable": waiting and effect.cancellable,
            }
        )
    return shown


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
    body: dict[str, Any] = {
        "name": step.name,
        "title": step.title,
        "hint": step.hint,
        # Blocks read the journey as it is, partner calls' results included ("check again").
        "content": content.shown(
            list(step.content),
            engine.context(journey, state, state.answers, now),
            in_words(journey.definition.computed, state.computed),
        ),
        "show": present_computed(journey, state, step.show),
        "fields": [
            present_field(journey, state, step, spec, values, scope) for spec in step.fields
        ],
    }
    if step.group is not None:
        body["group"] = present_group(journey, state, step, now)
    return body


def present_group(
    journey: Journey, state: JourneyState, step: StepSpec, now: datetime
) -> dict[str, Any]:
    """A repeating group's summary: its bounds, and each item with its number (from 1, as
    the item routes take it), label, answers and whether it passes its fields' rules. The
    fields each item is asked are the step's `fields`."""
    group = step.group
    assert group is not None
    items = groups.items_of(state.answers, group)
    return {
        "name": group.name,
        "min": group.min,
        "max": group.max,
        "title": groups.summary_title(group, len(items)),
        "add_another": group.add_another,
        "can_add": group.for_each is None and len(items) < group.max,
        "can_remove": group.for_each is None,
        "for_each": group.for_each,
        "items": [
            {
                "number": number,
                "label": engine.item_label(journey, state, step, item),
                "answers": groups.item_fields(item),
                "complete": engine.item_complete(journey, state, step, item, now),
            }
            for number, item in enumerate(items, 1)
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
    typed_hint = engine.typed_in_hint(state, spec)
    if typed_hint is not None:
        # The options' source is down or offers none: the customer is told, and types the
        # answer instead (`unavailable` says which).
        body.update(type="text", hint=typed_hint, unavailable=not engine.offered_none(state, spec))
    elif field_type(spec).takes_options:
        body["options"] = [
            o.model_dump(exclude_none=True) for o in engine.options_for(journey, state, spec)
        ]
    if field_type(spec).holds_files:
        body["accept"] = list(spec.accept)
    if spec.currency is not None:
        body["currency"] = spec.currency
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
