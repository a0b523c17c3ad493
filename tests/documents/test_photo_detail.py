"""Whether a photo has the detail for its perceptual hashes to identify it. A featureless
photo (a plain colour, a smooth or faint gradient, a black night shot, a white over-exposed
one) hashes like every other featureless photo, so it is recorded as not distinctive, kept out
of the reuse index and never compared; its reuse signal is unknown, with the reason."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import document_files as files
import pytest
from PIL import Image

from wayline.documents import images, metadata, similarity
from wayline.documents.signals import ClaimFacts, photo_signals

MIME = {"JPEG": "image/jpeg", "PNG": "image/png"}
FACTS = ClaimFacts("alex", "j1", date(2026, 3, 1), date(2026, 11, 20), None)
TOO_LITTLE = "the photo has too little detail to compare"


def evidence(content: bytes, fmt: str = "JPEG") -> dict[str, Any]:
    """The evidence the upload pipeline keeps: decoded, turned upright, hashed."""
    with images.opened(io.BytesIO(content), MIME[fmt], 40_000_000) as decoded:
        shown = images.upright(decoded.image)
        return metadata.image_evidence(
            decoded.image, decoded.width, decoded.height, decoded.format, shown
        )


def test_plain_colours_of_any_size_and_format_are_not_distinctive():
    red = evidence(files.plain(files.RED, (640, 480), "JPEG"))
    blue = evidence(files.plain(files.BLUE, (1024, 768), "PNG"), "PNG")
    # The defect: two different photos, the same hashes.
    assert red["phash"] == blue["phash"] == "8000000000000000"
    assert red["dhash"] == blue["dhash"] == "0000000000000000"
    assert red["distinctive"] is False and blue["distinctive"] is False
    assert not similarity.comparable(red) and not similarity.comparable(blue)


@pytest.mark.parametrize(
    ("low", "high", "across"),
    [(100, 104, True), (100, 104, False), (200, 206, True)],  # faint: grey levels barely move
)
def test_a_gradient_too_faint_to_hash_is_not_distinctive(low, high, across):
    content = files.gradient(low, high, across=across)
    found = evidence(content)
    assert metadata.detail(Image.open(io.BytesIO(content))) < metadata.MIN_DETAIL
    assert found["distinctive"] is False


@pytest.mark.parametrize("across", [True, False])
def test_a_smooth_gradient_however_steep_is_not_distinctive(across):
    # Plenty of contrast, but no structure: every such gradient hashes alike.
    steep = evidence(files.gradient(0, 255, across=across))
    other = evidence(files.gradient(60, 220, size=(1024, 768), across=across))
    assert similarity.distance(steep["phash"], other["phash"]) <= 8
    assert int(steep["phash"], 16).bit_count() < similarity.MIN_PHASH_BITS
    assert steep["distinctive"] is False and other["distinctive"] is False


def test_a_night_shot_and_an_over_exposed_shot_with_no_detail_left_are_not_distinctive():
    scene = files.photo((1200, 900), seed=3)
    assert evidence(files.dimmed(scene, 0.01, level=8))["distinctive"] is False
    assert evidence(files.dimmed(scene, 0.01, level=250))["distinctive"] is False


@pytest.mark.parametrize("seed", range(6))
def test_a_real_textured_photo_stays_distinctive(seed):
    found = evidence(files.photo((1200, 900), seed=seed, exif=files.camera_exif()))
    assert found["distinctive"] is True
    assert int(found["phash"], 16).bit_count() == 32  # half the coefficients above the median
    assert similarity.comparable(found)


def test_a_dark_photo_that_still_shows_the_scene_stays_distinctive():
    dark = evidence(files.dimmed(files.photo((1200, 900), seed=2), 0.15, level=25))
    assert dark["distinctive"] is True


def test_the_test_is_the_grey_deviation_and_the_hash_structure():
    assert metadata.distinctive(metadata.MIN_DETAIL, "8a0030ffc7ffdc20")
    assert not metadata.distinctive(metadata.MIN_DETAIL - 0.01, "8a0030ffc7ffdc20")
    assert not metadata.distinctive(40.0, "c900000000000000")  # a steep gradient's pHash


def test_evidence_kept_before_distinctiveness_was_recorded_is_judged_by_its_hash():
    assert not similarity.comparable({"kind": "image", "phash": "8000000000000000"})
    assert not similarity.comparable({"kind": "image", "phash": "9000000000000000"})
    assert similarity.comparable({"kind": "image", "phash": "8a0030ffc7ffdc20"})
    assert not similarity.comparable({"phash": "8a0030ffc7ffdc20", "distinctive": False})


def test_the_reuse_signals_of_a_featureless_photo_are_unknown_with_the_reason():
    plain = evidence(files.plain(files.RED))
    near = [{"journey_id": "j2", "customer_id": "sam", "distance": 0, "document_id": "d2"}]
    signals = {s["code"]: s for s in photo_signals(plain, FACTS, near)}
    for code in ("reused_photo", "reused_own_photo"):
        assert (signals[code]["status"], signals[code]["evidence"]) == ("unknown", TOO_LITTLE)
    textured = evidence(files.photo((1200, 900), seed=1))
    assert {s["code"]: s for s in photo_signals(textured, FACTS, near)}["reused_photo"][
        "status"
    ] == "fired"
