"""An upload's original file name is personal: stored sealed (on SQLite and PostgreSQL), and
still shown to its owner in the document list, the document, the download's name and the
subject's export; a sealed name pasted onto another document does not open there."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from journey_api import ACTIVE_POLICY, Api, incident, png_bytes
from sqlalchemy import select, update

from wayline.bootstrap import Components
from wayline.protection.envelope import WrongPlace
from wayline.store import documents, tables

NAME = "Quillonia Vantablack passport scan.png"


def with_a_named_photo(sam: Api) -> tuple[dict, str]:
    journey = sam.start()
    journey = sam.step(journey, "policy", {"policy_number": ACTIVE_POLICY["sam"]})
    journey = sam.step(journey, "incident", incident("glass"))
    return journey, sam.upload(journey, "damage_photos", png_bytes(), NAME)


def stored_names(components: Components) -> dict[str, str]:
    with components.store.engine.connect() as connection:
        rows = connection.execute(select(tables.documents.c.id, tables.documents.c.filename))
        return {row.id: row.filename for row in rows}


def test_the_name_is_sealed_at_rest_and_shown_to_its_owner(
    components: Components, sign_in: Callable[..., Api]
) -> None:
    sam = sign_in("sam")
    journey, document = with_a_named_photo(sam)

    stored = stored_names(components)[document]
    assert stored.startswith("wl1:") and "Quillonia" not in stored

    listed = sam.http.get(f"/api/v1/journeys/{journey['id']}/documents").json()
    assert [item["filename"] for item in listed] == [NAME]
    one = sam.http.get(f"/api/v1/journeys/{journey['id']}/documents/{document}").json()
    assert one["filename"] == NAME
    content = sam.http.get(f"/api/v1/journeys/{journey['id']}/documents/{document}/content")
    assert content.status_code == 200
    assert "Quillonia" in content.headers["content-disposition"]


def test_the_export_names_the_file_as_given(
    components: Components, sign_in: Callable[..., Api]
) -> None:
    sam = sign_in("sam")
    with_a_named_photo(sam)
    archive = components.lifecycle().export("sam")
    assert any("Quillonia" in path for path in archive.files)


def test_a_sealed_name_moved_to_another_document_does_not_open(
    components: Components, sign_in: Callable[..., Api]
) -> None:
    sam = sign_in("sam")
    journey, first = with_a_named_photo(sam)
    second = sam.upload(journey, "damage_photos", png_bytes(), "other.png")
    sealed = stored_names(components)[first]
    with components.store.engine.begin() as connection:
        connection.execute(
            update(tables.documents).where(tables.documents.c.id == second).values(filename=sealed)
        )
    with components.store.read() as connection, pytest.raises(WrongPlace):
        documents.record(connection, journey["id"], second)  # bound to its own document
