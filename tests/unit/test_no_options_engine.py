"""A required choice whose partner offers no options (`options_from.when_none`): the customer is
told why and types the answer instead, so the journey goes on; a source that could not answer
keeps its own message (`unavailable`)."""

from __future__ import annotations

from typing import Any

import pytest

from wayline.journeys import engine
from wayline.journeys.engine import InvalidAnswers, JourneyState
from wayline.journeys.field_types import FieldType
from wayline.journeys.loader import Journey
from wayline.runtime.presenter import present_field
from wayline.runtime.queries.step_view import step_fields


def presented(journey: Journey, state: JourneyState, name: str) -> dict[str, Any]:
    step = journey.step(journey.step_of_field[name])
    assert step is not None
    return present_field(journey, state, step, journey.fields[name], {}, {})


def test_a_customer_with_no_policies_types_the_number_and_goes_on(shell, motor, now):
    state = shell.start("someone-without-policies")
    spec = motor.fields["policy_number"]
    assert spec.options_from is not None and spec.options_from.when_none is not None
    assert engine.options_for(motor, state, spec) == []
    assert engine.offered_none(state, spec)
    assert engine.typed_in_hint(state, spec) == spec.options_from.when_none.message
    field = presented(motor, state, "policy_number")
    assert (field["type"], field["hint"]) == ("text", spec.options_from.when_none.message)
    assert field["unavailable"] is False  # the source answered: it had nothing to offer
    assert "options" not in field
    moved = engine.submit_step(motor, state, "policy", {"policy_number": " MTR-123456 "}, now)
    assert moved.state.answers["policy_number"] == "MTR-123456"
    assert engine.current_step(motor, moved.state, now) == "incident"


def test_the_page_asks_for_the_number_as_text_with_the_message(shell, motor, now):
    state = shell.start("someone-without-policies")
    step = motor.step("policy")
    assert step is not None
    [view] = step_fields(motor, state, step, {}, {}, [], {}, now)
    spec = motor.fields["policy_number"]
    assert spec.options_from is not None and spec.options_from.when_none is not None
    assert (view.spec.type, view.spec.hint) == (FieldType.TEXT, spec.options_from.when_none.message)
    assert view.required


def test_a_source_that_could_not_answer_keeps_its_own_message(shell, motor, now):
    state = shell.start("alex")
    state = engine.record_data(state, "policies", {}, None, now, error="timeout")
    spec = motor.fields["policy_number"]
    assert spec.options_from is not None
    assert not engine.offered_none(state, spec)
    assert engine.typed_in_hint(state, spec) == spec.options_from.unavailable
    assert presented(motor, state, "policy_number")["unavailable"] is True


def test_a_choice_with_options_is_chosen_not_typed(shell, motor, now):
    state = shell.start("alex")
    spec = motor.fields["policy_number"]
    assert not engine.offered_none(state, spec)
    assert engine.typed_in_hint(state, spec) is None
    assert presented(motor, state, "policy_number")["type"] == "single_choice"
    with pytest.raises(InvalidAnswers):
        engine.submit_step(motor, state, "policy", {"policy_number": "MTR-123456"}, now)


def test_static_options_beside_the_source_mean_there_is_always_a_choice(shell, motor):
    # payout_account offers "A different account" whatever the bank's data holds.
    state = shell.start("alex")
    state = engine.record_data(state, "customer", {}, {"accounts": []}, shell.now)
    spec = motor.fields["payout_account"]
    assert not engine.offered_none(state, spec)
    assert engine.typed_in_hint(state, spec) is None
