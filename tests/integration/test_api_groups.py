"""Repeating groups over the JSON API, on SQLite and PostgreSQL, with a journey of the tests'
own (tests/definitions/household.yaml): add, change and remove items with the revision and
an Idempotency-Key, the summary, going on from it with its bounds and rules across items,
problem+json for every refusal with nothing written, one row in `answers` for the group with
its classification, and another customer told the journey does not exist."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from journey_api import PROBLEM, Api
from sqlalchemy import select

from wayline.store import answers as answer_rows
from wayline.store import tables
from wayline.web.app import create_app

DEFINITION = Path(__file__).resolve().parents[1] / "definitions" / "household.yaml"
NAME = {"previous_first_name": "Sam", "previous_last_name": "Jones", "used_until": "2020-03-01"}
UK = {"in_uk": True, "address_line": "1 High St", "postcode": "ba1 1su", "lived_from": "2024-06-01"}
ABROAD = {"in_uk": False, "address_line": "1 Rue", "country": "France", "lived_from": "2021-06-01"}


@pytest.fixture
def household(tmp_path: Path, make_components: Any, sign_in: Any) -> tuple[Any, Api, Api]:
    """An app serving only the household journey; Alex and Jordan signed in to it."""
    journeys = tmp_path / "group-journeys"
    journeys.mkdir()
    shutil.copy(DEFINITION, journeys / "household.yaml")
    components = make_components(journeys_dir=journeys)
    app = create_app(components)
    return components, sign_in("alex", app=app), sign_in("jordan", app=app)


def items_url(journey: dict[str, Any], step: str) -> str:
    return f"/api/v1/journeys/{journey['id']}/steps/{step}/items"


def started(api: Api, **about: Any) -> dict[str, Any]:
    journey = api.start("household")
    answers = {"moved_in": "2025-01-01", "known_by_other_name": True, **about}
    return api.step(journey, "about-you", answers)


def add(api: Api, journey: dict[str, Any], step: str, item: dict[str, Any], **kw: Any) -> Any:
    body = {"answers": item, "revision": journey["revision"]}
    return api.http.post(items_url(journey, step), json=body, **kw)


def added(api: Api, journey: dict[str, Any], step: str, item: dict[str, Any]) -> dict[str, Any]:
    response = add(api, journey, step, item)
    assert response.status_code == 200, response.text
    return response.json()


def assert_refused_unchanged(api: Api, journey: dict[str, Any], response: Any, status: int):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    after = api.journey(journey["id"])
    assert (after["revision"], after["answers"]) == (journey["revision"], journey["answers"])


def test_items_are_added_changed_removed_and_summarised(household):
    _, alex, _ = household
    journey = started(alex)
    assert journey["current_step"]["name"] == "previous-names"
    assert journey["current_step"]["group"]["title"] == "You have added 0 names"
    journey = added(alex, journey, "previous-names", NAME)
    journey = added(alex, journey, "previous-names", {**NAME, "previous_first_name": "Kim"})
    assert journey["answers"]["previous_names"][1]["previous_first_name"] == "Kim"

    summary = alex.http.get(items_url(journey, "previous-names")).json()
    assert summary["revision"] == journey["revision"]
    assert summary["title"] == "You have added 2 names"
    assert [(i["number"], i["label"], i["complete"]) for i in summary["items"]] == [
        (1, "Sam Jones", True),
        (2, "Kim Jones", True),
    ]
    assert (summary["min"], summary["max"], summary["can_add"]) == (1, 3, True)

    body = {"answers": {"previous_last_name": "Smith"}, "revision": journey["revision"]}
    changed = alex.http.put(items_url(journey, "previous-names") + "/1", json=body)
    assert changed.status_code == 200, changed.text
    journey = changed.json()
    assert journey["answers"]["previous_names"][0] == {**NAME, "previous_last_name": "Smith"}

    removed = alex.http.post(
        items_url(journey, "previous-names") + "/2/remove", json={"revision": journey["revision"]}
    )
    assert removed.status_code == 200, removed.text
    journey = removed.json()
    assert [i["previous_first_name"] for i in journey["answers"]["previous_names"]] == ["Sam"]

    journey = alex.step(journey, "previous-names", {})
    assert journey["current_step"]["name"] == "previous-addresses"
    events = [e["type"] for e in alex.journey(journey["id"])["events"]]
    assert events.count("item.added") == 2
    assert ("item.changed" in events, "item.removed" in events) == (True, True)


def test_an_invalid_item_and_a_full_group_are_refused_with_nothing_written(household):
    _, alex, _ = household
    journey = started(alex)
    response = add(alex, journey, "previous-names", {"used_until": "31/02/2020"})
    assert_refused_unchanged(alex, journey, response, 422)
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert errors["previous_last_name"] == "Enter the last name you used"
    assert "used_until" in errors
    for _ in range(3):
        journey = added(alex, journey, "previous-names", NAME)
    response = add(alex, journey, "previous-names", NAME)
    assert_refused_unchanged(alex, journey, response, 422)
    assert response.json()["errors"] == [
        {"field": "previous_names", "message": "You can add up to 3 previous names"}
    ]


def test_the_summary_goes_on_only_when_the_items_pass_together(household):
    _, alex, _ = household
    journey = started(alex, known_by_other_name=False)
    assert alex.refused(journey, "previous-addresses", {}) == {
        "previous_addresses": "Add the address you lived at before"
    }
    journey = added(alex, journey, "previous-addresses", UK)
    assert alex.refused(journey, "previous-addresses", {}) == {
        "previous_addresses": "Add addresses until they cover the last 3 years"
    }
    journey = added(alex, journey, "previous-addresses", ABROAD)
    journey = alex.step(journey, "previous-addresses", {})
    assert journey["current_step"]["name"] == "check-answers"
    sent = alex.submit(journey)
    assert sent["status"] == "submitted"


def test_a_stale_revision_and_a_missing_item_are_refused(household):
    _, alex, _ = household
    journey = added(alex, started(alex), "previous-names", NAME)
    stale = {"answers": NAME, "revision": journey["revision"] - 1}
    response = alex.http.post(items_url(journey, "previous-names"), json=stale)
    assert_refused_unchanged(alex, journey, response, 409)
    body = {"answers": {}, "revision": journey["revision"]}
    response = alex.http.put(items_url(journey, "previous-names") + "/5", json=body)
    assert_refused_unchanged(alex, journey, response, 404)
    response = alex.http.put(items_url(journey, "previous-names") + "/0", json=body)
    assert_refused_unchanged(alex, journey, response, 422)
    response = alex.http.post(items_url(journey, "about-you"), json=body)
    assert_refused_unchanged(alex, journey, response, 409)
    assert alex.http.get(items_url(journey, "about-you")).status_code == 409  # not a group
    assert alex.http.get(items_url(journey, "no-such-step")).status_code == 404


def test_an_idempotency_key_adds_an_item_once(household):
    _, alex, _ = household
    journey = started(alex)
    headers = {"Idempotency-Key": "add-sam-once"}
    first = add(alex, journey, "previous-names", NAME, headers=headers)
    again = add(alex, journey, "previous-names", NAME, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(alex.journey(journey["id"])["answers"]["previous_names"]) == 1


def test_another_customer_is_told_the_journey_does_not_exist(household):
    _, alex, jordan = household
    journey = added(alex, started(alex), "previous-names", NAME)
    body = {"answers": NAME, "revision": journey["revision"]}
    assert jordan.http.get(items_url(journey, "previous-names")).status_code == 404
    assert jordan.http.post(items_url(journey, "previous-names"), json=body).status_code == 404
    assert (
        jordan.http.put(items_url(journey, "previous-names") + "/1", json=body).status_code == 404
    )
    removed = jordan.http.post(
        items_url(journey, "previous-names") + "/1/remove", json={"revision": journey["revision"]}
    )
    assert removed.status_code == 404
    assert alex.journey(journey["id"])["revision"] == journey["revision"]


def test_a_change_without_the_csrf_header_is_refused(household):
    _, alex, _ = household
    journey = started(alex)
    del alex.http.headers["X-CSRF-Token"]
    response = add(alex, journey, "previous-names", NAME)
    assert response.status_code == 403
    assert "previous_names" not in alex.journey(journey["id"])["answers"]


def test_items_from_a_selection_are_changed_in_place(household):
    components, alex, _ = household
    journey = started(
        alex, known_by_other_name=False, moved_in="2020-01-01", unrecognised=["card-249", "card-12"]
    )
    summary = journey["current_step"]["group"]
    assert [(i["label"], i["complete"]) for i in summary["items"]] == [
        ("£249.99 to AMZN Mktp UK", False),
        ("£12.00 to TfL Travel", False),
    ]
    assert (summary["can_add"], summary["can_remove"]) == (False, False)
    response = alex.post_step(journey["id"], "about-payments", {}, journey["revision"])
    assert_refused_unchanged(alex, journey, response, 422)
    assert [e["message"] for e in response.json()["errors"]] == [
        "£249.99 to AMZN Mktp UK: Select if you know who made this payment",
        "£12.00 to TfL Travel: Select if you know who made this payment",
    ]
    for number in (1, 2):
        body = {"answers": {"who_made_it": "unknown"}, "revision": journey["revision"]}
        response = alex.http.put(items_url(journey, "about-payments") + f"/{number}", json=body)
        assert response.status_code == 200, response.text
        journey = response.json()
    response = add(alex, journey, "about-payments", {"who_made_it": "known"})
    assert_refused_unchanged(alex, journey, response, 409)
    journey = alex.step(journey, "about-payments", {})
    assert journey["current_step"]["name"] == "check-answers"
    # the group is one row of answers, as sensitive as its most sensitive field
    answers = tables.answers.c
    with components.store.read() as connection:
        rows = connection.execute(
            select(answers.field, answers.step, answers.classification, answers.value).where(
                answers.journey_id == journey["id"]
            )
        ).all()
    kept = {row.field: row for row in rows}
    assert (kept["disputed_payments"].step, kept["disputed_payments"].classification) == (
        "about-payments",
        "sensitive",
    )
    # sealed at rest (docs/data-protection.md), and opened as it was given
    assert set(kept["disputed_payments"].value) == {"$sealed"}
    with components.store.read() as connection:
        opened = answer_rows.values_of(connection, journey["id"])
    assert opened["disputed_payments"] == journey["answers"]["disputed_payments"]


def test_a_group_that_asks_for_a_step_up_asks_it_of_each_change(
    tmp_path: Path, make_components: Any, sign_in: Any
):
    journeys = tmp_path / "step-up-journeys"
    journeys.mkdir()
    text = DEFINITION.read_text(encoding="utf-8").replace(
        "    title: Your previous names\n",
        "    title: Your previous names\n    step_up: {level: 2, within: PT5M}\n",
    )
    (journeys / "household.yaml").write_text(text, encoding="utf-8")
    alex = sign_in("alex", app=create_app(make_components(journeys_dir=journeys)))
    journey = started(alex)
    response = add(alex, journey, "previous-names", NAME)
    assert_refused_unchanged(alex, journey, response, 401)
    assert 'error="insufficient_user_authentication"' in response.headers["WWW-Authenticate"]
    alex.sign_in("alex", method="one_time_code")
    journey = added(alex, journey, "previous-names", NAME)
    assert len(journey["answers"]["previous_names"]) == 1
