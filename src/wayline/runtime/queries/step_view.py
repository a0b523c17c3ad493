"""What the customer's pages show, worked out here so that the pages never call the engine
nor repeat its rules: a step's fields (which apply, which are required, their options, the
documents a file field names, which radio reveals which field), where the journey stands
(a page for a step the journey is not at redirects), the back link, the check-answers
sections with each answer in words, and the journey's view for the confirmation and status
pages.

Each query is one read transaction; the options a step shows may need partner data the state
does not hold, fetched after the read (runtime/queries/journey_view.py `with_options`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wayline.journeys import content, engine, groups, step_up
from wayline.journeys.answer_text import Shown
from wayline.journeys.computed import in_words
from wayline.journeys.currencies import prefix
from wayline.journeys.engine import FieldError, JourneyState
from wayline.journeys.expressions import holds
from wayline.journeys.field_types import FieldType, field_type
from wayline.journeys.loader import Journey
from wayline.journeys.schema import Declaration, FieldSpec, Option, StepSpec
from wayline.journeys.step_up import Rule
from wayline.runtime.dependencies import Dependencies
from wayline.runtime.presenter import (
    is_required,
    present_computed,
    present_group,
    step_warnings,
)
from wayline.runtime.queries.journey_view import draw, with_holds, with_options
from wayline.runtime.results import Position
from wayline.store import documents as document_rows
from wayline.store import events as event_log
from wayline.store import outbox

CHECK_ANSWERS = engine.CHECK_ANSWERS
REVEAL = re.compile(r'^answers\.([a-z][a-z0-9_]*) == "([^"]+)"$')


@dataclass(frozen=True)
class Redirect:
    """The journey is not at the page asked for: show `step` instead (check-answers by its
    name; None: the journey's status, once it is sent)."""

    step: str | None


@dataclass
class FieldView:
    """One field as a step page asks it."""

    spec: FieldSpec
    value: Any
    error: str | None
    required: bool
    options: list[Option] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    nested: dict[str, list[FieldView]] = field(default_factory=dict)
    # (choice, options): shown only while one of these options of an earlier choice on the
    # page is chosen (or none is), hidden by script otherwise. No script: always shown.
    shown_for: tuple[str, list[str]] | None = None

    @property
    def currency_prefix(self) -> str:
        """What a money field shows before the amount (£, or a code such as CHF)."""
        return prefix(self.spec.currency or "GBP")

    @property
    def widget(self) -> str:
        """The macro in fields/macros.html that asks this field."""
        return field_type(self.spec).widget

    @property
    def described_by(self) -> str:
        ids = []
        if self.spec.hint:
            ids.append(f"{self.spec.name}-hint")
        if self.error:
            ids.append(f"{self.spec.name}-error")
        return " ".join(ids)


@dataclass(frozen=True)
class StepForm:
    """What handling a posted step needs: the step's definition and its values as saved."""

    journey: Journey
    journey_id: str
    step: StepSpec
    values: dict[str, Any]

    def without_file(self, document_id: str) -> dict[str, list[str]]:
        """The step's file answers with one document taken out (the no-JavaScript Remove)."""
        return {
            spec.name: [d for d in self.values.get(spec.name) or [] if d != document_id]
            for spec in self.step.fields
            if field_type(spec).holds_files and document_id in (self.values.get(spec.name) or [])
        }


@dataclass(frozen=True)
class StepPage:
    """A step page: its definition, values as saved (draft, else answer, else prefill), the
    step before it, and its fields for any values shown (`fields`)."""

    journey: Journey
    journey_id: str
    revision: int
    step: StepSpec
    values: dict[str, Any]
    back: str | None  # the applicable step before this one; None for the first
    multipart: bool  # it takes files
    state: JourneyState
    documents: dict[str, dict[str, Any]]
    now: datetime

    @property
    def content(self) -> list[dict[str, Any]]:
        """The step's content blocks that apply now, their words filled in (a partner call's
        result read afresh on each GET: the customer's "check again")."""
        scope = engine.context(self.journey, self.state, self.state.answers, self.now)
        words = in_words(self.journey.definition.computed, self.state.computed)
        return content.shown(list(self.step.content), scope, words)

    @property
    def step_up(self) -> Rule | None:
        """The stronger or more recent sign-in the step asks for, for any answers or some."""
        return step_up.declared(self.step)

    @property
    def step_up_to_show(self) -> Rule | None:
        """The step-up needed before the page is even shown (one without a condition)."""
        return step_up.to_show(self.step)

    def fields(
        self,
        shown: dict[str, Any],
        errors: list[FieldError] | None = None,
        values: dict[str, Any] | None = None,
        in_item: bool = False,
    ) -> list[FieldView]:
        """The fields the page shows with `shown` in them (the form's values), each with its
        error; `values` (default: as saved) are the answers the step's conditions see.
        `in_item`: the page asks one item of the step's repeating group, and `values` are
        the item's answers."""
        return step_fields(
            self.journey,
            self.state,
            self.step,
            self.values if values is None else values,
            shown,
            errors or [],
            self.documents,
            self.now,
            in_item,
        )

    @property
    def group(self) -> dict[str, Any]:
        """A repeating group's summary (runtime/presenter.py `present_group`)."""
        return present_group(self.journey, self.state, self.step, self.now)

    def item_values(self, number: int) -> dict[str, Any] | None:
        """Item `number`'s answers (from 1), or None when there is no such item."""
        for item in self.group["items"]:
            if item["number"] == number:
                return dict(item["answers"])
        return None


@dataclass(frozen=True)
class AnswerRow:
    label: str
    field: str
    text: str
    # A repeating group's item: its answers in words, line by line, and its change page.
    lines: tuple[str, ...] = ()
    href: str | None = None


@dataclass(frozen=True)
class Section:
    step: StepSpec
    rows: list[AnswerRow]
    warnings: list[str]


@dataclass(frozen=True)
class CheckAnswersPage:
    journey: Journey
    journey_id: str
    revision: int
    sections: list[Section]
    declaration: Declaration
    computed: list[dict[str, Any]] = field(default_factory=list)  # worked out, explained


@dataclass(frozen=True)
class JourneyPage:
    """A journey's definition and its view with the event log (confirmation, status)."""

    journey: Journey
    view: dict[str, Any]


def step_form(deps: Dependencies, customer_id: str, journey_id: str, step: str) -> StepForm | None:
    """For a posted step: None when the journey has no such step."""
    snapshot = deps.uow.read(journey_id, customer_id)
    spec = snapshot.journey.step(step)
    if spec is None:
        return None
    values = engine.step_values(snapshot.journey, snapshot.state, spec)
    return StepForm(snapshot.journey, journey_id, spec, values)


def step_page(
    deps: Dependencies,
    customer_id: str,
    journey_id: str,
    step: str,
    follow_position: bool = True,
) -> StepPage | Redirect | None:
    """A step page (None when the journey has no such step). With `follow_position`, a step
    the journey has not reached yet redirects to the one it is at (and a sent journey to its
    status); a completed step can always be shown again, to change its answers."""
    now = deps.clock.now()
    with deps.uow.reading() as connection:
        snapshot = deps.uow.load(connection, journey_id, customer_id)
        spec = snapshot.journey.step(step)
        if spec is None:
            return None
        documents = document_rows.listed(connection, journey_id)
    journey, state = snapshot.journey, snapshot.state
    position = Position.of(journey, state, now)
    if follow_position:
        if position.current is None:
            return Redirect(None)
        if spec.name not in state.completed and spec.name != position.current:
            return Redirect(position.current)
    state = with_options(deps, journey, state, spec.name, now)
    return StepPage(
        journey=journey,
        journey_id=journey_id,
        revision=snapshot.revision,
        step=spec,
        values=engine.step_values(journey, state, spec),
        back=position.previous(spec.name),
        multipart=any(field_type(f).holds_files for f in spec.fields),
        state=state,
        documents=documents,
        now=now,
    )


def check_answers(
    deps: Dependencies, customer_id: str, journey_id: str, follow_position: bool = True
) -> CheckAnswersPage | Redirect:
    """Every applicable step's answers in words, with the warnings of its checks. With
    `follow_position`, a journey not at check-answers redirects to where it is."""
    now = deps.clock.now()
    with deps.uow.reading() as connection:
        snapshot = deps.uow.load(connection, journey_id, customer_id)
        documents = document_rows.listed(connection, journey_id)
    journey, state = snapshot.journey, snapshot.state
    position = Position.of(journey, state, now)
    if follow_position and position.current != CHECK_ANSWERS:
        return Redirect(position.current)
    sections = [
        Section(
            step,
            group_rows(journey, journey_id, state, step, documents, now)
            if step.group is not None
            else [
                AnswerRow(
                    spec.label,
                    spec.name,
                    answer_words(journey, state, spec, state.answers.get(spec.name), documents),
                )
                for spec in engine.visible_fields(journey, state, step, state.answers, now)
            ],
            step_warnings(journey, state, step.name),
        )
        for step in position.applicable
    ]
    computed = present_computed(journey, state, list(journey.definition.computed))
    return CheckAnswersPage(
        journey, journey_id, snapshot.revision, sections, journey.definition.declaration, computed
    )


def group_rows(
    journey: Journey,
    journey_id: str,
    state: JourneyState,
    step: StepSpec,
    documents: dict[str, dict[str, Any]],
    now: datetime,
) -> list[AnswerRow]:
    """A repeating group on check-answers: a row per item, named by its label, with each
    answer it holds in words and a link to change that item."""
    group = step.group
    assert group is not None
    rows = []
    for number, item in enumerate(groups.items_of(state.answers, group), 1):
        answers = groups.item_fields(item)
        lines = tuple(
            f"{spec.label}: {answer_words(journey, state, spec, answers.get(spec.name), documents)}"
            for spec in engine.visible_fields(journey, state, step, state.answers, now, answers)
        )
        rows.append(
            AnswerRow(
                engine.item_label(journey, state, step, item),
                group.name,
                "; ".join(lines),
                lines,
                f"/journeys/{journey_id}/steps/{step.name}/items/{number}?change=1",
            )
        )
    return rows


def journey_page(deps: Dependencies, customer_id: str, journey_id: str) -> JourneyPage:
    """The journey's definition and its view with the event log."""
    now = deps.clock.now()
    with deps.uow.reading() as connection:
        snapshot = deps.uow.load(connection, journey_id, customer_id)
        events = event_log.of(connection, journey_id)
        held = outbox.held(connection, journey_id, now)
    view = draw(deps, snapshot.journey, snapshot.state, snapshot.revision, now, events)
    return JourneyPage(snapshot.journey, with_holds(snapshot.journey, snapshot.state, view, held))


def current_step(deps: Dependencies, customer_id: str, journey_id: str) -> str | None:
    """Where the journey is: its current step, check-answers, or None once it is sent."""
    snapshot = deps.uow.read(journey_id, customer_id)
    return Position.of(snapshot.journey, snapshot.state, deps.clock.now()).current


def answer_words(
    journey: Journey,
    state: JourneyState,
    spec: FieldSpec,
    value: Any,
    documents: dict[str, dict[str, Any]],
) -> str:
    """An answer as its type reads in words (the registry's `words`); "Not given" when
    empty."""
    if value is None or value == [] or value == "":
        return "Not given"
    kind = field_type(spec)
    shown = Shown(
        labels={o.value: o.label for o in engine.options_for(journey, state, spec)}
        if kind.takes_options
        else {},
        filenames={
            id_: document["filename"]
            for id_, document in documents.items()
            if document.get("filename") is not None
        }
        if kind.holds_files
        else {},
        currency=spec.currency or "GBP",
    )
    return kind.words(value, shown)


def step_fields(
    journey: Journey,
    state: JourneyState,
    step: StepSpec,
    values: dict[str, Any],
    shown: dict[str, Any],
    errors: list[FieldError],
    documents: dict[str, dict[str, Any]],
    now: datetime,
    in_item: bool = False,
) -> list[FieldView]:
    """The fields a step page shows, with fields revealed by a radio option nested under it.

    A field whose condition depends only on earlier steps is shown when it holds; one that
    depends on this step's own answers is always in the form (revealed by script), and the
    engine keeps its value only when the condition holds. `in_item`: the page asks one item
    of a repeating group, `values` are its answers, and a field whose condition reads the
    item is always in the form."""
    messages = {error.field: error.message for error in errors}
    if in_item:
        scope = engine.context(journey, state, state.answers, now, values)
    else:
        scope = engine.context(journey, state, {**state.answers, **values}, now)
    own = {spec.name for spec in step.fields}
    views: dict[str, FieldView] = {}
    top: list[FieldView] = []
    for spec in step.fields:
        typed_hint = engine.typed_in_hint(state, spec)
        if typed_hint is not None:
            # The options' source is down or offers none: ask for the answer as text, and
            # say why.
            spec = spec.model_copy(
                update={"type": FieldType.TEXT, "options_from": None, "hint": typed_hint}
            )
        depends_here = spec.when is not None and (
            "item." in spec.when if in_item else any(f"answers.{n}" in spec.when for n in own)
        )
        if spec.when and not depends_here and not holds(spec.when, scope):
            continue
        view = FieldView(
            spec=spec,
            value=shown.get(spec.name),
            error=messages.get(spec.name),
            required=is_required(spec, scope) or depends_here and bool(spec.required),
            options=engine.options_for(journey, state, spec),
            documents=[documents[d] for d in shown.get(spec.name) or [] if d in documents]
            if field_type(spec).holds_files
            else [],
        )
        views[spec.name] = view
        reveal = (
            _revealed_by(journey, state, spec, views, own, values, now)
            if depends_here and not in_item
            else None
        )
        if reveal is not None and len(reveal[1]) == 1:
            views[reveal[0]].nested.setdefault(reveal[1][0], []).append(view)
        else:
            if reveal is not None and 1 < len(reveal[1]) < len(views[reveal[0]].options):
                view.shown_for = reveal
            top.append(view)
    return top


def _revealed_by(
    journey: Journey,
    state: JourneyState,
    spec: FieldSpec,
    views: dict[str, FieldView],
    own: set[str],
    values: dict[str, Any],
    now: datetime,
) -> tuple[str, list[str]] | None:
    """The radio options that reveal a field: (the choice, its options for which the field's
    condition holds), when the condition reads one earlier choice of this step. Conditions
    such as `answers.CHOICE == "different" || !has(data.customer.accounts)` count
    too: they are tried with each option chosen in turn. A field revealed by exactly one
    option is nested under it."""
    reveal = REVEAL.match(spec.when or "")
    if reveal is not None:
        parent = views.get(reveal.group(1))
        if parent is not None and _is_radios(parent.spec):
            return reveal.group(1), [reveal.group(2)]
        return None
    read = [name for name in own if f"answers.{name}" in (spec.when or "")]
    parent = views.get(read[0]) if len(read) == 1 else None
    if parent is None or not _is_radios(parent.spec):
        return None
    holding = [
        option.value
        for option in parent.options
        if holds(
            spec.when,
            engine.context(
                journey, state, {**state.answers, **values, parent.spec.name: option.value}, now
            ),
        )
    ]
    return parent.spec.name, holding


def _is_radios(spec: FieldSpec) -> bool:
    """A choice of one option: its radios can reveal the fields that depend on it."""
    kind = field_type(spec)
    return kind.takes_options and not kind.holds_list
