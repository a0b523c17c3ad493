"""Strict validation: what expressions read exists, option values exist, steps can be shown,
partner-fed choices say what happens with no options, money has a currency. Each mistake is
an error on its own line, in words that say what to fix."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from test_loader import MINIMAL, line_of, write

from wayline.journeys.loader import DefinitionError, check_directory
from wayline.journeys.references import ROOTS, reads, tokens, unknown_calls


def errors_of(tmp_path: Path, text: str) -> list[DefinitionError]:
    journeys, errors = check_directory(write(tmp_path, text))
    assert (journeys == {}) == bool(errors)  # a definition with any error never loads
    return errors


def only_error(tmp_path: Path, text: str) -> DefinitionError:
    errors = errors_of(tmp_path, text)
    assert len(errors) == 1, errors
    return errors[0]


def test_the_minimal_definition_is_clean(tmp_path: Path):
    assert errors_of(tmp_path, MINIMAL) == []


def test_a_typo_in_an_answer_is_an_error_with_the_nearest_field(tmp_path: Path):
    text = MINIMAL.replace('when: answers.full_name != "nobody"', 'when: answers.ful_name != "x"')
    error = only_error(tmp_path, text)
    assert error.line == line_of(text, "when: answers.ful_name")
    assert error.message == (
        "answers.ful_name: no field named 'ful_name'; did you mean answers.full_name?"
    )


def test_an_unknown_name_with_nothing_close_lists_what_is_known(tmp_path: Path):
    text = MINIMAL.replace('answers.full_name != "nobody"', "answers.zzz == true")
    error = only_error(tmp_path, text)
    assert error.message == "answers.zzz: no field named 'zzz' (known: colour, full_name)"


def test_a_data_source_the_journey_does_not_use_is_an_error(tmp_path: Path):
    text = MINIMAL.replace('answers.full_name != "nobody"', "data.policies.count > 0")
    error = only_error(tmp_path, text)
    assert error.line == line_of(text, "when: data.policies")
    assert error.message == "data.policies: no data source named 'policies'"


CHECKED = MINIMAL.replace(
    "declaration:",
    """checks:
  - name: bureau
    title: Bureau
    source: bureau
    passes: data.bureau.clear == true
    reason: The bureau said no
decision:
  outcomes:
    - outcome: referred
      reasons:
        - when: checks.beureau.passed == false
          reason: The bureau said no
  otherwise: approved
declaration:""",
)


def test_a_check_that_is_not_declared_is_an_error_in_a_decision_reason(tmp_path: Path):
    error = only_error(tmp_path, CHECKED)
    assert error.line == line_of(CHECKED, "- when: checks.beureau")
    assert error.message == "checks.beureau: no check named 'beureau'; did you mean checks.bureau?"
    fixed = CHECKED.replace("checks.beureau", "checks.bureau")
    assert errors_of(tmp_path, fixed) == []  # data.bureau: a check's source is used


def test_value_is_offered_only_in_a_rules_expression(tmp_path: Path):
    rule = """        rules:
          - rule: expression
            expression: size(value) > 1 && value != answers.colour
            message: Too short
"""
    text = MINIMAL.replace(
        "        required: Enter your full name\n", "        required: x\n" + rule
    )
    assert errors_of(tmp_path, text) == []
    moved = text.replace('answers.full_name != "nobody"', "value == 1")
    error = only_error(tmp_path, moved)
    assert error.line == line_of(moved, "when: value == 1")
    assert error.message == "'value' is only offered in a rule's expression"


def test_names_in_strings_and_macro_variables_are_not_reads(tmp_path: Path):
    text = MINIMAL.replace(
        'answers.full_name != "nobody"',
        "answers.full_name != 'answers.nope' && [answers.full_name].exists(p, p.x == 1)",
    )
    assert errors_of(tmp_path, text) == []


def test_an_option_value_a_choice_does_not_have_is_an_error(tmp_path: Path):
    text = MINIMAL.replace(
        "declaration:",
        """  - name: more
    title: More
    when: answers.colour == "bleu" || answers.colour in ["red", "pink"]
    fields:
      - name: shade
        type: text
        label: Shade
        classification: internal
declaration:""",
    )
    errors = errors_of(tmp_path, text)
    assert [(e.line, e.message) for e in errors] == [
        (
            line_of(text, 'when: answers.colour == "bleu"'),
            "answers.colour is never 'bleu': its options are red, blue; did you mean 'blue'?",
        ),
        (
            line_of(text, 'when: answers.colour == "bleu"'),
            "answers.colour is never 'pink': its options are red, blue",
        ),
    ]


def test_a_value_compared_first_is_checked_too(tmp_path: Path):
    text = MINIMAL.replace(
        'when: answers.full_name != "nobody"', "when: \"'green' != answers.colour\""
    )
    messages = [e.message for e in errors_of(tmp_path, text)]
    assert "answers.colour is never 'green': its options are red, blue" in messages


def test_a_step_that_reads_only_its_own_or_later_answers_is_unreachable(tmp_path: Path):
    text = MINIMAL.replace('answers.full_name != "nobody"', 'answers.colour == "red"')
    error = only_error(tmp_path, text)
    assert error.line == line_of(text, 'when: answers.colour == "red"')
    assert error.message == (
        "step 'choice' can never be shown: its condition reads only answers given on this "
        "step or later (colour)"
    )


def test_a_step_whose_condition_is_literally_false_is_unreachable(tmp_path: Path):
    text = MINIMAL.replace('answers.full_name != "nobody"', "1 > 2")
    error = only_error(tmp_path, text)
    assert error.message == "step 'choice' can never be shown: its condition is always false"


def test_a_step_no_earlier_choice_can_open_is_unreachable(tmp_path: Path):
    text = MINIMAL.replace(
        "declaration:",
        """  - name: more
    title: More
    when: answers.colour == "red" && answers.colour == "blue"
    fields:
      - name: shade
        type: text
        label: Shade
        classification: internal
declaration:""",
    )
    error = only_error(tmp_path, text)
    assert error.line == line_of(text, 'when: answers.colour == "red" &&')
    assert error.message == (
        "step 'more' can never be shown: its condition holds for no answer to colour"
    )
    reachable = text.replace("&& answers.colour", "|| answers.colour")
    assert errors_of(tmp_path, reachable) == []


def test_a_step_that_reads_typed_answers_or_data_is_not_judged(tmp_path: Path):
    text = MINIMAL.replace('answers.full_name != "nobody"', 'answers.full_name == "x"')
    assert errors_of(tmp_path, text) == []


FED = MINIMAL.replace(
    """        options:
          - {value: red, label: Red}
          - {value: blue, label: Blue}
""",
    """        required: Choose a colour
        options_from:
          source: paints
          items: paints
          value: code
          label: name
""",
)


def test_a_required_partner_fed_choice_needs_when_none(tmp_path: Path):
    error = only_error(tmp_path, FED)
    assert error.line == line_of(FED, "source: paints")  # the first line of options_from
    assert error.message == (
        "required choice 'colour' takes its options from 'paints' alone: add 'when_none' to "
        "say what the customer sees when it offers none"
    )
    fixed = FED.replace(
        "label: name\n",
        "label: name\n          when_none:\n            message: We have no paints, so type one\n",
    )
    assert errors_of(tmp_path, fixed) == []
    optional = FED.replace("        required: Choose a colour\n", "")
    assert errors_of(tmp_path, optional) == []


MONEY = MINIMAL.replace(
    """        type: text
        label: Full name""",
    """        type: money
        label: Amount""",
)


def test_a_money_field_needs_a_currency(tmp_path: Path):
    error = only_error(tmp_path, MONEY)
    assert error.line == line_of(MONEY, "- name: full_name")
    assert error.message == (
        "money field 'full_name' needs 'currency': an ISO 4217 code such as GBP"
    )
    fixed = MONEY.replace("label: Amount\n", "label: Amount\n        currency: EUR\n")
    assert errors_of(tmp_path, fixed) == []


def test_a_currency_must_be_iso_4217_and_on_a_money_field(tmp_path: Path):
    unknown = MONEY.replace("label: Amount\n", "label: Amount\n        currency: XYZ\n")
    assert "'XYZ' is not an ISO 4217 currency code" in only_error(tmp_path, unknown).message
    on_text = MINIMAL.replace("label: Full name\n", "label: Full name\n        currency: GBP\n")
    assert "currency belongs to money fields only" in only_error(tmp_path, on_text).message


def test_a_fragments_step_is_checked_in_the_journey_that_includes_it(tmp_path: Path):
    fragment = """\
fragment: contact
steps:
  - name: contact
    title: How can we contact you?
    when: answers.full_nam != "x"
    fields:
      - name: email
        type: email
        label: Email address
        classification: personal
"""
    text = MINIMAL.replace("declaration:", "  - include: contact\ndeclaration:")
    journeys, errors = check_directory(write(tmp_path, text, fragment=fragment))
    assert [(e.file, e.line, e.message) for e in errors] == [
        (
            "journeys/broken.yaml",
            line_of(text, "- include: contact"),
            "included step 'contact': answers.full_nam: no field named 'full_nam'; did you "
            "mean answers.full_name?",
        )
    ]


def test_unknown_calls_name_what_is_known_and_the_nearest():
    found = unknown_calls(
        [(("effects", 0, "call"), "cards.frezee"), (("effects", 1, "call"), "cards.order")],
        {"cards.freeze", "cards.order"},
        "no partner operation '{}'",
    )
    assert [(f.location, f.message) for f in found] == [
        (
            ("effects", 0, "call"),
            "no partner operation 'cards.frezee' (known: cards.freeze, cards.order); "
            "did you mean 'cards.freeze'?",
        )
    ]


def test_the_shipped_journeys_are_clean():
    journeys, errors = check_directory(Path(__file__).resolve().parents[2] / "journeys")
    assert errors == [] and journeys


@given(st.text())
def test_what_a_string_literal_holds_is_never_read(inside: str):
    literal = json.dumps(inside)  # a CEL string: JSON's escapes are CEL's
    source = f"answers.colour == {literal} && data.paints[{literal}] == checks.x.passed"
    found = [(read.root, read.member) for read in reads(tokens(source))]
    assert found == [("answers", "colour"), ("data", "paints"), ("checks", "x")]


def test_every_root_has_a_known_shape():
    # A new root is one line: what its members are, and which a journey offers.
    assert {"answers", "data", "checks", "decision", "today", "value"} <= set(ROOTS)


def test_a_fragments_own_mistake_is_reported_once_in_its_file(tmp_path: Path):
    fragment = """\
fragment: contact
steps:
  - name: contact
    title: How can we contact you?
    fields:
      - name: email
        type: email
        label: Email address
        classification: personal
        when: answers.email ==
"""
    text = MINIMAL.replace("declaration:", "  - include: contact\ndeclaration:")
    _, errors = check_directory(write(tmp_path, text, fragment=fragment))
    assert [(e.file, e.message.split(":")[0]) for e in errors] == [
        ("journeys/fragments/contact.yaml", "invalid CEL expression")
    ]
