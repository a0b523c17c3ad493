"""The journey engine: definition + state + input + now → new state + events + effects.

Pure and deterministic: no I/O and no clock reads. The shell (runtime/commands) reads the
state, fetches any partner data the engine asks for (outside any transaction), calls one
command here and commits the transition, its events and its effects in one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

import cel
import jmespath
import jmespath.exceptions

from wayline.journeys.expressions import ExpressionError, compile_expression, evaluate, holds
from wayline.journeys.field_types import field_type
from wayline.journeys.loader import Journey
from wayline.journeys.schema import FieldSpec, Option, StepSpec
from wayline.journeys.values import Invalid, check_rules, is_empty, parse

CHECK_ANSWERS = "check-answers"


class Status(StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    DECIDED = "decided"
    CLOSED = "closed"
    ABANDONED = "abandoned"


class EventType(StrEnum):
    JOURNEY_STARTED = "journey.started"
    STEP_SAVED = "step.saved"
    STEP_COMPLETED = "step.completed"
    ANSWER_CHANGED = "answer.changed"
    JOURNEY_SUBMITTED = "journey.submitted"
    REVIEW_STARTED = "review.started"
    DECISION_MADE = "decision.made"
    JOURNEY_CLOSED = "journey.closed"
    JOURNEY_ABANDONED = "journey.abandoned"


# ---------------------------------------------------------------------------------------------
# Transitions and refusals


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


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
        )


@dataclass(frozen=True)
class Transition:
    state: JourneyState
    events: tuple[Event, ...] = ()
    effects: tuple[EffectRequest, ...] = ()


@dataclass(frozen=True)
class DataNeed:
    """Partner data the engine needs before it can show or check a step."""

    source: str
    params: dict[str, Any]


# ---------------------------------------------------------------------------------------------
# Reading the state


def context(
    journey: Journey, state: JourneyState, answers: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """What CEL expressions see: every field (null when unanswered), data by source, today."""
    every = dict.fromkeys(journey.fields)
    every.update(answers)
    return {
        "answers": every,
        "data": {name: entry.get("value") or {} for name, entry in state.data.items()},
        "today": now.date().isoformat(),
        "checks": state.checks,
        "decision": state.outcome or {},
    }


def condition_scope(scope: dict[str, Any], conditions: Iterable[str | None]) -> Any:
    """`scope` converted to CEL values once, for checking several conditions against it
    with `holds`: converting a scope costs a hundred times more than checking a condition.
    Only what the conditions read is converted (see `_reads`)."""
    needed = _projected(scope, _reads(tuple(conditions)))
    try:
        return cel.Context(needed)
    except (TypeError, ValueError, OverflowError):  # let `holds` meet the error, as before
        return needed


Reads = dict[str, frozenset[str] | None]


@lru_cache(maxsize=1024)
def _reads(conditions: tuple[str | None, ...]) -> Reads | None:
    """What the conditions read: for each variable they name, the members they take from it
    when they only ever write `variable.member` (answers.incident_type, data.customer), or
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
    journey: Journey, state: JourneyState, step: StepSpec, answers: dict[str, Any], now: datetime
) -> list[FieldSpec]:
    conditions = [spec.when for spec in step.fields]
    if all(condition is None for condition in conditions):
        return list(step.fields)
    scope = condition_scope(context(journey, state, answers, now), conditions)
    return [spec for spec in step.fields if holds(spec.when, scope)]


def search(expression: str, data: Any) -> Any:
    """JMESPath over partner data. Data missing, or not of the shape the expression expects,
    finds nothing: a partner's odd answer must not break a customer's journey."""
    if data is None:
        return None
    try:
        return jmespath.search(expression, data)
    except jmespath.exceptions.JMESPathError:
        return None


def options_for(journey: Journey, state: JourneyState, spec: FieldSpec) -> list[Option]:
    """Static options plus those a data source offers at run time (dynamic first)."""
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
    return found + list(spec.options)


def typed_in(state: JourneyState, spec: FieldSpec) -> bool:
    """A choice whose options come from a source that could not answer is typed in instead,
    when the definition says how to ask (`options_from.unavailable`): the journey goes on."""
    dynamic = spec.options_from
    if dynamic is None or dynamic.unavailable is None:
        return False
    entry = state.data.get(dynamic.source)
    return entry is not None and bool(entry.get("error"))


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
        except (KeyError, TypeError, ValueError, RuntimeError):
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
) -> Transition:
    """Begin a journey with the customer's known data; prefill from it where bound."""
    state = JourneyState(
        id=journey_id,
        journey=journey.name,
        version=journey.version,
        customer_id=customer_id,
        status=Status.IN_PROGRESS,
        created_at=now,
        updated_at=now,
        data=dict(data),
    )
    state = replace(state, prefill=_prefill(journey, state))
    return Transition(state, (Event(EventType.JOURNEY_STARTED, now),))


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


def with_data(journey: Journey, state: JourneyState) -> JourneyState:
    """Refresh prefills after the shell recorded new data."""
    return replace(state, prefill=_prefill(journey, state))


def save_draft(
    journey: Journey, state: JourneyState, step_name: str, answers: dict[str, Any], now: datetime
) -> Transition:
    """Keep what the customer typed as it is, valid or not; nothing is checked or dropped
    except names that are not fields of the step."""
    step = _reachable(journey, state, step_name, now)
    _refuse_unknown(step, answers)
    _refuse_malformed(step, answers)
    draft = {**state.drafts.get(step.name, {}), **answers}
    state = replace(state, drafts={**state.drafts, step.name: draft}, updated_at=now)
    return Transition(state, (Event(EventType.STEP_SAVED, now, step.name, tuple(sorted(answers))),))


def submit_step(
    journey: Journey, state: JourneyState, step_name: str, answers: dict[str, Any], now: datetime
) -> Transition:
    """Check a step's answers; keep them and move on, or refuse with every field's message."""
    step = _reachable(journey, state, step_name, now)
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
    state = _prune(journey, state, now)
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
    effects = effects_for(journey, state, f"step:{step.name}", now)
    return Transition(state, (event,), effects)


def _reopen_invalid(
    journey: Journey, state: JourneyState, changed_step: str, now: datetime
) -> JourneyState:
    """After an answer changes, a completed step whose answers no longer pass its rules is
    asked again (photos were optional for a theft; once it is glass damage they are not)."""
    reopened = set()
    for step in applicable_steps(journey, state, now):
        if step.name == changed_step or step.name not in state.completed:
            continue
        values = {spec.name: state.answers.get(spec.name) for spec in step.fields}
        try:
            _validate_step(journey, state, step, values, now)
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
        values = {spec.name: state.answers.get(spec.name) for spec in step.fields}
        _validate_step(journey, state, step, values, now)
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
    return Transition(state, (event,), effects_for(journey, state, "submitted", now))


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
    """A draft left longer than the definition's abandon_after is abandoned."""
    if state.status != Status.IN_PROGRESS:
        raise NotAvailable(f"A journey that is {state.status.value} cannot be abandoned")
    if now < state.updated_at + parse_duration(journey.definition.abandon_after):
        raise NotAvailable("The journey is still within its time limit")
    return _move(state, Status.IN_PROGRESS, Status.ABANDONED, EventType.JOURNEY_ABANDONED, now)


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


def _validate_step(
    journey: Journey, state: JourneyState, step: StepSpec, raw: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Parse every visible field; collect every message at once. Hidden fields are dropped."""
    errors: list[FieldError] = []
    accepted: dict[str, Any] = {}
    parsed_scope = {**state.answers, **raw}
    for spec in visible_fields(journey, state, step, parsed_scope, now):
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
            message = check_rules(spec, value, _rule_scope(journey, state, spec, parsed_scope, now))
            if message:
                raise Invalid(message)
        except Invalid as error:
            errors.append(FieldError(spec.name, str(error)))
            continue
        if not is_empty(value):
            accepted[spec.name] = value
        parsed_scope[spec.name] = value
    if errors:
        raise InvalidAnswers("There is a problem with the answers", errors)
    return accepted


def _rule_scope(
    journey: Journey, state: JourneyState, spec: FieldSpec, answers: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The part of the scope a field's rules can read (`today`, and what their conditions and
    expressions name): CEL converts the whole scope it is given on every evaluation."""
    scope = context(journey, state, answers, now)
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
        names = {step.name for step in applicable}
        answers = {k: v for k, v in state.answers.items() if k in keep_fields}
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


def effects_for(
    journey: Journey, state: JourneyState, trigger: str, now: datetime
) -> tuple[EffectRequest, ...]:
    """The effects declared for `trigger` whose conditions hold, each with a key made of the
    journey and the effect (so running it twice takes effect once), and for an effect with a
    deadline, the durable timer that checks it was done in time."""
    conditions = [effect.when for effect in journey.definition.effects]
    scope: Any = {}  # conditions that are None hold without looking at the scope
    if any(condition is not None for condition in conditions):
        scope = condition_scope(context(journey, state, state.answers, now), conditions)
    found = []
    for index, effect in enumerate(journey.definition.effects):
        if effect.at == trigger and holds(effect.when, scope):
            key = f"{state.id}:{effect.kind}:{trigger}:{index}"
            found.append(EffectRequest(effect.kind, key, dict(effect.params)))
            if effect.deadline:
                due = now + parse_duration(effect.deadline)
                timer = {"for": key, "kind": effect.kind, "due": due.isoformat()}
                found.append(EffectRequest("deadline", f"{key}:deadline", timer, not_before=due))
    return tuple(found)
