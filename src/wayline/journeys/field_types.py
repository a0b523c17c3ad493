"""The field types: every type of question a definition may ask, and everything Wayline
knows about each, in one registry.

An entry says how an answer of the type is parsed, which validation rules fit it, whether
it holds a list (and whether of options or of uploaded files), how a page form carries it,
how it reads in words, and which template macro asks it (`web/templates/fields/macros.html`).
The loader, answer parsing, the engine, the API presenter, the page forms, check-answers and
the step template read this registry; none of them names a type.

Adding a type (see docs/journey-authoring.md, "Adding a field type"): its name in
`FieldType`, its entry in `FIELD_TYPES` (with its parser in `parsers.py` and, when it reads
differently from how it is kept, its words in `answer_text.py`), its macro, and its tests.
The registry refuses to load when a name has no entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Protocol

from wayline.journeys import answer_text, parsers
from wayline.journeys.answer_text import Shown
from wayline.journeys.parsers import Given, Question

Parser = Callable[[Question, Any, Given], Any]
Words = Callable[[Any, Shown], str]


class FieldType(StrEnum):
    """The type of a question: what its answer is and how it is asked."""

    TEXT = "text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    TIME = "time"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    YES_NO = "yes_no"
    EMAIL = "email"
    PHONE = "phone"
    UK_POSTCODE = "uk_postcode"
    UK_VEHICLE_REGISTRATION = "uk_vehicle_registration"
    SORT_CODE = "sort_code"
    ACCOUNT_NUMBER = "account_number"
    IBAN = "iban"
    FILE = "file"


class FormInput(StrEnum):
    """How a page form carries an answer (`web/pages/forms.py` reads each)."""

    VALUE = "value"  # one input named after the field: its text
    YES_NO = "yes_no"  # radios named after the field, "yes" or "no": true or false
    CHOICES = "choices"  # checkboxes named after the field: none ticked is an empty list
    DATE_PARTS = "date_parts"  # three inputs, NAME-day, NAME-month and NAME-year
    FILES = "files"  # ids of files already uploaded, plus any files sent with the form


# Rules that fit a question of any type.
ANY_TYPE_RULES = frozenset({"expression"})
TEXT_RULES = frozenset({"min_length", "max_length", "pattern"})
COUNT_RULES = frozenset({"min_items", "max_items"})


@dataclass(frozen=True)
class FieldKind:
    """Everything Wayline knows about one type of question.

    - `parse`: raw answer (JSON or form text) to its kept value, or parsers.Invalid;
    - `widget`: the name of the macro in fields/macros.html that asks it;
    - `rules`: the validation rules that fit it (besides ANY_TYPE_RULES);
    - `form`: how a page form carries it;
    - `words`: how a kept value reads on check-answers and status pages;
    - `holds_list`: its answer is a list (empty when unanswered);
    - `takes_options`: it needs `options` or `options_from`, and no other type takes them;
    - `holds_files`: its answer is uploaded documents: it needs `accept`, and no other type
      takes `accept` or `max_size_mb`;
    - `max_length`: the longest answer kept when the definition sets no `max_length` rule.
    """

    parse: Parser
    widget: str
    rules: frozenset[str] = frozenset()
    form: FormInput = FormInput.VALUE
    words: Words = answer_text.as_typed
    holds_list: bool = False
    takes_options: bool = False
    holds_files: bool = False
    max_length: int | None = None

    def allows(self, rule: str) -> bool:
        return rule in self.rules or rule in ANY_TYPE_RULES


FIELD_TYPES: MappingProxyType[FieldType, FieldKind] = MappingProxyType(
    {
        FieldType.TEXT: FieldKind(parsers.one_line, "text_input", TEXT_RULES, max_length=500),
        FieldType.LONG_TEXT: FieldKind(
            parsers.long_text, "textarea", TEXT_RULES, max_length=10_000
        ),
        FieldType.NUMBER: FieldKind(
            parsers.number, "number_input", frozenset({"integer", "min", "max"})
        ),
        FieldType.MONEY: FieldKind(
            parsers.money, "money_input", frozenset({"min", "max"}), words=answer_text.money
        ),
        FieldType.DATE: FieldKind(
            parsers.iso_date,
            "date_input",
            frozenset({"not_future", "not_past"}),
            form=FormInput.DATE_PARTS,
            words=answer_text.day,
        ),
        FieldType.TIME: FieldKind(parsers.clock_time, "time_input"),
        FieldType.SINGLE_CHOICE: FieldKind(
            parsers.single_choice,
            "radios",
            words=answer_text.option_labels,
            takes_options=True,
        ),
        FieldType.MULTIPLE_CHOICE: FieldKind(
            parsers.multiple_choice,
            "checkboxes",
            COUNT_RULES,
            form=FormInput.CHOICES,
            words=answer_text.option_labels,
            holds_list=True,
            takes_options=True,
        ),
        FieldType.YES_NO: FieldKind(
            parsers.yes_no, "yes_no_radios", form=FormInput.YES_NO, words=answer_text.yes_no
        ),
        FieldType.EMAIL: FieldKind(parsers.email, "email_input", TEXT_RULES),
        FieldType.PHONE: FieldKind(parsers.uk_phone, "phone_input", TEXT_RULES),
        FieldType.UK_POSTCODE: FieldKind(parsers.uk_postcode, "postcode_input", TEXT_RULES),
        FieldType.UK_VEHICLE_REGISTRATION: FieldKind(
            parsers.uk_registration, "registration_input", TEXT_RULES
        ),
        FieldType.SORT_CODE: FieldKind(parsers.sort_code, "sort_code_input", TEXT_RULES),
        FieldType.ACCOUNT_NUMBER: FieldKind(
            parsers.account_number, "account_number_input", TEXT_RULES
        ),
        # `pattern` can keep to some countries ("GB.*"); a length rule would say nothing
        # the check digits do not.
        FieldType.IBAN: FieldKind(
            parsers.iban, "iban_input", frozenset({"pattern"}), words=answer_text.grouped_in_fours
        ),
        FieldType.FILE: FieldKind(
            parsers.files,
            "file_input",
            COUNT_RULES,
            form=FormInput.FILES,
            words=answer_text.file_names,
            holds_list=True,
            holds_files=True,
        ),
    }
)

_UNREGISTERED = set(FieldType) - set(FIELD_TYPES)
if _UNREGISTERED:  # a name without an entry would fail on the first answer of its type
    raise RuntimeError(f"field types without a registry entry: {sorted(_UNREGISTERED)}")


class Typed(Protocol):
    """Anything with a field type (a `schema.FieldSpec` is)."""

    @property
    def type(self) -> FieldType: ...


def field_type(of: Typed | FieldType) -> FieldKind:
    """The registry entry of a question's type (or of a type)."""
    return FIELD_TYPES[of if isinstance(of, FieldType) else of.type]


def a_field_of(kind: FieldType) -> str:
    """A type named in a sentence of a definition error: "a text field", "an iban field"."""
    return f"{'an' if kind.value[0] in 'aeio' else 'a'} {kind.value} field"


def types_allowing(rule: str) -> list[str]:
    """The names of the types a rule fits, sorted: for the loader's message."""
    return sorted(name.value for name, kind in FIELD_TYPES.items() if kind.allows(rule))
