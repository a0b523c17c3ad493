"""Rendering pages: one Jinja2 environment, a common page context, and the step view model.

Pages are generated from the journey definition alone: no per-journey templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from wayline.journeys import engine
from wayline.journeys.answer_text import long_date
from wayline.journeys.engine import FieldError, JourneyState
from wayline.journeys.expressions import holds
from wayline.journeys.field_types import FieldType, field_type
from wayline.journeys.loader import Journey
from wayline.journeys.schema import FieldSpec, Option, StepSpec
from wayline.runtime.presenter import is_required
from wayline.web.pages.display import moment
from wayline.web.pages.forms import first_input_id

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parents[1] / "templates"))
TEMPLATES.env.filters["long_date"] = long_date
TEMPLATES.env.filters["moment"] = moment
TEMPLATES.env.filters["first_input_id"] = first_input_id
REVEAL = re.compile(r'^answers\.([a-z][a-z0-9_]*) == "([^"]+)"$')


def render(
    request: Request, template: str, title: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A page with the common context: theme, CSRF token, who is signed in, the title."""
    csrf = request.app.state.csrf
    token = csrf.token_for(request)
    errors = context.get("errors") or []
    page_title = f"{'Error: ' if errors else ''}{title} – {request.app.state.theme.organisation}"
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "theme": request.app.state.theme,
            "csrf_token": token,
            "customer": request.app.state.sessions.customer(request),
            "demo": request.app.state.settings.demo,
            "page_title": page_title,
            **context,
        },
        status_code=status_code,
    )
    csrf.remember(request, response)
    return response


@dataclass
class FieldView:
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
    def first_input_id(self) -> str:
        return first_input_id(self.spec)

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


def step_fields(
    journey: Journey,
    state: JourneyState,
    step: StepSpec,
    values: dict[str, Any],
    shown: dict[str, Any],
    errors: list[FieldError],
    documents: dict[str, dict[str, Any]],
    now: datetime,
) -> list[FieldView]:
    """The fields a step page shows, with fields revealed by a radio option nested under it.

    A field whose condition depends only on earlier steps is shown when it holds; one that
    depends on this step's own answers is always in the form (revealed by script), and the
    engine keeps its value only when the condition holds."""
    messages = {error.field: error.message for error in errors}
    scope = engine.context(journey, state, {**state.answers, **values}, now)
    own = {spec.name for spec in step.fields}
    views: dict[str, FieldView] = {}
    top: list[FieldView] = []
    for spec in step.fields:
        if engine.typed_in(state, spec) and spec.options_from:
            # The options' source is down: ask for the answer as text, and say why.
            spec = spec.model_copy(
                update={
                    "type": FieldType.TEXT,
                    "options_from": None,
                    "hint": spec.options_from.unavailable,
                }
            )
        depends_here = spec.when is not None and any(f"answers.{n}" in spec.when for n in own)
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
            _revealed_by(journey, state, spec, views, own, values, now) if depends_here else None
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
    such as `answers.payout_account == "different" || !has(data.customer.accounts)` count
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
