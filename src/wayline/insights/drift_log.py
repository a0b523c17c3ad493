"""Drift checks as the insight pages show them, kept in the warehouse's `model_drift` table.

The insight ingest runs the check (runtime/model_drift.py: the population stability index of
each feature between a model version's training data and its last scored journeys) and
`record`s what it found; the page reads the `latest` check of each model and version. Only
names and numbers are kept: the model, its version, each feature's name, PSI and status,
how many journeys were compared and the threshold; never a feature's value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from wayline.insights.warehouse import Warehouse

DRIFT = "drift"  # the status of a feature above the threshold (as wayline.models names it)


@dataclass(frozen=True)
class FeatureFinding:
    """One feature's PSI against training and its status: stable, watch or drift."""

    feature: str
    psi: float
    status: str


@dataclass(frozen=True)
class DriftCheck:
    """One model version's check: when, over how many journeys, against which threshold,
    and each feature's finding in the card's order."""

    model: str
    version: int
    checked_at: datetime
    rows: int
    threshold: float
    features: tuple[FeatureFinding, ...]

    @property
    def drifted(self) -> list[FeatureFinding]:
        """The features above the threshold."""
        return [f for f in self.features if f.status == DRIFT]


def record(warehouse: Warehouse, checks: Sequence[DriftCheck]) -> None:
    """Keep `checks` (one row per feature), in one transaction."""
    rows = [
        (
            _naive_utc(check.checked_at),
            check.model,
            check.version,
            check.rows,
            check.threshold,
            finding.feature,
            finding.psi,
            finding.status,
        )
        for check in checks
        for finding in check.features
    ]
    if not rows:
        return
    db = warehouse.connection
    db.execute("BEGIN TRANSACTION")
    try:
        db.executemany(
            "INSERT INTO model_drift (checked_at, model, version, scored_rows, threshold, "
            "feature, psi, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


_LATEST = """
WITH latest AS (
    SELECT model, version, max(checked_at) AS checked_at FROM model_drift GROUP BY ALL
)
SELECT d.model, d.version, d.checked_at, d.scored_rows, d.threshold, d.feature, d.psi, d.status
FROM model_drift d JOIN latest USING (model, version, checked_at)
ORDER BY d.model, d.version, d.rowid"""


def latest(warehouse: Warehouse) -> list[DriftCheck]:
    """The latest check of each model and version, by model then version (none before the
    first check)."""
    checks: dict[tuple[str, int], DriftCheck] = {}
    for model, version, at, rows, threshold, feature, psi, status in warehouse.connection.execute(
        _LATEST
    ).fetchall():
        found = checks.get((model, version)) or DriftCheck(model, version, at, rows, threshold, ())
        finding = FeatureFinding(feature, psi, status)
        checks[(model, version)] = DriftCheck(
            model, version, at, rows, threshold, (*found.features, finding)
        )
    return list(checks.values())


def _naive_utc(at: datetime) -> datetime:
    """`at` as a naive UTC time (how the warehouse keeps times)."""
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at
