"""Any text in any form field gets the step again with its error, or a 400: never a 500, and
nothing changes (issue 8, "Form input"). The pages are posted to as a browser without
JavaScript posts them, over the real app on SQLite and PostgreSQL; the journey is read back
through the API after each refusal."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest
from journey_api import (
    ACTIVE_POLICY,
    CSRF_HEADER,
    DESCRIPTION,
    OTHER_VEHICLE,
    Api,
    days_from_today,
    incident,
    pdf_bytes,
    through_incident,
)

COMMA_FOR_PENCE = "Use a full stop, not a comma, before the decimals, like 850.00 or 1,234.50"
NOT_AN_AMOUNT = "Repair estimate must be an amount of money, like 850 or 850.50"
NOT_A_COUNT = "How many people were injured must be a whole number, like 2"
TOO_LONG = "Enter a number with 15 digits or fewer before the decimal point"
NOT_A_DATE = "Date of the incident must be a real date"
NOT_A_TIME = "Enter the time in hours and minutes, like 14:30"


class Pages:
    """One signed-in customer posting the journey's HTML forms, as a browser would."""

    def __init__(self, api: Api):
        self.api = api
        self.http = api.http

    def post(self, path: str, fields: dict[str, Any], revision: Any) -> httpx.Response:
        data = {"csrf_token": self.http.headers[CSRF_HEADER], **fields}
        if revision is not None:
            data["revision"] = str(revision)
        return self.http.post(path, data=data, follow_redirects=False)

    def step(self, journey: dict[str, Any], step: str, fields: dict[str, Any]) -> httpx.Response:
        return self.post(f"/journeys/{journey['id']}/steps/{step}", fields, journey["revision"])


def errors_shown(response: httpx.Response) -> dict[str, str]:
    """The step again, with its errors: {field: message} beside the fields, which the error
    summary at the top repeats, each linking to its field."""
    assert response.status_code == 200, f"{response.status_code} {response.text[:300]}"
    page = response.text
    assert "<title>Error: " in page
    beside = {
        name: html.unescape(message).strip()
        for name, message in re.findall(
            r'<p id="([a-z_]+)-error" class="error-message">'
            r'<span class="visually-hidden">Error:</span>(.*?)</p>',
            page,
            re.S,
        )
    }
    summary = re.search(r"<ul class=\"error-summary-list\">(.*?)</ul>", page, re.S)
    assert summary, "the page has no error summary"
    linked = [
        (target, html.unescape(message).strip())
        for target, message in re.findall(r'<a href="#([a-z_-]+)">(.*?)</a>', summary.group(1))
    ]
    assert [message for _, message in linked] == list(beside.values())
    assert all(target.startswith(name) for (target, _), name in zip(linked, beside, strict=True))
    return beside


def snapshot(api: Api, journey_id: str) -> dict[str, Any]:
    journey = api.journey(journey_id)
    return {k: journey[k] for k in ("revision", "status", "answers", "drafts", "steps")}


@pytest.fixture
def pages(alex: Api) -> Pages:
    return Pages(alex)


# --- money ------------------------------------------------------------------------------------


@pytest.fixture
def at_settlement(alex: Api) -> dict[str, Any]:
    journey = through_incident(alex, "glass")
    photo = alex.upload(journey, "damage_photos")
    return alex.step(journey, "photos", {"damage_photos": [photo]})


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("850,00", COMMA_FOR_PENCE),  # was kept as £85,000.00
        ("1,23,4", NOT_AN_AMOUNT),
        ("٨٥٠", NOT_AN_AMOUNT),
        ("²", NOT_AN_AMOUNT),
        ("9" * 5000, "Enter an amount with 15 digits or fewer before the decimal point"),
        ("850\x00", "Remove the control character at character 4: answers cannot contain them"),
    ],
    ids=["decimal-comma", "misgrouped", "arabic-indic", "superscript", "5000-digits", "nul"],
)
def test_an_amount_not_written_in_pounds_gets_the_step_again(
    alex: Api, pages: Pages, at_settlement: dict[str, Any], typed: str, message: str
):
    estimate = alex.upload(at_settlement, "estimate_document", pdf_bytes(), "estimate.pdf")
    before = snapshot(alex, at_settlement["id"])
    fields = {"settlement": "cash", "estimate_amount": typed, "estimate_document": estimate}
    response = pages.step(at_settlement, "settlement", fields)
    assert errors_shown(response) == {"estimate_amount": message}
    assert snapshot(alex, at_settlement["id"]) == before


@pytest.mark.parametrize("typed", ["£1,234.50", "1 234.50", "1\u00a0234.50", "1234.5"])
def test_an_amount_written_as_people_write_pounds_is_kept_exactly(
    alex: Api, pages: Pages, at_settlement: dict[str, Any], typed: str
):
    estimate = alex.upload(at_settlement, "estimate_document", pdf_bytes(), "estimate.pdf")
    fields = {"settlement": "cash", "estimate_amount": typed, "estimate_document": estimate}
    response = pages.step(at_settlement, "settlement", fields)
    assert response.status_code == 303, response.text[:300]
    assert alex.journey(at_settlement["id"])["answers"]["estimate_amount"] == "1234.50"


# --- numbers, dates and times -------------------------------------------------------------------


@pytest.fixture
def at_injuries(alex: Api) -> dict[str, Any]:
    journey = through_incident(alex, "collision_vehicle")
    return alex.step(journey, "other-vehicle", {**OTHER_VEHICLE, "injuries": True})


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("²", NOT_A_COUNT),  # "²".isdigit() is true; int("²") raises
        ("٣", NOT_A_COUNT),  # Decimal("٣") is 3
        ("9" * 5000, TOO_LONG),  # past int()'s 4,300-digit limit
        ("2,5", "Use a full stop, not a comma, before the decimals, like 2.5 or 1,250.5"),
    ],
    ids=["superscript", "arabic-indic", "5000-digits", "decimal-comma"],
)
def test_a_number_in_another_script_or_of_thousands_of_digits_gets_the_step_again(
    alex: Api, pages: Pages, at_injuries: dict[str, Any], typed: str, message: str
):
    before = snapshot(alex, at_injuries["id"])
    fields = {"injured_count": typed, "injury_description": "Whiplash, seen by a doctor."}
    assert errors_shown(pages.step(at_injuries, "injuries", fields)) == {"injured_count": message}
    assert snapshot(alex, at_injuries["id"]) == before


@pytest.fixture
def at_incident(alex: Api) -> dict[str, Any]:
    journey = alex.start()
    return alex.step(journey, "policy", {"policy_number": ACTIVE_POLICY["alex"]})


def incident_form(**overrides: str) -> dict[str, str]:
    day = days_from_today(-3)
    form = {
        "incident_date-day": day[8:],
        "incident_date-month": day[5:7],
        "incident_date-year": day[:4],
        "incident_time": "14:30",
        "incident_type": "glass",
        "incident_postcode": "SW1A 1AA",
        "description": DESCRIPTION,
        "driveable": "yes",
    }
    form.update(overrides)
    return form


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"incident_date-day": "²"}, {"incident_date": NOT_A_DATE}),
        ({"incident_date-month": "٣"}, {"incident_date": NOT_A_DATE}),
        ({"incident_date-year": "9" * 5000}, {"incident_date": NOT_A_DATE}),
        ({"incident_time": "１４:３０"}, {"incident_time": NOT_A_TIME}),
        (
            {"description": "A stone hit the\x1b windscreen on the motorway."},
            {
                "description": "Remove the control character at character 16: answers cannot "
                "contain them"
            },
        ),
        (
            {"description": "A stone hit the \u202ewindscreen on the motorway."},
            {
                "description": "Remove the character that changes the direction of text, at "
                "character 17"
            },
        ),
        (
            {"incident_postcode": "SW1A\u20661AA"},
            {
                "incident_postcode": "Remove the character that changes the direction of text, "
                "at character 5"
            },
        ),
    ],
    ids=[
        "day-superscript",
        "month-arabic-indic",
        "year-5000-digits",
        "full-width-time",
        "escape-in-long-text",
        "override-in-long-text",
        "isolate-in-postcode",
    ],
)
def test_odd_text_in_the_incident_step_gets_the_step_again(
    alex: Api, pages: Pages, at_incident: dict[str, Any], overrides, errors
):
    before = snapshot(alex, at_incident["id"])
    response = pages.step(at_incident, "incident", incident_form(**overrides))
    assert errors_shown(response) == errors
    assert snapshot(alex, at_incident["id"]) == before


def test_a_textarea_keeps_its_lines_and_tabs(alex: Api, pages: Pages, at_incident: dict):
    """Browsers send a textarea's lines as CR LF: they are kept, as LF."""
    description = "A stone hit the windscreen.\r\nIt cracked.\tRight across."
    response = pages.step(at_incident, "incident", incident_form(description=description))
    assert response.status_code == 303, response.text[:300]
    assert alex.journey(at_incident["id"])["answers"]["description"] == (
        "A stone hit the windscreen.\nIt cracked.\tRight across."
    )


def test_odd_text_saved_as_a_draft_is_kept_and_the_journey_still_reads(
    alex: Api, pages: Pages, at_incident: dict[str, Any]
):
    """Save and come back later keeps what was typed, however odd; the step page and the
    API still show it, and continuing then explains what is wrong."""
    odd = incident_form(**{"incident_date-day": "²", "description": "Bad\x00text"})
    saved = pages.step(at_incident, "incident", {**odd, "action": "save"})
    assert saved.status_code == 303, saved.text[:300]
    journey = alex.journey(at_incident["id"])
    assert journey["revision"] == at_incident["revision"] + 1
    page = alex.http.get(f"/journeys/{journey['id']}/steps/incident")
    assert page.status_code == 200
    assert 'value="²"' in page.text
    errors = errors_shown(pages.step(journey, "incident", {}))
    assert errors == {
        "incident_date": NOT_A_DATE,
        "description": "Remove the control character at character 4: answers cannot contain them",
    }


# --- the revision -----------------------------------------------------------------------------


@pytest.mark.parametrize("revision", [None, "", "²", "٣", "9" * 5000, "-1", "1.0"], ids=repr)
def test_a_form_whose_revision_is_not_a_number_is_refused_and_changes_nothing(
    alex: Api, pages: Pages, at_incident: dict[str, Any], revision
):
    """Every page form carries the revision it was shown at: one that is missing or is not a
    number was not made by the page (400), for a step, an autosave and sending."""
    before = snapshot(alex, at_incident["id"])
    base = f"/journeys/{at_incident['id']}"
    step = pages.post(f"{base}/steps/incident", incident_form(), revision)
    assert step.status_code == 400, step.text[:300]
    assert "revision" in html.unescape(step.text)
    draft = pages.post(f"{base}/steps/incident/draft", incident_form(), revision)
    assert draft.status_code == 400, draft.text[:300]
    assert draft.headers["content-type"].startswith("application/problem+json")
    send = pages.post(f"{base}/check-answers", {"declaration": "yes"}, revision)
    assert send.status_code == 400, send.text[:300]
    assert snapshot(alex, at_incident["id"]) == before


def test_a_revision_far_ahead_is_stale_not_an_error(
    alex: Api, pages: Pages, at_incident: dict[str, Any]
):
    response = pages.post(
        f"/journeys/{at_incident['id']}/steps/incident", incident_form(), 999_999_999
    )
    assert response.status_code == 200
    assert "Your answers were changed in another window" in response.text
    assert alex.journey(at_incident["id"])["revision"] == at_incident["revision"]


def test_the_api_gets_the_same_messages(alex: Api, at_incident: dict[str, Any]):
    """Pages and the API share one parser: 422 with the field's message, nothing changed."""
    errors = alex.refused(
        at_incident,
        "incident",
        incident(description="Reversing \u202ethe car into a post at the shops."),
    )
    assert errors == {
        "description": "Remove the character that changes the direction of text, at character 11"
    }
