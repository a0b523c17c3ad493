"""`wayline journeys validate` catches each mistake of strict validation: a folder with one
journey per mistake fails, and every mistake is printed as `file:line: message`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from wayline.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

BASE = """\
journey: NAME
title: A journey
reference_prefix: ABC
steps:
  - name: about
    title: About you
    fields:
      - name: reason
        type: single_choice
        label: Why are you here?
        classification: internal
        required: Select why you are here
        options:
          - {value: lost, label: I lost it}
          - {value: stolen, label: It was stolen}
  - name: details
    title: Details
    when: answers.reason == "stolen"
    fields:
      - name: amount
        type: money
        currency: GBP
        label: How much was taken?
        classification: internal
declaration:
  text: It is all true
effects:
  - kind: notify
    params: {template: received}
recipient:
  email: "'someone@example.com'"
notifications:
  received:
    email: {subject: Received, body: We have it}
"""

# Each mistake: the text it replaces, what it puts there, the line the error must be on (a
# snippet of it), and the message it must cause.
MISTAKES = {
    "unknown-variable": (
        'when: answers.reason == "stolen"',
        'when: answers.reasn == "stolen"',
        "when: answers.reasn",
        "answers.reasn: no field named 'reasn'; did you mean answers.reason?",
    ),
    "unknown-option": (
        'when: answers.reason == "stolen"',
        'when: answers.reason == "stollen"',
        "when: answers.reason",
        "answers.reason is never 'stollen': its options are lost, stolen; did you mean 'stolen'?",
    ),
    "unknown-effect-kind": (
        "- kind: notify",
        "- kind: notfy",
        "- kind: notfy",
        "no handler runs effects of kind 'notfy'",
    ),
    "unreachable-step": (
        'when: answers.reason == "stolen"',
        'when: answers.amount == "1"',
        "when: answers.amount",
        "step 'details' can never be shown: its condition reads only answers given on this "
        "step or later (amount)",
    ),
    "no-options-fallback": (
        """        options:
          - {value: lost, label: I lost it}
          - {value: stolen, label: It was stolen}
""",
        """        options_from:
          source: reasons
          items: reasons
          value: code
          label: name
""",
        "source: reasons",  # the first line of options_from
        "required choice 'reason' takes its options from 'reasons' alone: add 'when_none'",
    ),
    "money-without-currency": (
        "        currency: GBP\n",
        "",
        "- name: amount",  # the field that lacks it
        "money field 'amount' needs 'currency': an ISO 4217 code such as GBP",
    ),
}


@pytest.fixture
def mistakes(tmp_path: Path) -> Path:
    folder = tmp_path / "journeys"
    folder.mkdir()
    for name, (old, new, _, _) in MISTAKES.items():
        text = BASE.replace("NAME", name)
        assert old in text, name
        (folder / f"{name}.yaml").write_text(text.replace(old, new, 1))
    return folder


def line_of(path: Path, snippet: str) -> int:
    lines = path.read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if snippet in line)


def test_validate_prints_each_mistake_with_its_file_and_line(mistakes: Path):
    result = runner.invoke(app, ["journeys", "validate", str(mistakes)])
    assert result.exit_code == 1, result.output
    output = " ".join(result.output.split())  # the console may wrap long lines
    for name, (_, _, where, message) in MISTAKES.items():
        line = line_of(mistakes / f"{name}.yaml", where)
        assert f"journeys/{name}.yaml:{line}: {message}" in output, name
    # A value a choice never has also makes the step it guards one that can never be shown.
    assert "step 'details' can never be shown: its condition holds for no answer to reason" in (
        output
    )
    assert "7 error(s)" in output


def test_the_base_journey_and_the_shipped_ones_validate(tmp_path: Path):
    folder = tmp_path / "journeys"
    folder.mkdir()
    (folder / "fine.yaml").write_text(BASE.replace("NAME", "fine"))
    for target in (folder, ROOT / "journeys"):
        result = runner.invoke(app, ["journeys", "validate", str(target)])
        assert result.exit_code == 0, result.output
