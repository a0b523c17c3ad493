"""A journey's own words for the platform's pages (`words:`, `confirmation:`, a decision
outcome's `next_steps:`): defaults that suit any journey, the shipped motor claim's words,
and loader errors that name the line and what is wrong."""

from __future__ import annotations

from pathlib import Path

from wayline.journeys.loader import DefinitionError, check_directory, load_directory
from wayline.journeys.schema import ConfirmationPage, Words

JOURNEYS_DIR = Path(__file__).resolve().parents[2] / "journeys"

BASE = """\
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
declaration:
  text: It is all true
"""
DECISION = """\
decision:
  outcomes:
    - outcome: declined
      reasons:
        - when: answers.full_name == "nobody"
          reason: We cannot help nobody
      next_steps: Call us and quote {reference}.
  otherwise: approved
"""


def only_error(folder: Path, text: str) -> DefinitionError:
    (folder / "tiny.yaml").write_text(text, encoding="utf-8")
    journeys, errors = check_directory(folder)
    assert journeys == {}, "a definition with an error must not load"
    assert len(errors) == 1, errors
    return errors[0]


def line_of(text: str, snippet: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if snippet in line)


def test_a_journey_without_words_gets_defaults_that_suit_any_journey(tmp_path: Path):
    (tmp_path / "tiny.yaml").write_text(BASE, encoding="utf-8")
    definition = load_directory(tmp_path)["tiny"].definition
    assert definition.words == Words() and definition.words.noun == "application"
    assert definition.confirmation == ConfirmationPage()
    assert definition.confirmation.title == "Received"
    assert definition.confirmation.status_link is None  # the page says "...your application"
    for paragraph in definition.confirmation.next:
        assert "claim" not in paragraph and "policy" not in paragraph


def test_a_journey_declares_its_words_and_an_outcome_its_next_steps(tmp_path: Path):
    text = (
        BASE
        + "words:\n  noun: order\nconfirmation:\n  title: Order placed\n"
        + ("  next: [We pack it today., It comes in 3 days.]\n  status_link: Where is it?\n")
    )
    (tmp_path / "tiny.yaml").write_text(text + DECISION, encoding="utf-8")
    definition = load_directory(tmp_path)["tiny"].definition
    assert definition.words.noun == "order"
    confirmation = definition.confirmation
    assert (confirmation.title, confirmation.status_link) == ("Order placed", "Where is it?")
    assert confirmation.next == ["We pack it today.", "It comes in 3 days."]
    assert definition.decision is not None
    assert definition.decision.outcomes[0].next_steps == "Call us and quote {reference}."


def test_the_motor_claim_keeps_its_own_words():
    motor = load_directory(JOURNEYS_DIR)["motor-claim"].definition
    assert motor.words.noun == "claim"
    assert motor.confirmation.title == "Claim received"
    assert motor.confirmation.next[0].startswith("We will check your policy")
    assert motor.decision is not None
    steps = {o.outcome: o.next_steps for o in motor.decision.outcomes}
    assert steps["not_covered"] is not None and "{reference}" in steps["not_covered"]


def test_an_unknown_key_in_words_is_named_with_its_line(tmp_path: Path):
    text = BASE + "words:\n  noun: order\n  verb: place\n"
    error = only_error(tmp_path, text)
    assert error.line == line_of(text, "verb: place")
    assert "unknown key 'verb'" in error.message


def test_a_noun_must_be_lower_case_words(tmp_path: Path):
    text = BASE + "words:\n  noun: Order!\n"
    error = only_error(tmp_path, text)
    assert error.line == line_of(text, "noun: Order!")
    assert "words.noun" in error.message


def test_an_empty_confirmation_paragraph_is_refused(tmp_path: Path):
    text = BASE + 'confirmation:\n  next: ["We pack it today.", ""]\n'
    error = only_error(tmp_path, text)
    assert "confirmation.next.1" in error.message


def test_empty_next_steps_are_refused(tmp_path: Path):
    text = BASE + DECISION.replace("next_steps: Call us and quote {reference}.", 'next_steps: ""')
    error = only_error(tmp_path, text)
    assert error.line == line_of(text, "next_steps")
    assert "decision.outcomes.0.next_steps" in error.message


def test_the_card_replacement_speaks_of_an_order():
    card = load_directory(JOURNEYS_DIR)["card-replacement"].definition
    assert card.words.noun == "order"
    assert card.confirmation.title == "New card ordered"
