"""Properties of the engine under random sequences of commands (Hypothesis, rule-based).

Whatever a customer (or a broken client) sends, in whatever order:
- no answer is kept for a step that does not apply, or for a field whose `when` is false;
- `completed` holds only applicable steps, drafts only those of applicable steps;
- a journey is never sent with an applicable step not completed or a required answer missing;
- a refused command changes nothing, and the state always survives a JSON round trip.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from wayline.journeys import engine
from wayline.journeys.engine import CHECK_ANSWERS, JourneyState, Refused, Status
from wayline.journeys.loader import load_directory
from wayline.journeys.schema import FieldSpec, FieldType
from wayline.journeys.values import Invalid, is_empty, parse
from wayline.sandbox import dataset
from wayline.sandbox.sources import demo_sources

MOTOR = load_directory(Path(__file__).resolve().parents[2] / "journeys")["motor-claim"]
NOW = datetime(2026, 3, 27, 10, 30, tzinfo=UTC)
DAY = timedelta(days=1)
STEP_NAMES = [step.name for step in MOTOR.steps]
PHOTOS = ["photo-1", "photo-2", "photo-3"]
ESTIMATE = "estimate-1"
UPLOADS = {
    **{document: {"field": "damage_photos"} for document in PHOTOS},
    ESTIMATE: {"field": "estimate_document"},
}
REPAIRERS = [
    repairer["id"]
    for postcode in ("SW1A 1AA", "M1 1AE")
    for repairer in dataset.repairers(postcode, NOW.date())
]
DESCRIPTION = "Another car drove into the back of mine at the lights."

# For each field: answers that are plausible (mostly valid) and implausible (mostly not).
PLAUSIBLE: dict[str, list[Any]] = {
    "policy_number": ["MTR-100001", "MTR-100002", "MTR-100003", "MTR-100004"],
    "incident_date": [(NOW - 7 * DAY).date().isoformat(), NOW.date().isoformat()],
    "incident_time": ["14:30", "07:05"],
    "incident_type": [  # the most branching types more often
        "collision_vehicle",
        "collision_vehicle",
        "collision_vehicle",
        "collision_object",
        "theft",
        "theft",
        "vandalism",
        "fire",
        "weather",
        "glass",
        "glass",
    ],
    "incident_postcode": ["SW1A 1AA", "m11ae"],
    "description": [DESCRIPTION],
    "driveable": [True, False],
    "other_driver_name": ["Pat Jones"],
    "other_registration": ["ab12cde", "XY21 ZZZ"],
    "other_insurer": ["Acme Insurance"],
    "injuries": [True, False],
    "injured_count": [1, "2", 20],
    "injury_description": ["Whiplash"],
    "crime_reference": ["CR/123456/26", "AB-1234"],
    "damage_photos": [PHOTOS[:1], PHOTOS],
    "settlement": ["cash", "repairer"],
    "repairer_id": REPAIRERS,
    "estimate_amount": ["850", "£1,234.5", "3000.00"],
    "estimate_document": [[ESTIMATE]],
    "payout_account": ["acc-alex-9911", "acc-jordan-4242", "different"],
    "account_holder": ["A Person"],
    "sort_code": ["200000", "30-94-57"],
    "account_number": ["12345678", "0073 3445"],
}
IMPLAUSIBLE: dict[str, list[Any]] = {
    "policy_number": ["MTR-999999", ""],
    "incident_date": [(NOW + DAY).date().isoformat(), "2026-02-30", "yesterday"],
    "incident_time": ["24:00", "noon"],
    "incident_type": ["meteor", 7],
    "incident_postcode": ["nowhere", "SW1A"],
    "description": ["short", "x" * 2001],
    "driveable": ["yes", 1],
    "other_driver_name": ["x" * 101, "   "],
    "other_registration": ["zz", "ABCDEFGH"],
    "other_insurer": ["x" * 101],
    "injuries": ["no"],
    "injured_count": [0, 21, "two", 2.5],
    "injury_description": ["x" * 2001],
    "crime_reference": ["CR 1", "#######"],
    "damage_photos": [[], [ESTIMATE], ["never-uploaded"], "photo-1", [f"p{i}" for i in range(11)]],
    "settlement": ["both", True],
    "repairer_id": ["rep-9-nowhere"],
    "estimate_amount": ["12.345", "0.5", "100000.01", "-5", 850.5],
    "estimate_document": [[], [PHOTOS[0]], [ESTIMATE, ESTIMATE + "-b"]],
    "payout_account": ["acc-sam-0000"],
    "account_holder": ["x" * 71],
    "sort_code": ["2000", "ab-cd-ef"],
    "account_number": ["12345", "abcdefgh"],
}
assert set(PLAUSIBLE) == set(IMPLAUSIBLE) == set(MOTOR.fields)


OMIT = object()


def _samples(name: str, valid_bias: int, offered: list[str] | None) -> list[Any]:
    """One list to draw a field's answer from in a single draw: plausible answers weighted to
    about `valid_bias` percent, then implausible ones, empty ones and leaving the field out.
    Where the journey offers options at run time, those are the plausible answers."""
    plausible = offered or PLAUSIBLE[name]
    others = [*IMPLAUSIBLE[name], None, "", OMIT]
    if offered:
        others += [value for value in PLAUSIBLE[name] if value not in offered]
    weight = max(1, round(valid_bias * len(others) / (len(plausible) * (100 - valid_bias))))
    return [*plausible * weight, *others]


@st.composite
def answers_for(
    draw: st.DrawFn, step_name: str, state: JourneyState, valid_bias: int = 85
) -> dict[str, Any]:
    """Answers to a step's questions: mostly plausible, some implausible, some empty or left
    out, and now and then a question the step does not have."""
    step = MOTOR.step(step_name)
    answers: dict[str, Any] = {}
    for spec in step.fields if step else []:
        offered = None
        if spec.options_from is not None:
            offered = [option.value for option in engine.options_for(MOTOR, state, spec)]
        value = draw(st.sampled_from(_samples(spec.name, valid_bias, offered)))
        if value is not OMIT:
            answers[spec.name] = value
    if draw(st.integers(0, 49)) == 0:
        answers["not_a_question"] = "x"
    return answers


def fetch_for(state: JourneyState, step: str, answers: dict[str, Any]) -> JourneyState:
    """What the shell does before a command: fetch the data the engine says it needs."""
    sources = demo_sources()
    for need in engine.data_needs(MOTOR, state, step, answers, NOW):
        value = sources[need.source].fetch(state.customer_id, need.params, NOW.date())
        state = engine.record_data(state, need.source, need.params, value, NOW)
    return engine.with_data(MOTOR, state)


def snapshot(state: JourneyState) -> str:
    return json.dumps(state.to_dict(), sort_keys=True)


class MotorClaim(RuleBasedStateMachine):
    state: JourneyState

    @initialize(
        customer=st.sampled_from(["alex", "sam", "jordan"]),
        head_start=st.sampled_from([None, None, *PLAUSIBLE["incident_type"]]),
    )
    def begin(self, customer: str, head_start: str | None) -> None:
        """Start a claim; often with the first two pages answered (for a drawn incident type)
        so that more of each run is spent among the branches."""
        sources = demo_sources()
        data = {
            name: {
                "params": {},
                "value": sources[name].fetch(customer, {}, NOW.date()),
                "fetched_at": NOW.isoformat(),
            }
            for name in sorted(engine.sources_used(MOTOR))
        }
        state = engine.start(MOTOR, journey_id="jrn-p", customer_id=customer, data=data, now=NOW)
        self.state = replace(state.state, documents=dict(UPLOADS))
        if head_start is not None:
            policy = {"policy_number": self.state.prefill["policy_number"]["value"]}
            self.state = engine.submit_step(MOTOR, self.state, "policy", policy, NOW).state
            incident = {
                "incident_date": PLAUSIBLE["incident_date"][0],
                "incident_type": head_start,
                "incident_postcode": "SW1A 1AA",
                "description": DESCRIPTION,
            }
            if head_start != "theft":
                incident["driveable"] = False
            self.state = engine.submit_step(MOTOR, self.state, "incident", incident, NOW).state

    # --- commands -------------------------------------------------------------------------------

    def _run(self, command) -> None:
        before = snapshot(self.state)
        try:
            outcome = command()
        except Refused:
            assert snapshot(self.state) == before, "a refused command changed the state"
            return
        assert snapshot(self.state) == before, "a command changed its input state"
        self.state = outcome.state

    def _submit_step(self, step: str, data: st.DataObject | None, bias: int = 85, **answers):
        """Fetch what the step needs (as the shell does), draw answers, submit them."""
        state = fetch_for(self.state, step, {}) if MOTOR.step(step) else self.state
        self.state = state
        if data is not None:
            answers = data.draw(answers_for(step, state, bias))
        self._run(lambda: engine.submit_step(MOTOR, state, step, answers, NOW))

    @precondition(
        lambda self: engine.current_step(MOTOR, self.state, NOW) not in (None, CHECK_ANSWERS)
    )
    @rule(pages=st.integers(1, 4), data=st.data())
    def answer_the_next_pages(self, pages: int, data: st.DataObject) -> None:
        """The customer goes on through a few pages, stopping at a refusal or at the end."""
        for _ in range(pages):
            step = engine.current_step(MOTOR, self.state, NOW)
            if step in (None, CHECK_ANSWERS):
                return
            before = self.state.completed
            self._submit_step(step, data, 90)
            if self.state.completed == before:
                return

    @rule(step=st.sampled_from([*STEP_NAMES, CHECK_ANSWERS, "nope"]), data=st.data())
    def answer_any_step(self, step: str, data: st.DataObject) -> None:
        self._submit_step(step, data, 60)

    @precondition(lambda self: "incident" in self.state.completed)
    @rule(incident_type=st.sampled_from(PLAUSIBLE["incident_type"]), driveable=st.booleans())
    def change_the_incident_type(self, incident_type: str, driveable: bool) -> None:
        if incident_type == "theft":
            self._submit_step("incident", None, incident_type=incident_type)
        else:
            self._submit_step("incident", None, incident_type=incident_type, driveable=driveable)

    @rule(where=st.integers(0, 3), data=st.data())
    def save_a_draft(self, where: int, data: st.DataObject) -> None:
        """Mostly a draft of the current page; else of a page answered before, or of any."""
        current = engine.current_step(MOTOR, self.state, NOW)
        if where <= 1 and current in STEP_NAMES:
            step = current
        elif where == 2 and self.state.completed:
            step = data.draw(st.sampled_from(self.state.completed))
        else:
            step = data.draw(st.sampled_from(STEP_NAMES))
        answers = data.draw(answers_for(step, self.state, 40))
        self._run(lambda: engine.save_draft(MOTOR, self.state, step, answers, NOW))

    # Sending is tried once the claim is under way (most tries are still too early).
    @precondition(lambda self: len(self.state.completed) >= 2)
    @rule(declaration=st.sampled_from([True, True, False, None]))
    def send(self, declaration: bool | None) -> None:
        state = self.state
        applicable = {s.name for s in engine.applicable_steps(MOTOR, state, NOW)}
        ready = applicable <= set(state.completed)
        self._run(
            lambda: engine.submit(
                MOTOR, state, declaration=declaration, reference="CLM-PROP01", now=NOW
            )
        )
        if self.state.status == Status.SUBMITTED and state.status == Status.IN_PROGRESS:
            assert ready, "sent with an applicable step not completed"
            assert declaration is True

    # --- invariants -----------------------------------------------------------------------------
    # One invariant, so that the applicable steps are worked out once per command.

    @invariant()
    def holds_after_every_command(self) -> None:
        state = self.state
        applicable = engine.applicable_steps(MOTOR, state, NOW)
        names = [step.name for step in applicable]
        visible = {
            step.name: engine.visible_fields(MOTOR, state, step, state.answers, NOW)
            for step in applicable
        }

        # No answer to a question that is not asked: a step that does not apply, or a field
        # whose `when` is false.
        asked = {spec.name for fields in visible.values() for spec in fields}
        stray = set(state.answers) - asked
        assert not stray, f"answers kept for questions not asked: {sorted(stray)}"
        assert set(state.answer_sources) <= set(state.answers)
        assert all(not is_empty(value) for value in state.answers.values())

        # Completion and drafts only of applicable steps.
        assert set(state.completed) <= set(names)
        assert len(set(state.completed)) == len(state.completed)
        assert set(state.drafts) <= set(names)

        # The current step is the first open one.
        current = engine.current_step(MOTOR, state, NOW)
        if state.status == Status.IN_PROGRESS:
            open_steps = [name for name in names if name not in state.completed]
            assert current == (open_steps[0] if open_steps else CHECK_ANSWERS)
        else:
            assert current is None

        # A sent claim has every applicable step and every required answer.
        if state.status == Status.SUBMITTED:
            assert state.reference == "CLM-PROP01"
            assert state.drafts == {}
            assert set(names) <= set(state.completed)
            for fields in visible.values():
                for spec in fields:
                    assert not spec.required or spec.name in state.answers, spec.name

        self._check_normalised(state.answers)
        assert JourneyState.from_dict(json.loads(snapshot(state))) == state

    @staticmethod
    def _check_normalised(answers: dict[str, Any]) -> None:
        formats = {
            "incident_postcode": r"[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}",
            "other_registration": r"[A-Z0-9]+ [A-Z0-9]+",
            "sort_code": r"[0-9]{2}-[0-9]{2}-[0-9]{2}",
            "account_number": r"[0-9]{8}",
            "estimate_amount": r"[0-9]+\.[0-9]{2}",
            "incident_date": r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
        }
        for name, pattern in formats.items():
            if name in answers:
                assert re.fullmatch(pattern, answers[name]), (name, answers[name])
        if "incident_date" in answers:
            assert answers["incident_date"] <= NOW.date().isoformat()
        for name in ("driveable", "injuries"):
            if name in answers:
                assert isinstance(answers[name], bool)


MotorClaim.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestMotorClaim = MotorClaim.TestCase


# --- Normalisation is idempotent ----------------------------------------------------------------

FAST = settings(max_examples=200, deadline=None)
LETTERS = "ABCDEFGHIJKLMNOPRSTUWYZ"


def _normalises_once(spec: FieldSpec, raw: str) -> None:
    try:
        value = parse(spec, raw, [], {})
    except Invalid:
        return
    assert parse(spec, value, [], {}) == value


@FAST
@given(
    area=st.text(LETTERS, min_size=1, max_size=2),
    district=st.integers(0, 99).map(str),
    sector=st.integers(0, 9).map(str),
    unit=st.text("ABDEFGHJLNPQRSTUWXYZ", min_size=2, max_size=2),
    spaces=st.sampled_from(["", " ", "  "]),
    lower=st.booleans(),
)
def test_valid_postcodes_normalise_to_one_form(area, district, sector, unit, spaces, lower):
    raw = f"{area}{district}{spaces}{sector}{unit}"
    raw = raw.lower() if lower else raw
    value = parse(MOTOR.fields["incident_postcode"], raw, [], {})
    assert value == f"{area}{district} {sector}{unit}"
    _normalises_once(MOTOR.fields["incident_postcode"], value)


@FAST
@given(st.text(max_size=12))
def test_any_text_either_normalises_once_or_is_refused(raw):
    for name in ("incident_postcode", "other_registration", "sort_code", "account_number"):
        _normalises_once(MOTOR.fields[name], raw)


@FAST
@given(pounds=st.integers(0, 10**9), pence=st.integers(0, 99), commas=st.booleans())
def test_money_keeps_the_exact_amount(pounds, pence, commas):
    text = f"{pounds:,}" if commas else str(pounds)
    value = parse(MOTOR.fields["estimate_amount"], f"£{text}.{pence:02d}", [], {})
    assert value == f"{pounds}.{pence:02d}"


@FAST
@given(st.one_of(st.text(max_size=20), st.integers(), st.floats(), st.booleans(), st.none()))
def test_number_fields_never_raise_anything_but_invalid(raw):
    spec = MOTOR.fields["injured_count"]
    try:
        value = parse(spec, raw, [], {})
    except Invalid:
        return
    assert isinstance(value, int | float) and not isinstance(value, bool)


@pytest.mark.parametrize("name", sorted(MOTOR.fields))
def test_every_field_has_plausible_and_implausible_samples(name):
    spec = MOTOR.fields[name]
    assert PLAUSIBLE[name] and IMPLAUSIBLE[name]
    if spec.type not in (FieldType.FILE, FieldType.SINGLE_CHOICE):
        parse(spec, PLAUSIBLE[name][0], [], {})  # the first plausible sample really is valid
