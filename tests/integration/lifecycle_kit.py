"""Canary values and a claim that carries them, for the lifecycle tests; the search itself is
canary_kit's."""

from __future__ import annotations

import io
from typing import Any

import canary_kit
import piexif
from journey_api import ACTIVE_POLICY, Api, days_from_today, pdf_bytes
from PIL import Image

ACCOUNT = {
    "account_holder": "Quillon Lifecyclewood",
    "sort_code": "918273",
    "account_number": "91827364",
}
TEXTS = {
    "description": "Zephyrine lifecycle canary the wing mirror folded",
    "other_driver_name": "Ottoline Lifecyclewood",
    "other_insurer": "Xanthic Lifecycle Mutual",
    "injury_description": "Lifecycle canary whiplash of the xiphoid",
}
CAMERA = "LifecycleCam Zq-9931"
CANARIES = [*TEXTS.values(), ACCOUNT["account_holder"], ACCOUNT["account_number"], CAMERA]


def gps_photo() -> bytes:
    exif = {
        "0th": {piexif.ImageIFD.Make: "Canary", piexif.ImageIFD.Model: CAMERA},
        "GPS": {
            piexif.GPSIFD.GPSLatitudeRef: "N",
            piexif.GPSIFD.GPSLatitude: ((51, 1), (30, 1), (2664, 100)),
        },
    }
    image = Image.new("RGB", (64, 48), (30, 120, 200))
    out = io.BytesIO()
    image.save(out, "JPEG", exif=piexif.dump(exif))
    return out.getvalue()


def claim_with_canaries(api: Api, customer: str, photo: bytes) -> dict[str, Any]:
    """A motor claim with a canary in every classified field, a photo and a PDF, submitted."""
    journey = api.start()
    journey = api.step(journey, "policy", {"policy_number": ACTIVE_POLICY[customer]})
    incident = {
        "incident_date": days_from_today(-7),
        "incident_time": "14:30",
        "incident_type": "collision_vehicle",
        "incident_postcode": "ZE2 9QX",
        "description": TEXTS["description"],
        "driveable": True,
    }
    journey = api.step(journey, "incident", incident)
    other = {
        "other_driver_name": TEXTS["other_driver_name"],
        "other_registration": "QZ19 ZVQ",
        "other_insurer": TEXTS["other_insurer"],
        "injuries": True,
    }
    journey = api.step(journey, "other-vehicle", other)
    injuries = {"injured_count": 2, "injury_description": TEXTS["injury_description"]}
    journey = api.step(journey, "injuries", injuries)
    upload = api.upload(journey, "damage_photos", photo, "bumper.jpg")
    journey = api.step(journey, "photos", {"damage_photos": [upload]})
    estimate = api.upload(journey, "estimate_document", pdf_bytes(), "estimate.pdf")
    settlement = {
        "settlement": "cash",
        "estimate_amount": "450.50",
        "estimate_document": [estimate],
    }
    journey = api.step(journey, "settlement", settlement)
    details = {**ACCOUNT, "payout_account": "different"} if customer == "alex" else ACCOUNT
    journey = api.step(journey, "payment-details", details)
    return api.submit(journey)


def hits(blob: bytes) -> list[str]:
    return canary_kit.hits(CANARIES, blob)
