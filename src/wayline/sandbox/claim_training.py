"""The demo's synthetic motor claim history, to train `claim-triage` (docs/models.md).

Each row is one past claim as the claims system would have recorded it when it was decided:
the feature values of `models/claim-triage/spec.yaml` (as its expressions computed them), two
raw answers for reading (`estimate_amount` in pounds, `incident_hour`), whether a handler had
to intervene or the claim was confirmed suspicious (`needs_handler`, the label), and three
segment flags the model card reports scores for but the model never reads
(`existing_customer`, `new_to_digital`, `possibly_vulnerable`).

The label follows the claim, never the customer's segment: a high estimate for the kind of
incident, a claim within weeks of the policy starting, earlier claims, a theft at night, few
photos and a theft or vandalism without a crime reference raise the odds; noise keeps the
relationships imperfect. Segments correlate with some features (new customers claim sooner
after their policy starts), so the card's scores by segment have something to show.

A seeded numpy generator: the same rows and seed give the same history.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

INCIDENT_TYPES = (
    "collision_vehicle",
    "collision_object",
    "theft",
    "vandalism",
    "fire",
    "weather",
    "glass",
)
TYPE_SHARES = (0.30, 0.12, 0.07, 0.10, 0.03, 0.08, 0.30)
# A typical repair estimate per kind of incident, in pounds: the spec's estimate_vs_typical
# divides the estimate by the same figures.
TYPICAL_ESTIMATE = {
    "collision_vehicle": 2400.0,
    "collision_object": 1600.0,
    "theft": 9000.0,
    "vandalism": 700.0,
    "fire": 7500.0,
    "weather": 2000.0,
    "glass": 350.0,
}
ROWS = 5000
SEED = 15


def claim_history(rows: int = ROWS, seed: int = SEED) -> list[dict[str, Any]]:
    """`rows` past claims, the same for the same seed."""
    rng = np.random.default_rng(seed)
    return [_claim(rng, number) for number in range(1, rows + 1)]


def _claim(rng: np.random.Generator, number: int) -> dict[str, Any]:
    existing = bool(rng.random() < 0.7)
    incident = str(rng.choice(INCIDENT_TYPES, p=TYPE_SHARES))
    hour = _hour(rng, incident)
    night = None if hour is None else (hour >= 22 or hour < 5)
    estimate = _estimate(rng, incident)
    claim: dict[str, Any] = {
        "claim": f"HIST-{number:05d}",
        "estimate_amount": estimate,
        "incident_hour": hour,
        "estimate_vs_typical": None
        if estimate is None
        else round(estimate / TYPICAL_ESTIMATE[incident], 3),
        "incident_type": incident,
        "days_since_policy_start": _days_on_cover(rng, existing),
        "previous_claims_2y": int(rng.poisson(0.3 if existing else 0.12)),
        "photos_count": int(rng.poisson(0.4)) if incident == "theft" else _photos(rng),
        "night_incident": night,
        "theft_at_night": None if night is None else (incident == "theft" and night),
        "police_report": incident in ("theft", "vandalism") and bool(rng.random() < 0.82),
        "injuries": incident == "collision_vehicle" and bool(rng.random() < 0.12),
        "existing_customer": existing,
        "new_to_digital": bool(rng.random() < (0.12 if existing else 0.3)),
        "possibly_vulnerable": bool(rng.random() < 0.07),
    }
    claim["needs_handler"] = bool(rng.random() < _odds_of_intervention(rng, claim))
    return claim


def _odds_of_intervention(rng: np.random.Generator, claim: dict[str, Any]) -> float:
    """The chance a handler had to step in, from the claim alone (never its segments)."""
    incident = claim["incident_type"]
    logit = -2.9 + float(rng.normal(0.0, 0.3))
    if claim["estimate_vs_typical"] is not None:
        logit += 2.2 * math.log(claim["estimate_vs_typical"])
    logit += 2.0 * math.exp(-claim["days_since_policy_start"] / 60)
    logit += 0.6 * claim["previous_claims_2y"]
    logit += {"theft": 0.5, "fire": 0.6, "glass": -0.6}.get(incident, 0.0)
    logit += 1.5 if claim["theft_at_night"] else 0.0
    logit += 0.3 if claim["night_incident"] else 0.0
    logit -= 0.2 * (claim["photos_count"] - 3) if incident != "theft" else 0.0
    if incident in ("theft", "vandalism") and not claim["police_report"]:
        logit += 1.0
    logit += 0.5 if claim["injuries"] else 0.0
    return 1.0 / (1.0 + math.exp(-logit))


def _hour(rng: np.random.Generator, incident: str) -> int | None:
    """The hour of the incident; None when the customer left the time out (about 1 in 7)."""
    if rng.random() < 0.15:
        return None
    night_share = 0.45 if incident in ("theft", "vandalism") else 0.12
    if rng.random() < night_share:
        return int(rng.choice([22, 23, 0, 1, 2, 3, 4]))
    return int(rng.integers(5, 22))


def _estimate(rng: np.random.Generator, incident: str) -> float | None:
    """The repair estimate in pounds; None for thefts and repairer settlements (no estimate)."""
    if incident == "theft" or rng.random() < 0.45:
        return None
    amount = TYPICAL_ESTIMATE[incident] * float(rng.lognormal(0.0, 0.35))
    if rng.random() < 0.07:  # an inflated estimate
        amount *= float(rng.lognormal(0.9, 0.3))
    return round(min(amount, 100_000.0), 2)


def _days_on_cover(rng: np.random.Generator, existing: bool) -> int:
    if existing:
        return int(rng.integers(30, 1825))
    return int(min(rng.exponential(120.0), 365.0))


def _photos(rng: np.random.Generator) -> int:
    return int(min(1 + rng.poisson(2.6), 10))
