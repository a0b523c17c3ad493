"""How good a model is and whom its scores fall on: metrics and scores by segment.

Both are measured on the held-out rows, which the model never saw in training.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

Scores = npt.NDArray[np.float64]
Labels = npt.NDArray[np.bool_]
OPERATING_THRESHOLDS = (0.5, 0.8)
TARGET_RECALL = 0.8


class OperatingPoint(BaseModel):
    """Cases scored at or above `threshold` are flagged: how many, how right, how complete."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    threshold: float
    flagged: int
    precision: float | None  # None when nothing is flagged
    recall: float


class Metrics(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    evaluated_on: int
    positives: int
    roc_auc: float
    average_precision: float
    operating_points: list[OperatingPoint]


class SegmentScores(BaseModel):
    """The scores of the rows in one segment (or outside it): count, mean, median, p90, and
    how often those rows were really positive."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    segment: str
    member: bool
    count: int
    mean: float | None
    p50: float | None
    p90: float | None
    label_rate: float | None


def metrics(labels: Labels, scores: Scores) -> Metrics:
    """ROC AUC, average precision, and precision and recall at 0.5, at 0.8, and at the
    highest threshold that still finds 80% of the positives."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    points = [_point(f"score ≥ {t:g}", labels, scores, t) for t in OPERATING_THRESHOLDS]
    points.append(_point("recall 0.8", labels, scores, _threshold_for_recall(labels, scores)))
    return Metrics(
        evaluated_on=len(labels),
        positives=int(labels.sum()),
        roc_auc=round(float(roc_auc_score(labels, scores)), 4),
        average_precision=round(float(average_precision_score(labels, scores)), 4),
        operating_points=points,
    )


def by_segment(
    scores: Scores, labels: Labels, segments: Mapping[str, Labels]
) -> list[SegmentScores]:
    """The score distribution of everyone, then of each segment's members and non-members."""
    rows = [_distribution("all", True, scores, labels)]
    for name, member in segments.items():
        for inside in (True, False):
            chosen = member if inside else ~member
            rows.append(_distribution(name, inside, scores[chosen], labels[chosen]))
    return rows


def _distribution(segment: str, member: bool, scores: Scores, labels: Labels) -> SegmentScores:
    if len(scores) == 0:
        return SegmentScores(
            segment=segment, member=member, count=0, mean=None, p50=None, p90=None, label_rate=None
        )
    return SegmentScores(
        segment=segment,
        member=member,
        count=len(scores),
        mean=round(float(scores.mean()), 4),
        p50=round(float(np.quantile(scores, 0.5)), 4),
        p90=round(float(np.quantile(scores, 0.9)), 4),
        label_rate=round(float(labels.mean()), 4),
    )


def _point(name: str, labels: Labels, scores: Scores, threshold: float) -> OperatingPoint:
    flagged = scores >= threshold
    hits = int((flagged & labels).sum())
    positives = int(labels.sum())
    return OperatingPoint(
        name=name,
        threshold=round(threshold, 4),
        flagged=int(flagged.sum()),
        precision=round(hits / int(flagged.sum()), 4) if flagged.any() else None,
        recall=round(hits / positives, 4) if positives else 0.0,
    )


def _threshold_for_recall(labels: Labels, scores: Scores) -> float:
    """The highest score threshold at which recall reaches TARGET_RECALL."""
    positive_scores = np.sort(scores[labels])[::-1]
    if len(positive_scores) == 0:
        return 1.0
    needed = int(np.ceil(TARGET_RECALL * len(positive_scores)))
    return float(positive_scores[needed - 1])
