"""Photo fraud signals: each fires on a photo made for it, stays clear on a clean one, and is
unknown (never a pass) when the metadata it needs is missing."""

from datetime import date

import pytest

from wayline.documents.signals import ClaimFacts, distance_km, photo_signals, summary

FACTS = ClaimFacts(
    customer_id="alex",
    journey_id="j1",
    policy_start=date(2026, 3, 1),
    incident_date=date(2026, 11, 20),
    incident_point=(51.501, -0.141),
)
CLEAN = {
    "kind": "image",
    "width": 4032,
    "height": 3024,
    "captured_at": "2026-11-20T15:04:00",
    "camera_make": "Apple",
    "camera_model": "iPhone 15",
    "software": "17.1",
    "gps": {"lat": 51.5033, "lon": -0.1196},
}


def by_code(evidence, matches=(), facts=FACTS):
    return {s["code"]: s for s in photo_signals(evidence, facts, list(matches))}


def test_a_clean_photo_fires_nothing():
    signals = by_code(CLEAN)
    assert {code: s["status"] for code, s in signals.items()} == dict.fromkeys(signals, "clear")
    assert len(signals) == 8


def test_taken_before_the_policy_started_is_high_with_days_in_words():
    signal = by_code({**CLEAN, "captured_at": "2025-08-01T10:00:00"})["taken_before_policy"]
    assert (signal["status"], signal["severity"]) == ("fired", "high")
    assert signal["evidence"] == "taken 212 days before the policy started"


def test_taken_more_than_48_hours_before_the_incident_is_medium():
    fired = by_code({**CLEAN, "captured_at": "2026-11-15T09:00:00"})["taken_before_incident"]
    assert (fired["status"], fired["severity"]) == ("fired", "medium")
    assert fired["evidence"] == "taken 5 days before the incident date"
    assert (
        by_code({**CLEAN, "captured_at": "2026-11-18T09:00:00"})["taken_before_incident"]["status"]
        == "clear"
    )


@pytest.mark.parametrize("software", ["Adobe Photoshop 25.0", "GIMP 2.10", "Snapseed", "PicsArt"])
def test_an_editor_in_the_software_tag_is_medium(software):
    signal = by_code({**CLEAN, "software": software})["edited"]
    assert (signal["status"], signal["severity"]) == ("fired", "medium")
    assert software in signal["evidence"]


def test_an_editor_in_the_xmp_history_fires_too():
    assert (
        by_code({**CLEAN, "xmp_history": ["Adobe Lightroom Classic"]})["edited"]["status"]
        == "fired"
    )


def test_far_from_the_incident_postcode_is_medium_with_the_distance():
    manchester = {**CLEAN, "gps": {"lat": 53.4808, "lon": -2.2426}}
    signal = by_code(manchester)["far_from_incident"]
    assert (signal["status"], signal["severity"]) == ("fired", "medium")
    assert signal["evidence"].startswith("taken 2") and signal["evidence"].endswith(
        "km from the incident postcode"
    )


def test_reuse_by_another_customer_is_high_and_by_the_same_customer_medium():
    matches = [
        {"journey_id": "j2", "customer_id": "sam", "distance": 3},
        {"journey_id": "j3", "customer_id": "alex", "distance": 0},
        {"journey_id": "j1", "customer_id": "alex", "distance": 0},
    ]
    signals = by_code(CLEAN, matches)
    assert (signals["reused_photo"]["status"], signals["reused_photo"]["severity"]) == (
        "fired",
        "high",
    )
    assert "another customer's claim" in signals["reused_photo"]["evidence"]
    assert signals["reused_own_photo"]["status"] == "fired"


def test_a_match_within_the_same_claim_is_not_reuse():
    matches = [{"journey_id": "j1", "customer_id": "alex", "distance": 0}]
    signals = by_code(CLEAN, matches)
    assert signals["reused_photo"]["status"] == signals["reused_own_photo"]["status"] == "clear"


def test_no_metadata_is_low_and_makes_the_others_unknown_not_clear():
    bare = {"kind": "image", "width": 800, "height": 600}
    signals = by_code(bare)
    assert (signals["no_metadata"]["status"], signals["no_metadata"]["severity"]) == (
        "fired",
        "low",
    )
    for code in ("taken_before_policy", "taken_before_incident", "edited", "far_from_incident"):
        assert signals[code]["status"] == "unknown", code


def test_under_0_3_megapixels_is_low_resolution():
    signal = by_code({**CLEAN, "width": 640, "height": 400})["low_resolution"]
    assert (signal["status"], signal["severity"]) == ("fired", "low")
    assert signal["evidence"] == "640×400 pixels (0.26 megapixels)"


def test_unknown_facts_make_unknown_signals():
    facts = ClaimFacts("alex", "j1", policy_start=None, incident_date=None, incident_point=None)
    signals = by_code(CLEAN, facts=facts)
    for code in ("taken_before_policy", "taken_before_incident", "far_from_incident"):
        assert signals[code]["status"] == "unknown"


def test_summary_counts_fired_signals_by_severity():
    counted = summary(
        {
            "d1": photo_signals(
                {**CLEAN, "captured_at": "2025-08-01T10:00:00", "software": "GIMP"}, FACTS, []
            ),
            "d2": photo_signals(CLEAN, FACTS, []),
        }
    )
    assert (counted["high"], counted["medium"], counted["low"], counted["photos"]) == (1, 2, 0, 2)
    assert {s["code"] for s in counted["fired"]} == {
        "taken_before_policy",
        "taken_before_incident",
        "edited",
    }


def test_distance_between_london_and_manchester():
    assert distance_km((51.5074, -0.1278), (53.4808, -2.2426)) == pytest.approx(262, abs=3)
