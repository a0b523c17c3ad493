"""A partner call at a step that must finish before the customer goes on (`before_continuing`):
run in the request, its result in the answer to the step; with the partner down, the customer
is told it is still pending and the outbox finishes it later, under the same key, once.

The journey here is a small one written for the test, calling the notification provider (a
sandbox partner, over HTTP): the same path a card freeze takes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from reliability_kit import (
    JOURNEYS_DIR,
    NOTIFICATIONS,
    calm,
    customer_api,
    drain,
    effect_rows,
    set_faults,
)

from wayline.web.app import create_app

NOTE = """\
journey: note-taker
title: Leave us a note
who: signed_in
reference_prefix: NTE
steps:
  - name: note
    title: Your note
    fields:
      - name: note_text
        type: text
        label: Your note
        classification: personal
        required: Enter a note
  # An information step: no questions, only what the call's result says.
  - name: sent
    title: Your note
    content:
      - type: panel
        title: Note received
        text: "We have told our team (reference {journey.id})"
        when: effects.acknowledgement.status == "done"
      - type: warning
        text: We have not been able to tell our team yet. Check again in a minute.
        when: effects.acknowledgement.status != "done"
declaration:
  text: I confirm it
effects:
  - call: notification_provider.send_message
    name: acknowledgement
    at: step:note
    before_continuing: PT5S
    key: "'note-ack:' + journey.id"
    request:
      channel: "'email'"
      to: "'notes@example.com'"
      subject: "'A note arrived'"
      body: "'A customer left a note on ' + journey.id"
"""


DATABASES = [
    pytest.param("sqlite_url", id="sqlite"),
    pytest.param("postgres_url", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test on a SQLite file and on the real PostgreSQL."""
    return str(request.getfixturevalue(request.param))


@pytest.fixture
def journeys_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "journeys"
    shutil.copytree(JOURNEYS_DIR, folder)
    (folder / "note-taker.yaml").write_text(NOTE, encoding="utf-8")
    return folder


def messages(sandbox, journey_id: str) -> list[dict]:
    import httpx

    sent = httpx.get(f"{sandbox.urls()[NOTIFICATIONS]}/messages", timeout=5).json()
    return [m for m in sent if journey_id in m["body"]]


def test_a_step_call_is_done_before_the_customer_goes_on(
    sandbox, make_components, database_url, journeys_dir
):
    components = make_components(database_url, journeys_dir=journeys_dir)
    with customer_api(create_app(components)) as alex:
        journey = alex.start("note-taker")
        response = alex.post_step(journey["id"], "note", {"note_text": "Hello"}, 1)
        assert response.status_code == 200, response.text
        body = response.json()
        # Done in the request: the next page can say so, and its revision is the latest.
        assert body["effects"]["acknowledgement"]["status"] == "done"
        assert body["revision"] == alex.journey(journey["id"])["revision"]
        assert body["current_step"]["fields"] == []
        assert body["current_step"]["content"] == [
            {
                "type": "panel",
                "title": "Note received",
                "text": f"We have told our team (reference {journey['id']})",
            }
        ]
        page = alex.http.get(f"/journeys/{journey['id']}/steps/sent")
        assert page.status_code == 200
        assert "Note received" in page.text and "not been able" not in page.text
        # The information step is answered with nothing, and the journey goes on.
        informed = alex.post_step(journey["id"], "sent", {}, body["revision"])
        assert informed.status_code == 200, informed.text
        assert informed.json()["current_step"]["name"] == "check-answers"
        assert len(messages(sandbox, journey["id"])) == 1
        # The outbox still runs it (it was queued with the answers): nothing is sent again.
        worker = components.worker(max_attempts=3, base_delay=0.01)
        drain(worker, lambda: all(r["status"] == "done" for r in effect_rows(components.store)), 20)
        assert len(messages(sandbox, journey["id"])) == 1
        again = alex.journey(journey["id"])
        assert [e["type"] for e in again["events"]].count("effect.done") == 1


def test_a_partner_down_at_the_step_is_told_and_the_outbox_finishes_it_once(
    sandbox, make_components, database_url, journeys_dir
):
    components = make_components(database_url, journeys_dir=journeys_dir)
    set_faults(sandbox, NOTIFICATIONS, outage_seconds=3600)
    with customer_api(create_app(components)) as alex:
        journey = alex.start("note-taker")
        response = alex.post_step(journey["id"], "note", {"note_text": "Hello"}, 1)
        assert response.status_code == 200, response.text
        # The customer goes on, told it is not done yet ("check again" re-reads it).
        assert response.json()["effects"]["acknowledgement"]["status"] == "pending"
        assert alex.journey(journey["id"])["effects"]["acknowledgement"]["status"] == "pending"
        [warning] = response.json()["current_step"]["content"]
        assert warning["type"] == "warning" and "not been able" in warning["text"]
        page = alex.http.get(f"/journeys/{journey['id']}/steps/sent")
        assert "We have not been able to tell our team yet" in page.text
        calm(sandbox)
        worker = components.worker(max_attempts=5, base_delay=0.01)

        def acknowledged() -> bool:
            status = alex.journey(journey["id"])["effects"]["acknowledgement"]["status"]
            return bool(status == "done")

        drain(worker, acknowledged, 20)
        assert len(messages(sandbox, journey["id"])) == 1
        # "Check again": the same page, read again, now says it is done.
        assert "Note received" in alex.http.get(f"/journeys/{journey['id']}/steps/sent").text


def test_a_step_call_under_half_its_partner_s_calls_failing_takes_effect_once(
    sandbox, make_components, database_url, journeys_dir
):
    components = make_components(database_url, journeys_dir=journeys_dir)
    set_faults(sandbox, NOTIFICATIONS, error_rate=0.5)
    with customer_api(create_app(components)) as alex:
        started = [alex.start("note-taker") for _ in range(6)]
        for journey in started:
            response = alex.post_step(journey["id"], "note", {"note_text": "Hello"}, 1)
            assert response.status_code == 200, response.text
        worker = components.worker(max_attempts=8, base_delay=0.01)

        def all_done() -> bool:
            return all(
                alex.journey(j["id"])["effects"]["acknowledgement"]["status"] == "done"
                for j in started
            )

        drain(worker, all_done, 60)
        calm(sandbox)
        for journey in started:
            assert len(messages(sandbox, journey["id"])) == 1
