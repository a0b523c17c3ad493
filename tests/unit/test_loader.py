"""Loading journey definitions: the shipped folder, content versions, and errors that name the
file, the line and what to fix."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from wayline.journeys import schema
from wayline.journeys.loader import (
    DefinitionError,
    DefinitionErrors,
    Journey,
    check_directory,
    check_path,
    journey_from_document,
    load_directory,
)

JOURNEYS_DIR = Path(__file__).resolve().parents[2] / "journeys"

MINIMAL = """\
journey: tiny
title: A tiny journey
reference_prefix: TNY
steps:
  - name: about
    title: About you
    fields:
      - name: full_name
        type: text
        label: Full name
        classification: personal
        required: Enter your full name
  - name: choice
    title: Pick one
    when: answers.full_name != "nobody"
    fields:
      - name: colour
        type: single_choice
        label: Favourite colour
        classification: internal
        options:
          - {value: red, label: Red}
          - {value: blue, label: Blue}
declaration:
  text: It is all true
"""

FRAGMENT = """\
fragment: contact
steps:
  - name: contact
    title: How can we contact you?
    fields:
      - name: email
        type: email
        label: Email address
        classification: personal
"""


def line_of(text: str, snippet: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th line containing snippet."""
    found = [number for number, line in enumerate(text.splitlines(), 1) if snippet in line]
    assert len(found) >= occurrence, f"{snippet!r} not in the test definition"
    return found[occurrence - 1]


def write(folder: Path, text: str, name: str = "broken.yaml", fragment: str | None = FRAGMENT):
    journeys = folder / "journeys"
    (journeys / "fragments").mkdir(parents=True, exist_ok=True)
    (journeys / name).write_text(text, encoding="utf-8")
    if fragment is not None:
        (journeys / "fragments" / "contact.yaml").write_text(fragment, encoding="utf-8")
    return journeys


def only_error(folder: Path) -> DefinitionError:
    journeys, errors = check_directory(folder)
    assert journeys == {}, "a definition with an error must not load"
    assert len(errors) == 1, errors
    return errors[0]


# --- The shipped definitions --------------------------------------------------------------------


def test_the_shipped_journeys_load_without_errors():
    journeys, errors = check_directory(JOURNEYS_DIR)
    assert errors == []
    assert "motor-claim" in journeys


def test_motor_claim_has_the_steps_of_the_spec_in_order(motor: Journey):
    assert [step.name for step in motor.steps] == [
        "policy",
        "incident",
        "other-vehicle",
        "injuries",
        "police",
        "photos",
        "settlement",
        "payment-details",  # spliced in from fragments/payment-details.yaml
    ]
    assert motor.title == "Make a car insurance claim"
    assert motor.definition.reference_prefix == "CLM"
    assert motor.source == "journeys/motor-claim.yaml"
    assert motor.step_of_field["sort_code"] == "payment-details"
    assert motor.step("payment-details") is motor.steps_by_name["payment-details"]
    assert motor.step("nope") is None


def test_every_field_name_is_unique_and_indexed(motor: Journey):
    names = [spec.name for step in motor.steps for spec in step.fields]
    assert len(names) == len(set(names)) == len(motor.fields)


def test_version_is_a_twelve_hex_content_hash(motor: Journey):
    assert re.fullmatch(r"[0-9a-f]{12}", motor.version)


def test_version_is_stable_across_loads_and_folders(motor: Journey, tmp_path: Path):
    again = load_directory(JOURNEYS_DIR)["motor-claim"]
    assert again.version == motor.version
    copy = tmp_path / "journeys"
    shutil.copytree(JOURNEYS_DIR, copy)
    assert load_directory(copy)["motor-claim"].version == motor.version


def test_version_ignores_comments_and_layout(tmp_path: Path):
    first = load_directory(write(tmp_path / "a", MINIMAL))["tiny"].version
    reformatted = "# A comment that changes nothing\n" + MINIMAL.replace(
        "          - {value: red, label: Red}\n",
        "          - value: red   # still red\n            label: Red\n",
    )
    second = load_directory(write(tmp_path / "b", reformatted))["tiny"].version
    assert second == first


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("label: Full name", "label: Your full name"),
        ("required: Enter your full name", "required: Enter your name"),
        ('!= "nobody"', '!= "someone"'),
        ("{value: blue, label: Blue}", "{value: blue, label: Navy}"),
    ],
)
def test_version_changes_when_content_changes(tmp_path: Path, old: str, new: str):
    assert old in MINIMAL
    first = load_directory(write(tmp_path / "a", MINIMAL))["tiny"].version
    second = load_directory(write(tmp_path / "b", MINIMAL.replace(old, new)))["tiny"].version
    assert second != first


def test_version_changes_when_an_included_fragment_changes(tmp_path: Path):
    text = MINIMAL.replace("declaration:", "  - include: contact\ndeclaration:")
    first = load_directory(write(tmp_path / "a", text))["tiny"]
    assert [step.name for step in first.steps] == ["about", "choice", "contact"]
    edited = FRAGMENT.replace("label: Email address", "label: Your email address")
    second = load_directory(write(tmp_path / "b", text, fragment=edited))["tiny"]
    assert second.version != first.version


def test_a_stored_document_rebuilds_the_same_journey(motor: Journey):
    document = json.loads(json.dumps(motor.to_document()))
    rebuilt = journey_from_document(document, motor.version)
    assert rebuilt.version == motor.version
    assert [step.name for step in rebuilt.steps] == [step.name for step in motor.steps]
    assert rebuilt.fields == motor.fields


# --- Errors name the file, the line and the fix -------------------------------------------------


def test_unknown_key(tmp_path: Path):
    text = MINIMAL.replace("        required: Enter your full name\n", "        colour: blue\n")
    error = only_error(write(tmp_path, text))
    assert error.file == "journeys/broken.yaml"
    assert error.line == line_of(text, "colour: blue")
    assert "unknown key 'colour'" in error.message
    assert "steps.0.fields.0.colour" in error.message


def test_unknown_top_level_key(tmp_path: Path):
    text = MINIMAL + "retention_days: 30\n"
    error = only_error(write(tmp_path, text))
    assert error.line == line_of(text, "retention_days")
    assert "unknown key 'retention_days'" in error.message


def test_missing_classification(tmp_path: Path):
    text = MINIMAL.replace("        classification: internal\n", "")
    error = only_error(write(tmp_path, text))
    assert error.file == "journeys/broken.yaml"
    assert error.line == line_of(text, "- name: colour")
    assert "'classification' is required here" in error.message
    assert "steps.1.fields.0.classification" in error.message


def test_unknown_classification(tmp_path: Path):
    text = MINIMAL.replace("classification: internal", "classification: secret")
    error = only_error(write(tmp_path, text))
    assert error.line == line_of(text, "classification: secret")
    assert "'public', 'internal', 'personal', 'financial' or 'sensitive'" in error.message


def test_bad_cel_expression(tmp_path: Path):
    text = MINIMAL.replace('when: answers.full_name != "nobody"', "when: answers.full_name ==")
    error = only_error(write(tmp_path, text))
    assert error.file == "journeys/broken.yaml"
    assert error.line == line_of(text, "when: answers.full_name ==")
    assert error.message.startswith("invalid CEL expression")


def test_cel_expression_with_an_unknown_variable(tmp_path: Path):
    text = MINIMAL.replace('when: answers.full_name != "nobody"', "when: customer.age > 18")
    error = only_error(write(tmp_path, text))
    assert error.line == line_of(text, "when: customer.age")
    assert "unknown variable customer" in error.message
    assert (
        "answers, checks, computed, data, decision, effects, item, items, journey, now, scores, "
        "today, value" in error.message
    )


def test_bad_cel_in_a_rule_expression(tmp_path: Path):
    text = MINIMAL.replace(
        "        required: Enter your full name\n",
        "        rules:\n"
        "          - rule: expression\n"
        "            expression: size(value) >\n"
        "            message: Too short\n",
    )
    error = only_error(write(tmp_path, text))
    assert error.line == line_of(text, "expression: size(value) >")
    assert error.message.startswith("invalid CEL expression")


def test_bad_jmespath(tmp_path: Path):
    text = MINIMAL.replace(
        "        options:\n"
        "          - {value: red, label: Red}\n"
        "          - {value: blue, label: Blue}\n",
        "        options_from:\n"
        "          source: colours\n"
        "          items: colours[?\n"
        "          value: id\n"
        "          label: name\n",
    )
    error = only_error(write(tmp_path, text))
    assert error.file == "journeys/broken.yaml"
    assert error.line == line_of(text, "items: colours[?")
    assert error.message.startswith("invalid JMESPath expression")


def test_bad_jmespath_in_a_prefill(tmp_path: Path):
    text = MINIMAL.replace(
        "        required: Enter your full name\n",
        "        prefill:\n          source: customer\n          expression: name ||\n",
    )
    error = only_error(write(tmp_path, text))
    assert error.line == line_of(text, "expression: name ||")
    assert error.message.startswith("invalid JMESPath expression")


def test_unknown_include_fragment(tmp_path: Path):
    text = MINIMAL.replace("declaration:", "  - include: payment\ndeclaration:")
    error = only_error(write(tmp_path, text))
    assert error.file == "journeys/broken.yaml"
    assert error.line == line_of(text, "- include: payment")
    assert error.message == "no fragment named 'payment' (known: contact)"


def test_an_error_in_a_step_is_reported_once_not_against_include_too(tmp_path: Path):
    """Regression: pydantic checks each entry of `steps` against StepSpec and Include, and the
    loader used to report both ("'include' is required here", "unknown key 'name'"...)."""
    text = MINIMAL.replace("    title: Pick one\n", "    titel: Pick one\n")
    _, errors = check_directory(write(tmp_path, text))
    assert sorted((error.line, error.message) for error in errors) == [
        (line_of(text, "- name: choice"), "steps.1.title: 'title' is required here"),
        (
            line_of(text, "titel: Pick one"),
            "steps.1.titel: unknown key 'titel': remove it or check its spelling",
        ),
    ]


def test_an_include_with_extra_keys(tmp_path: Path):
    text = MINIMAL.replace("declaration:", "  - include: contact\n    title: Contact\ndeclaration:")
    error = only_error(write(tmp_path, text))
    assert error.line == line_of(text, "title: Contact")
    assert error.message == "steps.2.title: unknown key 'title': remove it or check its spelling"


def test_duplicate_field_name_points_at_the_second_field(tmp_path: Path):
    text = MINIMAL.replace("- name: colour", "- name: full_name")
    error = only_error(write(tmp_path, text))
    assert error.file == "journeys/broken.yaml"
    assert error.line == line_of(text, "- name: full_name", occurrence=2)
    assert error.message == "field name 'full_name' is used twice"


def test_duplicate_field_name_after_an_include_points_at_the_right_line(tmp_path: Path):
    """Regression: the line used to be taken from the index in the resolved list of steps,
    which is off by the number of steps a preceding include splices in."""
    two_steps = FRAGMENT + (
        "  - name: phone\n"
        "    title: Your phone\n"
        "    fields:\n"
        "      - {name: phone, type: phone, label: Phone, classification: personal}\n"
    )
    text = MINIMAL.replace("steps:\n", "steps:\n  - include: contact\n", 1).replace(
        "- name: colour", "- name: full_name"
    )
    error = only_error(write(tmp_path, text, fragment=two_steps))
    assert error.line == line_of(text, "- name: full_name", occurrence=2)
    assert error.message == "field name 'full_name' is used twice"


def test_duplicate_field_from_a_fragment_points_at_the_include(tmp_path: Path):
    text = MINIMAL.replace("- name: full_name", "- name: email").replace(
        "declaration:", "  - include: contact\ndeclaration:"
    )
    error = only_error(write(tmp_path, text))
    assert error.line == line_of(text, "- include: contact")
    assert error.message == "field name 'email' is used twice"


def test_duplicate_step_name(tmp_path: Path):
    text = MINIMAL.replace("- name: choice", "- name: about")
    error = only_error(write(tmp_path, text))
    assert error.line == line_of(text, "- name: about", occurrence=2)
    assert error.message == "step name 'about' is used twice"


def test_invalid_yaml(tmp_path: Path):
    text = MINIMAL.replace("    title: Pick one\n", "    title: [Pick one\n")
    error = only_error(write(tmp_path, text))
    assert error.file == "journeys/broken.yaml"
    assert error.message.startswith("not valid YAML")
    # PyYAML notices the unclosed bracket a line or two after it opens; never before.
    opened = line_of(text, "title: [Pick one")
    assert opened <= error.line <= opened + 2


def test_bad_indentation_is_invalid_yaml_on_its_line(tmp_path: Path):
    text = MINIMAL.replace("        label: Full name\n", "       label: Full name\n")
    error = only_error(write(tmp_path, text))
    assert error.message.startswith("not valid YAML")
    assert error.line == line_of(text, "label: Full name")


def test_top_level_must_be_a_mapping(tmp_path: Path):
    error = only_error(write(tmp_path, "- just\n- a list\n"))
    assert (error.line, error.message) == (1, "expected a mapping of keys at the top level")


def test_invalid_regular_expression_in_a_rule(tmp_path: Path):
    text = MINIMAL.replace(
        "        required: Enter your full name\n",
        "        rules:\n"
        "          - rule: pattern\n"
        "            value: '[a-z'\n"
        "            message: Letters only\n",
    )
    error = only_error(write(tmp_path, text))
    assert error.line == line_of(text, "- rule: pattern")
    assert "pattern is not a valid regular expression" in error.message


def test_file_field_needs_accept(tmp_path: Path):
    text = MINIMAL.replace("type: text", "type: file")
    error = only_error(write(tmp_path, text))
    assert error.line == line_of(text, "- name: full_name")
    assert error.message == "file field 'full_name' needs 'accept': a list of MIME types"


def test_effect_at_an_unknown_step(tmp_path: Path):
    text = MINIMAL + "effects:\n  - kind: publish\n    at: step:nowhere\n"
    error = only_error(write(tmp_path, text))
    assert error.line == line_of(text, "at: step:nowhere")
    assert error.message == "no step named 'nowhere'"


RECIPIENT = "recipient:\n  email: \"'someone@example.com'\"\n"


def test_a_notify_effect_names_a_known_template(tmp_path: Path):
    text = MINIMAL + RECIPIENT + "effects:\n  - kind: notify\n    params: {template: welcome}\n"
    error = only_error(write(tmp_path, text))
    assert error.line == line_of(text, "params: {template: welcome}")
    assert error.message == "no notification template 'welcome' (known: none)"


def test_a_notify_effect_needs_a_recipient_and_its_expressions_must_compile(tmp_path: Path):
    notify = "effects:\n  - kind: notify\n    params: {template: hello}\n"
    template = "notifications:\n  hello:\n    sms: Hello {name}\n"
    error = only_error(write(tmp_path, MINIMAL + notify + template))
    assert error.message.startswith("notify effects need a recipient")
    broken = MINIMAL + "recipient:\n  sms: data.customer.mobile +\n" + notify + template
    error = only_error(write(tmp_path, broken))
    assert error.line == line_of(broken, "sms: data.customer.mobile +")
    assert "invalid CEL expression" in error.message


def test_a_check_with_a_comprehension_is_valid_and_a_typo_is_not(tmp_path: Path):
    good = MINIMAL + (
        "checks:\n  - name: any_name\n    title: Any\n    source: people\n"
        "    passes: 'data.people.exists(p, p.name == answers.full_name)'\n"
        "    reason: Nobody by that name\n"
    )
    journeys, errors = check_directory(write(tmp_path, good))
    assert errors == []
    bad = good.replace("p.name == answers", "q.name == answers")
    error = only_error(write(tmp_path, bad))
    assert "unknown variable q" in error.message


def test_errors_in_a_fragment_name_the_fragment_file(tmp_path: Path):
    broken = FRAGMENT.replace("type: email", "type: email\n        when: answers.email ==")
    journeys, errors = check_directory(write(tmp_path, MINIMAL, fragment=broken))
    assert "tiny" in journeys  # the journey does not include it, so it still loads
    assert len(errors) == 1
    assert errors[0].file == "journeys/fragments/contact.yaml"
    assert errors[0].line == line_of(broken, "when: answers.email ==")
    assert errors[0].message.startswith("invalid CEL expression")


def test_load_directory_raises_every_error_of_every_file(tmp_path: Path):
    folder = write(tmp_path, MINIMAL.replace("classification: internal", "classification: x"))
    (folder / "other.yaml").write_text(MINIMAL.replace("journey: tiny", "journey: other\nbad: 1"))
    with pytest.raises(DefinitionErrors) as caught:
        load_directory(folder)
    files = sorted(error.file for error in caught.value.errors)
    assert files == ["journeys/broken.yaml", "journeys/other.yaml"]
    for error in caught.value.errors:
        assert f"{error.file}:{error.line}: " in str(caught.value)


def test_a_journey_defined_twice(tmp_path: Path):
    folder = write(tmp_path, MINIMAL, name="a.yaml")
    (folder / "b.yaml").write_text(MINIMAL)
    _, errors = check_directory(folder)
    assert [str(error) for error in errors] == [
        "journeys/b.yaml:1: journey 'tiny' is defined twice"
    ]


def test_missing_folder(tmp_path: Path):
    journeys, errors = check_directory(tmp_path / "nowhere")
    assert journeys == {}
    assert errors[0].message == "no such folder of journey definitions"


def test_check_path_takes_a_single_file_beside_its_fragments(tmp_path: Path):
    folder = write(tmp_path, MINIMAL.replace("declaration:", "  - include: contact\ndeclaration:"))
    journeys, errors = check_path(folder / "broken.yaml")
    assert errors == []
    assert [step.name for step in journeys["tiny"].steps] == ["about", "choice", "contact"]
    assert check_path(folder / "missing.yaml")[1][0].message == "no such file"


def test_definition_error_reads_file_line_message():
    assert str(DefinitionError("journeys/x.yaml", 7, "oops")) == "journeys/x.yaml:7: oops"


# --- JSON Schema for editors --------------------------------------------------------------------


def test_json_schema_is_valid_json_with_a_dialect():
    document = schema.json_schema()
    text = json.dumps(document)
    again = json.loads(text)
    assert again["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert again["type"] == "object"
    assert {"journey", "title", "steps", "declaration"} <= set(again["properties"])
    assert set(again["required"]) >= {"journey", "title", "reference_prefix", "steps"}
    assert again["additionalProperties"] is False
    # Every $ref resolves inside the document.
    for reference in re.findall(r'"\$ref": "#/\$defs/([^"]+)"', text):
        assert reference in again["$defs"]


def test_a_key_given_twice_is_an_error_on_its_second_line(tmp_path: Path):
    text = MINIMAL.replace(
        'when: answers.full_name != "nobody"', 'when: answers.full_name != "nobody"\n    when: true'
    )
    error = only_error(write(tmp_path, text))
    assert error.line == line_of(text, "when: true")
    assert error.message == "the key 'when' appears twice in the same place: keep one"


def test_a_rule_that_does_not_fit_its_field_type_is_an_error(tmp_path: Path):
    text = MINIMAL.replace(
        "        required: Enter your full name\n",
        "        required: Enter your full name\n"
        "        rules:\n"
        "          - rule: not_future\n"
        "            message: Not in the future\n",
    )
    error = only_error(write(tmp_path, text))
    assert error.line == line_of(text, "- rule: not_future")
    assert "rule 'not_future' does not apply to a text field (it applies to date)" in error.message


IBAN_FIELD = """\
      - name: payout_iban
        type: iban
        label: IBAN
        classification: sensitive
        required: Enter the IBAN of the account to pay into
        rules:
          - rule: {rule}
            value: {value}
            message: Not this one
"""


def with_iban(rule: str, value: str) -> str:
    field = IBAN_FIELD.format(rule=rule, value=value)
    return MINIMAL.replace(
        "        required: Enter your full name\n",
        "        required: Enter your full name\n" + field,
    )


def test_an_iban_field_loads_with_the_rules_its_registry_entry_allows(tmp_path: Path):
    journeys, errors = check_directory(write(tmp_path, with_iban("pattern", '"GB.*"')))
    assert errors == []
    assert journeys["tiny"].fields["payout_iban"].type == "iban"


def test_a_rule_the_iban_entry_does_not_allow_is_an_error(tmp_path: Path):
    text = with_iban("min_length", "22")
    error = only_error(write(tmp_path, text))
    assert error.line == line_of(text, "- rule: min_length")
    assert error.message == (
        "rule 'min_length' does not apply to an iban field (it applies to account_number, "
        "email, long_text, phone, sort_code, text, uk_postcode, uk_vehicle_registration)"
    )


# --- what the customer may be told; effects something can run ----------------------------------

STAFF_CHECK = """\
checks:
  - name: bureau
    title: Fraud bureau
    audience: staff
    passes: "true"
    reason: A marker
"""


def test_a_staff_check_cannot_warn_the_customer(tmp_path: Path):
    text = MINIMAL + STAFF_CHECK + "    on_fail: warn\n"
    error = only_error(write(tmp_path, text))
    assert error.line == line_of(text, "- name: bureau")
    assert "a staff check cannot use on_fail: warn" in error.message


def test_a_customer_reason_that_reads_a_staff_check_is_an_error(tmp_path: Path):
    text = (
        MINIMAL
        + STAFF_CHECK
        + (
            "decision:\n  outcomes:\n    - outcome: referred\n      reasons:\n"
            "        - when: has(checks.bureau.unavailable)\n"
            "          reason: We could not make every check\n"
            "        - when: checks.bureau.passed == false\n"
            "          reason: The bureau has a marker\n"
            "  otherwise: approved\n"
        )
    )
    error = only_error(write(tmp_path, text))
    assert error.line == line_of(text, "- when: checks.bureau.passed == false")
    assert "would tell the customer about the staff check 'bureau'" in error.message
    fixed = text.replace(
        "reason: The bureau has a marker\n",
        "reason: The bureau has a marker\n          audience: staff\n",
    )
    journeys, errors = check_directory(write(tmp_path, fixed))
    assert errors == [] and "tiny" in journeys


def test_an_effect_kind_no_handler_runs_is_an_error_on_its_line(tmp_path: Path):
    text = MINIMAL + "effects:\n  - kind: notify_partner\n    at: submitted\n"
    folder = write(tmp_path, text)
    assert check_directory(folder)[1] == []  # the journeys package alone cannot know
    journeys, errors = check_directory(folder, effect_kinds={"notify", "payout"})
    assert journeys == {}
    assert [(e.file, e.line) for e in errors] == [
        ("journeys/broken.yaml", line_of(text, "kind: notify_partner"))
    ]
    assert errors[0].message == (
        "no handler runs effects of kind 'notify_partner' (known: notify, payout); "
        "did you mean 'notify'?"
    )
    with pytest.raises(DefinitionErrors):
        load_directory(folder, effect_kinds={"notify"})


# --- `who: anyone` and `owner` ------------------------------------------------------------------


def test_an_anyone_journey_with_an_owner_expression_loads(tmp_path: Path):
    text = MINIMAL.replace(
        "reference_prefix: TNY", "who: anyone\nowner: answers.full_name\nreference_prefix: TNY"
    )
    journeys, errors = check_directory(write(tmp_path, text))
    assert errors == []
    assert journeys["tiny"].definition.owner == "answers.full_name"


def test_an_owner_expression_that_does_not_compile_is_an_error_on_its_line(tmp_path: Path):
    text = MINIMAL.replace(
        "reference_prefix: TNY", "who: anyone\nowner: answers.id ==\nreference_prefix: TNY"
    )
    error = only_error(write(tmp_path, text))
    assert error.line == line_of(text, "owner:")
    assert error.message.startswith("invalid CEL expression")


def test_an_owner_on_a_journey_for_customers_is_an_error(tmp_path: Path):
    text = MINIMAL.replace(
        "reference_prefix: TNY", "owner: answers.full_name\nreference_prefix: TNY"
    )
    error = only_error(write(tmp_path, text))
    assert error.line == line_of(text, "owner:")
    assert "who: anyone" in error.message
