"""The field-type registry (wayline.journeys.field_types): every type has one entry, and what
the entry says is what the definition language, the pages and check-answers do."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from starlette.datastructures import FormData

from wayline.journeys import answer_text
from wayline.journeys.answer_text import Shown
from wayline.journeys.engine import JourneyState, Status
from wayline.journeys.field_types import (
    ANY_TYPE_RULES,
    FIELD_TYPES,
    FieldType,
    FormInput,
    field_type,
    types_allowing,
)
from wayline.journeys.schema import FieldSpec, Option, Rule, StepSpec
from wayline.runtime.queries import FieldView
from wayline.runtime.queries.step_view import answer_words as display_answer
from wayline.web.pages import forms
from wayline.web.pages.render import TEMPLATES

OPTIONS = [Option(value="red", label="Red"), Option(value="blue", label="Blue")]
RULE_NAMES = sorted(Rule.model_fields["rule"].annotation.__args__)


def question(kind: FieldType, **extra: Any) -> FieldSpec:
    """A question of any type, with what its type needs (options, accepted files)."""
    entry = field_type(kind)
    if entry.takes_options:
        extra.setdefault("options", OPTIONS)
    if entry.holds_files:
        extra.setdefault("accept", ["image/jpeg"])
    return FieldSpec(name="thing", type=kind, label="Thing", classification="public", **extra)


def test_every_type_has_exactly_one_entry():
    assert set(FIELD_TYPES) == set(FieldType)


@pytest.mark.parametrize("kind", list(FieldType))
def test_a_type_holds_a_list_exactly_when_its_form_carries_one(kind):
    entry = field_type(kind)
    assert entry.holds_list == (entry.form in (FormInput.CHOICES, FormInput.FILES))
    assert not (entry.holds_files and entry.takes_options)
    assert entry.holds_files == (entry.form == FormInput.FILES)


@pytest.mark.parametrize("kind", list(FieldType))
def test_options_belong_to_the_types_that_take_them(kind):
    if field_type(kind).takes_options:
        with pytest.raises(ValidationError, match="needs options or options_from"):
            question(kind, options=[])
    else:
        with pytest.raises(ValidationError, match="only choice fields take options"):
            question(kind, options=OPTIONS)


@pytest.mark.parametrize("kind", list(FieldType))
def test_accepted_files_belong_to_the_types_that_hold_files(kind):
    if field_type(kind).holds_files:
        assert question(kind, max_size_mb=5).accept == ["image/jpeg"]
    else:
        with pytest.raises(ValidationError, match="belong to file fields only"):
            question(kind, accept=["image/jpeg"])


@pytest.mark.parametrize("rule", RULE_NAMES)
def test_every_rule_of_the_language_fits_some_type(rule):
    """A rule no entry allows could never be written: the registry and Rule have drifted."""
    assert types_allowing(rule), f"no type takes the rule '{rule}'"


def test_a_rule_for_every_type_fits_every_type():
    for rule in ANY_TYPE_RULES:
        assert types_allowing(rule) == sorted(kind.value for kind in FieldType)


# --- widgets: each entry names a macro that asks the question -----------------------------------


def _page_of(kind: FieldType, error: str | None = None) -> str:
    spec = question(kind, hint="A hint")
    step = StepSpec(name="step", title="Step", fields=[spec])
    view = FieldView(
        spec=spec,
        value=forms.form_values(step, {}).get(spec.name),
        error=error,
        required=False,
        options=list(spec.options),
    )
    widgets = TEMPLATES.env.get_template("fields/macros.html").module
    macro = getattr(widgets, view.widget)
    return str(macro(view, False, {"render_field": None, "journey_id": "J1"}))


@pytest.mark.parametrize("kind", list(FieldType))
def test_every_widget_is_a_macro_that_asks_its_question(kind):
    page = _page_of(kind, error="Something is wrong")
    first = forms.first_input_id(question(kind))
    assert re.search(rf'<(input|textarea)[^>]* id="{first}"', page), page
    for name in forms.input_names(question(kind)):
        assert f'name="{name}"' in page
    assert "Thing (optional)" in page
    assert 'id="thing-hint"' in page and 'id="thing-error"' in page
    assert 'aria-describedby="thing-hint thing-error"' in page


def test_the_iban_widget_is_one_box_in_capitals():
    page = _page_of(FieldType.IBAN)
    box = re.search(r"<input[^>]*>", page)
    assert box is not None
    assert 'class="input input-w20 input-upper"' in box.group()
    assert 'type="text"' in box.group() and 'spellcheck="false"' in box.group()
    assert 'inputmode="numeric"' not in box.group()  # an IBAN has letters


# --- forms and words ---------------------------------------------------------------------------


def test_an_iban_is_read_from_a_form_as_typed_and_shown_as_kept():
    spec = question(FieldType.IBAN)
    step = StepSpec(name="bank", title="Bank", fields=[spec])
    form = FormData([("thing", "gb82 west 1234 5698 7654 32")])
    assert forms.answers_from_form(step, form) == {"thing": "gb82 west 1234 5698 7654 32"}
    assert forms.form_values(step, {"thing": "GB82WEST12345698765432"}) == {
        "thing": "GB82WEST12345698765432"
    }
    assert forms.allowed_keys(step) >= {"thing"}


def _state(journey: Any) -> JourneyState:
    now = datetime(2026, 3, 27, 10, 30, tzinfo=UTC)
    return JourneyState(
        id="j",
        journey=journey.name,
        version=journey.version,
        customer_id="c",
        status=Status.IN_PROGRESS,
        created_at=now,
        updated_at=now,
    )


@pytest.mark.parametrize(
    ("kind", "value", "words"),
    [
        (FieldType.IBAN, "GB82WEST12345698765432", "GB82 WEST 1234 5698 7654 32"),
        (FieldType.IBAN, "NO9386011117947", "NO93 8601 1117 947"),
        (FieldType.MONEY, "1234.50", "£1,234.50"),
        (FieldType.DATE, "2026-03-07", "7 March 2026"),
        (FieldType.YES_NO, False, "No"),
        (FieldType.SINGLE_CHOICE, "blue", "Blue"),
        (FieldType.MULTIPLE_CHOICE, ["red", "pink"], "Red, pink"),
        (FieldType.TEXT, "As typed", "As typed"),
        (FieldType.FILE, ["d1", "d2"], "2 files: front.jpg, a file"),
    ],
)
def test_each_type_reads_in_words_on_check_answers(motor, kind, value, words):
    spec = question(kind)
    state = _state(motor)
    documents = {"d1": {"filename": "front.jpg"}, "d2": {}}
    assert display_answer(motor, state, spec, value, documents) == words


def test_an_empty_answer_reads_not_given_whatever_its_type(motor):
    state = _state(motor)
    for kind in FieldType:
        assert display_answer(motor, state, question(kind), [], {}) == "Not given"


def test_words_of_an_iban_group_every_four_characters():
    words = answer_text.grouped_in_fours("LC55HEMM000100010012001200023015", Shown())
    assert words == "LC55 HEMM 0001 0001 0012 0012 0002 3015"
