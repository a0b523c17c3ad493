"""Drift: whether the cases scored now look like the ones the model was trained on.

At training, each feature's values are cut into reference bins (numbers: at the deciles of
the training values; flags: false and true; categories: each known value and "other"; every
feature: "missing" too) and the share of training rows in each bin is kept in the card. Later,
recent feature rows are counted into the same bins and compared with the population stability
index:

    PSI = Σ over bins (actual − expected) × ln(actual / expected)

with every share floored at 0.0001 so that an empty bin counts without dividing by zero. Below
0.1 a feature is stable, from 0.1 to the threshold (0.2 by default) it is one to watch, above
the threshold it has drifted and the check warns. Everything here is a pure function.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from wayline.models.spec import Feature, Kind

FLOOR = 0.0001
THRESHOLD = 0.2
WATCH = 0.1
DECILES = tuple(step / 10 for step in range(1, 10))
MISSING = "missing"
OTHER = "other"


class Reference(BaseModel):
    """A feature's reference bins and the share of training rows in each.

    Numbers: `edges` are the inner cut points, bin i holds values ≤ edges[i] (the last bin,
    values above every edge), then "missing". Flags: "false", "true", "missing". Categories:
    each of `categories`, then "other", then "missing"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    feature: str
    kind: Kind
    edges: list[float] = []
    categories: list[str] = []
    bins: list[str]
    proportions: list[float]


class Status(StrEnum):
    STABLE = "stable"
    WATCH = "watch"
    DRIFT = "drift"


class FeatureDrift(BaseModel):
    model_config = ConfigDict(frozen=True)

    feature: str
    psi: float
    status: Status


class DriftReport(BaseModel):
    """Each feature's PSI against training, and a warning when any is above the threshold."""

    model_config = ConfigDict(frozen=True)

    rows: int
    threshold: float
    watch: float
    features: list[FeatureDrift]

    @property
    def drifted(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.status is Status.DRIFT]

    @property
    def warning(self) -> str | None:
        """What to tell the team when a feature drifted; None when none did."""
        if not self.drifted:
            return None
        named = ", ".join(f"{f.feature} (PSI {f.psi:.2f})" for f in self.drifted)
        return (
            f"Drift above {self.threshold:g}: {named}. The cases scored now differ from the "
            "training data: check the features' inputs, and consider training a new version."
        )


def reference(feature: Feature, values: Sequence[Any]) -> Reference:
    """The reference bins of `feature` from its training values (None: missing)."""
    edges: list[float] = []
    categories: list[str] = []
    if feature.kind is Kind.NUMBER:
        edges = _deciles(sorted(float(v) for v in values if v is not None))
        bins = [f"≤ {edge:g}" for edge in edges] + [f"> {edges[-1]:g}" if edges else "any"]
    elif feature.kind is Kind.FLAG:
        bins = ["false", "true"]
    else:
        categories = sorted({str(v) for v in values if v is not None})
        bins = [*categories, OTHER]
    empty = Reference(
        feature=feature.name,
        kind=feature.kind,
        edges=edges,
        categories=categories,
        bins=[*bins, MISSING],
        proportions=[],
    )
    return empty.model_copy(update={"proportions": proportions(empty, values)})


def bin_of(ref: Reference, value: Any) -> int:
    """The index of the bin `value` falls in."""
    if value is None:
        return len(ref.bins) - 1
    if ref.kind is Kind.NUMBER:
        number = _number(value)
        if number is None:  # not a number the model could take: counted as missing
            return len(ref.bins) - 1
        return bisect.bisect_left(ref.edges, number)
    if ref.kind is Kind.FLAG:
        return 1 if value else 0
    text = str(value)
    return ref.categories.index(text) if text in ref.categories else len(ref.categories)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def proportions(ref: Reference, values: Sequence[Any]) -> list[float]:
    """The share of `values` in each of `ref`'s bins (they sum to 1); ValueError if empty."""
    if not values:
        raise ValueError(f"{ref.feature}: no values to count")
    counts = [0] * len(ref.bins)
    for value in values:
        counts[bin_of(ref, value)] += 1
    return [count / len(values) for count in counts]


def psi(expected: Sequence[float], actual: Sequence[float], floor: float = FLOOR) -> float:
    """The population stability index of `actual` shares against `expected` ones."""
    if len(expected) != len(actual):
        raise ValueError("expected and actual need the same bins")
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, floor), max(a, floor)
        total += (a - e) * math.log(a / e)
    return total


def status(value: float, threshold: float = THRESHOLD, watch: float = WATCH) -> Status:
    """Stable below `watch`, watch up to `threshold`, drift above it."""
    if value > threshold:
        return Status.DRIFT
    return Status.WATCH if value >= watch else Status.STABLE


def check_drift(
    references: Iterable[Reference],
    rows: Sequence[Mapping[str, Any]],
    threshold: float = THRESHOLD,
    watch: float = WATCH,
) -> DriftReport:
    """Each referenced feature's PSI between training and `rows` (feature name → value)."""
    if not rows:
        raise ValueError("no feature rows to compare with training")
    found = []
    for ref in references:
        value = psi(ref.proportions, proportions(ref, [row.get(ref.feature) for row in rows]))
        found.append(
            FeatureDrift(feature=ref.feature, psi=value, status=status(value, threshold, watch))
        )
    return DriftReport(rows=len(rows), threshold=threshold, watch=watch, features=found)


def _deciles(sorted_values: list[float]) -> list[float]:
    if not sorted_values:
        return []
    last = len(sorted_values) - 1
    cuts = [sorted_values[round(q * last)] for q in DECILES]
    distinct = sorted(set(cuts))
    return distinct[:-1] if distinct and distinct[-1] == sorted_values[-1] else distinct
