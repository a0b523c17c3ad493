"""Evidence kept from uploads (issue 5, item 4), the display copy, and who may see them: the
original unchanged with its SHA-256, metadata read from EXIF, XMP and PDF information, the
display copy re-encoded without metadata with its orientation applied, served to the owner
only and as an attachment."""

from __future__ import annotations

import hashlib
import io
import re
from typing import Any

import document_files as files
import pytest
from journey_api import Api, through_incident
from PIL import Image

HEX16 = re.compile(r"^[0-9a-f]{16}$")


def documents_url(journey_id: str, document_id: str = "", tail: str = "") -> str:
    url = f"/api/v1/journeys/{journey_id}/documents"
    return f"{url}/{document_id}{tail}" if document_id else url


def upload(api: Api, journey: dict[str, Any], content: bytes, name: str, field: str) -> dict:
    response = api.post_document(journey["id"], field, content, name)
    assert response.status_code == 201, response.text
    return response.json()


def shown(api: Api, journey_id: str, document_id: str) -> dict[str, Any]:
    response = api.http.get(documents_url(journey_id, document_id))
    assert response.status_code == 200, response.text
    return response.json()


def test_exif_capture_time_camera_software_and_gps_are_read(alex: Api, photos_step) -> None:
    content = files.photo((800, 600), exif=files.camera_exif())
    document = upload(alex, photos_step, content, "car.jpg", "damage_photos")
    body = shown(alex, photos_step["id"], document["id"])
    evidence = body["evidence"]
    assert evidence["kind"] == "image" and evidence["format"] == "JPEG"
    assert (evidence["width"], evidence["height"]) == (800, 600)
    assert evidence["captured_at"] == "2024-03-01T10:20:30+01:00"
    assert evidence["camera_make"] == "Canon"
    assert evidence["camera_model"] == "Canon EOS 5D Mark IV"
    assert evidence["software"] == "Adobe Photoshop 25.0 (Windows)"
    # 51°30'26.64"N 0°7'39.6"W: Westminster, in decimal degrees (west is negative).
    assert evidence["gps"] == {
        "lat": pytest.approx(51 + 30 / 60 + 26.64 / 3600, abs=1e-6),  # 51.5074
        "lon": pytest.approx(-(7 / 60 + 39.6 / 3600), abs=1e-6),  # -0.127667
    }
    assert HEX16.match(evidence["phash"]) and HEX16.match(evidence["dhash"])
    assert evidence["pdf"] is None
    # Fraud signals are assessed when the claim is sent, and are for staff only: the
    # customer's view of a document never has them.
    assert "signals" not in body
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["size"] == len(content)


def test_missing_or_odd_metadata_is_null_never_guessed(alex: Api, photos_step) -> None:
    bare = upload(alex, photos_step, files.photo(), "bare.jpg", "damage_photos")
    evidence = shown(alex, photos_step["id"], bare["id"])["evidence"]
    for key in ("captured_at", "camera_make", "camera_model", "software", "gps", "orientation"):
        assert evidence[key] is None, key
    odd = files.camera_exif(
        taken="0000:00:00 00:00:00",
        offset=None,
        lat=("S", ((33, 1), (52, 1), (0, 0))),  # a zero denominator
        lon=("E", ((151, 1), (12, 1), (36, 1))),
    )
    document = upload(alex, photos_step, files.photo(exif=odd), "odd.jpg", "damage_photos")
    evidence = shown(alex, photos_step["id"], document["id"])["evidence"]
    assert evidence["captured_at"] is None
    assert evidence["gps"] is None
    south = files.camera_exif(
        offset=None, lat=("S", ((33, 1), (52, 1), (12, 1))), lon=("E", ((151, 1), (12, 1), (36, 1)))
    )
    document = upload(alex, photos_step, files.photo(exif=south), "sydney.jpg", "damage_photos")
    evidence = shown(alex, photos_step["id"], document["id"])["evidence"]
    assert evidence["captured_at"] == "2024-03-01T10:20:30"  # camera time, no offset known
    assert evidence["gps"] == {
        "lat": pytest.approx(-33.87, abs=1e-6),
        "lon": pytest.approx(151.21, abs=1e-6),
    }


def test_xmp_names_the_software_that_made_and_edited_the_photo(alex: Api, photos_step) -> None:
    content = files.with_xmp(
        files.photo(), "Adobe Photoshop Lightroom Classic 13.0", ["Snapseed 2.0", "GIMP 2.10"]
    )
    document = upload(alex, photos_step, content, "car.jpg", "damage_photos")
    evidence = shown(alex, photos_step["id"], document["id"])["evidence"]
    assert evidence["xmp_history"] == [
        "Adobe Photoshop Lightroom Classic 13.0",
        "Snapseed 2.0",
        "GIMP 2.10",
    ]


def test_perceptual_hashes_survive_resizing_and_recompression(alex: Api, photos_step) -> None:
    original = files.photo((1200, 900), seed=3)
    smaller = io.BytesIO()
    Image.open(io.BytesIO(original)).resize((600, 450)).save(smaller, "JPEG", quality=60)
    different = files.photo((1200, 900), seed=7)
    hashes = []
    for content in (original, smaller.getvalue(), different):
        document = upload(alex, photos_step, content, "car.jpg", "damage_photos")
        evidence = shown(alex, photos_step["id"], document["id"])["evidence"]
        hashes.append(int(evidence["phash"], 16))
    assert bin(hashes[0] ^ hashes[1]).count("1") <= 8
    assert bin(hashes[0] ^ hashes[2]).count("1") > 8


def test_pdf_information_is_read(alex: Api) -> None:
    journey = through_incident(alex, "glass")
    photo = alex.upload(journey, "damage_photos", files.photo(), "car.jpg")
    journey = alex.step(journey, "photos", {"damage_photos": [photo]})
    content = files.plain_pdf(
        2,
        **{
            "/Creator": "Microsoft Word",
            "/Producer": "Acme PDF Library 9.1",
            "/CreationDate": "D:20240301102030+01'00'",
            "/ModDate": "D:20240302090000Z",
        },
    )
    document = upload(alex, journey, content, "estimate.pdf", "estimate_document")
    body = shown(alex, journey["id"], document["id"])
    assert body["content_type"] == "application/pdf"
    evidence = body["evidence"]
    assert evidence["kind"] == "pdf"
    assert evidence["phash"] is None and evidence["gps"] is None
    assert evidence["pdf"] == {
        "pages": 2,
        "creator": "Microsoft Word",
        "producer": "Acme PDF Library 9.1",
        "created_at": "2024-03-01T10:20:30+01:00",
        "modified_at": "2024-03-02T09:00:00+00:00",
    }
    # A PDF is served as it came, as an attachment.
    response = alex.http.get(documents_url(journey["id"], document["id"], "/content"))
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")


def test_a_jpeg_with_a_script_appended_is_shown_without_it(
    alex: Api, components, photos_step
) -> None:
    payload = b"<script>alert(document.cookie)</script><?php system($_GET['c']); ?>"
    content = files.photo(exif=files.camera_exif()) + payload
    document = upload(alex, photos_step, content, "car.jpg", "damage_photos")
    response = alex.http.get(documents_url(photos_step["id"], document["id"], "/content"))
    assert response.status_code == 200
    served = response.content
    assert b"<script" not in served and b"<?php" not in served
    assert served.startswith(b"\xff\xd8") and served.rstrip(b"\x00").endswith(b"\xff\xd9")
    display = Image.open(io.BytesIO(served))
    display.load()
    assert display.format == "JPEG"
    assert not display.getexif()  # no camera, no time, no GPS
    assert not {"exif", "xmp", "icc_profile", "comment"} & set(display.info)
    # The original is kept unchanged as evidence, payload and all.
    root = components.settings.home / "files"
    (original,) = [p for p in root.rglob(document["id"]) if p.is_file()]
    assert payload not in original.read_bytes()  # sealed at rest (protection/files.py)
    with components.storage.open(f"journeys/{photos_step['id']}/{document['id']}") as kept:
        opened = kept.read()
    assert opened == content
    assert hashlib.sha256(opened).hexdigest() == document["sha256"]


def test_the_display_copy_has_its_orientation_applied(alex: Api, photos_step) -> None:
    # Stored 64×32 (red left, blue right) with EXIF orientation 6: turned a quarter clockwise
    # to be seen, so 32×64 with red on top.
    content = files.two_halves((64, 32), orientation=6)
    document = upload(alex, photos_step, content, "car.jpg", "damage_photos")
    evidence = shown(alex, photos_step["id"], document["id"])["evidence"]
    assert (evidence["width"], evidence["height"], evidence["orientation"]) == (32, 64, 6)
    response = alex.http.get(documents_url(photos_step["id"], document["id"], "/content"))
    display = Image.open(io.BytesIO(response.content)).convert("RGB")
    assert display.size == (32, 64)
    assert "exif" not in display.info
    top, bottom = display.getpixel((16, 8)), display.getpixel((16, 56))
    assert top[0] > 150 and top[2] < 100, top  # red
    assert bottom[2] > 150 and bottom[0] < 100, bottom  # blue


def test_a_transparent_png_stays_a_png(alex: Api, photos_step) -> None:
    document = upload(alex, photos_step, files.transparent_png(), "logo.png", "damage_photos")
    response = alex.http.get(documents_url(photos_step["id"], document["id"], "/content"))
    assert response.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).mode == "RGBA"
    assert 'filename="logo.png"' in response.headers["content-disposition"]


def test_a_webp_photo_is_shown_as_a_jpeg(alex: Api, photos_step) -> None:
    document = upload(alex, photos_step, files.photo(fmt="WEBP"), "car.webp", "damage_photos")
    assert document["content_type"] == "image/webp"
    response = alex.http.get(documents_url(photos_step["id"], document["id"], "/content"))
    assert response.headers["content-type"] == "image/jpeg"
    assert 'filename="car.jpg"' in response.headers["content-disposition"]


def test_documents_are_listed_and_served_to_their_owner_only(
    alex: Api, sam: Api, photos_step
) -> None:
    journey_id = photos_step["id"]
    first = upload(alex, photos_step, files.photo(seed=1), "Front bumper (é).jpg", "damage_photos")
    second = upload(alex, photos_step, files.photo(seed=2), "../../side.png", "damage_photos")

    listed = alex.http.get(documents_url(journey_id))
    assert listed.status_code == 200
    rows = listed.json()
    assert [d["id"] for d in rows] == [first["id"], second["id"]]
    assert set(rows[0]) >= {
        "id",
        "field",
        "filename",
        "content_type",
        "size",
        "sha256",
        "status",
        "reason",
    }
    assert "evidence" not in rows[0] and "storage_key" not in rows[0]
    assert rows[1]["filename"] == "side.png"

    one = shown(alex, journey_id, first["id"])
    assert {k: one[k] for k in first} == first
    assert "evidence" in one and "signals" not in one
    assert "storage_key" not in one and "display_key" not in one

    content = alex.http.get(documents_url(journey_id, first["id"], "/content"))
    assert content.status_code == 200
    assert content.headers["content-type"] == "image/jpeg"
    assert content.headers["x-content-type-options"] == "nosniff"
    disposition = content.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Front%20bumper%20%28%C3%A9%29.jpg" in disposition
    assert content.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert content.headers["cache-control"] == "no-store"

    # Sam is told none of it exists; so is Alex about a document of another journey.
    for url in (
        documents_url(journey_id),
        documents_url(journey_id, first["id"]),
        documents_url(journey_id, first["id"], "/content"),
    ):
        response = sam.http.get(url)
        assert response.status_code == 404, url
        assert first["id"] not in response.text
    other = through_incident(alex, "glass")
    for tail in ("", "/content"):
        response = alex.http.get(documents_url(other["id"], first["id"], tail))
        assert response.status_code == 404
    assert alex.http.get(documents_url(journey_id, "nope", "/content")).status_code == 404


def test_not_signed_in_sees_nothing(client, alex: Api, photos_step) -> None:
    document = upload(alex, photos_step, files.photo(), "car.jpg", "damage_photos")
    for tail in ("", f"/{document['id']}", f"/{document['id']}/content"):
        response = client.get(documents_url(photos_step["id"]) + tail)
        assert response.status_code == 401
