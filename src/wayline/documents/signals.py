"""Photo fraud signals, from a photo's evidence and the claim's facts (pure).

Each signal has a code, a severity and its evidence in words a claims handler can read ("taken
212 days before the policy started"). Its status is "fired", "clear", or "unknown" where the
metadata it needs is missing: a missing capture time is never a pass.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from wayline.documents.similarity import comparable

EDITORS = re.compile(
    r"photoshop|gimp|lightroom|snapseed|picsart|affinity|pixelmator|facetune|"
    r"photo ?editor|canva|paint\.net|luminar|airbrush|meitu|vsco",
    re.IGNORECASE,
)
LOW_RESOLUTION_PIXELS = 300_000
FAR_KM = 50.0
BEFORE_INCIDENT = timedelta(hours=48)
TOO_LITTLE_DETAIL = "the photo has too little detail to compare"
SEVERITIES = {
    "taken_before_policy": "high",
    "taken_before_incident": "medium",
    "edited": "medium",
    "far_from_incident": "medium",
    "reused_photo": "high",
    "reused_own_photo": "medium",
    "no_metadata": "low",
    "low_resolution": "low",
}


@dataclass(frozen=True)
class ClaimFacts:
    customer_id: str
    journey_id: str
    policy_start: date | None
    incident_date: date | None
    incident_point: tuple[float, float] | None  # (lat, lon) of the incident postcode


def _signal(code: str, status: str, evidence: str) -> dict[str, str]:
    return {"code": code, "severity": SEVERITIES[code], "status": status, "evidence": evidence}


def _captured(evidence: dict[str, Any]) -> datetime | None:
    text = evidence.get("captured_at")
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment.replace(tzinfo=None)


def _days(count: int) -> str:
    return f"{count} day{'s' if count != 1 else ''}"


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine) between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def taken_before_policy(evidence: dict[str, Any], facts: ClaimFacts) -> dict[str, str]:
    captured = _captured(evidence)
    if captured is None or facts.policy_start is None:
        return _signal(
            "taken_before_policy",
            "unknown",
            "no capture time in the photo"
            if captured is None
            else "the policy start date is not known",
        )
    days = (facts.policy_start - captured.date()).days
    if days > 0:
        return _signal(
            "taken_before_policy", "fired", f"taken {_days(days)} before the policy started"
        )
    return _signal(
        "taken_before_policy",
        "clear",
        f"taken on {captured.date():%d %B %Y}, after the policy started",
    )


def taken_before_incident(evidence: dict[str, Any], facts: ClaimFacts) -> dict[str, str]:
    captured = _captured(evidence)
    if captured is None or facts.incident_date is None:
        return _signal(
            "taken_before_incident",
            "unknown",
            "no capture time in the photo"
            if captured is None
            else "the incident date is not known",
        )
    incident = datetime.combine(facts.incident_date, datetime.min.time())
    if incident - captured > BEFORE_INCIDENT:
        days = (facts.incident_date - captured.date()).days
        return _signal(
            "taken_before_incident", "fired", f"taken {_days(days)} before the incident date"
        )
    return _signal("taken_before_incident", "clear", "taken around or after the incident")


def edited(evidence: dict[str, Any], facts: ClaimFacts) -> dict[str, str]:
    names = [str(evidence.get("software") or ""), *map(str, evidence.get("xmp_history") or [])]
    named = [name for name in names if name and EDITORS.search(name)]
    if named:
        return _signal("edited", "fired", f"saved by {named[0]}, a photo editor")
    if not any(names):
        return _signal("edited", "unknown", "the photo does not say what software saved it")
    return _signal("edited", "clear", f"saved by {names[0]}")


def far_from_incident(evidence: dict[str, Any], facts: ClaimFacts) -> dict[str, str]:
    gps = evidence.get("gps")
    if not gps or facts.incident_point is None:
        return _signal(
            "far_from_incident",
            "unknown",
            "no location in the photo" if not gps else "the incident postcode could not be located",
        )
    km = distance_km((float(gps["lat"]), float(gps["lon"])), facts.incident_point)
    if km > FAR_KM:
        return _signal(
            "far_from_incident", "fired", f"taken {km:,.0f} km from the incident postcode"
        )
    return _signal("far_from_incident", "clear", f"taken {km:,.1f} km from the incident postcode")


def reuse(
    evidence: dict[str, Any], matches: list[dict[str, Any]], facts: ClaimFacts
) -> list[dict[str, str]]:
    """A photo like one in another claim: another customer's (high) or their own (medium).
    Unknown, never a pass, for a photo without the detail for its hashes to identify it (a
    plain colour, a smooth gradient: similarity.comparable): it was never compared."""
    if not comparable(evidence):
        return [
            _signal("reused_photo", "unknown", TOO_LITTLE_DETAIL),
            _signal("reused_own_photo", "unknown", TOO_LITTLE_DETAIL),
        ]
    others = [m for m in matches if m["journey_id"] != facts.journey_id]
    theirs = [m for m in others if m["customer_id"] != facts.customer_id]
    own = [m for m in others if m["customer_id"] == facts.customer_id]
    found = []
    if theirs:
        closest = min(m["distance"] for m in theirs)
        found.append(
            _signal(
                "reused_photo",
                "fired",
                f"matches a photo in another customer's claim "
                f"({len(theirs)} match{'es' if len(theirs) > 1 else ''}, "
                f"{closest} bits apart)",
            )
        )
    else:
        found.append(
            _signal("reused_photo", "clear", "no similar photo in other customers' claims")
        )
    if own:
        found.append(
            _signal(
                "reused_own_photo",
                "fired",
                f"matches a photo in your earlier claim ({min(m['distance'] for m in own)} "
                f"bits apart)",
            )
        )
    else:
        found.append(_signal("reused_own_photo", "clear", "no similar photo in earlier claims"))
    return found


def no_metadata(evidence: dict[str, Any], facts: ClaimFacts) -> dict[str, str]:
    keys = ("captured_at", "camera_make", "camera_model", "gps")
    if not any(evidence.get(key) for key in keys):
        return _signal("no_metadata", "fired", "the photo carries no capture details at all")
    return _signal("no_metadata", "clear", "the photo carries capture details")


def low_resolution(evidence: dict[str, Any], facts: ClaimFacts) -> dict[str, str]:
    width, height = evidence.get("width"), evidence.get("height")
    if not width or not height:
        return _signal("low_resolution", "unknown", "the photo's size is not known")
    pixels = int(width) * int(height)
    if pixels < LOW_RESOLUTION_PIXELS:
        return _signal(
            "low_resolution", "fired", f"{width}×{height} pixels ({pixels / 1e6:.2f} megapixels)"
        )
    return _signal("low_resolution", "clear", f"{width}×{height} pixels")


def photo_signals(
    evidence: dict[str, Any], facts: ClaimFacts, matches: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """Every signal of the specification for one photo, fired, clear or unknown."""
    return [
        taken_before_policy(evidence, facts),
        taken_before_incident(evidence, facts),
        edited(evidence, facts),
        far_from_incident(evidence, facts),
        *reuse(evidence, matches, facts),
        no_metadata(evidence, facts),
        low_resolution(evidence, facts),
    ]


def summary(signals_by_document: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
    """What checks and decisions read: fired signals counted by severity, with evidence."""
    fired = [
        {"document": document, **signal}
        for document, signals in signals_by_document.items()
        for signal in signals
        if signal["status"] == "fired"
    ]
    return {
        "high": sum(1 for s in fired if s["severity"] == "high"),
        "medium": sum(1 for s in fired if s["severity"] == "medium"),
        "low": sum(1 for s in fired if s["severity"] == "low"),
        "fired": fired,
        "photos": len(signals_by_document),
    }
