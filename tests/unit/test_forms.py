"""Between HTML forms and answers."""

import io

import pytest
from starlette.datastructures import FormData, UploadFile

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
