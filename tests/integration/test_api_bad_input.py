"""Bad input gets a clear 4xx as problem+json and changes nothing; never a 500 (issue 2,
"Bad input"). Also idempotent retries, and the upload checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from journey_api import (
    PROBLEM,
    Api,
    elf_bytes,
    event_types,
    incident,
    jpeg_bytes,
    pdf_bytes,
    png_bytes,
    through_incident,
)
from sqlalchemy import select

from wayline.bootstrap import Components
from wayline.store import tables
from wayline.web.app import create_app

MIB = 1024 * 1024


def snapshot(api: Api, journey_id: str) -> dict[str, Any]:
    journey = api.journey(journey_id)
    return {k: journey[k] for k in ("revision", "status", "answers", "drafts", "events")}


def assert_problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, f"{response.status_code} {response.text[:500]}"
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


@pytest.fixture
def journey(alex: Api) -> dict[str, Any]:
    """Alex's journey at the photos step, with a draft saved there."""
    journey = through_incident(alex, "glass")
    photo = alex.upload(journey, "damage_photos")
    return alex.draft(journey, "photos", {"damage_photos": [photo]})


@pytest.fixture
def unchanged(alex: Api, journey: dict[str, Any]):
    """Call after a bad request: asserts the journey and Alex's list are as they were."""
    before = snapshot(alex, journey["id"])
    listed = alex.list()

    def check() -> None:
        assert snapshot(alex, journey["id"]) == before
        assert alex.list() == listed

    return check


def _steps_url(journey: dict[str, Any], step: str = "photos") -> str:
    return f"/api/v1/journeys/{journey['id']}/steps/{step}"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/journeys"),
        ("POST", "steps"),
        ("PATCH", "steps"),
        ("POST", "submit"),
        ("POST", "/auth/demo"),
    ],
)
def test_malformed_json_is_a_400(alex: Api, journey, unchanged, method: str, path: str) -> None:
    url = {"steps": _steps_url(journey), "submit": f"/api/v1/journeys/{journey['id']}/submit"}
    for body in (b'{"answers": {', b"not json at all", b'{"revision": 1,}', b"\xff\xfe"):
        response = alex.http.request(
            method,
            url.get(path, path),
            content=body,
            headers={"content-type": "application/json"},
        )
        assert_problem(response, 400)
    unchanged()


def test_unknown_and_wrongly_typed_fields_are_422(alex: Api, journey, unchanged) -> None:
    url = _steps_url(journey)
    revision = journey["revision"]
    cases = [
        ({"answers": {}, "revision": revision, "extra": 1}, "extra"),
        ({"answers": {}, "revision": str(revision)}, "revision"),
        ({"answers": {}, "revision": float(revision)}, "revision"),
        ({"answers": {}, "revision": True}, "revision"),
        ({"answers": {}, "revision": 0}, "revision"),
        ({"answers": {}}, "revision"),
        ({"revision": revision}, "answers"),
        ({"answers": [], "revision": revision}, "answers"),
        ({"answers": None, "revision": revision}, "answers"),
        ([1, 2], "body"),
        ("answers", "body"),
    ]
    for method in ("POST", "PATCH"):
        for body, field in cases:
            response = alex.http.request(method, url, json=body)
            problem = assert_problem(response, 422)
            assert field in {e["field"] for e in problem["errors"]}, (body, problem)
            for error in problem["errors"]:
                assert set(error) == {"field", "message"}
    assert_problem(alex.http.post("/api/v1/journeys", json={"type": "motor-claim", "x": 1}), 422)
    assert_problem(alex.http.post("/api/v1/journeys", json={"type": 5}), 422)
    assert_problem(alex.http.post("/api/v1/journeys", json={}), 422)
    submit = f"/api/v1/journeys/{journey['id']}/submit"
    for body in (
        {"revision": revision, "declaration": "true"},
        {"revision": revision, "declaration": 1},
        {"revision": revision},
        {"revision": "x", "declaration": True},
        {"revision": revision, "declaration": True, "reference": "CLM-AAAAAA"},
    ):
        assert_problem(alex.http.post(submit, json=body), 422)
    unchanged()


def test_unknown_or_malformed_answers_are_422(alex: Api, journey, unchanged) -> None:
    for send in (alex.post_step, alex.patch_step):
        response = send(journey["id"], "photos", {"nonsense": "x"}, journey["revision"])
        problem = assert_problem(response, 422)
        assert problem["errors"] == [
            {"field": "nonsense", "message": "'nonsense' is not a question on this step"}
        ]
        # A field of another step is not a question on this one either.
        response = send(journey["id"], "photos", {"description": "x" * 30}, journey["revision"])
        assert assert_problem(response, 422)["errors"][0]["field"] == "description"
        # Objects are not answers to anything.
        response = send(
            journey["id"], "photos", {"damage_photos": {"$ne": None}}, journey["revision"]
        )
        assert assert_problem(response, 422)["errors"][0]["field"] == "damage_photos"
        response = send(
            journey["id"], "photos", {"damage_photos": [["nested"]]}, journey["revision"]
        )
        assert assert_problem(response, 422)["errors"][0]["field"] == "damage_photos"
    unchanged()


def test_answers_of_the_wrong_type_get_the_fields_message(alex: Api) -> None:
    journey = alex.step(alex.start(), "policy", {"policy_number": "MTR-100001"})
    errors = alex.refused(
        journey,
        "incident",
        {
            "incident_date": 20260101,
            "incident_time": 1430,
            "incident_type": ["glass"],
            "incident_postcode": 12345,
            "description": 1e300,
            "driveable": "yes",
        },
    )
    assert errors == {
        "incident_date": "Date of the incident must be a real date",
        "incident_time": "Enter the time in hours and minutes, like 14:30",
        "incident_type": "Select the type of incident",
        "incident_postcode": "Enter a real postcode, like SW1A 1AA",
        "description": "Tell us what happened must be text",
        "driveable": "Select yes or no for can the car be driven safely?",
    }


def test_bodies_over_one_mib_are_413(alex: Api, journey, unchanged) -> None:
    big = {"answers": {"damage_photos": ["x" * (MIB + 10)]}, "revision": journey["revision"]}
    for method in ("POST", "PATCH"):
        response = alex.http.request(method, _steps_url(journey), json=big)
        assert_problem(response, 413)
    assert_problem(alex.http.post("/api/v1/journeys", content=b" " * (MIB + 1)), 413)

    # Without a Content-Length (chunked), the limit holds while the body streams in.
    def chunks():
        yield b'{"answers": {"damage_photos": ["'
        for _ in range(20):
            yield b"x" * 64 * 1024
        yield b'"]}, "revision": 1}'

    response = alex.http.post(
        _steps_url(journey), content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)
    # Just under the limit is fine as far as size goes (the answer itself is refused).
    small = {"answers": {"nonsense": "x" * (MIB - 100)}, "revision": journey["revision"]}
    assert_problem(alex.http.post(_steps_url(journey), json=small), 422)
    unchanged()


def test_unknown_things_are_404(alex: Api, journey, unchanged) -> None:
    problem = assert_problem(alex.post_journey("house-purchase"), 404)
    assert "motor-claim" in problem["detail"]
    assert_problem(alex.post_journey("../motor-claim"), 404)
    for step in ("no-such-step", "check-answers", "POLICY", "policy%00", "x" * 300):
        assert_problem(alex.post_step(journey["id"], step, {}, journey["revision"]), 404)
        assert_problem(alex.patch_step(journey["id"], step, {}, journey["revision"]), 404)
    for journey_id in ("01zzzzzzzzzzzzzzzzzzzzzzzz", "x" * 500, "a%00b", "%E2%98%83", "'; --"):
        assert_problem(alex.get_journey(journey_id), 404)
        assert_problem(alex.post_step(journey_id, "policy", {}, 1), 404)
        assert_problem(alex.patch_step(journey_id, "policy", {}, 1), 404)
        assert_problem(alex.post_submit(journey_id, 1, True), 404)
        assert_problem(alex.post_document(journey_id, "damage_photos", png_bytes()), 404)
    assert_problem(alex.http.get("/api/v1/nothing-here"), 404)
    assert_problem(alex.http.delete(f"/api/v1/journeys/{journey['id']}"), 405)
    unchanged()


def test_stale_revision_is_409(alex: Api, journey, unchanged) -> None:
    stale = journey["revision"] - 1
    for response in (
        alex.post_step(journey["id"], "photos", {}, stale),
        alex.patch_step(journey["id"], "photos", {}, stale),
        alex.post_step(journey["id"], "incident", incident(), stale),
        alex.post_submit(journey["id"], stale, True),
        alex.post_step(journey["id"], "photos", {}, journey["revision"] + 1),
        # Far ahead, and the largest revision the API takes (2**53 - 1, I-JSON's safe integers).
        alex.post_step(journey["id"], "photos", {}, 2**53 - 1),
    ):
        problem = assert_problem(response, 409)
        assert "revision" in problem["detail"]
    unchanged()


def test_step_not_yet_reached_is_409(alex: Api, journey, unchanged) -> None:
    for step in ("settlement", "payment-details"):
        assert_problem(alex.post_step(journey["id"], step, {}, journey["revision"]), 409)
        assert_problem(alex.patch_step(journey["id"], step, {}, journey["revision"]), 409)
    # A step that does not apply to this journey's answers (glass, not theft).
    assert_problem(
        alex.post_step(journey["id"], "police", {"crime_reference": "ABC123"}, journey["revision"]),
        409,
    )
    # Sending before every step is answered.
    assert_problem(alex.post_submit(journey["id"], journey["revision"], True), 409)
    unchanged()


def test_declaration_false_is_422(alex: Api) -> None:
    journey = through_incident(alex, "theft")
    journey = alex.step(journey, "police", {"crime_reference": "ABC123"})
    journey = alex.step(journey, "photos", {})
    before = snapshot(alex, journey["id"])
    problem = assert_problem(alex.post_submit(journey["id"], journey["revision"], False), 422)
    assert problem["errors"][0]["field"] == "declaration"
    assert snapshot(alex, journey["id"]) == before


def test_file_answers_must_be_uploads_for_that_field_and_journey(alex: Api, journey) -> None:
    estimate = alex.upload(journey, "estimate_document", pdf_bytes(), "estimate.pdf")
    other = through_incident(alex, "glass")
    elsewhere = alex.upload(other, "damage_photos")
    for answer in ([estimate], [elsewhere], "not-a-list", [1]):
        errors = alex.refused(journey, "photos", {"damage_photos": answer})
        assert list(errors) == ["damage_photos"]


# --- idempotency -------------------------------------------------------------------------------


def test_idempotent_start(alex: Api, sam: Api) -> None:
    key = {"Idempotency-Key": "start-7f3a"}
    first = alex.post_journey(headers=key)
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    retry = alex.post_journey(headers=key)
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert [j["id"] for j in alex.list()] == [first.json()["id"]]

    # The same key with another request is refused, and creates nothing.
    response = alex.post_step(first.json()["id"], "policy", {}, 1, headers=key)
    assert_problem(response, 422)
    assert alex.journey(first.json()["id"])["revision"] == 1

    # Keys belong to the customer: Sam's same key is Sam's own request, and sees nothing of
    # Alex's.
    theirs = sam.post_journey(headers=key)
    assert theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()["id"] != first.json()["id"]
    assert len(alex.list()) == 1 and len(sam.list()) == 1


def test_idempotent_step_and_submit(alex: Api) -> None:
    journey = alex.start()
    key = {"Idempotency-Key": "policy-1"}
    answers = {"policy_number": "MTR-100001"}
    first = alex.post_step(journey["id"], "policy", answers, 1, headers=key)
    assert first.status_code == 200
    retry = alex.post_step(journey["id"], "policy", answers, 1, headers=key)
    assert retry.status_code == 200
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    after = alex.journey(journey["id"])
    assert after["revision"] == 2
    assert event_types(after) == ["journey.started", "step.completed"]

    other = alex.post_step(journey["id"], "policy", {"policy_number": "MTR-100003"}, 1, headers=key)
    assert "different request" in assert_problem(other, 422)["detail"]
    assert alex.journey(journey["id"]) == after

    # A refused request is not remembered: the retry with good answers goes through.
    journey = after
    bad = alex.post_step(journey["id"], "incident", {}, 2, headers={"Idempotency-Key": "inc"})
    assert bad.status_code == 422
    good = alex.post_step(
        journey["id"], "incident", incident("theft"), 2, headers={"Idempotency-Key": "inc-2"}
    )
    assert good.status_code == 200
    journey = alex.step(good.json(), "police", {"crime_reference": "ABC123"})
    journey = alex.step(journey, "photos", {})
    send = {"Idempotency-Key": "send-1"}
    first = alex.post_submit(journey["id"], journey["revision"], True, headers=send)
    retry = alex.post_submit(journey["id"], journey["revision"], True, headers=send)
    assert first.status_code == retry.status_code == 200
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["reference"] == first.json()["reference"]
    assert event_types(alex.journey(journey["id"])).count("journey.submitted") == 1


def test_a_replay_answers_with_the_journey_as_it_is_now_and_no_answer_is_kept_twice(
    alex: Api, components: Components
) -> None:
    """The key's record names the journey and revision its first request produced, never a
    copy of the answer (which would keep the customer's answers in plain text a second
    time): a replay answers with the journey as it is now."""
    journey = alex.start()
    key = {"Idempotency-Key": "policy-now"}
    answers = {"policy_number": "MTR-100001"}
    first = alex.post_step(journey["id"], "policy", answers, 1, headers=key)
    assert first.status_code == 200
    later = alex.draft(first.json(), "incident", {"description": "Reversing, hit a post"})
    retry = alex.post_step(journey["id"], "policy", answers, 1, headers=key)
    assert retry.status_code == 200
    assert retry.headers["idempotent-replayed"] == "true"
    assert (retry.json()["revision"], retry.json()["drafts"]) == (3, later["drafts"])
    with components.store.read() as connection:
        rows = [dict(r) for r in connection.execute(select(tables.idempotency_keys)).mappings()]
    assert [(r["key"], r["journey_id"], r["revision"], r["status_code"]) for r in rows] == [
        ("policy-now", journey["id"], 2, 200)
    ]
    assert "MTR-100001" not in repr(rows)


def test_overlong_idempotency_key_is_422(alex: Api) -> None:
    response = alex.post_journey(headers={"Idempotency-Key": "k" * 201})
    assert_problem(response, 422)
    assert alex.list() == []


# --- uploads -------------------------------------------------------------------------------


def _stored_files(home: Path) -> list[Path]:
    return sorted(p for p in (home / "files").rglob("*") if p.is_file())


def test_uploads_are_checked_by_content(alex: Api, journey, components) -> None:
    home = components.settings.home
    stored = _stored_files(home)
    journey_id = journey["id"]

    response = alex.post_document(journey_id, "damage_photos", png_bytes(), "car.png", "image/png")
    assert response.status_code == 201, response.text
    document = response.json()
    assert document["content_type"] == "image/png"
    assert document["size"] == len(png_bytes())
    assert document["filename"] == "car.png"
    assert len(document["sha256"]) == 64
    assert len(_stored_files(home)) == len(stored) + 2  # the original and its display copy
    stored = _stored_files(home)

    rejected = [
        ("damage_photos", elf_bytes(), "car.jpg", "image/jpeg", "must be a JPEG, PNG"),
        ("damage_photos", b"", "empty.png", "image/png", "The selected file is empty"),
        ("damage_photos", pdf_bytes(), "estimate.pdf", "application/pdf", "must be a JPEG"),
        ("damage_photos", b"just some text", "notes.png", "image/png", "must be a JPEG"),
        ("estimate_document", elf_bytes(), "estimate.pdf", "application/pdf", "must be a PDF"),
        ("description", png_bytes(), "car.png", "image/png", "is not a file question"),
        ("no_such_field", png_bytes(), "car.png", "image/png", "is not a file question"),
    ]
    for field, content, name, content_type, message in rejected:
        response = alex.post_document(journey_id, field, content, name, content_type)
        problem = assert_problem(response, 422)
        assert message in problem["detail"], problem
        assert problem["errors"][0]["field"] == "file"
    assert _stored_files(home) == stored

    # A JPEG for photos and a PDF for the estimate are fine; a hostile name is made safe.
    response = alex.post_document(journey_id, "damage_photos", jpeg_bytes(), "../../etc/x.jpg")
    assert response.status_code == 201
    assert response.json()["filename"] == "x.jpg"
    response = alex.post_document(journey_id, "estimate_document", pdf_bytes(), "e.pdf")
    assert response.status_code == 201
    # Missing parts of the form.
    url = f"/api/v1/journeys/{journey_id}/documents"
    assert_problem(alex.http.post(url, data={"field": "damage_photos"}), 422)
    assert_problem(alex.http.post(url, files={"file": ("a.png", png_bytes(), "image/png")}), 422)
    assert_problem(alex.http.post(url, json={"field": "damage_photos"}), 422)


def test_upload_over_the_field_limit_is_refused(alex: Api, journey, components) -> None:
    # damage_photos takes at most 20 MB (max_size_mb), the application's default too.
    stored = _stored_files(components.settings.home)
    content = png_bytes() + b"\x00" * (20 * MIB + 1 - len(png_bytes()))
    response = alex.post_document(journey["id"], "damage_photos", content, "huge.png")
    problem = assert_problem(response, 422)
    assert problem["detail"] == "The selected file must be smaller than 20 MB"
    assert _stored_files(components.settings.home) == stored
    exactly = png_bytes() + b"\x00" * (20 * MIB - len(png_bytes()))
    assert alex.post_document(journey["id"], "damage_photos", exactly).status_code == 201


def test_upload_over_the_application_limit_is_refused(make_components, sign_in) -> None:
    limited = create_app(make_components(max_upload_bytes=4096))
    api = sign_in("alex", app=limited)
    journey = through_incident(api, "glass")
    padded = png_bytes() + b"\x00" * (200 * 1024)
    assert_problem(api.post_document(journey["id"], "damage_photos", padded), 413)
    # Between the application's limit and its multipart allowance: refused by the check.
    slightly = png_bytes() + b"\x00" * 8192
    problem = assert_problem(api.post_document(journey["id"], "damage_photos", slightly), 422)
    assert "smaller than" in problem["detail"]
    assert api.post_document(journey["id"], "damage_photos", png_bytes()).status_code == 201


def test_uploads_to_a_sent_journey_are_refused(alex: Api) -> None:
    journey = through_incident(alex, "theft")
    journey = alex.step(journey, "police", {"crime_reference": "ABC123"})
    journey = alex.submit(alex.step(journey, "photos", {}))
    response = alex.post_document(journey["id"], "damage_photos", png_bytes())
    assert_problem(response, 409)


def test_not_signed_in_upload_is_401(client: TestClient, journey) -> None:
    response = client.post(
        f"/api/v1/journeys/{journey['id']}/documents",
        data={"field": "damage_photos"},
        files={"file": ("a.png", png_bytes(), "image/png")},
    )
    assert_problem(response, 401)


def test_state_changes_need_the_csrf_header(alex: Api, journey, unchanged, app) -> None:
    url = _steps_url(journey)
    body = {"answers": {}, "revision": journey["revision"]}
    with TestClient(app, cookies=dict(alex.http.cookies)) as bare:  # the cookies, no header
        assert_problem(bare.post(url, json=body), 403)
        assert_problem(bare.patch(url, json=body), 403)
        assert_problem(bare.post("/api/v1/journeys", json={"type": "motor-claim"}), 403)
        assert_problem(bare.post(f"/api/v1/journeys/{journey['id']}/submit", json=body), 403)
        assert bare.get(f"/api/v1/journeys/{journey['id']}").status_code == 200
    assert_problem(alex.http.post(url, json=body, headers={"X-CSRF-Token": "forged.token"}), 403)
    unchanged()


def test_nul_characters_never_cause_a_500(alex: Api) -> None:
    journey = alex.step(alex.start(), "policy", {"policy_number": "MTR-100001"})
    text = "The car\u0000was hit while parked outside the house."
    response = alex.patch_step(journey["id"], "incident", {"description": text}, 2)
    assert response.status_code == 200, response.text
    assert alex.journey(journey["id"])["drafts"]["incident"]["description"] == text
    # A draft keeps it as typed; an answer may not hold it (issue 8: 422, nothing kept).
    errors = alex.refused(alex.journey(journey["id"]), "incident", incident(description=text))
    assert errors == {
        "description": "Remove the control character at character 8: answers cannot contain them"
    }
    response = alex.post_journey("motor\u0000claim")
    assert_problem(response, 404)
    assert alex.get_journey(journey["id"]).status_code == 200
