"""The motor claim walked through the pure engine, branch by branch, for each demo customer."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from wayline.journeys import engine
from wayline.journeys.engine import (
    CHECK_ANSWERS,
    DataNeed,
    EventType,
    FieldError,
    InvalidAnswers,
    JourneyState,
    NotAvailable,
    Refused,
    Status,
    UnknownStep,
)
from wayline.journeys.loader import Journey

CUSTOMERS = ["alex", "sam", "jordan"]
PHOTOS = ("photo-1", "photo-2")
ESTIMATE = "estimate-1"


def refusal(command: Callable[[], Any], kind: type[Refused] = InvalidAnswers) -> Refused:
    with pytest.raises(kind) as caught:
        command()
    assert type(caught.value) is kind
    return caught.value


def messages(error: Refused) -> dict[str, str]:
    return {item.field: item.message for item in error.errors}


def submit_refused(shell, state: JourneyState, step: str, answers: dict) -> dict[str, str]:
    error = refusal(lambda: engine.submit_step(shell.journey, state, step, answers, shell.now))
    assert error.status == 422
    return messages(error)


def with_photos(shell, state: JourneyState) -> JourneyState:
    state = shell.upload(state, "damage_photos", *PHOTOS)
    return shell.submit_step(state, "photos", {"damage_photos": list(PHOTOS)})


def cash_settlement(shell, state: JourneyState, amount: str = "£1,234.5") -> JourneyState:
    state = shell.upload(state, "estimate_document", ESTIMATE)
    answers = {"settlement": "cash", "estimate_amount": amount, "estimate_document": [ESTIMATE]}
    return shell.submit_step(state, "settlement", answers)


def repairer_settlement(shell, state: JourneyState) -> JourneyState:
    state = shell.fetch_for(state, "settlement")
    repairer = engine.options_for(shell.journey, state, shell.journey.fields["repairer_id"])[0]
    answers = {"settlement": "repairer", "repairer_id": repairer.value}
    return shell.submit_step(state, "settlement", answers)


def payment(shell, state: JourneyState) -> JourneyState:
    if state.customer_id == "sam":
        answers = {
            "account_holder": "Sam Patel",
            "sort_code": "200000",
            "account_number": "12345678",
        }
    else:
        answers = {"payout_account": state.prefill["payout_account"]["value"]}
    return shell.submit_step(state, "payment-details", answers)


def collision_with_injuries(shell, customer: str) -> JourneyState:
    state = shell.through_incident(customer, "collision_vehicle")
    state = shell.submit_step(state, "other-vehicle", {**shell.other_vehicle, "injuries": True})
    answers = {"injured_count": "2", "injury_description": "Whiplash to the other driver"}
    state = shell.submit_step(state, "injuries", answers)
    state = with_photos(shell, state)
    return repairer_settlement(shell, state)


def glass_cash(shell, customer: str) -> JourneyState:
    state = shell.through_incident(customer, "glass")
    state = with_photos(shell, state)
    state = cash_settlement(shell, state)
    return payment(shell, state)


def theft(shell, customer: str) -> JourneyState:
    state = shell.through_incident(customer, "theft")
    state = shell.submit_step(state, "police", {"crime_reference": "CR/123456/26"})
    return shell.submit_step(state, "photos", {})


# --- Starting and prefill -----------------------------------------------------------------------


@pytest.mark.parametrize("customer", CUSTOMERS)
def test_start_prefills_the_only_active_policy(shell, motor: Journey, customer: str):
    outcome = engine.start(motor, journey_id="jrn-1", customer_id=customer, data={}, now=shell.now)
    assert outcome.state.prefill == {}  # without data there is nothing to prefill

    state = shell.start(customer)
    assert state.status == Status.IN_PROGRESS
    assert state.version == motor.version
    assert state.journey == "motor-claim"
    assert state.created_at == state.updated_at == shell.now
    assert state.prefill["policy_number"]["value"] == shell.active_policy[customer]
    assert state.prefill["policy_number"]["source"] == "policies"
    assert shell.current(state) == "policy"
    policy = motor.step("policy")
    assert engine.step_values(motor, state, policy) == {
        "policy_number": shell.active_policy[customer]
    }


def test_start_event(shell, motor: Journey):
    outcome = engine.start(motor, journey_id="j", customer_id="alex", data={}, now=shell.now)
    assert [event.to_dict() for event in outcome.events] == [
        {"type": "journey.started", "at": shell.now.isoformat(), "data": {"next": "policy"}}
    ]
    assert outcome.effects == ()


def test_policy_options_are_the_customers_cars(shell, motor: Journey):
    spec = motor.fields["policy_number"]
    alex = engine.options_for(motor, shell.start("alex"), spec)
    assert [(o.value, o.label) for o in alex] == [
        ("MTR-100001", "Ford Focus (2019), AB12 CDE, comprehensive")
    ]
    sam = engine.options_for(motor, shell.start("sam"), spec)
    assert [(o.value, o.label) for o in sam] == [
        ("MTR-100002", "Toyota Yaris (2021), CD34 EFG, comprehensive"),
        ("MTR-100003", "Vauxhall Corsa (2015), EF56 GHI, third party only"),
    ]


def test_policy_is_required_and_must_be_the_customers(shell):
    state = shell.start("alex")
    expected = {"policy_number": "Select the car the claim is for"}
    assert submit_refused(shell, state, "policy", {}) == expected
    assert submit_refused(shell, state, "policy", {"policy_number": ""}) == expected
    assert submit_refused(shell, state, "policy", {"policy_number": "MTR-100004"}) == expected


def test_answer_sources_record_a_kept_prefill(shell):
    state = shell.submit_step(shell.start("sam"), "policy", {"policy_number": "MTR-100002"})
    assert state.answer_sources["policy_number"] == {
        "source": "policies",
        "fetched_at": shell.now.isoformat(),
    }
    # Choosing another car than the prefilled one is the customer's own answer.
    state = shell.submit_step(state, "policy", {"policy_number": "MTR-100003"})
    assert state.answers["policy_number"] == "MTR-100003"
    assert "policy_number" not in state.answer_sources


# --- The incident -------------------------------------------------------------------------------


@pytest.fixture
def at_incident(shell) -> JourneyState:
    return shell.submit_step(shell.start("alex"), "policy", {"policy_number": "MTR-100001"})


def test_incident_reports_every_missing_answer_at_once(shell, at_incident):
    assert submit_refused(shell, at_incident, "incident", {}) == {
        "incident_date": "Enter the date of the incident",
        "incident_type": "Select the type of incident",
        "incident_postcode": "Enter the postcode where it happened",
        "description": "Tell us what happened",
        "driveable": "Select yes if the car can be driven safely",
    }


def test_incident_messages_for_wrong_answers(shell, at_incident):
    answers = shell.incident(
        "glass",
        incident_date=shell.tomorrow,
        incident_time="24:00",
        incident_postcode="NOT A POSTCODE",
        description="Too short",
        driveable="yes",
    )
    assert submit_refused(shell, at_incident, "incident", answers) == {
        "incident_date": "Date of the incident must be today or in the past",
        "incident_time": "Enter the time in hours and minutes, like 14:30",
        "incident_postcode": "Enter a real postcode, like SW1A 1AA",
        "description": "What happened must be 20 characters or more",
        "driveable": "Select yes or no for can the car be driven safely?",
    }
    long = shell.incident("glass", incident_date="2026-02-30", description="x" * 2001)
    assert submit_refused(shell, at_incident, "incident", long) == {
        "incident_date": "Date of the incident must be a real date",
        "description": "What happened must be 2,000 characters or fewer",
    }
    unknown_type = shell.incident("meteor")
    assert submit_refused(shell, at_incident, "incident", unknown_type) == {
        "incident_type": "Select the type of incident"
    }


def test_incident_answers_are_normalised(shell, at_incident):
    outcome = engine.submit_step(
        shell.journey,
        at_incident,
        "incident",
        shell.incident("glass", incident_postcode=" sw1a1aa ", incident_date=shell.today),
        shell.now,
    )
    answers = outcome.state.answers
    assert answers["incident_postcode"] == "SW1A 1AA"
    assert answers["incident_date"] == shell.today
    assert answers["driveable"] is True
    assert outcome.state.completed == ("policy", "incident")
    [event] = outcome.events
    assert event.type == EventType.STEP_COMPLETED
    assert event.step == "incident"
    assert event.fields == (
        "description",
        "driveable",
        "incident_date",
        "incident_postcode",
        "incident_time",
        "incident_type",
    )


def test_optional_time_may_be_left_out(shell, at_incident):
    answers = shell.incident("glass")
    del answers["incident_time"]
    state = shell.submit_step(at_incident, "incident", answers)
    assert "incident_time" not in state.answers


def test_driveable_is_not_asked_for_theft(shell, at_incident):
    step = shell.journey.step("incident")
    theft_answers = shell.incident("theft")
    visible = engine.visible_fields(shell.journey, at_incident, step, theft_answers, shell.now)
    assert "driveable" not in [spec.name for spec in visible]
    # Sent anyway, it is dropped rather than kept: a hidden field never holds an answer.
    state = shell.submit_step(at_incident, "incident", {**theft_answers, "driveable": True})
    assert "driveable" not in state.answers


# --- Collision with another vehicle, with injuries ----------------------------------------------


@pytest.mark.parametrize("customer", CUSTOMERS)
def test_collision_with_injuries(shell, customer: str):
    state = shell.through_incident(customer, "collision_vehicle")
    assert shell.current(state) == "other-vehicle"

    assert submit_refused(shell, state, "other-vehicle", {}) == {
        "other_driver_name": "Enter the other driver's name",
        "other_registration": "Enter the other vehicle's registration",
        "injuries": "Select yes if anyone was injured",
    }
    wrong = {**shell.other_vehicle, "other_registration": "NOPE", "other_driver_name": "x" * 101}
    assert submit_refused(shell, state, "other-vehicle", wrong) == {
        "other_driver_name": "Other driver's name must be 100 characters or fewer",
        "other_registration": "Enter a real registration number, like AB12 CDE",
    }

    state = shell.submit_step(state, "other-vehicle", {**shell.other_vehicle, "injuries": True})
    assert state.answers["other_registration"] == "XY21 ZZZ"
    assert shell.current(state) == "injuries"

    assert submit_refused(shell, state, "injuries", {}) == {
        "injured_count": "Enter how many people were injured",
        "injury_description": "Describe the injuries",
    }
    for count, message in [
        ("0", "How many people were injured must be 1 or more"),
        ("21", "How many people were injured must be 20 or fewer"),
        ("two", "How many people were injured must be a whole number, like 2"),
    ]:
        answers = {"injured_count": count, "injury_description": "Whiplash"}
        assert submit_refused(shell, state, "injuries", answers) == {"injured_count": message}

    answers = {"injured_count": "2", "injury_description": "Whiplash to the other driver"}
    state = shell.submit_step(state, "injuries", answers)
    assert state.answers["injured_count"] == 2
    assert shell.current(state) == "photos"

    state = repairer_settlement(shell, with_photos(shell, state))
    assert shell.current(state) == CHECK_ANSWERS
    assert shell.applicable(state) == [
        "policy",
        "incident",
        "other-vehicle",
        "injuries",
        "photos",
        "settlement",
    ]
    outcome = engine.submit(
        shell.journey, state, declaration=True, reference="CLM-7KQ2MD", now=shell.now
    )
    assert outcome.state.status == Status.SUBMITTED


def test_collision_without_injuries_skips_the_injuries_step(shell):
    state = shell.through_incident("jordan", "collision_vehicle")
    state = shell.submit_step(state, "other-vehicle", shell.other_vehicle)
    assert shell.current(state) == "photos"
    assert "injuries" not in shell.applicable(state)
    refused = refusal(
        lambda: engine.submit_step(
            shell.journey, state, "injuries", {"injured_count": 1}, shell.now
        ),
        NotAvailable,
    )
    assert "does not apply" in refused.detail


# --- Theft --------------------------------------------------------------------------------------


@pytest.mark.parametrize("customer", CUSTOMERS)
def test_theft_with_a_police_reference(shell, customer: str):
    state = shell.through_incident(customer, "theft")
    assert shell.current(state) == "police"
    assert shell.applicable(state) == ["policy", "incident", "police", "photos"]
    assert "driveable" not in state.answers

    assert submit_refused(shell, state, "police", {}) == {
        "crime_reference": "Enter the police crime reference number"
    }
    bad = {"crime_reference": "CR 12"}
    assert submit_refused(shell, state, "police", bad) == {
        "crime_reference": "Crime reference must be 6 to 20 letters, numbers, slashes or hyphens"
    }
    state = shell.submit_step(state, "police", {"crime_reference": "CR/123456/26"})
    assert shell.current(state) == "photos"

    # Photos are optional for theft.
    state = shell.submit_step(state, "photos", {})
    assert "damage_photos" not in state.answers
    assert shell.current(state) == CHECK_ANSWERS
    for step in ("settlement", "payment-details", "other-vehicle"):
        with pytest.raises(NotAvailable):
            engine.submit_step(shell.journey, state, step, {}, shell.now)

    outcome = engine.submit(
        shell.journey, state, declaration=True, reference="CLM-THEFT1", now=shell.now
    )
    answers = outcome.state.answers
    assert not {"driveable", "settlement", "payout_account", "sort_code"} & set(answers)
    assert answers["crime_reference"] == "CR/123456/26"


def test_vandalism_asks_for_police_and_settlement(shell):
    state = shell.through_incident("alex", "vandalism")
    assert shell.applicable(state) == ["policy", "incident", "police", "photos", "settlement"]


def test_photos_are_required_except_for_theft(shell):
    state = shell.through_incident("alex", "glass")
    assert submit_refused(shell, state, "photos", {}) == {
        "damage_photos": "Upload at least one photo of the damage"
    }
    many = [f"photo-{index}" for index in range(11)]
    state = shell.upload(state, "damage_photos", *many)
    assert submit_refused(shell, state, "photos", {"damage_photos": many}) == {
        "damage_photos": "Upload no more than 10 photos"
    }
    state = shell.submit_step(state, "photos", {"damage_photos": many[:10]})
    assert state.answers["damage_photos"] == many[:10]


def test_photos_must_be_uploaded_for_this_question(shell):
    state = shell.through_incident("alex", "glass")
    state = shell.upload(state, "estimate_document", ESTIMATE)
    for ids in ([ESTIMATE], ["never-uploaded"]):
        assert submit_refused(shell, state, "photos", {"damage_photos": ids}) == {
            "damage_photos": (
                "Photos of the damage: a file in the list was not uploaded for this question"
            )
        }


# --- Glass damage with a cash settlement --------------------------------------------------------


@pytest.mark.parametrize("customer", CUSTOMERS)
def test_glass_with_cash_settlement(shell, customer: str):
    state = with_photos(shell, shell.through_incident(customer, "glass"))
    assert shell.current(state) == "settlement"
    assert submit_refused(shell, state, "settlement", {}) == {
        "settlement": "Select how you would like to settle your claim"
    }
    assert submit_refused(shell, state, "settlement", {"settlement": "cash"}) == {
        "estimate_amount": "Enter the repair estimate",
        "estimate_document": "Upload the garage's estimate",
    }
    for amount, message in [
        ("12.345", "Repair estimate must be an amount of money, like 850 or 850.50"),
        ("0.50", "Repair estimate must be £1 or more"),
        ("100000.01", "Repair estimate must be £100,000 or less"),
    ]:
        state_with_estimate = shell.upload(state, "estimate_document", ESTIMATE)
        answers = {"settlement": "cash", "estimate_amount": amount, "estimate_document": [ESTIMATE]}
        assert submit_refused(shell, state_with_estimate, "settlement", answers) == {
            "estimate_amount": message
        }

    state = cash_settlement(shell, state)
    assert state.answers["estimate_amount"] == "1234.50"
    assert state.answers["estimate_document"] == [ESTIMATE]
    assert "repairer_id" not in state.answers
    assert shell.current(state) == "payment-details"

    state = payment(shell, state)
    assert shell.current(state) == CHECK_ANSWERS
    assert shell.applicable(state)[-2:] == ["settlement", "payment-details"]
    outcome = engine.submit(
        shell.journey, state, declaration=True, reference="CLM-GLASS1", now=shell.now
    )
    assert outcome.state.status == Status.SUBMITTED


def test_alex_sees_the_account_with_us_prefilled(shell, motor: Journey):
    state = cash_settlement(shell, with_photos(shell, shell.through_incident("alex", "glass")))
    step = motor.step("payment-details")
    visible = engine.visible_fields(motor, state, step, state.answers, shell.now)
    assert [spec.name for spec in visible] == ["payout_account"]
    assert engine.step_values(motor, state, step) == {"payout_account": "acc-alex-9911"}
    options = engine.options_for(motor, state, motor.fields["payout_account"])
    assert [(o.value, o.label) for o in options] == [
        ("acc-alex-9911", "Everyday account ending 9911"),
        ("different", "A different account"),
    ]
    assert submit_refused(shell, state, "payment-details", {}) == {
        "payout_account": "Select where we should pay you"
    }
    done = shell.submit_step(state, "payment-details", {"payout_account": "acc-alex-9911"})
    assert done.answers["payout_account"] == "acc-alex-9911"
    assert done.answer_sources["payout_account"]["source"] == "customer"
    assert not {"account_holder", "sort_code", "account_number"} & set(done.answers)


def test_alex_may_choose_a_different_account(shell):
    state = cash_settlement(shell, with_photos(shell, shell.through_incident("alex", "glass")))
    assert submit_refused(shell, state, "payment-details", {"payout_account": "different"}) == {
        "account_holder": "Enter the name on the account",
        "sort_code": "Enter a sort code",
        "account_number": "Enter an account number",
    }
    answers = {
        "payout_account": "different",
        "account_holder": "Alex Morgan",
        "sort_code": "30 94 57",
        "account_number": "0073 3445",
    }
    state = shell.submit_step(state, "payment-details", answers)
    assert state.answers["sort_code"] == "30-94-57"
    assert state.answers["account_number"] == "00733445"
    assert "payout_account" not in state.answer_sources  # not the prefilled account


def test_sam_has_no_account_with_us_so_account_details_are_asked(shell, motor: Journey):
    state = cash_settlement(shell, with_photos(shell, shell.through_incident("sam", "glass")))
    assert "payout_account" not in state.prefill
    step = motor.step("payment-details")
    visible = engine.visible_fields(motor, state, step, state.answers, shell.now)
    assert [spec.name for spec in visible] == ["account_holder", "sort_code", "account_number"]
    assert submit_refused(shell, state, "payment-details", {}) == {
        "account_holder": "Enter the name on the account",
        "sort_code": "Enter a sort code",
        "account_number": "Enter an account number",
    }
    wrong = {"account_holder": "Sam Patel", "sort_code": "2000", "account_number": "12345"}
    assert submit_refused(shell, state, "payment-details", wrong) == {
        "sort_code": "Enter a valid sort code, like 30-94-57",
        "account_number": "Enter a valid account number, like 00733445",
    }
    answers = {"account_holder": "Sam Patel", "sort_code": "200000", "account_number": "12345678"}
    state = shell.submit_step(state, "payment-details", answers)
    assert state.answers["sort_code"] == "20-00-00"
    assert "payout_account" not in state.answers
    # The account choice Sam cannot see is not taken even when sent.
    again = shell.submit_step(state, "payment-details", {**answers, "payout_account": "different"})
    assert "payout_account" not in again.answers


def test_estimate_must_be_uploaded_as_an_estimate(shell):
    state = with_photos(shell, shell.through_incident("alex", "glass"))
    answers = {"settlement": "cash", "estimate_amount": "850", "estimate_document": [PHOTOS[0]]}
    assert submit_refused(shell, state, "settlement", answers) == {
        "estimate_document": (
            "Upload the garage's estimate: a file in the list was not uploaded for this question"
        )
    }


# --- Repairer settlement, with options from the repairer network --------------------------------


@pytest.mark.parametrize("customer", CUSTOMERS)
def test_repairer_options_come_from_the_network_near_the_incident(shell, motor, customer):
    state = with_photos(shell, shell.through_incident(customer, "glass"))
    spec = motor.fields["repairer_id"]
    assert engine.options_for(motor, state, spec) == []
    needs = engine.data_needs(motor, state, "settlement", {"settlement": "repairer"}, shell.now)
    assert needs == [DataNeed("repairers", {"postcode": "SW1A 1AA"})]

    # The shell fetches what the engine asks for, records it, and refreshes prefills.
    for need in needs:
        value = shell.sources[need.source].fetch(customer, need.params, shell.now.date())
        state = engine.record_data(state, need.source, need.params, value, shell.now)
    state = engine.with_data(motor, state)
    assert state.data["repairers"]["params"] == {"postcode": "SW1A 1AA"}
    assert state.data["repairers"]["fetched_at"] == shell.now.isoformat()
    assert engine.data_needs(motor, state, "settlement", {}, shell.now) == []

    options = engine.options_for(motor, state, spec)
    assert [option.label for option in options] == [
        "Northside Motor Repairs",
        "Crown Accident Centre",
        "Parkway Body Shop",
    ]
    for option in options:
        assert option.hint is not None
        assert " miles away, next available 2026-" in option.hint

    assert submit_refused(shell, state, "settlement", {"settlement": "repairer"}) == {
        "repairer_id": "Choose a repairer"
    }
    unknown = {"settlement": "repairer", "repairer_id": "rep-9-nowhere"}
    assert submit_refused(shell, state, "settlement", unknown) == {
        "repairer_id": "Choose a repairer"
    }
    chosen = {"settlement": "repairer", "repairer_id": options[1].value}
    state = engine.submit_step(motor, state, "settlement", chosen, shell.now).state
    assert state.answers["repairer_id"] == options[1].value
    assert not {"estimate_amount", "estimate_document"} & set(state.answers)
    assert "payment-details" not in shell.applicable(state)
    assert shell.current(state) == CHECK_ANSWERS


def test_a_new_incident_postcode_needs_new_repairers(shell, motor):
    state = repairer_settlement(shell, with_photos(shell, shell.through_incident("alex", "glass")))
    state = shell.submit_step(
        state, "incident", shell.incident("glass", incident_postcode="M1 1AE")
    )
    needs = engine.data_needs(motor, state, "settlement", {}, shell.now)
    assert needs == [DataNeed("repairers", {"postcode": "M1 1AE"})]


def test_data_needs_of_an_unknown_step_is_empty(shell, motor):
    assert engine.data_needs(motor, shell.start("alex"), "nope", {}, shell.now) == []


def test_sources_used_at_start_are_those_without_parameters(motor):
    assert engine.sources_used(motor) == {"policies", "customer"}


def test_record_data_keeps_an_error(shell):
    state = engine.record_data(
        shell.start("alex"), "repairers", {"postcode": "SW1A 1AA"}, None, shell.now, "timeout"
    )
    assert state.data["repairers"]["error"] == "timeout"
    assert engine.options_for(shell.journey, state, shell.journey.fields["repairer_id"]) == []


# --- Drafts -------------------------------------------------------------------------------------


def test_a_draft_keeps_invalid_values_as_typed(shell, at_incident, motor):
    typed = {"incident_date": "2026-02-30", "incident_postcode": "nowhere", "driveable": "maybe"}
    outcome = engine.save_draft(motor, at_incident, "incident", typed, shell.now)
    state = outcome.state
    assert state.drafts == {"incident": typed}
    assert state.answers == at_incident.answers
    assert state.completed == at_incident.completed
    assert shell.current(state) == "incident"
    [event] = outcome.events
    assert event.to_dict() == {
        "type": "step.saved",
        "at": shell.now.isoformat(),
        "step": "incident",
        "fields": ["driveable", "incident_date", "incident_postcode"],
    }
    assert engine.step_values(motor, state, motor.step("incident")) == typed

    # A second draft adds to the first.
    state = engine.save_draft(motor, state, "incident", {"incident_type": "glass"}, shell.now).state
    assert state.drafts["incident"] == {**typed, "incident_type": "glass"}

    # Submitting with nothing new checks the draft.
    errors = submit_refused(shell, state, "incident", {})
    assert errors["incident_date"] == "Date of the incident must be a real date"
    assert errors["incident_postcode"] == "Enter a real postcode, like SW1A 1AA"


def test_submitting_a_complete_draft_completes_the_step_and_clears_it(shell, at_incident, motor):
    state = engine.save_draft(
        motor, at_incident, "incident", shell.incident("glass"), shell.now
    ).state
    state = engine.submit_step(motor, state, "incident", {}, shell.now).state
    assert "incident" in state.completed
    assert state.drafts == {}
    assert state.answers["incident_postcode"] == "SW1A 1AA"


def test_a_draft_over_an_answer_over_a_prefill(shell, motor):
    state = shell.start("sam")
    step = motor.step("policy")
    assert engine.step_values(motor, state, step) == {"policy_number": "MTR-100002"}
    state = shell.submit_step(state, "policy", {"policy_number": "MTR-100003"})
    assert engine.step_values(motor, state, step) == {"policy_number": "MTR-100003"}
    state = engine.save_draft(motor, state, "policy", {"policy_number": "typo"}, shell.now).state
    assert engine.step_values(motor, state, step) == {"policy_number": "typo"}


def test_a_draft_refuses_unknown_and_malformed_fields(shell, at_incident, motor):
    error = refusal(
        lambda: engine.save_draft(motor, at_incident, "incident", {"colour": "red"}, shell.now)
    )
    assert error.errors == [FieldError("colour", "'colour' is not a question on this step")]
    error = refusal(
        lambda: engine.save_draft(
            motor, at_incident, "incident", {"description": {"nested": 1}}, shell.now
        )
    )
    assert messages(error) == {
        "description": "An answer must be text, a number, true or false, or a list"
    }


def test_a_draft_of_a_step_not_reached_is_refused(shell, motor):
    state = shell.start("alex")
    with pytest.raises(NotAvailable):
        engine.save_draft(motor, state, "photos", {"damage_photos": []}, shell.now)


# --- Refusals -----------------------------------------------------------------------------------


def test_unknown_fields_are_refused(shell, at_incident):
    answers = {**shell.incident("glass"), "colour": "red", "age": 3}
    error = refusal(
        lambda: engine.submit_step(shell.journey, at_incident, "incident", answers, shell.now)
    )
    assert error.status == 422
    assert error.errors == [
        FieldError("age", "'age' is not a question on this step"),
        FieldError("colour", "'colour' is not a question on this step"),
    ]


def test_a_field_of_another_step_is_unknown_here(shell, at_incident):
    answers = {**shell.incident("glass"), "policy_number": "MTR-100001"}
    with pytest.raises(InvalidAnswers):
        engine.submit_step(shell.journey, at_incident, "incident", answers, shell.now)


def test_a_step_not_yet_reached_is_not_available(shell):
    state = shell.start("alex")
    error = refusal(
        lambda: engine.submit_step(shell.journey, state, "incident", {}, shell.now), NotAvailable
    )
    assert error.status == 409
    assert error.detail == "The step 'incident' is not reached yet; the current step is 'policy'"
    with pytest.raises(NotAvailable):
        engine.submit_step(shell.journey, state, "photos", {}, shell.now)


def test_a_step_that_does_not_apply_is_not_available(shell, at_incident):
    state = shell.submit_step(at_incident, "incident", shell.incident("glass"))
    error = refusal(
        lambda: engine.submit_step(shell.journey, state, "police", {}, shell.now), NotAvailable
    )
    assert error.detail == "The step 'police' does not apply to this journey's answers"


def test_an_unknown_step(shell):
    error = refusal(
        lambda: engine.submit_step(shell.journey, shell.start("alex"), "nope", {}, shell.now),
        UnknownStep,
    )
    assert error.status == 404
    with pytest.raises(UnknownStep):
        engine.save_draft(shell.journey, shell.start("alex"), "nope", {}, shell.now)


# --- Going back and changing answers ------------------------------------------------------------


def test_changing_collision_to_glass_drops_the_collision_answers(shell, motor):
    state = collision_with_injuries(shell, "alex")
    assert {"other-vehicle", "injuries"} <= set(state.completed)

    outcome = engine.submit_step(motor, state, "incident", shell.incident("glass"), shell.now)
    changed = outcome.state
    assert not {
        "other_driver_name",
        "other_registration",
        "other_insurer",
        "injuries",
        "injured_count",
        "injury_description",
    } & set(changed.answers)
    assert "other-vehicle" not in changed.completed
    assert "injuries" not in changed.completed
    assert changed.answers["incident_type"] == "glass"
    assert changed.answers["repairer_id"] == state.answers["repairer_id"]  # still applies
    assert shell.current(changed) == CHECK_ANSWERS
    [event] = outcome.events
    assert event.type == EventType.ANSWER_CHANGED
    assert event.fields == ("incident_type",)


def test_changing_to_collision_asks_about_the_other_vehicle_again(shell, motor):
    state = glass_cash(shell, "jordan")
    assert shell.current(state) == CHECK_ANSWERS
    state = shell.submit_step(state, "incident", shell.incident("collision_vehicle"))
    assert shell.current(state) == "other-vehicle"
    with pytest.raises(NotAvailable):
        engine.submit(motor, state, declaration=True, reference="CLM-AAAAAA", now=shell.now)
    # Steps already answered stay answered.
    assert {"policy", "incident", "photos", "settlement", "payment-details"} <= set(state.completed)
    state = shell.submit_step(state, "other-vehicle", shell.other_vehicle)
    assert shell.current(state) == CHECK_ANSWERS


def test_changing_to_theft_drops_settlement_and_payment(shell):
    state = glass_cash(shell, "alex")
    state = shell.submit_step(state, "incident", shell.incident("theft"))
    assert not {
        "driveable",
        "settlement",
        "estimate_amount",
        "estimate_document",
        "payout_account",
    } & set(state.answers)
    assert not {"settlement", "payment-details"} & set(state.completed)
    assert "payout_account" not in state.answer_sources
    assert shell.current(state) == "police"


def test_no_injuries_any_more_drops_the_injuries_step(shell):
    state = collision_with_injuries(shell, "sam")
    state = shell.submit_step(state, "other-vehicle", {**shell.other_vehicle, "injuries": False})
    assert "injuries" not in state.completed
    assert not {"injured_count", "injury_description"} & set(state.answers)
    assert state.answers["injuries"] is False


def test_repairer_instead_of_cash_drops_the_estimate_and_payment(shell):
    state = glass_cash(shell, "sam")
    state = repairer_settlement(shell, state)
    assert not {"estimate_amount", "estimate_document", "sort_code", "account_number"} & set(
        state.answers
    )
    assert "payment-details" not in state.completed
    assert shell.current(state) == CHECK_ANSWERS


def test_drafts_of_steps_that_no_longer_apply_are_dropped(shell, motor):
    """Regression: _prune stopped at the first pass when no answer or completion changed, so a
    draft of a step that no longer applied was kept."""
    state = shell.through_incident("sam", "collision_vehicle")
    draft = {"other_driver_name": "Pat Jones", "other_registration": "zz"}
    state = engine.save_draft(motor, state, "other-vehicle", draft, shell.now).state
    assert state.drafts == {"other-vehicle": draft}
    state = shell.submit_step(state, "incident", shell.incident("glass"))
    assert state.drafts == {}


def test_changing_an_answer_records_only_the_changed_names(shell, motor):
    state = glass_cash(shell, "alex")
    outcome = engine.submit_step(
        motor, state, "incident", shell.incident("glass", description="Z" * 40), shell.now
    )
    [event] = outcome.events
    assert event.to_dict()["fields"] == ["description"]
    assert outcome.state.completed == state.completed


# --- Sending the claim --------------------------------------------------------------------------


def test_submit_needs_every_applicable_step(shell, motor):
    state = shell.through_incident("alex", "glass")
    error = refusal(
        lambda: engine.submit(motor, state, declaration=True, reference="CLM-X", now=shell.now),
        NotAvailable,
    )
    assert error.errors == [FieldError("photos", "Complete 'Photos of the damage' before sending")]


def test_submit_needs_the_declaration(shell, motor):
    state = glass_cash(shell, "alex")
    for declaration in (False, None, "true", 1):
        error = refusal(
            lambda declaration=declaration: engine.submit(
                motor, state, declaration=declaration, reference="CLM-X", now=shell.now
            )
        )
        assert error.errors == [
            FieldError(
                "declaration", "Confirm that the information you have given is true and complete"
            )
        ]


def test_submit_sends_the_claim(shell, motor):
    state = glass_cash(shell, "alex")
    state = engine.save_draft(
        motor, state, "incident", {"description": "half-typed"}, shell.now
    ).state
    later = shell.now + timedelta(minutes=5)
    outcome = engine.submit(motor, state, declaration=True, reference="CLM-7KQ2MD", now=later)
    sent = outcome.state
    assert sent.status == Status.SUBMITTED
    assert sent.reference == "CLM-7KQ2MD"
    assert sent.submitted_at == sent.updated_at == later
    assert sent.drafts == {}
    assert sent.answers == state.answers
    assert engine.current_step(motor, sent, later) is None
    assert [event.to_dict() for event in outcome.events] == [
        {"type": "journey.submitted", "at": later.isoformat(), "data": {"reference": "CLM-7KQ2MD"}}
    ]
    assert [(effect.kind, effect.key) for effect in outcome.effects] == [
        ("notify", f"{state.id}:notify:submitted:0"),
        ("run_checks", f"{state.id}:run_checks:submitted:1"),
    ]
    assert outcome.effects[0].params == {"template": "claim_received"}


def test_a_sent_claim_cannot_be_sent_or_changed_again(shell, motor):
    sent = engine.submit(
        motor, glass_cash(shell, "alex"), declaration=True, reference="CLM-1", now=shell.now
    ).state
    with pytest.raises(NotAvailable):
        engine.submit(motor, sent, declaration=True, reference="CLM-2", now=shell.now)
    with pytest.raises(NotAvailable):
        engine.submit_step(motor, sent, "incident", shell.incident("glass"), shell.now)
    with pytest.raises(NotAvailable):
        engine.save_draft(motor, sent, "incident", {}, shell.now)


def test_a_step_whose_answers_no_longer_pass_is_asked_again(shell, motor):
    """Theft made photos optional; after changing to glass they are required, so the photos
    step is asked again rather than left completed without a photo."""
    state = theft(shell, "alex")
    assert "photos" in state.completed and not state.answers.get("damage_photos")
    state = shell.submit_step(state, "incident", shell.incident("glass"))
    assert "photos" not in state.completed
    assert engine.current_step(motor, state, shell.now) == "photos"


def test_submit_checks_every_step_again(shell, motor):
    """Even a state whose completed steps went stale is never sent: submit validates again."""
    state = glass_cash(shell, "alex")
    state = replace(state, answers={k: v for k, v in state.answers.items() if k != "damage_photos"})
    error = refusal(
        lambda: engine.submit(motor, state, declaration=True, reference="CLM-X", now=shell.now)
    )
    assert messages(error) == {"damage_photos": "Upload at least one photo of the damage"}


def test_effect_keys_are_stable_and_distinct(shell, motor):
    def send(journey_id: str):
        state = replace(glass_cash(shell, "alex"), id=journey_id)
        return engine.submit(motor, state, declaration=True, reference="CLM-1", now=shell.now)

    first, again, other = send("jrn-A"), send("jrn-A"), send("jrn-B")
    keys = [effect.key for effect in first.effects]
    assert keys == [effect.key for effect in again.effects]
    assert len(set(keys)) == len(keys)
    assert not set(keys) & {effect.key for effect in other.effects}
    # A key does not depend on the time it was sent.
    later = engine.submit(
        motor,
        replace(glass_cash(shell, "alex"), id="jrn-A"),
        declaration=True,
        reference="CLM-1",
        now=shell.now + timedelta(hours=1),
    )
    assert [effect.key for effect in later.effects] == keys


# --- After sending: review, decision, closing; abandoning a draft -------------------------------


@pytest.fixture
def sent(shell, motor) -> JourneyState:
    state = glass_cash(shell, "alex")
    return engine.submit(motor, state, declaration=True, reference="CLM-1", now=shell.now).state


def test_review_decide_close(shell, motor, sent):
    later = shell.now + timedelta(hours=1)
    outcome = engine.begin_review(motor, sent, later)
    assert outcome.state.status == Status.IN_REVIEW
    assert outcome.state.updated_at == later
    assert [e.type for e in outcome.events] == [EventType.REVIEW_STARTED]

    outcome = engine.decide(motor, outcome.state, "approved", ["estimate under £3,000"], later)
    assert outcome.state.status == Status.DECIDED
    assert outcome.state.outcome == {"outcome": "approved", "reasons": ["estimate under £3,000"]}
    assert outcome.events[0].to_dict() == {
        "type": "decision.made",
        "at": later.isoformat(),
        "data": {"outcome": "approved", "reasons": ["estimate under £3,000"]},
    }

    outcome = engine.close(motor, outcome.state, later)
    assert outcome.state.status == Status.CLOSED
    assert [e.type for e in outcome.events] == [EventType.JOURNEY_CLOSED]


def test_a_sent_claim_may_be_decided_without_review(shell, motor, sent):
    decided = engine.decide(motor, sent, "not_covered", ["policy lapsed"], shell.now).state
    assert decided.status == Status.DECIDED


@pytest.mark.parametrize(
    ("command", "status"),
    [
        ("begin_review", Status.IN_PROGRESS),
        ("begin_review", Status.IN_REVIEW),
        ("begin_review", Status.DECIDED),
        ("decide", Status.IN_PROGRESS),
        ("decide", Status.DECIDED),
        ("decide", Status.CLOSED),
        ("decide", Status.ABANDONED),
        ("close", Status.IN_PROGRESS),
        ("close", Status.SUBMITTED),
        ("close", Status.CLOSED),
        ("abandon", Status.SUBMITTED),
        ("abandon", Status.DECIDED),
    ],
)
def test_transitions_that_do_not_fit_the_status_are_refused(shell, motor, sent, command, status):
    state = replace(sent, status=status)
    later = shell.now + timedelta(days=365)
    calls = {
        "begin_review": lambda: engine.begin_review(motor, state, later),
        "decide": lambda: engine.decide(motor, state, "approved", [], later),
        "close": lambda: engine.close(motor, state, later),
        "abandon": lambda: engine.abandon(motor, state, later),
    }
    refusal(calls[command], NotAvailable)


def test_abandon_only_after_abandon_after(shell, motor):
    state = shell.through_incident("alex", "glass")
    assert motor.definition.abandon_after == "P30D"
    with pytest.raises(NotAvailable):
        engine.abandon(motor, state, state.updated_at + timedelta(days=30) - timedelta(seconds=1))
    at = state.updated_at + timedelta(days=30)
    outcome = engine.abandon(motor, state, at)
    assert outcome.state.status == Status.EXPIRED  # an abandoned draft has expired
    assert outcome.events[0].to_dict() == {
        "type": "journey.expired",
        "at": at.isoformat(),
        "data": {"by": "time"},
    }
    assert outcome.state.ended == {"status": "expired", "at": at.isoformat(), "by": "time"}
    assert engine.current_step(motor, outcome.state, at) is None
    with pytest.raises(NotAvailable):
        engine.submit_step(motor, outcome.state, "photos", {}, at)


def test_any_change_restarts_the_abandon_clock(shell, motor):
    state = shell.through_incident("alex", "glass")
    later = state.updated_at + timedelta(days=29)
    state = engine.save_draft(motor, state, "photos", {}, later).state
    with pytest.raises(NotAvailable):
        engine.abandon(motor, state, later + timedelta(days=29))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P30D", timedelta(days=30)),
        ("PT15M", timedelta(minutes=15)),
        ("P2W", timedelta(days=14)),
        ("P7Y", timedelta(days=7 * 365)),
        ("P1Y2M3W4DT5H6M7S", timedelta(days=365 + 60 + 21 + 4, hours=5, minutes=6, seconds=7)),
    ],
)
def test_parse_duration(text, expected):
    assert engine.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["30D", "P1.5D", "p30d", "P-1D", ""])
def test_parse_duration_refuses_what_is_not_a_duration(text):
    with pytest.raises(ValueError):
        engine.parse_duration(text)


# --- Events carry names, never values -----------------------------------------------------------


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.items() for part in item for s in _strings(part)]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    return []


@pytest.mark.parametrize("customer", CUSTOMERS)
def test_events_carry_field_names_never_values(shell, motor, customer):
    events = []

    def run(outcome):
        events.extend(outcome.events)
        return outcome.state

    state = shell.start(customer)
    state = run(
        engine.start(motor, journey_id="j", customer_id=customer, data=state.data, now=shell.now)
    )
    policy = {"policy_number": shell.active_policy[customer]}
    state = run(engine.submit_step(motor, state, "policy", policy, shell.now))
    incident = shell.incident("collision_vehicle", description="My very private story " * 3)
    state = run(engine.save_draft(motor, state, "incident", incident, shell.now))
    state = run(engine.submit_step(motor, state, "incident", incident, shell.now))
    other = {**shell.other_vehicle, "injuries": True}
    state = run(engine.submit_step(motor, state, "other-vehicle", other, shell.now))
    injuries = {"injured_count": 3, "injury_description": "Broken wrist and bruising"}
    state = run(engine.submit_step(motor, state, "injuries", injuries, shell.now))
    state = shell.upload(state, "damage_photos", *PHOTOS)
    state = run(
        engine.submit_step(motor, state, "photos", {"damage_photos": list(PHOTOS)}, shell.now)
    )
    state = shell.upload(state, "estimate_document", ESTIMATE)
    cash = {"settlement": "cash", "estimate_amount": "2500", "estimate_document": [ESTIMATE]}
    state = run(engine.submit_step(motor, state, "settlement", cash, shell.now))
    account = {"account_holder": "Sam Q Patel", "sort_code": "309457", "account_number": "00733445"}
    if customer != "sam":
        account["payout_account"] = "different"
    state = run(engine.submit_step(motor, state, "payment-details", account, shell.now))
    changed = {**incident, "incident_postcode": "M1 1AE"}
    state = run(engine.submit_step(motor, state, "incident", changed, shell.now))
    state = run(engine.submit(motor, state, declaration=True, reference="CLM-1", now=shell.now))
    assert state.status == Status.SUBMITTED

    bodies = [event.to_dict() for event in events]
    assert len(bodies) == 11
    leaves = set(_strings(bodies))
    dumped = json.dumps(bodies)
    values = _strings(list(state.answers.values())) + _strings(list(incident.values()))
    values += ["M1 1AE", "SW1A 1AA", "sw1a1aa", "30-94-57", "309457"]
    for value in values:
        assert value not in leaves, value
    for name, value in state.answers.items():
        if motor.fields[name].classification in ("personal", "sensitive"):
            for text in _strings(value):
                assert text not in dumped, (name, text)
    # ...but they do say which fields changed.
    assert bodies[-2]["fields"] == ["incident_postcode"]


# --- Serialising the state ----------------------------------------------------------------------


def _started(shell) -> JourneyState:
    return shell.start("sam")


def _with_a_draft(shell) -> JourneyState:
    state = shell.through_incident("alex", "glass")
    draft = {"damage_photos": ["not-uploaded"]}
    return engine.save_draft(shell.journey, state, "photos", draft, shell.now).state


def _decided(shell) -> JourneyState:
    state = glass_cash(shell, "sam")
    sent = engine.submit(shell.journey, state, declaration=True, reference="CLM-Q", now=shell.now)
    return engine.decide(shell.journey, sent.state, "referred", ["a handler"], shell.now).state


@pytest.mark.parametrize(
    "build",
    [_started, _with_a_draft, lambda shell: collision_with_injuries(shell, "jordan"), _decided],
    ids=["started", "with-a-draft", "collision-with-injuries", "decided"],
)
def test_state_round_trips_through_json(shell, build):
    state = build(shell)
    body = json.loads(json.dumps(state.to_dict()))
    again = JourneyState.from_dict(body)
    assert again == state
    assert again.to_dict() == state.to_dict()
    assert again.created_at.tzinfo is not None


def test_engine_commands_do_not_change_their_input(shell, motor):
    state = shell.through_incident("alex", "glass")
    before = json.dumps(state.to_dict(), sort_keys=True)
    engine.save_draft(motor, state, "photos", {"damage_photos": ["x"]}, shell.now)
    engine.submit_step(
        motor,
        shell.upload(state, "damage_photos", "p"),
        "photos",
        {"damage_photos": ["p"]},
        shell.now,
    )
    with pytest.raises(InvalidAnswers):
        engine.submit_step(motor, state, "photos", {}, shell.now)
    assert json.dumps(state.to_dict(), sort_keys=True) == before
