"""The upload pipeline's refusals, through the API (issue 5, item 1): each says why in words a
customer understands, is recorded as a document.rejected event, and changes nothing else: no
file in storage, no document, the journey's answers and revision as they were."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import document_files as files
import pytest
from journey_api import PROBLEM, Api, elf_bytes, jpeg_bytes, png_bytes, through_incident

from wayline.documents.scanner import ScannerUnavailable, ScanResult
from wayline.web.app import create_app

HERE = Path(__file__).resolve().parent
MIB = 1024 * 1024


def stored_files(components: Any) -> list[Path]:
    root = components.settings.home / "files"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def document_events(api: Api, journey_id: str) -> list[dict[str, Any]]:
    events = api.journey(journey_id)["events"]
    return [e for e in events if e["type"].startswith("document.")]


def refused(
    api: Api,
    components: Any,
    journey: dict[str, Any],
    content: bytes,
    filename: str,
    field: str = "damage_photos",
    status: int = 422,
) -> dict[str, Any]:
    """Upload a file that must be refused; check that nothing but the event changed."""
    before = api.journey(journey["id"])
    files_before = stored_files(components)
    listed_before = api.http.get(f"/api/v1/journeys/{journey['id']}/documents").json()
    response = api.post_document(journey["id"], field, content, filename, "image/jpeg")
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["errors"] == [{"field": "file", "message": problem["detail"]}]
    after = api.journey(journey["id"])
    assert after["revision"] == before["revision"]
    assert after["answers"] == before["answers"] and after["drafts"] == before["drafts"]
    assert stored_files(components) == files_before
    listed = api.http.get(f"/api/v1/journeys/{journey['id']}/documents").json()
    assert listed == listed_before
    event = document_events(api, journey["id"])[-1]
    assert event["type"] == "document.rejected"
    assert event["data"]["field"] == field
    assert event["data"]["reason"] == problem["detail"]
    assert event["data"]["code"] == problem["code"]
    return problem


def test_a_decompression_bomb_is_refused_without_the_memory_it_would_take(
    bomb_png: Path, tmp_path: Path, database_url: str
) -> None:
    size = bomb_png.stat().st_size
    assert 400_000 < size < 800_000  # about 600 KB on disk, 588 MB of pixels once decoded
    result = subprocess.run(
        [
            sys.executable,
            str(HERE / "bomb_probe.py"),
            str(tmp_path / "home"),
            database_url,
            str(bomb_png),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["status"] == 422, probe
    assert probe["body"]["code"] == "too_many_pixels"
    assert probe["body"]["detail"] == (
        "The photo has too many pixels: it must be at most 40 megapixels. Send a smaller copy"
    )
    assert probe["peak_growth_mib"] < 200, probe
    assert probe["documents"] == 1  # the warm-up photo only


def test_the_pixel_cap_is_a_setting(make_components, sign_in) -> None:
    components = make_components(max_image_pixels=100_000)
    api = sign_in("alex", app=create_app(components))
    journey = through_incident(api, "glass")
    problem = refused(api, components, journey, files.photo((400, 300)), "car.jpg")
    assert problem["detail"].startswith("The photo has too many pixels: it must be at most 0.1 ")
    assert api.upload(journey, "damage_photos", files.photo((300, 200)), "small.jpg")


def test_a_disguised_executable_is_refused(alex: Api, components, photos_step) -> None:
    for content in (elf_bytes(), files.windows_executable()):
        problem = refused(alex, components, photos_step, content, "car.jpg")
        assert problem["detail"] == "The selected file must be a JPEG, PNG, WebP, HEIC"
        assert problem["code"] == "wrong_type"


def test_an_empty_file_is_refused(alex: Api, components, photos_step) -> None:
    problem = refused(alex, components, photos_step, b"", "car.jpg")
    assert problem["detail"] == "The selected file is empty"
    assert problem["code"] == "empty"


def test_a_file_that_only_starts_like_a_photo_is_refused(alex: Api, components, photos_step):
    truncated = files.photo((640, 480))[:600]
    problem = refused(alex, components, photos_step, truncated, "car.jpg")
    assert problem["code"] == "unreadable"
    assert problem["detail"].startswith("The selected file could not be opened as a photo")


def test_a_heic_photo_is_refused_clearly_without_the_plugin(alex: Api, components, photos_step):
    pytest.importorskip("PIL")
    from wayline.documents import images

    if images.HEIC:
        pytest.skip("pillow-heif is installed here: HEIC photos are decoded")
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200
    problem = refused(alex, components, photos_step, heic, "IMG_0001.HEIC")
    assert problem["code"] == "unsupported_format"
    assert "Most Compatible" in problem["detail"]


def test_a_file_over_the_limit_is_refused_before_it_is_stored(make_components, sign_in) -> None:
    components = make_components(max_upload_bytes=64 * 1024)
    api = sign_in("alex", app=create_app(components))
    journey = through_incident(api, "glass")
    big = files.photo((1200, 900), quality=100)
    assert 64 * 1024 < len(big) < 128 * 1024  # within the request allowance, over the limit
    problem = refused(api, components, journey, big, "big.jpg")
    assert problem["detail"] == "The selected file must be smaller than 64 KB"
    assert problem["code"] == "too_large"
    # Far over: the request itself is cut off while it streams in (413), before the app.
    before = stored_files(components)
    response = api.post_document(journey["id"], "damage_photos", big + b"\x00" * 200_000)
    assert response.status_code == 413
    assert stored_files(components) == before


def test_an_eleventh_photo_is_refused(alex: Api, components, photos_step) -> None:
    journey = photos_step
    photos = [
        alex.upload(journey, "damage_photos", files.photo(seed=n), f"car-{n}.jpg")
        for n in range(10)
    ]
    problem = refused(alex, components, journey, files.photo(seed=11), "car-11.jpg")
    assert problem["detail"] == "Upload no more than 10 photos"
    assert problem["code"] == "too_many_files"

    # Ten are kept as a draft; taking one out makes room for another.
    journey = alex.draft(journey, "photos", {"damage_photos": photos})
    refused(alex, components, journey, files.photo(seed=11), "car-11.jpg")
    journey = alex.draft(journey, "photos", {"damage_photos": photos[1:]})
    another = alex.upload(journey, "damage_photos", files.photo(seed=12), "car-12.jpg")
    journey = alex.step(journey, "photos", {"damage_photos": [*photos[1:], another]})
    assert len(journey["answers"]["damage_photos"]) == 10


def test_an_answer_naming_eleven_photos_is_refused_by_the_step(alex: Api, photos_step) -> None:
    # Eleven photos can exist (one taken out of the answer, then another added): the step
    # still takes no more than ten.
    journey = photos_step
    first = [alex.upload(journey, "damage_photos", files.photo(seed=n)) for n in range(10)]
    journey = alex.draft(journey, "photos", {"damage_photos": first[1:]})
    another = alex.upload(journey, "damage_photos", files.photo(seed=10))
    errors = alex.refused(journey, "photos", {"damage_photos": [*first, another]})
    assert errors == {"damage_photos": "Upload no more than 10 photos"}


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (files.pdf_with_open_action_script, "pdf_javascript"),
        (files.pdf_with_document_script, "pdf_javascript"),
        (files.pdf_with_page_action, "pdf_javascript"),
        (files.pdf_with_disguised_script, "pdf_javascript"),
        (files.pdf_with_attachment, "pdf_embedded_file"),
    ],
)
def test_a_pdf_with_a_script_or_an_attachment_is_refused(
    alex: Api, components, make, code: str
) -> None:
    journey = _at_settlement(alex)
    problem = refused(alex, components, journey, make(), "estimate.pdf", "estimate_document")
    assert problem["code"] == code
    if code == "pdf_javascript":
        assert problem["detail"].startswith("The selected PDF contains scripts or actions")
    else:
        assert problem["detail"].startswith("The selected PDF has other files attached inside")


def test_a_pdf_over_the_page_limit_is_refused(make_components, sign_in) -> None:
    components = make_components(max_pdf_pages=3)
    api = sign_in("alex", app=create_app(components))
    journey = _at_settlement(api)
    problem = refused(
        api, components, journey, files.plain_pdf(4), "estimate.pdf", "estimate_document"
    )
    assert problem["detail"] == "The selected PDF has too many pages: it must have 3 pages or fewer"
    assert api.upload(journey, "estimate_document", files.plain_pdf(3), "estimate.pdf")


def test_a_pdf_with_too_many_objects_is_refused(make_components, sign_in) -> None:
    components = make_components(max_pdf_objects=8)
    api = sign_in("alex", app=create_app(components))
    journey = _at_settlement(api)
    problem = refused(
        api, components, journey, files.plain_pdf(6), "estimate.pdf", "estimate_document"
    )
    assert problem["code"] == "pdf_too_complex"


def test_a_damaged_pdf_is_refused(alex: Api, components) -> None:
    journey = _at_settlement(alex)
    damaged = b"%PDF-1.7\n" + b"\x00garbage" * 100
    problem = refused(alex, components, journey, damaged, "estimate.pdf", "estimate_document")
    assert problem["code"] == "unreadable"


def test_an_accepted_upload_is_recorded_with_an_event_and_keeps_the_revision(
    alex: Api, components, photos_step
) -> None:
    journey = photos_step
    content = files.photo()
    response = alex.post_document(journey["id"], "damage_photos", content, "car.jpg", "image/png")
    assert response.status_code == 201, response.text
    document = response.json()
    assert document["content_type"] == "image/jpeg"  # from the content, not the header
    assert document["status"] == "accepted" and document["reason"] is None
    assert document["size"] == len(content)
    after = alex.journey(journey["id"])
    assert after["revision"] == journey["revision"]  # the page's and the client's still hold
    received = document_events(alex, journey["id"])[-1]
    assert received["type"] == "document.received"
    assert received["step"] == "photos"
    assert received["data"] == {"document": document["id"], "field": "damage_photos"}
    # The same revision still submits the step.
    journey = alex.step(journey, "photos", {"damage_photos": [document["id"]]})
    assert journey["answers"]["damage_photos"] == [document["id"]]


class Broken:
    def scan(self, stream):
        raise ScannerUnavailable("connection refused")


class FindsEverything:
    def scan(self, stream):
        assert stream.read(2)  # it is given the bytes
        return ScanResult(clean=False, signature="Eicar-Test-Signature")


def test_an_upload_the_scanner_cannot_check_is_held(components, sign_in) -> None:
    components.scanner = Broken()
    api = sign_in("alex", app=create_app(components))
    journey = through_incident(api, "glass")
    response = api.post_document(journey["id"], "damage_photos", files.photo(), "car.jpg")
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "60"
    problem = response.json()
    assert problem["detail"].startswith("We could not check the selected file for viruses")
    held = problem["document"]
    assert held["status"] == "held"
    listed = api.http.get(f"/api/v1/journeys/{journey['id']}/documents").json()
    assert [(d["id"], d["status"]) for d in listed] == [(held["id"], "held")]
    assert document_events(api, journey["id"])[-1]["type"] == "document.held"
    # Not usable: no answer may name it, and it is not served.
    errors = api.refused(journey, "photos", {"damage_photos": [held["id"]]})
    assert "damage_photos" in errors
    content = api.http.get(f"/api/v1/journeys/{journey['id']}/documents/{held['id']}/content")
    assert content.status_code == 409


def test_an_infected_upload_is_refused(components, sign_in) -> None:
    components.scanner = FindsEverything()
    api = sign_in("alex", app=create_app(components))
    journey = through_incident(api, "glass")
    problem = refused(api, components, journey, files.photo(), "car.jpg")
    assert problem["detail"] == "The selected file contains a virus, so we cannot accept it"
    event = document_events(api, journey["id"])[-1]
    assert event["data"]["signature"] == "Eicar-Test-Signature"


def test_uploads_without_javascript_refuse_with_the_reason_on_the_page(
    alex: Api, components, photos_step
) -> None:
    journey = photos_step
    url = f"/journeys/{journey['id']}/steps/photos"
    page = alex.http.get(url)
    assert page.status_code == 200
    form = {
        "csrf_token": alex.http.cookies.get("wayline_csrf"),
        "revision": str(journey["revision"]),
        "action": "continue",
    }
    sent = [
        ("damage_photos", ("front.jpg", files.photo(seed=1), "image/jpeg")),
        ("damage_photos", ("notes.jpg", b"just some text", "image/jpeg")),
    ]
    response = alex.http.post(url, data=form, files=sent, follow_redirects=False)
    assert response.status_code == 200  # the step again, with the reason
    assert "notes.jpg: The selected file must be a JPEG, PNG, WebP, HEIC" in response.text
    listed = alex.http.get(f"/api/v1/journeys/{journey['id']}/documents").json()
    assert [d["filename"] for d in listed] == ["front.jpg"]
    draft = alex.journey(journey["id"])["drafts"]["photos"]["damage_photos"]
    assert draft == [listed[0]["id"]]


def test_a_tiny_png_is_still_a_photo(alex: Api, photos_step) -> None:
    assert alex.upload(photos_step, "damage_photos", png_bytes(), "dot.png")
    assert alex.upload(photos_step, "damage_photos", jpeg_bytes(), "dot.jpg")


def _at_settlement(api: Api) -> dict[str, Any]:
    journey = through_incident(api, "glass")
    photo = api.upload(journey, "damage_photos", files.photo(), "car.jpg")
    return api.step(journey, "photos", {"damage_photos": [photo]})
