"""The drift check of the models in use (docs/models.md): for each model and version that
scored one of the last N journeys (acted on or in shadow), the population stability index of
each feature between its training data (the card's reference bins) and the feature values
those journeys were scored with.

The values are read from the journeys' sealed states, in one read transaction, and never leave
this module: a report holds feature names and PSIs only. `wayline insights ingest` runs it
after taking in the events, prints what drifted and logs `model.drift`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from wayline.journeys.engine import JourneyState
from wayline.models import DriftReport, NoSuchModel, card, check_drift
from wayline.store import Store
from wayline.store.model_scores import recent_scored

log = structlog.get_logger("wayline.models")

Rows = list[Mapping[str, Any]]


@dataclass(frozen=True)
class ModelDrift:
    """One model version's drift: its report over the `report.rows` journeys it scored."""

    model: str
    version: int
    report: DriftReport


def check_models(store: Store, root: Path, last_n: int, threshold: float) -> list[ModelDrift]:
    """Each model version that scored any of the `last_n` most recent scored journeys, checked
    against its card under `root`, by model then version. A version whose card is missing is
    logged and left out. Logs `model.drift` (names and PSIs only) for each that drifted."""
    with store.read() as connection:
        states = recent_scored(connection, last_n)
    found = []
    for (model, version), rows in sorted(feature_rows(states).items()):
        try:
            references = card(root, model, version).reference
        except (NoSuchModel, FileNotFoundError):
            log.warning("model.drift_unchecked", model=model, version=version, reason="no card")
            continue
        drift = ModelDrift(model, version, check_drift(references, rows, threshold=threshold))
        _warn(drift)
        found.append(drift)
    return found


def feature_rows(states: Iterable[JourneyState]) -> dict[tuple[str, int], Rows]:
    """The feature values each model version was given, by (model, version): one row per
    journey and scoring, from the live entry and its shadow alike."""
    rows: dict[tuple[str, int], Rows] = {}
    for state in states:
        for entry in _entries(state):
            key = (str(entry["model"]), int(entry["version"]))
            rows.setdefault(key, []).append(entry["features"])
    return rows


def _entries(state: JourneyState) -> Iterator[dict[str, Any]]:
    """Every scoring kept in the state (each model's, then its shadow's) that names its model,
    version and features."""
    for kept in state.scores.values():
        for entry in (kept, kept.get("shadow")):
            if (
                isinstance(entry, dict)
                and isinstance(entry.get("model"), str)
                and isinstance(entry.get("version"), int)
                and isinstance(entry.get("features"), dict)
            ):
                yield entry


def _warn(drift: ModelDrift) -> None:
    """The structured warning of a drifted version: names and PSIs, never a value."""
    if not drift.report.drifted:
        return
    log.warning(
        "model.drift",
        model=drift.model,
        version=drift.version,
        rows=drift.report.rows,
        threshold=drift.report.threshold,
        features={f.feature: round(f.psi, 3) for f in drift.report.drifted},
    )
