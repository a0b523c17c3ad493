"""How many files one journey may store for a file field, and what happens to the files no
answer names when the journey is sent (runtime/file_room.py, runtime/superseded.py), on SQLite
and PostgreSQL.

A field's cap counts every file stored for it, not only those its answer names: taking files
out of the answer does not make room for more beyond the allowance for replacements. When the
journey is sent, the worker deletes the files no answer names and marks their rows removed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import document_files as files
import pytest
from fastapi.testclient import TestClient
from journey_api import Api, field_of, png_bytes, through_incident
from sqlalchemy import select

from wayline.bootstrap import Components
from wayline.documents.scanner import ScannerUnavailable
from wayline.documents.storage import LocalStorage, Stored
from wayline.store import tables
from wayline.web.app import create_app

REPLACEMENTS = 2  # the allowance, small so the tests stay quick
PHOTOS_MAX = 10  # damage_photos: max_items 10 (journeys/motor-claim.yaml)


@pytest.fixture
def system(make_components: Callable[..., Components]) -> Components:
    return make_components(file_replacements=REPLACEMENTS)


@pytest.fixture
def api(system: Components) -> Any:
    with TestClient(create_app(system)) as http:
        yield Api(http).sign_in("alex")


def local(storage: object) -> LocalStorage:
    """The folder storage beneath the one that seals files at rest (protection/files.py)."""
    inner = getattr(storage, "inner", storage)
    assert isinstance(inner, LocalStorage)
    return inner


def stored_files(system: Components, journey_id: str) -> set[str]:
    """The files kept in storage for the journey (originals and display copies)."""
    folder = local(system.storage).root / "journeys" / journey_id
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


def statuses(system: Components, journey_id: str) -> dict[str, str]:
    d = tables.documents.c
    with system.store.read() as connection:
        rows = connection.execute(select(d.id, d.status).where(d.journey_id == journey_id))
        return {row.id: row.status for row in rows}


def photo(seed: int) -> bytes:
    """A different small PNG each time (so each has its own hashes)."""
    return png_bytes(2 + seed % 7, 2 + seed // 7)


# --- the cap counts every stored file -------------------------------------------------------


def test_emptying_the_answer_does_not_make_room_for_more_files(
    api: Api, system: Components
) -> None:
    journey = through_incident(api, "glass")
    kept = [api.upload(journey, "damage_photos", photo(n)) for n in range(PHOTOS_MAX)]
    # The answer is full: the definition's own message.
    full = api.post_document(journey["id"], "damage_photos", photo(40))
    assert full.status_code == 422
    assert full.json()["code"] == "too_many_files"
    # Taking every file out of the answer makes room for the replacements only.
    api.draft(journey, "photos", {"damage_photos": []})
    journey = api.journey(journey["id"])
    kept += [api.upload(journey, "damage_photos", photo(50 + n)) for n in range(REPLACEMENTS)]
    api.draft(journey, "photos", {"damage_photos": []})
    journey = api.journey(journey["id"])
    before = stored_files(system, journey["id"])
    refused = api.post_document(journey["id"], "damage_photos", photo(60))
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["code"] == "too_many_stored_files"
    assert body["detail"].startswith(
        f"Photos of the damage: you have uploaded {PHOTOS_MAX + REPLACEMENTS} files"
    )
    # Nothing changed: no file stored, no row written, the journey reads as before (with
    # the refusal in its record).
    assert stored_files(system, journey["id"]) == before
    assert set(statuses(system, journey["id"])) == set(kept)
    after = api.journey(journey["id"])
    assert after["events"][-1]["type"] == "document.rejected"
    assert {**after, "events": []} == {**journey, "events": []}
    # The files already uploaded can still be used.
    journey = api.step(journey, "photos", {"damage_photos": kept[-PHOTOS_MAX:]})
    assert journey["answers"]["damage_photos"] == kept[-PHOTOS_MAX:]


def test_a_page_without_javascript_is_shown_the_cap_on_the_step(
    api: Api, system: Components
) -> None:
    journey = through_incident(api, "glass")
    for n in range(PHOTOS_MAX + REPLACEMENTS):
        api.upload(journey, "damage_photos", photo(n))
        if n % PHOTOS_MAX == PHOTOS_MAX - 1:
            api.draft(journey, "photos", {"damage_photos": []})
            journey = api.journey(journey["id"])
    token = api.http.cookies.get("wayline_csrf")
    page = api.http.post(
        f"/journeys/{journey['id']}/steps/photos",
        data={"csrf_token": token, "revision": str(journey["revision"])},
        files={"damage_photos": ("car.png", photo(70), "image/png")},
        headers={"accept": "text/html"},
    )
    assert page.status_code in (200, 422), page.text  # the step again, with its error
    assert "counting files you took out or replaced" in page.text
    assert len(statuses(system, journey["id"])) == PHOTOS_MAX + REPLACEMENTS


class ScannerDown:
    """A malware scanner that cannot be reached: every upload is held."""

    def scan(self, stream: BinaryIO) -> Any:
        raise ScannerUnavailable("connection refused")


def test_held_files_count_too(make_components: Callable[..., Components]) -> None:
    """While the scanner is down every upload is kept but held: without the cap, a customer
    could store held files without end."""
    system = make_components(file_replacements=REPLACEMENTS)
    system.scanner = ScannerDown()
    with TestClient(create_app(system)) as http:
        api = Api(http).sign_in("alex")
        journey = through_incident(api, "glass")
        for n in range(PHOTOS_MAX + REPLACEMENTS):
            held = api.post_document(journey["id"], "damage_photos", photo(n))
            assert held.status_code == 503, held.text
        refused = api.post_document(journey["id"], "damage_photos", photo(99))
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "too_many_stored_files"
    rows = statuses(system, journey["id"])
    assert list(rows.values()) == ["held"] * (PHOTOS_MAX + REPLACEMENTS)
    assert {n.removesuffix("-display") for n in stored_files(system, journey["id"])} == set(rows)


class GatedStorage(LocalStorage):
    """Local storage whose puts wait for one another, so that two uploads are both checked
    before either is recorded (the race the record's own check is there for)."""

    def __init__(self, root: Path, parties: int):
        super().__init__(root)
        self.gate = threading.Barrier(parties, timeout=20)

    def put(self, key: str, stream: BinaryIO) -> Stored:
        stored = super().put(key, stream)
        if not key.endswith("-display"):
            self.gate.wait()
        return stored


def test_a_file_that_loses_a_race_for_the_last_place_is_not_kept(
    make_components: Callable[..., Components],
) -> None:
    system = make_components(file_replacements=0)
    # The gate replaces the sealing storage too: this test is about the race, not sealing.
    system.storage = GatedStorage(local(system.storage).root, parties=2)
    with TestClient(create_app(system)) as http:
        api = Api(http).sign_in("alex")
        journey = through_incident(api, "glass")
        for n in range(PHOTOS_MAX - 1):
            system.storage.gate = threading.Barrier(1)
            api.upload(journey, "damage_photos", photo(n))
        system.storage.gate = threading.Barrier(2, timeout=20)
        answers: list[Any] = []

        def send(seed: int) -> None:
            answers.append(api.post_document(journey["id"], "damage_photos", photo(seed)))

        racers = [threading.Thread(target=send, args=(80 + n,)) for n in range(2)]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join(timeout=60)
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201, 422], [answer.text for answer in answers]
    rows = statuses(system, journey["id"])
    assert len(rows) == PHOTOS_MAX
    # The loser's file was deleted: only recorded documents have files.
    assert {name.removesuffix("-display") for name in stored_files(system, journey["id"])} == set(
        rows
    )


# --- superseded files go when the journey is sent ---------------------------------------------


def through_photos_with_spares(api: Api) -> tuple[dict[str, Any], list[str], list[str]]:
    """A glass claim whose photos step names three photos of five uploaded: photo-like ones,
    with detail enough to go into the reuse index (featureless ones stay out of it)."""
    journey = through_incident(api, "glass")
    uploaded = [api.upload(journey, "damage_photos", files.photo(seed=n)) for n in range(5)]
    named, spare = uploaded[:3], uploaded[3:]
    journey = api.step(journey, "photos", {"damage_photos": named})
    return journey, named, spare


def send(api: Api, journey: dict[str, Any]) -> dict[str, Any]:
    repairer = field_of(journey, "repairer_id")["options"][0]["value"]
    journey = api.step(journey, "settlement", {"settlement": "repairer", "repairer_id": repairer})
    return api.submit(journey)


def test_files_no_answer_names_are_removed_when_the_journey_is_sent(
    api: Api, system: Components
) -> None:
    journey, named, spare = through_photos_with_spares(api)
    # Before sending, a file taken out stays: the customer may put it back.
    system.worker().run_due()
    assert {name for name in stored_files(system, journey["id"])} >= set(spare)
    journey = send(api, journey)
    worker = system.worker()
    while worker.run_due():
        pass
    rows = statuses(system, journey["id"])
    assert {d: rows[d] for d in named} == {d: "accepted" for d in named}
    assert {d: rows[d] for d in spare} == {d: "removed" for d in spare}
    files = {name.removesuffix("-display") for name in stored_files(system, journey["id"])}
    assert files == set(named)
    # The owner sees them as removed, and cannot download them; the journey reads as before.
    listed = {d["id"]: d["status"] for d in api.http.get(docs_url(journey)).json()}
    assert listed == rows
    gone = api.http.get(f"{docs_url(journey)}/{spare[0]}/content")
    assert gone.status_code == 404
    assert "replaced" in gone.json()["detail"]
    assert api.http.get(f"{docs_url(journey)}/{named[0]}/content").status_code == 200
    after = api.journey(journey["id"])
    assert after["answers"]["damage_photos"] == named
    removed = [e for e in after["events"] if e["type"] == "documents.removed"]
    assert len(removed) == 1 and removed[0]["data"]["documents"] == sorted(spare)
    # Out of the photo reuse index too.
    h = tables.photo_hashes.c
    with system.store.read() as connection:
        indexed = set(
            connection.execute(select(h.document_id).where(h.journey_id == journey["id"])).scalars()
        )
    assert indexed == set(named)


def test_removing_superseded_files_twice_is_the_same_as_once(api: Api, system: Components) -> None:
    journey, named, spare = through_photos_with_spares(api)
    journey = send(api, journey)
    # A run that marked the rows but died before deleting the files is run again.
    keys = system.documents.remove_superseded(journey["id"])
    assert {key.removesuffix("-display").rsplit("/", 1)[-1] for key in keys} == set(spare)
    assert stored_files(system, journey["id"]) >= set(spare)
    worker = system.worker()
    while worker.run_due():
        pass
    assert {n.removesuffix("-display") for n in stored_files(system, journey["id"])} == set(named)
    assert system.documents.remove_superseded(journey["id"]) == keys  # nothing new marked
    events = [e for e in api.journey(journey["id"])["events"] if e["type"] == "documents.removed"]
    assert len(events) == 1


def docs_url(journey: dict[str, Any]) -> str:
    return f"/api/v1/journeys/{journey['id']}/documents"
