"""Canaries: distinctive values typed into every classified field of a motor claim (and a
photo with a camera and GPS position) must not appear anywhere at rest or in the logs: not in
the database (SQLite's own file bytes, and every column of every table read back raw on SQLite
and PostgreSQL), not in the storage folder, not in what was logged (the web requests' and the
effect worker's, which runs the claim's effects here). The claim still reads back
whole through the API."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import piexif
import pytest
from canary_kit import (
    assert_home_clean_and_private,
    assert_logs_clean,
    assert_nothing_at_rest,
    assert_sealing_on,
)
from journey_api import ACTIVE_POLICY, Api, days_from_today, pdf_bytes
from PIL import Image
from sqlalchemy import select

from wayline.bootstrap import Components
from wayline.store import answers, tables

ACCOUNT = {
    "account_holder": "Quillon Vantablack",
    "sort_code": "918273",
    "account_number": "91827364",
}
TEXTS = {
    "description": "Zephyrine canary the wing mirror folded into the hedgerow",
    "other_driver_name": "Ottoline Canarywood",
    "other_insurer": "Xanthic Mutual Canary",
    "injury_description": "Canary whiplash of the xiphoid",
}
POSTCODE, REGISTRATION = "ZE2 9QX", "QZ19 ZVQ"
CAMERA = "CanaryCam Zq-9931"
# GPS 51°30'26.64"N: 51.5074 in decimal degrees, as the evidence records it.
LATITUDE = ("N", ((51, 1), (30, 1), (2664, 100)))
CANARIES = [
    *TEXTS.values(),
    ACCOUNT["account_holder"],
    ACCOUNT["account_number"],
    "91-82-73",
    POSTCODE,
    REGISTRATION,
    CAMERA,
    "51.5074",
]


def gps_photo() -> bytes:
    exif = {
        "0th": {piexif.ImageIFD.Make: "Canary", piexif.ImageIFD.Model: CAMERA},
        "Exif": {piexif.ExifIFD.DateTimeOriginal: "2026:11:01 10:20:30"},
        "GPS": {
            piexif.GPSIFD.GPSLatitudeRef: LATITUDE[0],
            piexif.GPSIFD.GPSLatitude: LATITUDE[1],
            piexif.GPSIFD.GPSLongitudeRef: "W",
            piexif.GPSIFD.GPSLongitude: ((0, 1), (7, 1), (3960, 100)),
        },
    }
    image = Image.new("RGB", (96, 64), (30, 120, 200))
    for x in range(0, 96, 8):
        image.paste((x * 2, 90, 140), (x, 0, x + 4, 64))
    out = io.BytesIO()
    image.save(out, "JPEG", exif=piexif.dump(exif))
    return out.getvalue()


def claim_with_canaries(sam: Api) -> dict[str, Any]:
    journey = sam.start()
    journey = sam.step(journey, "policy", {"policy_number": ACTIVE_POLICY["sam"]})
    incident = {
        "incident_date": days_from_today(-7),
        "incident_time": "14:30",
        "incident_type": "collision_vehicle",
        "incident_postcode": POSTCODE,
        "description": TEXTS["description"],
        "driveable": True,
    }
    journey = sam.step(journey, "incident", incident)
    other = {
        "other_driver_name": TEXTS["other_driver_name"],
        "other_registration": REGISTRATION,
        "other_insurer": TEXTS["other_insurer"],
        "injuries": True,
    }
    journey = sam.step(journey, "other-vehicle", other)
    injuries = {"injured_count": 2, "injury_description": TEXTS["injury_description"]}
    journey = sam.step(journey, "injuries", injuries)
    photo = sam.upload(journey, "damage_photos", gps_photo(), "bumper.jpg")
    journey = sam.step(journey, "photos", {"damage_photos": [photo]})
    estimate = sam.upload(journey, "estimate_document", pdf_bytes(), "estimate.pdf")
    settlement = {
        "settlement": "cash",
        "estimate_amount": "450.50",
        "estimate_document": [estimate],
    }
    journey = sam.step(journey, "settlement", settlement)
    journey = sam.draft(journey, "payment-details", {"account_holder": ACCOUNT["account_holder"]})
    journey = sam.step(journey, "payment-details", ACCOUNT)
    return sam.submit(journey)


def test_no_canary_at_rest_or_in_logs(
    components: Components,
    sign_in: Callable[..., Api],
    capfd: pytest.CaptureFixture[str],
    production_logs: None,
) -> None:
    sam = sign_in("sam").sign_in("sam", method="one_time_code")  # new payee details: step-up
    journey = claim_with_canaries(sam)
    worker = components.worker(base_delay=0.001)  # its logs are searched too
    ran = [worker.run_due() for _ in range(10)]
    assert ran[0] > 0 and ran[-1] == 0, ran  # the claim's effects ran (decision, payment ...)

    # Read back whole, through the API.
    view = sam.journey(journey["id"])
    given = view["answers"]
    for name, text in TEXTS.items():
        assert given[name] == text
    assert given["account_holder"] == ACCOUNT["account_holder"]
    assert given["account_number"] == ACCOUNT["account_number"]
    assert given["incident_postcode"] == POSTCODE
    assert given["other_registration"] == REGISTRATION

    # The answers table: classified rows sealed, internal ones in clear, all opening again.
    with components.store.read() as connection:
        assert answers.values_of(connection, journey["id"])["description"] == TEXTS["description"]
        raw = {
            row.field: row.value
            for row in connection.execute(
                select(tables.answers).where(tables.answers.c.journey_id == journey["id"])
            )
        }
    assert raw["policy_number"] == ACTIVE_POLICY["sam"]  # internal: in clear
    assert set(raw["description"]) == {"$sealed"}

    assert_sealing_on(components)
    # The search itself finds what is there: the policy number is internal, kept in clear.
    assert_nothing_at_rest(components, CANARIES, known=[ACTIVE_POLICY["sam"]])
    home = components.settings.home
    assert_home_clean_and_private(home, CANARIES)
    assert any((home / "files").rglob("*-display")), "the files were looked at"
    assert_logs_clean(capfd, CANARIES, known=[journey["id"]])  # the logs name the journey
