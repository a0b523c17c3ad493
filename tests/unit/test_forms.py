"""Between HTML forms and answers."""

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.datastructures import FormData, UploadFile

from wayline.journeys import engine
from wayline.journeys.engine import JourneyState
from wayline.journeys.values import Invalid, parse
from wayline.web.pages import forms


@pytest.fixture
def incident(motor):
    return motor.step("incident")


@pytest.fixture
def photos(motor):
    return motor.step("photos")


def test_a_date_in_three_inputs_becomes_iso(incident):
    form = FormData(
        [("incident_date-day", "7"), ("incident_date-month", "3"), ("incident_date-year", "2026")]
    )
    assert forms.answers_from_form(incident, form)["incident_date"] == "2026-03-07"


def test_a_partial_date_is_kept_as_typed_for_the_engine_to_explain(incident):
    form = FormData(
        [("incident_date-day", "7"), ("incident_date-month", "March"), ("incident_date-year", "26")]
    )
    assert forms.answers_from_form(incident, form)["incident_date"] == "26-March-7"


def test_an_empty_date_is_no_answer(incident):
    form = FormData(
        [("incident_date-day", ""), ("incident_date-month", ""), ("incident_date-year", "")]
    )
    assert forms.answers_from_form(incident, form)["incident_date"] is None


def test_yes_and_no_become_booleans_and_anything_else_is_passed_on(incident):
    def driveable(text):
        return forms.answers_from_form(incident, FormData([("driveable", text)]))["driveable"]

    assert driveable("yes") is True
    assert driveable("no") is False
    assert driveable("maybe") == "maybe"


def test_unknown_fields_are_a_tampered_form(incident):
    with pytest.raises(forms.TamperedForm, match="is_admin"):
        forms.check_keys(incident, FormData([("is_admin", "1"), ("csrf_token", "x")]))


def test_file_fields_carry_listed_ids_and_uploads_separately(photos):
    upload = UploadFile(file=io.BytesIO(b"\xff\xd8\xff"), filename="a.jpg")
    form = FormData([("damage_photos", "doc1"), ("damage_photos", ""), ("damage_photos", upload)])
    assert forms.answers_from_form(photos, form) == {"damage_photos": ["doc1"]}
    assert forms.uploads_from_form(photos, form) == {"damage_photos": [upload]}


def test_values_round_trip_to_inputs(incident):
    shown = forms.form_values(incident, {"incident_date": "2026-03-07", "driveable": True})
    assert shown["incident_date"] == {"day": "7", "month": "3", "year": "2026"}
    assert shown["driveable"] == "yes"
    assert shown["description"] == ""


# --- Any text in any field --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "month", "year", "kept"),
    [
        ("²", "3", "2026", "2026-3-²"),  # "²".isdigit() is true, but int("²") fails
        ("٧", "٣", "٢٠٢٦", "٢٠٢٦-٣-٧"),
        ("7", "3", "２０２６", "２０２６-3-7"),
        ("9" * 5000, "3", "2026", "2026-3-" + "9" * 5000),  # past int()'s 4,300-digit limit
        ("007", "3", "2026", "2026-3-007"),
        ("-1", "3", "2026", "2026-3--1"),
    ],
    ids=["superscript", "arabic-indic", "full-width-year", "5000-digits", "three-digits", "sign"],
)
def test_a_date_part_that_is_not_ascii_digits_is_kept_as_typed(incident, day, month, year, kept):
    """The engine then says the date is not real: the form never fails to read."""
    form = FormData(
        [("incident_date-day", day), ("incident_date-month", month), ("incident_date-year", year)]
    )
    assert forms.answers_from_form(incident, form)["incident_date"] == kept
    assert forms.form_from_raw(incident, form)["incident_date"] == {
        "day": day,
        "month": month,
        "year": year,
    }


@pytest.mark.parametrize(("raw", "revision"), [("0", 0), ("7", 7), (" 12 ", 12)])
def test_the_revision_is_read_as_ascii_digits(raw, revision):
    assert forms.revision(FormData([("revision", raw)])) == revision


@pytest.mark.parametrize(
    "raw",
    ["", "  ", "²", "٣", "-1", "1.0", "1e3", "0x1", "1" * 10, "9" * 5000, "NaN", "3\x00"],
    ids=lambda raw: repr(raw[:12]),
)
def test_a_revision_that_is_missing_or_not_a_number_is_a_tampered_form(raw):
    with pytest.raises(forms.TamperedForm, match="revision"):
        forms.revision(FormData([("revision", raw)]))


def test_a_form_without_a_revision_is_a_tampered_form():
    with pytest.raises(forms.TamperedForm, match="revision"):
        forms.revision(FormData([("csrf_token", "x")]))


# Any text at all, and text close to what the fields expect (digits, dates, amounts), so that
# a date of "²" with a real month and year is drawn as often as pure noise.
ANY_TEXT = (
    st.text(st.characters(exclude_categories=()), max_size=30)
    | st.from_regex(r"[0-9]{1,4}", fullmatch=True)
    | st.sampled_from(
        ["²", "٣", "３", "9" * 5000, "850,00", "1,234.50", "yes", "no", "\x00", "\u202e"]
        + ["3", "12", "2026", "14:30", "SW1A 1AA", "glass", "cash", "collision_vehicle"]
    )
)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_text_in_any_field_of_any_step_is_read_or_refused_as_tampering(motor, data):
    """Every key a step's form may carry (and one it may not), each with any text: reading it
    gives answers, or TamperedForm (400). Redisplaying what was typed never fails either."""
    step = data.draw(st.sampled_from(motor.steps))
    keys = sorted(forms.allowed_keys(step)) + ["not_a_field"]
    pairs = data.draw(st.lists(st.tuples(st.sampled_from(keys), ANY_TEXT), max_size=12))
    form = FormData(pairs)
    try:
        forms.check_keys(step, form)
        forms.revision(form)
    except forms.TamperedForm:
        pass
    answers = forms.answers_from_form(step, form)
    assert set(answers) <= {spec.name for spec in step.fields}
    forms.form_from_raw(step, form)
    forms.form_values(step, answers)


@pytest.fixture
def at_each_step(shell) -> dict[str, JourneyState]:
    """Alex's journey as it stands when each step of the motor claim is the one to answer
    (states are immutable: one set serves every example)."""
    glass = shell.through_incident("alex", "glass")
    uploaded = shell.upload(glass, "damage_photos", "p1")
    photos = shell.submit_step(uploaded, "photos", {"damage_photos": ["p1"]})
    settlement = shell.upload(photos, "estimate_document", "e1")
    collision = shell.through_incident("alex", "collision_vehicle")
    other_vehicle = {**shell.other_vehicle, "injuries": True}
    injured = shell.submit_step(collision, "other-vehicle", other_vehicle)
    cash = {"settlement": "cash", "estimate_amount": "850", "estimate_document": ["e1"]}
    return {
        "incident": shell.submit_step(
            shell.start("alex"), "policy", {"policy_number": shell.active_policy["alex"]}
        ),
        "other-vehicle": collision,
        "injuries": injured,
        "police": shell.through_incident("alex", "vandalism"),
        "photos": glass,
        "settlement": settlement,
        "payment-details": shell.submit_step(settlement, "settlement", cash),
    }


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_text_posted_to_any_step_is_kept_as_a_draft_or_answered_or_refused(
    motor, shell, at_each_step, data
):
    """From the form to the engine: a step posted with any text in any of its fields is saved
    as a draft, and submitted is either kept or refused with messages (never another
    exception); the saved state survives JSON and shows again in the form."""
    step_name = data.draw(st.sampled_from(sorted(at_each_step)))
    state, step = at_each_step[step_name], motor.step(step_name)
    pairs = data.draw(
        st.lists(st.tuples(st.sampled_from(sorted(forms.allowed_keys(step))), ANY_TEXT))
    )
    answers = forms.answers_from_form(step, FormData(pairs))
    drafted = engine.save_draft(motor, state, step_name, answers, shell.now).state
    JourneyState.from_dict(json.loads(json.dumps(drafted.to_dict(), allow_nan=False)))
    forms.form_values(step, engine.step_values(motor, drafted, step))
    try:
        kept = shell.submit_step(state, step_name, answers)
    except engine.Refused as refusal:
        assert all(error.message for error in getattr(refusal, "errors", []))
        return
    JourneyState.from_dict(json.loads(json.dumps(kept.to_dict(), allow_nan=False)))


DATE_PART = (
    st.sampled_from(["", "7", "07", "3", "12", "2026", "²", "٣", "３", "9" * 5000]) | ANY_TEXT
)


@settings(max_examples=500, deadline=None)
@given(day=DATE_PART, month=DATE_PART, year=DATE_PART)
def test_any_three_date_parts_make_a_date_or_a_refusal(motor, day, month, year):
    """The three inputs of a date, whatever is typed in each: the form gives the engine a
    text, which is a real date or is refused with the question's message."""
    form = FormData(
        [("incident_date-day", day), ("incident_date-month", month), ("incident_date-year", year)]
    )
    incident = motor.step("incident")
    typed = forms.answers_from_form(incident, form)["incident_date"]
    if typed is None:
        return
    spec = motor.fields["incident_date"]
    try:
        assert parse(spec, typed, [], {}) == typed
    except Invalid as refusal:
        assert str(refusal) == "Date of the incident must be a real date"


@pytest.mark.parametrize(
    ("kept", "checked"),
    [(True, "yes"), (False, "no"), (None, ""), ("maybe", "maybe"), (["yes"], ["yes"])],
)
def test_a_yes_no_answer_or_draft_of_any_form_checks_a_radio_or_none(incident, kept, checked):
    """A draft keeps what was sent (a list, even): redisplaying it never fails."""
    assert forms.form_values(incident, {"driveable": kept})["driveable"] == checked
