"""Concurrency over a real server, and definition versions across a deployment.

Two clients submitting the same step at the same revision get one success and one 409 (issue 2,
"Done when"); a journey in flight keeps the definition version it started on.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import httpx
from journey_api import (
    DESCRIPTION,
    JOURNEYS_DIR,
    Api,
    event_types,
    field_of,
    incident,
    threaded_server,
)

from wayline.web.app import create_app

ROUNDS = 6


def _race(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run the calls at the same moment, each from its own thread."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait(timeout=10)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_same_step_same_revision_one_success_one_conflict(app) -> None:
    with (
        threaded_server(app) as base_url,
        httpx.Client(base_url=base_url, timeout=30) as first_http,
        httpx.Client(base_url=base_url, timeout=30) as second_http,
    ):
        # Two devices of the same customer, each with its own session.
        first, second = Api(first_http).sign_in("alex"), Api(second_http).sign_in("alex")
        for _ in range(ROUNDS):
            journey = first.step(first.start(), "policy", {"policy_number": "MTR-100001"})
            responses = _race(
                [
                    partial(first.post_step, journey["id"], "incident", incident("glass"), 2),
                    partial(second.post_step, journey["id"], "incident", incident("theft"), 2),
                ]
            )
            codes = sorted(r.status_code for r in responses)
            assert codes == [200, 409], [r.text for r in responses]
            winner = next(r for r in responses if r.status_code == 200).json()
            loser = next(r for r in responses if r.status_code == 409)
            assert loser.headers["content-type"].startswith("application/problem+json")

            # Exactly the winner's answers were kept, once.
            after = first.journey(journey["id"])
            assert after["revision"] == 3
            assert after["answers"] == winner["answers"]
            assert event_types(after) == [
                "journey.started",
                "step.completed",
                "step.completed",
            ]


def test_same_idempotency_key_at_once_starts_one_journey(app) -> None:
    with (
        threaded_server(app) as base_url,
        httpx.Client(base_url=base_url, timeout=30) as first_http,
        httpx.Client(base_url=base_url, timeout=30) as second_http,
    ):
        first, second = Api(first_http).sign_in("sam"), Api(second_http).sign_in("sam")
        for round_number in range(ROUNDS):
            key = {"Idempotency-Key": f"start-{round_number}"}
            responses = _race(
                [
                    partial(first.post_journey, headers=key),
                    partial(second.post_journey, headers=key),
                ]
            )
            assert [r.status_code for r in responses] == [201, 201], [r.text for r in responses]
            assert responses[0].json() == responses[1].json()
            assert sorted(r.headers.get("idempotent-replayed", "") for r in responses) == [
                "",
                "true",
            ]
        assert len(first.list()) == ROUNDS


def test_a_journey_keeps_its_definition_version(make_components, sign_in, tmp_path: Path) -> None:
    old_app = create_app(make_components())
    alex = sign_in("alex", app=old_app)
    in_flight = alex.step(alex.start(), "policy", {"policy_number": "MTR-100001"})
    old_version = in_flight["version"]

    # A new version is deployed: the incident step has a new title, and a description must now
    # be at least 40 characters.
    folder = tmp_path / "journeys-v2"
    shutil.copytree(JOURNEYS_DIR, folder)
    definition = folder / "motor-claim.yaml"
    text = definition.read_text()
    changes = [
        ("title: What happened?", "title: Tell us what happened"),
        (
            "value: 20\n            message: What happened must be 20 characters or more",
            "value: 40\n            message: What happened must be 40 characters or more",
        ),
    ]
    for before, after in changes:
        assert text.count(before) == 1, before
        text = text.replace(before, after)
    definition.write_text(text)
    new_app = create_app(make_components(journeys_dir=folder))
    alex = sign_in("alex", app=new_app)

    types = {t["type"]: t for t in alex.http.get("/api/v1/journey-types").json()}
    new_version = types["motor-claim"]["version"]
    assert new_version != old_version

    # The journey in flight is still on its version, with its questions and rules.
    journey = alex.journey(in_flight["id"])
    assert journey["version"] == old_version
    assert journey["current_step"]["title"] == "What happened?"
    short = "A stone chipped the windscreen."  # 31 characters: enough for the old version
    journey = alex.step(journey, "incident", incident("glass", description=short))
    assert journey["version"] == old_version
    photo = alex.upload(journey, "damage_photos")
    journey = alex.step(journey, "photos", {"damage_photos": [photo]})
    repairer = field_of(journey, "repairer_id")["options"][0]["value"]
    journey = alex.step(journey, "settlement", {"settlement": "repairer", "repairer_id": repairer})
    journey = alex.submit(journey)
    assert (journey["status"], journey["version"]) == ("submitted", old_version)

    # New journeys get the new version.
    fresh = alex.step(alex.start(), "policy", {"policy_number": "MTR-100001"})
    assert fresh["version"] == new_version
    assert fresh["current_step"]["title"] == "Tell us what happened"
    assert alex.refused(fresh, "incident", incident("glass", description=short)) == {
        "description": "What happened must be 40 characters or more"
    }
    assert alex.step(fresh, "incident", incident("glass", description=DESCRIPTION))
    versions = {j["id"]: j["version"] for j in alex.list()}
    assert versions == {journey["id"]: old_version, fresh["id"]: new_version}

    # The old deployment, still running beside the new one, reads the new journey too.
    assert sign_in("alex", app=old_app).journey(fresh["id"])["version"] == new_version
