"""A repeating group's pages without JavaScript (plain form posts, POST-redirect-GET), on
SQLite and PostgreSQL, with the tests' own journey (tests/definitions/household.yaml): the add
page while the group is empty, errors with a summary, the summary page with Change and Remove,
"add another", the removal's confirmation, going on, and the items' rows on check-answers."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from journey_api import CSRF_HEADER, Api

from wayline.web.app import create_app

DEFINITION = Path(__file__).resolve().parents[1] / "definitions" / "household.yaml"


@pytest.fixture
def household(tmp_path: Path, make_components: Any, sign_in: Any) -> tuple[Api, Api]:
    journeys = tmp_path / "group-journeys"
    journeys.mkdir()
    shutil.copy(DEFINITION, journeys / "household.yaml")
    app = create_app(make_components(journeys_dir=journeys))
    return sign_in("alex", app=app), sign_in("jordan", app=app)


def text_of(page: Any) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text)))


def post(api: Api, url: str, fields: dict[str, str], journey_id: str) -> Any:
    revision = api.journey(journey_id)["revision"]
    data = {"csrf_token": api.http.headers[CSRF_HEADER], "revision": str(revision), **fields}
    return api.http.post(url, data=data, follow_redirects=False)


def name(first: str, last: str = "Jones") -> dict[str, str]:
    return {
        "previous_first_name": first,
        "previous_last_name": last,
        "used_until-day": "1",
        "used_until-month": "3",
        "used_until-year": "2020",
    }


def test_names_are_added_changed_and_removed_on_their_own_pages(household):
    alex, jordan = household
    journey = alex.start("household")
    journey = alex.step(
        journey,
        "about-you",
        {"moved_in": "2020-01-01", "known_by_other_name": True, "unrecognised": []},
    )
    jid = journey["id"]
    step = f"/journeys/{jid}/steps/previous-names"

    # while the group is empty, its page is the add page, back to the step before
    empty = alex.http.get(step)
    assert empty.status_code == 200
    assert '<h1 class="heading-l">Add a previous name</h1>' in empty.text
    assert f'action="{step}/items/new"' in empty.text
    assert f'href="/journeys/{jid}/steps/about-you"' in empty.text
    assert 'value="None"' not in empty.text  # empty boxes, not the word

    refused = post(alex, f"{step}/items/new", name("Sam", last=""), jid)
    assert refused.status_code == 200
    assert "There is a problem" in refused.text
    assert '<a href="#previous_last_name">Enter the last name you used</a>' in refused.text
    assert 'value="Sam"' in refused.text  # what was typed stays

    added = post(alex, f"{step}/items/new", name("Sam"), jid)
    assert (added.status_code, added.headers["location"]) == (303, step)
    summary = text_of(alex.http.get(step))
    assert "You have added 1 name" in summary
    assert "Sam Jones Change Sam Jones Remove Sam Jones" in summary

    unanswered = post(alex, step, {}, jid)
    assert unanswered.status_code == 200
    assert '<a href="#add_another">Select yes if you need to add another</a>' in unanswered.text

    another = post(alex, step, {"add_another": "yes"}, jid)
    assert (another.status_code, another.headers["location"]) == (303, f"{step}/items/new")
    post(alex, f"{step}/items/new", name("Kim"), jid)
    change_page = alex.http.get(f"{step}/items/2")
    assert 'value="Kim"' in change_page.text
    assert f'href="{step}"' in change_page.text  # back to the summary
    changed = post(alex, f"{step}/items/2", {**name("Kim", last="Lee")}, jid)
    assert changed.status_code == 303
    assert "Kim Lee" in text_of(alex.http.get(step))

    confirm = alex.http.get(f"{step}/items/2/remove")
    assert "Are you sure you want to remove Kim Lee?" in text_of(confirm)
    unsure = post(alex, f"{step}/items/2/remove", {}, jid)
    assert '<a href="#confirm">Select yes if you want to remove Kim Lee</a>' in unsure.text
    post(alex, f"{step}/items/2/remove", {"confirm": "no"}, jid)
    assert len(alex.journey(jid)["answers"]["previous_names"]) == 2
    post(alex, f"{step}/items/2/remove", {"confirm": "yes"}, jid)
    assert [n["previous_first_name"] for n in alex.journey(jid)["answers"]["previous_names"]] == [
        "Sam"
    ]

    # someone else's journey does not exist for them
    assert jordan.http.get(f"{step}/items/new").status_code == 404
    assert jordan.http.get(step).status_code == 404

    done = post(alex, step, {"add_another": "no"}, jid)
    assert (done.status_code, done.headers["location"]) == (
        303,
        f"/journeys/{jid}/check-answers",
    )
    check = alex.http.get(f"/journeys/{jid}/check-answers")
    assert "Sam Jones" in text_of(check)
    assert "Last name: Jones" in text_of(check)
    assert f'href="{step}/items/1?change=1"' in check.text
    status = text_of(alex.http.get(f"/journeys/{jid}/status"))
    assert "You added to ‘Your previous names’" in status
    assert "You removed something from ‘Your previous names’" in status


def test_going_on_with_too_few_items_says_so_on_the_summary(household):
    alex, _ = household
    journey = alex.start("household")
    journey = alex.step(
        journey, "about-you", {"moved_in": "2025-01-01", "known_by_other_name": False}
    )
    jid = journey["id"]
    step = f"/journeys/{jid}/steps/previous-addresses"
    address = {
        "in_uk": "yes",
        "address_line": "1 High St",
        "postcode": "BA1 1SU",
        "country": "",
        "lived_from-day": "1",
        "lived_from-month": "6",
        "lived_from-year": "2024",
    }
    assert post(alex, f"{step}/items/new", address, jid).status_code == 303
    refused = post(alex, step, {"add_another": "no"}, jid)
    assert refused.status_code == 200
    assert "Add addresses until they cover the last 3 years" in refused.text
    assert 'href="#add_another"' in refused.text
