"""The journey engine: definition + state + input + now → new state + events + effects.

Pure and deterministic: no I/O and no clock reads. The shell (runtime/commands) reads the
state, fetches any partner data the engine asks for (outside any transaction), calls one
command here and commits the transition, its events and its effects in one transaction.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from wayline.journeys import groups, personalise
from wayline.journeys.answer_text import Shown
from wayline.journeys.computed import compute
from wayline.journeys.expressions import (
    ExpressionError,
    compile_expression,
    evaluate,
    holds,
    prepared,
)
from wayline.journeys.field_types import field_type
from wayline.journeys.loader import Journey
from wayline.journeys.personalise import Personalised
from wayline.journeys.schema import Effect, FieldSpec, GroupSpec, Option, Schedule, StepSpec
from wayline.journeys.searches import search
from wayline.journeys.values import Invalid, check_rules, is_empty, parse

CHECK_ANSWERS = "check-answers"


class Status(StrEnum):
    """Where a journey stands. In progress, then sent (submitted, in review, decided), then
    ended: completed, declined, withdrawn or expired. `closed` and `abandoned` are the ends
    journeys reached before fulfilment existed: they still load, and read as ended."""

    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    DECIDED = "decided"
    COMPLETED = "completed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    CLOSED = "closed"
    ABANDONED = "abandoned"


ENDED = frozenset(
    {
        Status.COMPLETED,
        Status.DECLINED,
        Status.WITHDRAWN,
        Status.EXPIRED,
        Status.CLOSED,
        Status.ABANDONED,
    }
)
# The ends a journey can be moved to now, and the trigger of the effects each one fires.
ENDS = (Status.COMPLETED, Status.DECLINED, Status.WITHDRAWN, Status.EXPIRED)


class EventType(StrEnum):
    JOURNEY_STARTED = "journey.started"
    STEP_SAVED = "step.saved"
    STEP_COMPLETED = "step.completed"
    ANSWER_CHANGED = "answer.changed"
    ITEM_ADDED = "item.added"
    ITEM_CHANGED = "item.changed"
    ITEM_REMOVED = "item.removed"
    JOURNEY_SUBMITTED = "journey.submitted"
    REVIEW_STARTED = "review.started"
    DECISION_MADE = "decision.made"
    JOURNEY_CLOSED = "journey.closed"
    JOURNEY_ABANDONED = "journey.abandoned"
    JOURNEY_COMPLETED = "journey.completed"
    JOURNEY_DECLINED = "journey.declined"
    JOURNEY_WITHDRAWN = "journey.withdrawn"
    JOURNEY_EXPIRED = "journey.expired"
    EFFECT_CANCELLED = "effect.cancelled"
    # A submission refused for its answers: field names and message templates, never values.
    ANSWERS_REFUSED = "answers.refused"
    # Personalisation at start: the segments' names (never their data), each experiment's arm.
    JOURNEY_SEGMENTED = "journey.segmented"
    EXPERIMENT_ASSIGNED = "experiment.assigned"
    # A decision's model (and its shadow version) scored the journey: scores only.
    MODEL_SCORED = "model.scored"


# ---------------------------------------------------------------------------------------------
# Transitions and refusals


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    # The message without anything the customer typed (a group item's label), for the event
    # log and insights; None when `message` holds nothing of the customer's.
    template: str | None = None

    @property
    def safe_message(self) -> str:
        return self.template if self.template is not None else self.message


class Refused(Exception):
    """A command the engine will not carry out; nothing changes."""

    status = 400

    def __init__(self, detail: str, errors: list[FieldError] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class InvalidAnswers(Refused):
    status = 422


class NotAvailable(Refused):
    """The command does not fit the journey's state (a step not reached, a closed journey)."""

    status = 409


class UnknownStep(Refused):
    status = 404


class UnknownItem(Refused):
    """A group's item that does not exist (a number beyond the items, or below 1)."""

    status = 404


@dataclass(frozen=True)
class Event:
    type: str
    at: datetime
    step: str | None = None
    fields: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Events carry field names, never values: they are safe to log and to publish."""
        body: dict[str, Any] = {"type": self.type, "at": self.at.isoformat()}
        if self.step:
            body["step"] = self.step
        if self.fields:
            body["fields"] = list(self.fields)
        if self.data:
            body["data"] = self.data
        return body


@dataclass(frozen=True)
class EffectRequest:
    """Work to do outside the journey; `key` makes running it twice take effect once."""

    kind: str
    key: str
    params: dict[str, Any]
    not_before: datetime | None = None  # a timer: run no earlier than this


@dataclass(frozen=True)
class JourneyState:
    id: str
    journey: str
    version: str
    customer_id: str
    status: Status
    created_at: datetime
    updated_at: datetime
    answers: dict[str, Any] = field(default_factory=dict)
    answer_sources: dict[str, dict[str, str]] = field(default_factory=dict)
    drafts: dict[str, dict[str, Any]] = field(default_factory=dict)
    completed: tuple[str, ...] = ()
    data: dict[str, dict[str, Any]] = field(default_factory=dict)
    prefill: dict[str, dict[str, Any]] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    reference: str | None = None
    submitted_at: datetime | None = None
    outcome: dict[str, Any] | None = None
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What effects reported, by key: recorded once however often an effect runs again.
    recorded: dict[str, str] = field(default_factory=dict)
    # The results of partner calls (`call:` effects) by effect name: effects.NAME in CEL.
    effects: dict[str, dict[str, Any]] = field(default_factory=dict)
    computed: dict[str, Any] = field(default_factory=dict)
    # How the journey ended: {"status", "at", "by": effect|customer|staff|time, "reason"}
    ended: dict[str, Any] | None = None
    # How it was personalised when it started (personalise.Personalised.to_dict()).
    personalisation: dict[str, Any] = field(default_factory=dict)
    # Model scores by the decision's model name: model, version, score, reasons, features,
    # and `shadow` (a version scored, never acted on).
    scores: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "journey": self.journey,
            "version": self.version,
            "customer_id": self.customer_id,
            "status": self.status.value,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "answers": self.answers,
            "answer_sources": self.answer_sources,
            "drafts": self.drafts,
            "completed": list(self.completed),
            "data": self.data,
            "prefill": self.prefill,
            "documents": self.documents,
            "reference": self.reference,
            "submitted_at": self.submitted_at.isoformat() if self.submitted_at else None,
            "outcome": self.outcome,
            "checks": self.checks,
            "payments": self.payments,
            "recorded": self.recorded,
            "effects": self.effects,
            "computed": self.computed,
            "ended": self.ended,
            "personalisation": self.personalisation,
            "scores": self.scores,
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> JourneyState:
        submitted = body.get("submitted_at")
        return cls(
            id=body["id"],
            journey=body["journey"],
            version=body["version"],
            customer_id=body["customer_id"],
            status=Status(body["status"]),
            created_at=datetime.fromisoformat(body["created_at"]),
            updated_at=datetime.fromisoformat(body["updated_at"]),
            answers=dict(body.get("answers", {})),
            answer_sources=dict(body.get("answer_sources", {})),
            drafts=dict(body.get("drafts", {})),
            completed=tuple(body.get("completed", ())),
            data=dict(body.get("data", {})),
            prefill=dict(body.get("prefill", {})),
            documents=dict(body.get("documents", {})),
            reference=body.get("reference"),
            submitted_at=datetime.fromisoformat(submitted) if submitted else None,
            outcome=body.get("outcome"),
            checks=dict(body.get("checks", {})),
            payments=dict(body.get("payments", {})),
            recorded=dict(body.get("recorded", {})),
            effects=dict(body.get("effects", {})),
            computed=dict(body.get("computed", {})),
            ended=body.get("ended"),
            personalisation=dict(body.get("personalisation") or {}),
            scores=dict(body.get("scores") or {}),
        )


@dataclass(frozen=True)
class Transition:
    """A new state, its events and the effects it queues. `cancel` names held effects (by
    key) to cancel with it, or ALL_HELD for every effect of the journey still held: the
    store cancels them in the same transaction, or refuses the whole transition when one
    named has already begun (HoldGone)."""

    state: JourneyState
    events: tuple[Event, ...] = ()
    effects: tuple[EffectRequest, ...] = ()
    cancel: tuple[str, ...] = ()


ALL_HELD = "*"


@dataclass(frozen=True)
class DataNeed:
    """Partner data the engine needs before it can show or check a step."""

    source: str
    params: dict[str, Any]


# ---------------------------------------------------------------------------------------------
# Reading the state


def context(
    journey: Journey,
    state: JourneyState,
    answers: dict[str, Any],
    now: datetime,
    item: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What CEL expressions see: every field (null when unanswered), every repeating group's
    items (an empty list when none), data by source, today, checks, the decision, the
    journey's id and reference, the results of its partner calls by name (a call not queued
    yet reads as status "none"); and `item`, the answers of the group item being checked,
    when there is one."""
    every: dict[str, Any] = dict.fromkeys(journey.fields)
    every.update({name: [] for name in journey.groups})
    every.update(answers)
    effects = {
        effect.name: {"status": "none"}
        for effect in journey.definition.effects
        if effect.name is not None
    }
    effects.update(state.effects)
    scope = {
        "answers": every,
        "data": {name: entry.get("value") or {} for name, entry in state.data.items()},
        "today": now.date().isoformat(),
        "now": now.isoformat(),
        "checks": state.checks,
        "decision": state.outcome or {},
        "journey": {"id": state.id, "reference": state.reference or ""},
        "effects": effects,
        "computed": state.computed,
        # What rules read of a model's score: the version acted on, never a shadow's.
        "scores": {name: _acted_on(entry) for name, entry in state.scores.items()},
    }
    if item is not None:
        scope["item"] = item
    return scope


def _acted_on(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if key in ("model", "version", "score")}


def condition_scope(scope: dict[str, Any], conditions: Iterable[str | None]) -> Any:
    """`scope` converted to CEL values once, for checking several conditions against it
    with `holds`: converting a scope costs a hundred times more than checking a condition.
    Only what the conditions read is converted (see `_reads`)."""
    conditions = tuple(conditions)
    needed = _projected(scope, _reads(conditions))
    try:
        return prepared(needed)
    except (TypeError, ValueError, OverflowError):  # let `holds` meet the error, as before
        return needed


Reads = dict[str, frozenset[str] | None]


@lru_cache(maxsize=1024)
def _reads(conditions: tuple[str | None, ...]) -> Reads | None:
    """What the conditions read: for each variable they name, the members they take from it
    when they only ever write `variable.member` (answers.NAME, data.customer), or
    None when they use it otherwise (whole, indexed, a macro such as `answers.exists(...)`).
    None altogether when a condition does not compile."""
    reads: dict[str, set[str] | None] = {}
    for source in conditions:
        if source is None:
            continue
        try:
            variables = compile_expression(source).variables()
        except ExpressionError:
            return None
        for variable in variables:
            uses = re.findall(rf"(?<![\w.]){variable}\b", source)
            members = re.findall(rf"(?<![\w.]){variable}\s*\.\s*([A-Za-z_]\w*)\b(?!\s*\()", source)
            known = reads.get(variable, set())
            if known is None or not members or len(members) != len(uses):
                reads[variable] = None
            else:
                reads[variable] = known | set(members)
    return {name: None if m is None else frozenset(m) for name, m in reads.items()}


def _projected(scope: dict[str, Any], reads: Reads | None) -> dict[str, Any]:
    """The part of `scope` that conditions with these reads can see."""
    if reads is None:
        return dict(scope)
    found = {}
    for name, members in reads.items():
        if name not in scope:
            continue
        value = scope[name]
        if members is not None and isinstance(value, dict):
            value = {member: value[member] for member in members if member in value}
        found[name] = value
    return found


class _Unhashable(Exception):
    pass


def _frozen(value: Any) -> Any:
    """A hashable stand-in for JSON-like data, as fine as CEL's equality: Python holds True,
    1 and 1.0 equal, CEL does not."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool | int):
        return (type(value), value)
    if isinstance(value, float):
        return (float, repr(value))
    if isinstance(value, list | tuple):
        return (list, tuple(_frozen(item) for item in value))
    if isinstance(value, dict):
        return (dict, tuple((key, _frozen(item)) for key, item in value.items()))
    raise _Unhashable


# Which steps apply, by their conditions and what those read. Many callers ask again about
# the same answers within a request and across a journey's requests (the state a command
# loads is the one the previous command presented).
_applicable_memo: dict[tuple[Any, ...], tuple[int, ...]] = {}
_APPLICABLE_MEMO_SIZE = 2048


def applicable_steps(journey: Journey, state: JourneyState, now: datetime) -> list[StepSpec]:
    conditions = tuple(step.when for step in journey.steps)
    if all(condition is None for condition in conditions):
        return list(journey.steps)
    scope = context(journey, state, state.answers, now)
    key: tuple[Any, ...] | None
    try:
        key = (conditions, _frozen(_projected(scope, _reads(conditions))))
    except _Unhashable:
        key = None
    found = _applicable_memo.get(key) if key is not None else None
    if found is None:
        prepared = condition_scope(scope, conditions)
        found = tuple(i for i, step in enumerate(journey.steps) if holds(step.when, prepared))
        if key is not None:
            if len(_applicable_memo) >= _APPLICABLE_MEMO_SIZE:
                _applicable_memo.clear()
            _applicable_memo[key] = found
    return [journey.steps[i] for i in found]


def current_step(
    journey: Journey,
    state: JourneyState,
    now: datetime,
    applicable: list[StepSpec] | None = None,
) -> str | None:
    """The first applicable step not yet completed; check-answers once all are; None after.
    `applicable`, when the caller has them, are `applicable_steps(journey, state, now)`."""
    if state.status != Status.IN_PROGRESS:
        return None
    if applicable is None:
        applicable = applicable_steps(journey, state, now)
    for step in applicable:
        if step.name not in state.completed:
            return step.name
    return CHECK_ANSWERS


def visible_fields(
    journey: Journey,
    state: JourneyState,
    step: StepSpec,
    answers: dict[str, Any],
    now: datetime,
    item: dict[str, Any] | None = None,
) -> list[FieldSpec]:
    """The step's fields whose conditions hold; for a group's item, `item` is its answers."""
    conditions = [spec.when for spec in step.fields]
    if all(condition is None for condition in conditions):
        return list(step.fields)
    scope = condition_scope(context(journey, state, answers, now, item), conditions)
    return [spec for spec in step.fields if holds(spec.when, scope)]


def options_for(journey: Journey, state: JourneyState, spec: FieldSpec) -> list[Option]:
    """Static options plus those a data source offers at run time (dynamic first)."""
    return _offered(state, spec) + list(spec.options)


def _offered(state: JourneyState, spec: FieldSpec) -> list[Option]:
    """The options a field's data source offers (none before it has answered)."""
    found: list[Option] = []
    dynamic = spec.options_from
    if dynamic and dynamic.source in state.data:
        items = search(dynamic.items, state.data[dynamic.source].get("value")) or []
        for item in items if isinstance(items, list) else []:
            value = search(dynamic.value, item)
            label = search(dynamic.label, item)
            hint = search(dynamic.hint, item) if dynamic.hint else None
            if value is not None and label is not None:
                found.append(Option(value=str(value), label=str(label), hint=hint))
    return found


def offered_none(state: JourneyState, spec: FieldSpec) -> bool:
    """The field's source answered, and offered no options (and it has no others)."""
    dynamic = spec.options_from
    if dynamic is None or spec.options:
        return False
    entry = state.data.get(dynamic.source)
    return entry is not None and not entry.get("error") and not _offered(state, spec)


def typed_in_hint(state: JourneyState, spec: FieldSpec) -> str | None:
    """Why a choice is typed in instead of chosen, in the words its hint shows; None when it
    is chosen. A choice whose options come from a source that could not answer
    (`options_from.unavailable`), or that answered with none (`options_from.when_none`), is
    typed in when the definition says how to ask: the journey goes on."""
    dynamic = spec.options_from
    if dynamic is None:
        return None
    entry = state.data.get(dynamic.source)
    if entry is not None and entry.get("error"):
        return dynamic.unavailable
    if dynamic.when_none is not None and offered_none(state, spec):
        return dynamic.when_none.message
    return None


def typed_in(state: JourneyState, spec: FieldSpec) -> bool:
    """Whether the customer types this choice in (see `typed_in_hint`)."""
    return typed_in_hint(state, spec) is not None


def data_needs(
    journey: Journey, state: JourneyState, step_name: str, answers: dict[str, Any], now: datetime
) -> list[DataNeed]:
    """Sources a step's fields need that the state does not hold for the current answers."""
    step = journey.step(step_name)
    if step is None:
        return []
    scope = context(journey, state, {**state.answers, **answers}, now)
    needs = []
    for spec in step.fields:
        bindings = [spec.options_from, spec.prefill]
        for binding in bindings:
            if binding is None:
                continue
            params = _params(getattr(binding, "params", {}), scope)
            held = state.data.get(binding.source)
            need = DataNeed(binding.source, params)
            if (held is None or held.get("params", {}) != params) and need not in needs:
                needs.append(need)
    return needs


def _params(expressions: dict[str, str], scope: dict[str, Any]) -> dict[str, Any]:
    params = {}
    prepared = condition_scope(scope, list(expressions.values())) if expressions else scope
    for name, source in expressions.items():
        try:
            params[name] = evaluate(source, prepared)
        except (LookupError, TypeError, ValueError, RuntimeError):
            params[name] = None
    return params


def sources_used(journey: Journey) -> set[str]:
    """Sources bound without parameters: fetched once when the journey starts."""
    names = set()
    for spec in journey.fields.values():
        for binding in (spec.options_from, spec.prefill):
            if binding is not None and not getattr(binding, "params", None):
                names.add(binding.source)
    return names


def step_values(journey: Journey, state: JourneyState, step: StepSpec) -> dict[str, Any]:
    """What a step shows: the draft over the answer over the prefill, for each field."""
    draft = state.drafts.get(step.name, {})
    shown = {}
    for spec in step.fields:
        if spec.name in draft:
            shown[spec.name] = draft[spec.name]
        elif spec.name in state.answers:
            shown[spec.name] = state.answers[spec.name]
        elif spec.name in state.prefill:
            shown[spec.name] = state.prefill[spec.name]["value"]
    return shown


# ---------------------------------------------------------------------------------------------
# Commands


def start(
    journey: Journey,
    *,
    journey_id: str,
    customer_id: str,
    data: dict[str, dict[str, Any]],
    now: datetime,
    personalised: Personalised | None = None,
) -> Transition:
    """Begin a journey with the customer's known data; prefill from it where bound.
    `journey` is the journey as the variants in `personalised` show it (personalise.apply);
    the segments and arms it records are events too, by name only."""
    personalised = personalised or Personalised()
    state = JourneyState(
        id=journey_id,
        journey=journey.name,
        version=journey.version,
        customer_id=customer_id,
        status=Status.IN_PROGRESS,
        created_at=now,
        updated_at=now,
        data=dict(data),
        personalisation=personalised.to_dict() if personalised != Personalised() else {},
    )
    state = recompute(journey, replace(state, prefill=_prefill(journey, state)), now)
    started = _pointing(journey, state, Event(EventType.JOURNEY_STARTED, now))
    return Transition(state, (started, *_personalisation_events(journey, personalised, now)))


def _personalisation_events(
    journey: Journey, personalised: Personalised, now: datetime
) -> tuple[Event, ...]:
    events = []
    if personalise.segments(journey):
        segmented = {"segments": list(personalised.segments)}
        if personalised.undecided:
            segmented["undecided"] = list(personalised.undecided)
        events.append(Event(EventType.JOURNEY_SEGMENTED, now, data=segmented))
    for experiment in personalise.experiments(journey):
        arm = personalised.arms.get(experiment.name)
        if arm is None:
            continue
        variant = next((a.variant for a in experiment.arms if a.name == arm), None)
        data = {"experiment": experiment.name, "arm": arm, "variant": variant}
        events.append(
            Event(EventType.EXPERIMENT_ASSIGNED, now, data={**data, "by": experiment.assign_by})
        )
    return tuple(events)


def _pointing(journey: Journey, state: JourneyState, event: Event) -> Event:
    """The event with the step the journey goes to next (`data.next`), so that where each
    customer stopped can be read from the event log alone (insights' funnel)."""
    return replace(event, data={**event.data, "next": current_step(journey, state, event.at)})


def refusal_event(step: str, refused: Refused, now: datetime) -> Event:
    """What a refused submission leaves in the event log: the fields and their message
    templates, never an answer."""
    errors = [{"field": e.field, "message": e.safe_message} for e in refused.errors]
    fields = tuple(sorted({e.field for e in refused.errors}))
    return Event(EventType.ANSWERS_REFUSED, now, step, fields, {"errors": errors})


def record_data(
    state: JourneyState,
    source: str,
    params: dict[str, Any],
    value: Any,
    fetched_at: datetime,
    error: str | None = None,
) -> JourneyState:
    """Keep partner data with where and when it came from (the shell fetched it)."""
    entry = {"params": params, "value": value, "fetched_at": fetched_at.isoformat()}
    if error:
        entry["error"] = error
    return replace(state, data={**state.data, source: entry})


def _prefill(journey: Journey, state: JourneyState) -> dict[str, dict[str, Any]]:
    found = dict(state.prefill)
    for spec in journey.fields.values():
        binding = spec.prefill
        if binding is None or binding.source not in state.data:
            continue
        entry = state.data[binding.source]
        value = search(binding.expression, entry.get("value"))
        if value in (None, False, "", []):
            continue
        found[spec.name] = {
            "value": value,
            "source": binding.source,
            "fetched_at": entry.get("fetched_at"),
        }
    return found


def with_data(journey: Journey, state: JourneyState, now: datetime | None = None) -> JourneyState:
    """Refresh prefills and computed values after the shell recorded new data."""
    state = replace(state, prefill=_prefill(journey, state))
    return recompute(journey, state, now or state.updated_at)


def recompute(journey: Journey, state: JourneyState, now: datetime) -> JourneyState:
    """The definition's computed values worked out again from the answers and data."""
    if not journey.definition.computed:
        return state
    scope = context(journey, state, state.answers, now)
    return replace(state, computed=compute(journey.definition.computed, scope))


def save_draft(
    journey: Journey, state: JourneyState, step_name: str, answers: dict[str, Any], now: datetime
) -> Transition:
    """Keep what the customer typed as it is, valid or not; nothing is checked or dropped
    except names that are not fields of the step."""
    step = _reachable(journey, state, step_name, now)
    if step.group is not None:
        raise NotAvailable("A repeating group keeps each item when it is added: no draft is kept")
    _refuse_unknown(step, answers)
    _refuse_malformed(step, answers)
    draft = {**state.drafts.get(step.name, {}), **answers}
    state = replace(state, drafts={**state.drafts, step.name: draft}, updated_at=now)
    return Transition(state, (Event(EventType.STEP_SAVED, now, step.name, tuple(sorted(answers))),))


def submit_step(
    journey: Journey, state: JourneyState, step_name: str, answers: dict[str, Any], now: datetime
) -> Transition:
    """Check a step's answers; keep them and move on, or refuse with every field's message.
    A repeating group's step takes no answers: submitting it goes on from its summary."""
    step = _reachable(journey, state, step_name, now)
    if step.group is not None:
        return _complete_group(journey, state, step, answers, now)
    _refuse_unknown(step, answers)
    _refuse_malformed(step, answers)
    merged = _merged_input(journey, state, step, answers)
    accepted = _validate_step(journey, state, step, merged, now)
    previous = {name: state.answers.get(name) for name in (s.name for s in step.fields)}
    new_answers = {k: v for k, v in state.answers.items() if k not in previous}
    new_answers.update(accepted)
    sources = _answer_sources(journey, state, step, accepted)
    first_time = step.name not in state.completed
    state = replace(
        state,
        answers=new_answers,
        answer_sources=sources,
        drafts={k: v for k, v in state.drafts.items() if k != step.name},
        completed=state.completed if not first_time else (*state.completed, step.name),
        updated_at=now,
    )
    state = recompute(journey, _prune(journey, state, now), now)
    if first_time:
        event = Event(EventType.STEP_COMPLETED, now, step.name, tuple(sorted(accepted)))
    else:
        changed = tuple(
            sorted(
                n for n in previous.keys() | accepted.keys() if previous.get(n) != accepted.get(n)
            )
        )
        event = Event(EventType.ANSWER_CHANGED, now, step.name, changed)
        if changed:
            state = _reopen_invalid(journey, state, step.name, now)
    state, effects = queue(journey, state, f"step:{step.name}", now)
    return Transition(state, (_pointing(journey, state, event),), effects)


def _reopen_invalid(
    journey: Journey, state: JourneyState, changed_step: str, now: datetime
) -> JourneyState:
    """After an answer changes, a completed step whose answers no longer pass its rules is
    asked again (photos were optional for a theft; once it is glass damage they are not)."""
    reopened = set()
    for step in applicable_steps(journey, state, now):
        if step.name == changed_step or step.name not in state.completed:
            continue
        try:
            _check_kept(journey, state, step, now)
        except InvalidAnswers:
            reopened.add(step.name)
    if not reopened:
        return state
    return replace(state, completed=tuple(n for n in state.completed if n not in reopened))


def submit(
    journey: Journey, state: JourneyState, *, declaration: bool, reference: str, now: datetime
) -> Transition:
    """Send the journey: every applicable step complete and still valid, and the declaration."""
    if state.status != Status.IN_PROGRESS:
        raise NotAvailable(
            "This has already been sent"
            if state.reference
            else "This journey can no longer be changed"
        )
    missing = [s for s in applicable_steps(journey, state, now) if s.name not in state.completed]
    if missing:
        raise NotAvailable(
            "Some questions have not been answered yet",
            [FieldError(missing[0].name, f"Complete '{missing[0].title}' before sending")],
        )
    for step in applicable_steps(journey, state, now):
        _check_kept(journey, state, step, now)
    if declaration is not True:
        raise InvalidAnswers(
            "The declaration must be confirmed",
            [FieldError("declaration", journey.definition.declaration.required)],
        )
    state = replace(
        state,
        status=Status.SUBMITTED,
        reference=reference,
        submitted_at=now,
        updated_at=now,
        drafts={},
    )
    event = Event(EventType.JOURNEY_SUBMITTED, now, data={"reference": reference})
    state, effects = queue(journey, state, "submitted", now)
    return Transition(state, (event,), effects)


def begin_review(journey: Journey, state: JourneyState, now: datetime) -> Transition:
    return _move(state, Status.SUBMITTED, Status.IN_REVIEW, EventType.REVIEW_STARTED, now)


def decide(
    journey: Journey, state: JourneyState, outcome: str, reasons: list[str], now: datetime
) -> Transition:
    if state.status not in (Status.SUBMITTED, Status.IN_REVIEW):
        raise NotAvailable(f"A journey that is {state.status.value} cannot be decided")
    decision = {"outcome": outcome, "reasons": list(reasons)}
    state = replace(state, status=Status.DECIDED, outcome=decision, updated_at=now)
    return Transition(state, (Event(EventType.DECISION_MADE, now, data=decision),))


def close(journey: Journey, state: JourneyState, now: datetime) -> Transition:
    return _move(state, Status.DECIDED, Status.CLOSED, EventType.JOURNEY_CLOSED, now)


def abandon(journey: Journey, state: JourneyState, now: datetime) -> Transition:
    """A draft left longer than the definition's abandon_after has expired."""
    if state.status != Status.IN_PROGRESS:
        raise NotAvailable(f"A journey that is {state.status.value} cannot expire")
    if now < state.updated_at + parse_duration(journey.definition.abandon_after):
        raise NotAvailable("The journey is still within its time limit")
    return end(journey, state, Status.EXPIRED, by="time", reason=None, now=now)


# ---------------------------------------------------------------------------------------------
# Fulfilment: how a journey ends

_END_EVENTS = {
    Status.COMPLETED: EventType.JOURNEY_COMPLETED,
    Status.DECLINED: EventType.JOURNEY_DECLINED,
    Status.WITHDRAWN: EventType.JOURNEY_WITHDRAWN,
    Status.EXPIRED: EventType.JOURNEY_EXPIRED,
}
ENDED_BY = ("effect", "customer", "staff", "time")


def end(
    journey: Journey,
    state: JourneyState,
    to: Status,
    *,
    by: str,
    reason: str | None,
    now: datetime,
) -> Transition:
    """End the journey as `to` (completed, declined, withdrawn or expired), saying who ended
    it (an effect's result, the customer, staff or time) and why; the effects declared
    `at: <to>` follow. A journey ends once: ending it again is refused."""
    if to not in _END_EVENTS:
        raise Refused(f"A journey cannot end as {to.value}")
    if by not in ENDED_BY:
        raise Refused(f"A journey is not ended by {by}")
    if state.status in ENDED:
        raise NotAvailable(f"This journey has already ended ({state.status.value})")
    ended: dict[str, Any] = {"status": to.value, "at": now.isoformat(), "by": by}
    if reason:
        ended["reason"] = reason
    state = replace(state, status=to, ended=ended, updated_at=now, drafts={})
    event = Event(_END_EVENTS[to], now, data={"by": by})
    # A journey that did not complete does nothing more it was holding (a payment waiting
    # out its pause is not sent once the customer withdraws).
    cancel = () if to == Status.COMPLETED else (ALL_HELD,)
    return Transition(state, (event,), effects_for(journey, state, to.value, now), cancel)


def may_withdraw(journey: Journey, state: JourneyState) -> bool:
    """A draft may always be withdrawn; a sent journey only where the definition allows."""
    if state.status == Status.IN_PROGRESS:
        return True
    rules = journey.definition.fulfilment
    return rules is not None and state.status.value in rules.withdraw_while


def withdraw(journey: Journey, state: JourneyState, now: datetime) -> Transition:
    """The customer withdraws the journey."""
    if state.status in ENDED:
        raise NotAvailable(f"This journey has already ended ({state.status.value})")
    if not may_withdraw(journey, state):
        raise NotAvailable("This can no longer be withdrawn: contact us instead")
    return end(journey, state, Status.WITHDRAWN, by="customer", reason=None, now=now)


def close_as(
    journey: Journey, state: JourneyState, to: Status, reason: str, now: datetime
) -> Transition:
    """Staff end a journey by hand (completed, declined or withdrawn), with their reason."""
    if to not in (Status.COMPLETED, Status.DECLINED, Status.WITHDRAWN):
        raise Refused("Staff close a journey as completed, declined or withdrawn")
    if not reason.strip():
        raise InvalidAnswers(
            "A reason is needed", [FieldError("reason", "Say why the journey is closed")]
        )
    if state.status == Status.IN_PROGRESS:
        raise NotAvailable("A journey not yet sent is the customer's to withdraw")
    return end(journey, state, to, by="staff", reason=reason.strip(), now=now)


def then_fulfilled(
    journey: Journey, transition: Transition, now: datetime, by: str = "effect"
) -> Transition:
    """`transition`, and the end it brings about (see `fulfil`) when it brings one."""
    ending = fulfil(journey, transition.state, now, by)
    if ending.state is transition.state:
        return transition
    return Transition(
        ending.state,
        transition.events + ending.events,
        transition.effects + ending.effects,
        transition.cancel + ending.cancel,
    )


def held_effect(journey: Journey, state: JourneyState, key: str) -> Effect | None:
    """The definition's effect a key of this journey's was queued for, when it is held (by
    `after` or `not_before`); None for any other key. Keys are made by `effects_for`:
    journey, kind, trigger, the effect's place in the definition; a partner call's by
    `_call_request`: journey, `call`, the effect's name, a digest of its idempotency key."""
    parts = key.split(":")
    if len(parts) == 4 and parts[0] == state.id and parts[1] == CALL:
        named = [e for e in journey.definition.effects if e.call is not None and e.name == parts[2]]
        if named and (named[0].after is not None or named[0].not_before is not None):
            return named[0]
        return None
    if len(parts) < 4 or parts[0] != state.id or not parts[3].isdigit():
        return None
    if parts[3] != str(int(parts[3])):  # one way to write each place: "00" is no key
        return None
    effects = journey.definition.effects
    index = int(parts[3])
    if index >= len(effects):
        return None
    effect = effects[index]
    if effect.kind != parts[1] or (effect.after is None and effect.not_before is None):
        return None
    return effect


def cancel_hold(journey: Journey, state: JourneyState, key: str, now: datetime) -> Transition:
    """The customer cancels a held effect before it runs (the store refuses, with nothing
    written, when it has already begun or was cancelled before)."""
    effect = held_effect(journey, state, key)
    if effect is None:
        raise InvalidAnswers(
            "There is nothing held with that key",
            [FieldError("key", "Give the key of one of the journey's holds")],
        )
    if not effect.cancellable:
        raise NotAvailable("This cannot be cancelled")
    if key in state.recorded:
        raise NotAvailable("This has already been cancelled")
    state = replace(state, recorded={**state.recorded, key: "cancelled"}, updated_at=now)
    if effect.call is not None and effect.name is not None:
        # A named call reads as cancelled, so the definition can end the journey on it
        # (fulfilment's withdrawn_when) and undo what came before (a reservation released).
        cancelled = {"status": "cancelled", "at": now.isoformat()}
        state = replace(state, effects={**state.effects, effect.name: cancelled})
    event = Event(EventType.EFFECT_CANCELLED, now, data={"kind": effect.kind})
    return then_fulfilled(journey, Transition(state, (event,), (), (key,)), now, by="customer")


def fulfil(journey: Journey, state: JourneyState, now: datetime, by: str = "effect") -> Transition:
    """After an effect's result (or a partner's event) is recorded, or the customer cancels a
    hold (`by` "customer"): end the journey when the definition's completed_when,
    declined_when or withdrawn_when now holds (checked in that order); else nothing
    changes."""
    rules = journey.definition.fulfilment
    if rules is None or state.status in ENDED or state.status == Status.IN_PROGRESS:
        return Transition(state)
    conditions = (rules.completed_when, rules.declined_when, rules.withdrawn_when)
    if all(condition is None for condition in conditions):
        return Transition(state)
    scope = condition_scope(context(journey, state, state.answers, now), conditions)
    ends = (Status.COMPLETED, Status.DECLINED, Status.WITHDRAWN)
    for condition, to in zip(conditions, ends, strict=True):
        if condition is not None and holds(condition, scope):
            return end(journey, state, to, by=by, reason=None, now=now)
    return Transition(state)


def _move(
    state: JourneyState, expected: Status, to: Status, event: str, now: datetime
) -> Transition:
    if state.status != expected:
        raise NotAvailable(f"A journey that is {state.status.value} cannot become {to.value}")
    return Transition(replace(state, status=to, updated_at=now), (Event(event, now),))


def parse_duration(text: str) -> timedelta:
    """ISO 8601 durations as the definition language allows them (years as 365 days)."""
    match = re.fullmatch(
        r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?",
        text,
    )
    if not match:
        raise ValueError(f"not an ISO 8601 duration: {text}")
    y, mo, w, d, h, mi, s = (int(part or 0) for part in match.groups())
    return timedelta(days=365 * y + 30 * mo + 7 * w + d, hours=h, minutes=mi, seconds=s)


# ---------------------------------------------------------------------------------------------
# Helpers


def _reachable(journey: Journey, state: JourneyState, step_name: str, now: datetime) -> StepSpec:
    step = journey.step(step_name)
    if step is None:
        raise UnknownStep(f"The journey has no step called '{step_name}'")
    if state.status != Status.IN_PROGRESS:
        raise NotAvailable(f"A journey that is {state.status.value} cannot be changed")
    applicable = applicable_steps(journey, state, now)
    if step not in applicable:
        raise NotAvailable(f"The step '{step_name}' does not apply to this journey's answers")
    current = current_step(journey, state, now, applicable)
    if step.name not in state.completed and step.name != current:
        raise NotAvailable(
            f"The step '{step_name}' is not reached yet; the current step is '{current}'"
        )
    return step


def _refuse_unknown(step: StepSpec, answers: dict[str, Any]) -> None:
    names = {spec.name for spec in step.fields}
    unknown = sorted(set(answers) - names)
    if unknown:
        raise InvalidAnswers(
            "The answers name fields this step does not have",
            [FieldError(name, f"'{name}' is not a question on this step") for name in unknown],
        )


def _refuse_malformed(step: StepSpec, answers: dict[str, Any]) -> None:
    """Only JSON scalars, or lists of them, can be answers (even in a draft)."""
    scalars = (str, int, float, bool, type(None))
    bad = [
        name
        for name, value in answers.items()
        if not (
            isinstance(value, scalars)
            or (isinstance(value, list) and all(isinstance(v, scalars) for v in value))
        )
    ]
    if bad:
        raise InvalidAnswers(
            "Some answers are not of a form any question takes",
            [
                FieldError(name, "An answer must be text, a number, true or false, or a list")
                for name in bad
            ],
        )


def _merged_input(
    journey: Journey, state: JourneyState, step: StepSpec, answers: dict[str, Any]
) -> dict[str, Any]:
    """The step's existing answers, then its draft, then what was just sent."""
    merged = {
        spec.name: state.answers[spec.name] for spec in step.fields if spec.name in state.answers
    }
    merged.update(state.drafts.get(step.name, {}))
    merged.update(answers)
    for spec in step.fields:
        binding = spec.prefill
        if binding and not binding.editable and spec.name in state.prefill:
            merged[spec.name] = state.prefill[spec.name]["value"]
    return merged


def _check_kept(journey: Journey, state: JourneyState, step: StepSpec, now: datetime) -> None:
    """InvalidAnswers unless the step's kept answers (or a group's items) still pass."""
    if step.group is not None:
        errors = group_errors(journey, state, step, now)
        if errors:
            raise InvalidAnswers("There is a problem with the items", errors)
        return
    values = {spec.name: state.answers.get(spec.name) for spec in step.fields}
    _validate_step(journey, state, step, values, now)


def _validate_step(
    journey: Journey,
    state: JourneyState,
    step: StepSpec,
    raw: dict[str, Any],
    now: datetime,
    *,
    in_item: bool = False,
) -> dict[str, Any]:
    """Parse every visible field; collect every message at once. Hidden fields are dropped.
    `in_item`: `raw` is one item of the step's repeating group, whose fields' conditions and
    rules read it as `item` (the journey's answers stay `answers`)."""
    errors: list[FieldError] = []
    accepted: dict[str, Any] = {}
    parsed_scope = dict(state.answers) if in_item else {**state.answers, **raw}
    item = dict(raw) if in_item else None
    for spec in visible_fields(journey, state, step, parsed_scope, now, item):
        value = raw.get(spec.name)
        try:
            if is_empty(value):
                if spec.required:
                    raise Invalid(spec.required)
                value = [] if field_type(spec).holds_list else None
            else:
                value = parse(
                    spec,
                    value,
                    options_for(journey, state, spec),
                    state.documents,
                    typed_in=typed_in(state, spec),
                )
            scope = _rule_scope(journey, state, spec, parsed_scope, now, item)
            message = check_rules(spec, value, scope)
            if message:
                raise Invalid(message)
        except Invalid as error:
            errors.append(FieldError(spec.name, str(error)))
            continue
        if not is_empty(value):
            accepted[spec.name] = value
        (item if item is not None else parsed_scope)[spec.name] = value
    if errors:
        raise InvalidAnswers("There is a problem with the answers", errors)
    return accepted


def _rule_scope(
    journey: Journey,
    state: JourneyState,
    spec: FieldSpec,
    answers: dict[str, Any],
    now: datetime,
    item: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The part of the scope a field's rules can read (`today`, and what their conditions and
    expressions name): CEL converts the whole scope it is given on every evaluation."""
    scope = context(journey, state, answers, now, item)
    sources = tuple(s for rule in spec.rules for s in (rule.when, rule.expression) if s)
    return {**_projected(scope, _reads(sources)), "today": scope["today"]}


def _answer_sources(
    journey: Journey, state: JourneyState, step: StepSpec, accepted: dict[str, Any]
) -> dict[str, dict[str, str]]:
    sources = {
        k: v for k, v in state.answer_sources.items() if journey.step_of_field.get(k) != step.name
    }
    for name, value in accepted.items():
        prefill = state.prefill.get(name)
        if prefill and prefill["value"] == value:
            sources[name] = {"source": prefill["source"], "fetched_at": prefill["fetched_at"]}
    return sources


def _prune(journey: Journey, state: JourneyState, now: datetime) -> JourneyState:
    """Drop answers, drafts and completion of steps and fields that no longer apply. Repeat to
    a fixed point: dropping one answer can switch off another step's condition."""
    for _ in range(len(journey.steps) + 1):
        applicable = applicable_steps(journey, state, now)
        # visible_fields of every applicable step, against one scope converted once
        conditions = [spec.when for step in applicable for spec in step.fields]
        scope: Any = {}  # conditions that are None hold without looking at the scope
        if any(condition is not None for condition in conditions):
            scope = condition_scope(context(journey, state, state.answers, now), conditions)
        keep_fields = {
            spec.name for step in applicable for spec in step.fields if holds(spec.when, scope)
        }
        keep_fields |= {step.group.name for step in applicable if step.group is not None}
        names = {step.name for step in applicable}
        answers = {k: v for k, v in state.answers.items() if k in keep_fields}
        answers = _follow_selections(applicable, answers)
        completed = tuple(name for name in state.completed if name in names)
        drafts = {k: v for k, v in state.drafts.items() if k in names}
        if answers == state.answers and completed == state.completed and drafts == state.drafts:
            break
        state = replace(
            state,
            answers=answers,
            completed=completed,
            drafts=drafts,
            answer_sources={k: v for k, v in state.answer_sources.items() if k in answers},
        )
    return state


def queue(
    journey: Journey, state: JourneyState, trigger: str, now: datetime, *, again: str = ""
) -> tuple[JourneyState, tuple[EffectRequest, ...]]:
    """The effects for `trigger` (see effects_for), with each partner call among them marked
    pending in the state (effects.NAME.status), in the same transition that queues it."""
    effects = effects_for(journey, state, trigger, now, again=again)
    pending = {
        str(effect.params["effect"]): {"status": "pending", "at": now.isoformat()}
        for effect in effects
        # a call already answered under this key is not queued again (the outbox keeps keys)
        if effect.kind == CALL and state.recorded.get(effect.key) not in ("done", "refused")
    }
    if pending:
        state = replace(state, effects={**state.effects, **pending})
    return state, effects


CALL = "call"  # the outbox kind of a partner call (journeys/calls.py)


def effects_for(
    journey: Journey, state: JourneyState, trigger: str, now: datetime, *, again: str = ""
) -> tuple[EffectRequest, ...]:
    """The effects declared for `trigger` whose conditions hold, each with a key made of the
    journey and the effect (so running it twice takes effect once), and for an effect with a
    deadline, the durable timer that checks it was done in time. `again` tells a second firing
    of the same trigger apart (a handler's decision after a referral, which already queued the
    referral's `decided` effects): its effects get keys of their own.

    A partner call's idempotency key is its `key` (CEL), worked out now: the same key is sent
    to the partner however often the call runs, and a call whose key is already queued is not
    queued again (a step answered twice freezes a card once)."""
    conditions = [effect.when for effect in journey.definition.effects]
    scope: Any = {}  # conditions that are None hold without looking at the scope
    if any(condition is not None for condition in conditions):
        scope = condition_scope(context(journey, state, state.answers, now), conditions)
    found = []
    for index, effect in enumerate(journey.definition.effects):
        if effect.at == trigger and holds(effect.when, scope):
            key = f"{state.id}:{effect.label}:{trigger}:{index}" + (f":{again}" if again else "")
            held = _held_until(effect, journey, state, now)
            if effect.call is not None:
                request = _call_request(journey, state, effect, key, now, held)
                if request is None:
                    continue
                found.append(request)
                key = request.key
            else:
                params = dict(effect.params)
                if effect.schedule is not None:
                    params["schedule"] = _schedule(effect.schedule, journey, state, now)
                found.append(EffectRequest(str(effect.kind), key, params, not_before=held))
            if effect.deadline:
                due = now + parse_duration(effect.deadline)
                kind = effect.name or effect.label
                timer = {"for": key, "kind": kind, "due": due.isoformat()}
                found.append(EffectRequest("deadline", f"{key}:deadline", timer, not_before=due))
    return tuple(found)


# ---------------------------------------------------------------------------------------------
# Repeating groups ("add another"): items are added, changed and removed one at a time, each
# checked by its fields' rules; the step completes from its summary, when the count is within
# bounds, every item passes and the rules across items hold.


def add_item(
    journey: Journey, state: JourneyState, step_name: str, answers: dict[str, Any], now: datetime
) -> Transition:
    """Add an item to a group: refused when the group is full, made from a selection, or the
    item does not pass its fields' rules (every message at once)."""
    step, group = _group_step(journey, state, step_name, now)
    if group.for_each is not None:
        raise NotAvailable("These items come from an earlier choice: change them instead")
    items = groups.items_of(state.answers, group)
    if len(items) >= group.max:
        raise InvalidAnswers(group.max_message, [FieldError(group.name, group.max_message)])
    accepted = _checked_item(journey, state, step, answers, now)
    return _with_items(journey, state, step, [*items, accepted], EventType.ITEM_ADDED, now)


def change_item(
    journey: Journey,
    state: JourneyState,
    step_name: str,
    number: int,
    answers: dict[str, Any],
    now: datetime,
) -> Transition:
    """Change item `number` (from 1): what is sent over what the item holds, checked again."""
    step, group = _group_step(journey, state, step_name, now)
    items = groups.items_of(state.answers, group)
    item = _item(items, number)
    merged = {**groups.item_fields(item), **answers}
    _refuse_unknown(step, answers)
    accepted = _checked_item(journey, state, step, merged, now)
    if groups.FOR in item:
        accepted[groups.FOR] = item[groups.FOR]
    items[number - 1] = accepted
    return _with_items(journey, state, step, items, EventType.ITEM_CHANGED, now, number)


def remove_item(
    journey: Journey, state: JourneyState, step_name: str, number: int, now: datetime
) -> Transition:
    """Remove item `number` (from 1). Going below the minimum is allowed (the customer may be
    replacing an item); the summary will not go on until there are enough again."""
    step, group = _group_step(journey, state, step_name, now)
    if group.for_each is not None:
        raise NotAvailable("These items come from an earlier choice: change that choice instead")
    items = groups.items_of(state.answers, group)
    _item(items, number)
    del items[number - 1]
    return _with_items(journey, state, step, items, EventType.ITEM_REMOVED, now, number)


def group_errors(
    journey: Journey, state: JourneyState, step: StepSpec, now: datetime
) -> list[FieldError]:
    """What stops a group's step from completing: an item that does not pass its fields'
    rules (named by its label), too few or too many items, then the rules across items."""
    group = step.group
    assert group is not None
    items = groups.items_of(state.answers, group)
    errors = []
    for item in items:
        try:
            _validate_step(journey, state, step, groups.item_fields(item), now, in_item=True)
        except InvalidAnswers as refused:
            name = item_label(journey, state, step, item)
            first = refused.errors[0]
            errors.append(FieldError(group.name, f"{name}: {first.message}", first.safe_message))
    if len(items) < group.min:
        errors.append(FieldError(group.name, group.min_message or ""))
    if len(items) > group.max:
        errors.append(FieldError(group.name, group.max_message))
    if errors or not group.rules:
        return errors
    scope = groups.rule_scope(context(journey, state, state.answers, now), items)
    for rule in group.rules:
        if holds(rule.when, scope) and not holds(rule.expression, scope):
            errors.append(FieldError(group.name, rule.message))
    return errors


def item_complete(
    journey: Journey, state: JourneyState, step: StepSpec, item: dict[str, Any], now: datetime
) -> bool:
    """Whether an item passes its fields' rules (an item made from a selection starts empty)."""
    try:
        _validate_step(journey, state, step, groups.item_fields(item), now, in_item=True)
    except InvalidAnswers:
        return False
    return True


def item_label(journey: Journey, state: JourneyState, step: StepSpec, item: dict[str, Any]) -> str:
    """How the summary and check-answers name an item (see groups.label)."""
    group = step.group
    assert group is not None
    words = {}
    for spec in step.fields:
        value = item.get(spec.name)
        if not is_empty(value):
            words[spec.name] = field_type(spec).words(value, _labels(journey, state, spec))
    chosen = ""
    if group.for_each is not None and groups.FOR in item:
        selection = journey.fields[group.for_each]
        shown = {o.value: o.label for o in options_for(journey, state, selection)}
        chosen = shown.get(str(item[groups.FOR]), str(item[groups.FOR]))
    return groups.label(group, item, words, chosen)


def _labels(journey: Journey, state: JourneyState, spec: FieldSpec) -> Shown:
    if not field_type(spec).takes_options:
        return Shown()
    return Shown(labels={o.value: o.label for o in options_for(journey, state, spec)})


def _group_step(
    journey: Journey, state: JourneyState, step_name: str, now: datetime
) -> tuple[StepSpec, GroupSpec]:
    step = _reachable(journey, state, step_name, now)
    if step.group is None:
        raise NotAvailable(f"The step '{step_name}' is not a repeating group")
    return step, step.group


def _item(items: list[dict[str, Any]], number: int) -> dict[str, Any]:
    if not 1 <= number <= len(items):
        raise UnknownItem(f"There is no item {number}: the group has {len(items)}")
    return items[number - 1]


def _checked_item(
    journey: Journey, state: JourneyState, step: StepSpec, answers: dict[str, Any], now: datetime
) -> dict[str, Any]:
    _refuse_unknown(step, answers)
    _refuse_malformed(step, answers)
    return _validate_step(journey, state, step, answers, now, in_item=True)


def _with_items(
    journey: Journey,
    state: JourneyState,
    step: StepSpec,
    items: list[dict[str, Any]],
    kind: EventType,
    now: datetime,
    number: int | None = None,
) -> Transition:
    """The state with the group's new items: its step reopened when they no longer pass,
    answers that depend on them pruned, and other steps they invalidate asked again."""
    group = step.group
    assert group is not None
    answers = {k: v for k, v in state.answers.items() if k != group.name}
    if items:
        answers[group.name] = items
    state = replace(state, answers=answers, updated_at=now)
    if step.name in state.completed and group_errors(journey, state, step, now):
        state = replace(state, completed=tuple(n for n in state.completed if n != step.name))
    state = _reopen_invalid(journey, _prune(journey, state, now), step.name, now)
    event = Event(kind, now, step.name, (group.name,), {"item": number or len(items)})
    return Transition(state, (event,))


def _complete_group(
    journey: Journey, state: JourneyState, step: StepSpec, answers: dict[str, Any], now: datetime
) -> Transition:
    """Go on from a group's summary: complete when its items pass together."""
    group = step.group
    assert group is not None
    if answers:
        raise InvalidAnswers(
            "A repeating group's step takes no answers: add, change or remove its items",
            [FieldError(name, f"'{name}' is asked for each item") for name in sorted(answers)],
        )
    errors = group_errors(journey, state, step, now)
    if errors:
        raise InvalidAnswers("There is a problem with the items", errors)
    first_time = step.name not in state.completed
    if first_time:
        state = replace(state, completed=(*state.completed, step.name), updated_at=now)
    kind = EventType.STEP_COMPLETED if first_time else EventType.ANSWER_CHANGED
    event = Event(kind, now, step.name, (group.name,) if first_time else ())
    event = _pointing(journey, state, event)
    return Transition(state, (event,), effects_for(journey, state, f"step:{step.name}", now))


def _follow_selections(applicable: list[StepSpec], answers: dict[str, Any]) -> dict[str, Any]:
    """Groups made from a selection hold one item per value chosen, in the choice's order: an
    item keeps its answers while its value stays chosen, and a new value gets an empty item."""
    for step in applicable:
        group = step.group
        if group is None or group.for_each is None:
            continue
        chosen = answers.get(group.for_each) or []
        held = {item.get(groups.FOR): item for item in groups.items_of(answers, group)}
        items = [held.get(value, {groups.FOR: value}) for value in chosen]
        answers = {k: v for k, v in answers.items() if k != group.name}
        if items:
            answers[group.name] = items
    return answers


def _call_request(
    journey: Journey,
    state: JourneyState,
    effect: Effect,
    key: str,
    now: datetime,
    held: datetime | None = None,
) -> EffectRequest | None:
    """A call's outbox entry: keyed by its idempotency key (None when the key's CEL cannot be
    worked out yet: the call is not queued, as when its condition does not hold)."""
    idempotency = key
    if effect.key is not None:
        try:
            idempotency = str(evaluate(effect.key, context(journey, state, state.answers, now)))
        except (LookupError, TypeError, ValueError, RuntimeError):
            return None
    digest = hashlib.sha256(idempotency.encode()).hexdigest()[:20]
    params = {"effect": effect.name, "idempotency_key": idempotency}
    return EffectRequest(CALL, f"{state.id}:call:{effect.name}:{digest}", params, not_before=held)


def _held_until(
    effect: Effect, journey: Journey, state: JourneyState, now: datetime
) -> datetime | None:
    """When a held effect may run: `after` its trigger, or at its `not_before` (CEL giving a
    date, meaning its start in UTC, or a date-time). A `not_before` that cannot be worked
    out, or is already past, holds nothing: the effect runs now."""
    if effect.after is not None:
        return now + parse_duration(effect.after)
    if effect.not_before is None:
        return None
    scope = context(journey, state, state.answers, now)
    try:
        moment = moment_of(evaluate(effect.not_before, scope), now)
    except (LookupError, TypeError, ValueError, RuntimeError):
        return None
    return moment if moment is not None and moment > now else None


def moment_of(value: Any, now: datetime) -> datetime | None:
    """An ISO 8601 date ("2026-12-24": its start) or date-time as an aware moment (one
    without a zone is in `now`'s zone); None for anything else."""
    if not isinstance(value, str):
        return None
    if len(value) == 10:
        day = datetime.fromisoformat(value)
        return day.replace(tzinfo=now.tzinfo)
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=now.tzinfo)


def _schedule(
    schedule: Schedule, journey: Journey, state: JourneyState, now: datetime
) -> dict[str, Any]:
    """A standing order's recurrence as the partner is given it: its dates worked out now
    (None where they cannot be), its frequency as declared."""
    scope = context(journey, state, state.answers, now)

    def date_of(source: str | None) -> str | None:
        if source is None:
            return None
        try:
            value = evaluate(source, scope)
        except (LookupError, TypeError, ValueError, RuntimeError):
            return None
        return value if isinstance(value, str) else None

    return {
        "first": date_of(schedule.first),
        "every": schedule.every,
        "until": date_of(schedule.until),
    }
