"""Repeating groups ("add another") in the engine and the loader, on a small journey of the
tests' own (tests/definitions/household.yaml): previous names (1 to 3), previous addresses that
must cover three years, and one item per payment chosen earlier.

The date functions the language gives CEL are tested here too (journeys/functions.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wayline.journeys import engine, functions
from wayline.journeys.engine import (
    CHECK_ANSWERS,
    InvalidAnswers,
    JourneyState,
    NotAvailable,
    Refused,
    UnknownItem,
)
from wayline.journeys.expressions import holds
from wayline.journeys.loader import Journey, check_path
from wayline.journeys.schema import Classification

DEFINITION = Path(__file__).resolve().parents[1] / "definitions" / "household.yaml"
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
NAME = {"previous_first_name": "Sam", "previous_last_name": "Jones", "used_until": "2020-03-01"}
UK = {"in_uk": True, "address_line": "1 High St", "postcode": "ba1 1su", "lived_from": "2024-06-01"}
ABROAD = {"in_uk": False, "address_line": "1 Rue", "country": "France", "lived_from": "2022-06-01"}


def load(text: str | None = None, tmp_path: Path | None = None) -> tuple[Journey | None, list]:
    path = DEFINITION
    if text is not None:
        assert tmp_path is not None
        path = tmp_path / "household.yaml"
        path.write_text(text, encoding="utf-8")
    journeys, errors = check_path(path)
    return journeys.get("household"), errors


HOUSEHOLD, _ = load()
assert HOUSEHOLD is not None


def started(**about: Any) -> JourneyState:
    state = engine.start(HOUSEHOLD, journey_id="j1", customer_id="c1", data={}, now=NOW).state
    answers = {"moved_in": "2025-01-01", "known_by_other_name": True, **about}
    return engine.submit_step(HOUSEHOLD, state, "about-you", answers, NOW).state


def refused(command: Any, kind: type[Refused] = InvalidAnswers) -> list[tuple[str, str]]:
    with pytest.raises(kind) as caught:
        command()
    return [(error.field, error.message) for error in caught.value.errors]


def add(state: JourneyState, step: str, item: dict[str, Any]) -> JourneyState:
    return engine.add_item(HOUSEHOLD, state, step, item, NOW).state


def test_items_are_kept_as_a_list_under_the_groups_name_and_parsed():
    state = add(started(), "previous-names", NAME)
    assert state.answers["previous_names"] == [NAME]
    transition = engine.add_item(HOUSEHOLD, state, "previous-names", NAME, NOW)
    (event,) = transition.events
    assert (event.type, event.step, event.fields, event.data) == (
        "item.added",
        "previous-names",
        ("previous_names",),
        {"item": 2},
    )
    assert "Sam" not in json.dumps(event.to_dict())  # names, never values


def test_an_item_is_checked_by_its_fields_rules_with_every_message():
    errors = refused(lambda: engine.add_item(HOUSEHOLD, started(), "previous-names", {}, NOW))
    assert errors == [
        ("previous_last_name", "Enter the last name you used"),
        ("used_until", "Enter the date you stopped using this name"),
    ]
    future = {**NAME, "used_until": "2027-01-01"}
    errors = refused(lambda: engine.add_item(HOUSEHOLD, started(), "previous-names", future, NOW))
    assert errors == [("used_until", "The date you stopped using this name must be in the past")]


def test_item_field_conditions_read_the_item():
    state = started(known_by_other_name=False)
    errors = refused(
        lambda: engine.add_item(
            HOUSEHOLD, state, "previous-addresses", {**ABROAD, "country": ""}, NOW
        )
    )
    assert errors == [("country", "Enter the country")]
    state = add(state, "previous-addresses", {**UK, "country": "Ignored"})
    assert state.answers["previous_addresses"] == [{**UK, "postcode": "BA1 1SU"}]


def test_a_full_group_refuses_another_item_with_its_message():
    state = started()
    for _ in range(3):
        state = add(state, "previous-names", NAME)
    errors = refused(lambda: engine.add_item(HOUSEHOLD, state, "previous-names", NAME, NOW))
    assert errors == [("previous_names", "You can add up to 3 previous names")]


def test_the_summary_goes_on_only_with_enough_items():
    state = started()
    errors = refused(lambda: engine.submit_step(HOUSEHOLD, state, "previous-names", {}, NOW))
    assert errors == [("previous_names", "Add a previous name")]
    state = add(state, "previous-names", NAME)
    state = engine.submit_step(HOUSEHOLD, state, "previous-names", {}, NOW).state
    assert "previous-names" in state.completed
    assert engine.current_step(HOUSEHOLD, state, NOW) == "previous-addresses"


def test_the_summary_takes_no_answers():
    state = add(started(), "previous-names", NAME)
    errors = refused(
        lambda: engine.submit_step(HOUSEHOLD, state, "previous-names", {"used_until": "x"}, NOW)
    )
    assert errors == [("used_until", "'used_until' is asked for each item")]


def test_addresses_must_cover_three_years():
    state = engine.submit_step(
        HOUSEHOLD, add(started(), "previous-names", NAME), "previous-names", {}, NOW
    ).state
    state = add(state, "previous-addresses", UK)  # from June 2024: not three years
    errors = refused(lambda: engine.submit_step(HOUSEHOLD, state, "previous-addresses", {}, NOW))
    assert errors == [("previous_addresses", "Add addresses until they cover the last 3 years")]
    state = add(state, "previous-addresses", ABROAD)  # from June 2022: more than three
    state = engine.submit_step(HOUSEHOLD, state, "previous-addresses", {}, NOW).state
    assert "previous-addresses" in state.completed


def test_a_rule_across_items_reads_the_journeys_answers():
    later = {**UK, "lived_from": "2025-06-01"}  # after the move to the current address
    state = add(
        add(started(known_by_other_name=False), "previous-addresses", later),
        "previous-addresses",
        ABROAD,
    )
    errors = refused(lambda: engine.submit_step(HOUSEHOLD, state, "previous-addresses", {}, NOW))
    assert errors == [
        (
            "previous_addresses",
            "Each previous address must be one you moved to before your current address",
        )
    ]


def test_a_step_applies_by_a_date_function_in_its_condition():
    long_ago = started(moved_in="2020-01-01", known_by_other_name=False)
    assert "previous-addresses" not in [
        s.name for s in engine.applicable_steps(HOUSEHOLD, long_ago, NOW)
    ]
    recent = started(known_by_other_name=False)
    assert engine.current_step(HOUSEHOLD, recent, NOW) == "previous-addresses"


def test_change_replaces_what_is_sent_and_checks_the_item_again():
    state = add(add(started(), "previous-names", NAME), "previous-names", NAME)
    state = engine.change_item(
        HOUSEHOLD, state, "previous-names", 2, {"previous_first_name": "Alex"}, NOW
    ).state
    assert [i["previous_first_name"] for i in state.answers["previous_names"]] == ["Sam", "Alex"]
    errors = refused(
        lambda: engine.change_item(
            HOUSEHOLD, state, "previous-names", 1, {"previous_last_name": ""}, NOW
        )
    )
    assert errors == [("previous_last_name", "Enter the last name you used")]


def test_an_item_that_does_not_exist_is_not_found():
    state = add(started(), "previous-names", NAME)
    for number in (0, 2):
        refused(
            lambda n=number: engine.change_item(HOUSEHOLD, state, "previous-names", n, {}, NOW),
            UnknownItem,
        )
        refused(
            lambda n=number: engine.remove_item(HOUSEHOLD, state, "previous-names", n, NOW),
            UnknownItem,
        )


def test_removing_below_the_minimum_reopens_the_step():
    state = engine.submit_step(
        HOUSEHOLD, add(started(), "previous-names", NAME), "previous-names", {}, NOW
    ).state
    state = engine.remove_item(HOUSEHOLD, state, "previous-names", 1, NOW).state
    assert "previous_names" not in state.answers
    assert "previous-names" not in state.completed
    assert engine.current_step(HOUSEHOLD, state, NOW) == "previous-names"


def test_a_group_that_no_longer_applies_is_dropped():
    state = add(started(), "previous-names", NAME)
    state = engine.submit_step(
        HOUSEHOLD, state, "about-you", {"known_by_other_name": False}, NOW
    ).state
    assert "previous_names" not in state.answers


def test_steps_are_refused_in_the_wrong_way():
    state = started()
    refused(lambda: engine.add_item(HOUSEHOLD, state, "about-you", {}, NOW), NotAvailable)
    refused(lambda: engine.save_draft(HOUSEHOLD, state, "previous-names", NAME, NOW), NotAvailable)
    # a step not reached yet takes no items
    refused(lambda: engine.add_item(HOUSEHOLD, state, "previous-addresses", UK, NOW), NotAvailable)


def test_items_from_a_selection_follow_it_and_are_labelled_from_its_options():
    state = started(
        known_by_other_name=False, moved_in="2020-01-01", unrecognised=["card-249", "card-80"]
    )
    assert state.answers["disputed_payments"] == [{"_for": "card-249"}, {"_for": "card-80"}]
    step = HOUSEHOLD.step("about-payments")
    assert step is not None
    labels = [
        engine.item_label(HOUSEHOLD, state, step, i) for i in state.answers["disputed_payments"]
    ]
    assert labels == ["£249.99 to AMZN Mktp UK", "£80.00 to Tesco Stores"]
    errors = refused(lambda: engine.submit_step(HOUSEHOLD, state, "about-payments", {}, NOW))
    assert errors[0] == (
        "disputed_payments",
        "£249.99 to AMZN Mktp UK: Select if you know who made this payment",
    )
    refused(lambda: engine.add_item(HOUSEHOLD, state, "about-payments", {}, NOW), NotAvailable)
    refused(lambda: engine.remove_item(HOUSEHOLD, state, "about-payments", 1, NOW), NotAvailable)
    for number in (1, 2):
        state = engine.change_item(
            HOUSEHOLD, state, "about-payments", number, {"who_made_it": "unknown"}, NOW
        ).state
    state = engine.submit_step(HOUSEHOLD, state, "about-payments", {}, NOW).state
    assert engine.current_step(HOUSEHOLD, state, NOW) == CHECK_ANSWERS
    # a new choice: the kept item stays with its value, the new one starts empty
    state = engine.submit_step(
        HOUSEHOLD, state, "about-you", {"unrecognised": ["card-80", "card-12"]}, NOW
    ).state
    assert state.answers["disputed_payments"] == [
        {"who_made_it": "unknown", "_for": "card-80"},
        {"_for": "card-12"},
    ]
    assert engine.current_step(HOUSEHOLD, state, NOW) == "about-payments"


def test_conditions_read_a_group_as_a_list():
    state = add(add(started(), "previous-names", NAME), "previous-names", NAME)
    scope = engine.condition_scope(
        engine.context(HOUSEHOLD, state, state.answers, NOW),
        ["size(answers.previous_names) == 2"],
    )
    assert holds("size(answers.previous_names) == 2", scope)
    assert holds('answers.previous_names.all(n, n.previous_last_name == "Jones")', scope)
    empty = engine.context(HOUSEHOLD, started(), {}, NOW)
    assert holds("size(answers.previous_names) == 0", empty)


def test_a_group_is_as_sensitive_as_its_most_sensitive_field():
    assert HOUSEHOLD.classification_of("previous_names") is Classification.PERSONAL
    assert HOUSEHOLD.classification_of("disputed_payments") is Classification.SENSITIVE
    assert HOUSEHOLD.step_of_field["previous_names"] == "previous-names"


def test_the_state_with_items_survives_a_json_round_trip():
    state = add(started(), "previous-names", NAME)
    again = JourneyState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again == state


# --- add and remove in any order keep the count within bounds ------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["add", "bad", "remove", "remove_last", "go_on"]), max_size=14))
def test_any_sequence_of_commands_keeps_the_count_within_bounds(commands: list[str]):
    state = started()
    for command in commands:
        items = state.answers.get("previous_names", [])
        before = state
        try:
            if command == "add":
                state = add(state, "previous-names", NAME)
            elif command == "bad":
                state = add(state, "previous-names", {"used_until": "not a date"})
            elif command == "remove":
                state = engine.remove_item(HOUSEHOLD, state, "previous-names", 1, NOW).state
            elif command == "remove_last":
                state = engine.remove_item(
                    HOUSEHOLD, state, "previous-names", len(items), NOW
                ).state
            else:
                state = engine.submit_step(HOUSEHOLD, state, "previous-names", {}, NOW).state
        except Refused:
            assert state == before  # a refused command changes nothing
        count = len(state.answers.get("previous_names", []))
        assert 0 <= count <= 3
        assert all(item == NAME for item in state.answers.get("previous_names", []))
        if "previous-names" in state.completed:
            assert count >= 1


# --- the loader ----------------------------------------------------------------------------

GROUP = """\
journey: household
title: Groups
reference_prefix: HSE
steps:
  - name: about
    title: About
    fields:
      - {name: pets, type: multiple_choice, label: Pets, classification: personal,
         options: [{value: cat, label: Cat}]}
      - {name: nickname, type: text, label: Nickname, classification: personal}
  - name: names
    title: Names
    group:
      name: GROUP_NAME
      min: MIN
      max: 3
      min_message: Add one
      max_message: No more
      item_label: "LABEL"
      summary_title: You have added {count}
      FOR_EACH
      rules:
        - {expression: "RULE", message: Wrong}
    fields:
      - {name: first, type: text, label: First, classification: personal}
      - {name: scan, type: file, label: Scan, classification: personal, accept: [image/png]}
declaration:
  text: It is true
"""


def group_errors(tmp_path: Path, **changes: str) -> list[str]:
    text = GROUP
    defaults = {
        "GROUP_NAME": "names_given",
        "MIN": "1",
        "LABEL": "{first}",
        "FOR_EACH": "",
        "RULE": "size(items) > 0",
    }
    for key, value in {**defaults, **changes}.items():
        text = text.replace(key, value)
    journey, errors = load(text, tmp_path)
    return [f"{error.line}: {error.message}" for error in errors]


def test_the_loader_names_each_mistake_in_a_group_with_its_line(tmp_path: Path):
    found = group_errors(tmp_path)
    assert found == [
        "26: a repeating group cannot ask for files ('scan'): ask for them in a step of their own"
    ]
    found = group_errors(
        tmp_path, LABEL="{first} {last}", RULE="size(items) >", GROUP_NAME="nickname"
    )
    assert any(e.startswith("23: invalid CEL expression") for e in found), found
    assert any(
        e.startswith("19: item_label names '{last}', which is not a field of this group")
        for e in found
    ), found
    assert any(e == "14: group name 'nickname' is also the name of a field" for e in found), found


def test_the_loader_checks_bounds_and_what_a_group_is_made_from(tmp_path: Path):
    found = group_errors(tmp_path, MIN="4")
    assert any("min (4) must not be more than max (3)" in e for e in found), found
    found = group_errors(tmp_path, FOR_EACH="for_each: nickname")
    assert any(
        "for_each needs a multiple-choice field; 'nickname' is a text field" in e for e in found
    ), found
    found = group_errors(tmp_path, FOR_EACH="for_each: nothing")
    assert any(
        "for_each names 'nothing', which is not a field of an earlier step" in e for e in found
    ), found


# --- functions -----------------------------------------------------------------------------


def test_add_months_keeps_the_day_or_the_months_last():
    assert functions.add_months("2026-12-02", -36) == "2023-12-02"
    assert functions.add_months("2024-03-31", -1) == "2024-02-29"
    assert functions.add_months("2025-11", 2) == "2026-01-01"


def test_months_between_counts_whole_months():
    assert functions.months_between("2023-12-02", "2026-12-02") == 36
    assert functions.months_between("2023-12-03", "2026-12-02") == 35
    assert functions.months_between("2026-12-02", "2023-12-02") == -36


def test_functions_refuse_what_they_cannot_take():
    with pytest.raises(ValueError):
        functions.add_months("soon", 1)
    with pytest.raises(TypeError):
        functions.total([1, "2"])
    assert functions.total([1, 2.5]) == 3.5
    assert functions.earliest(["2024-01-01", "2021-05-01"]) == "2021-05-01"
    scope = {"answers": {"moved_in": "soon"}, "today": "2026-12-02"}
    assert not holds("add_months(answers.moved_in, 36) > today", scope)  # not an error


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)), st.integers(-600, 600))
def test_add_months_then_months_between_agree(start: Any, months: int):
    moved = functions.add_months(start.isoformat(), months)
    assert abs(functions.months_between(start.isoformat(), moved) - months) <= 1


def test_replace_is_harmless_on_a_state_with_groups():
    state = add(started(), "previous-names", NAME)
    assert replace(state, drafts={}).answers == state.answers


def test_the_functions_are_callable_from_any_expression():
    items = [{"moved_in": "2024-06-01", "years": 2}, {"moved_in": "2022-06-01", "years": 3}]
    scope = {"items": items, "today": "2026-12-02", "answers": {}}
    assert holds("earliest(items.map(a, a.moved_in)) <= add_months(today, -36)", scope)
    assert not holds("latest(items.map(a, a.moved_in)) <= add_months(today, -36)", scope)
    assert holds("sum(items.map(a, a.years)) == 5", scope)
    assert holds('months_between("2023-12-02", today) == 36', scope)


def test_a_function_that_fails_logs_no_value(caplog: pytest.LogCaptureFixture):
    # A failing function makes its condition false; whatever the CEL library logs of it
    # (quiet by default: journeys/expressions.py) never holds the value.
    with caplog.at_level("DEBUG"):
        assert not holds("add_months(today, 1) > ''", {"today": "Jones 1 High St"})
    assert "Jones" not in caplog.text


def test_a_step_can_apply_by_a_groups_items(tmp_path: Path):
    """applicable_steps projects and memoises the scope by what conditions read: a list of
    items under answers.GROUP is read whole, and a change to an item changes the answer."""
    text = DEFINITION.read_text(encoding="utf-8").replace(
        "    when: answers.moved_in > add_months(today, -36)\n",
        '    when: answers.previous_names.exists(n, n.previous_last_name == "Lee")\n',
    )
    journey, errors = load(text, tmp_path)
    assert errors == [] and journey is not None
    state = engine.start(journey, journey_id="j2", customer_id="c1", data={}, now=NOW).state
    state = engine.submit_step(
        journey, state, "about-you", {"moved_in": "2025-01-01", "known_by_other_name": True}, NOW
    ).state
    state = engine.add_item(journey, state, "previous-names", NAME, NOW).state

    def applies() -> bool:
        return "previous-addresses" in [
            s.name for s in engine.applicable_steps(journey, state, NOW)
        ]

    assert not applies()
    state = engine.change_item(
        journey, state, "previous-names", 1, {"previous_last_name": "Lee"}, NOW
    ).state
    assert applies()
    state = engine.change_item(
        journey, state, "previous-names", 1, {"previous_last_name": "Jones"}, NOW
    ).state
    assert not applies()
