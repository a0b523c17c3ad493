"""The model card: what a version was trained on, what it reads, how good it is, whom its
scores fall on, and what drift is measured against. Written beside the model as `card.json`
(read back by the scoring and drift code: it carries the features with their words) and
`card.md` (for people).
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from wayline.models.drift import Reference
from wayline.models.evaluation import Metrics, SegmentScores
from wayline.models.spec import Feature, Label


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Data(Strict):
    """The training data: where from, how many rows, how they were split."""

    source: str
    rows: int
    positives: int
    base_rate: float
    training_rows: int
    evaluation_rows: int
    seed: int


class Estimator(Strict):
    """What was fitted, with which settings and library versions."""

    kind: str
    settings: dict[str, float | int | str]
    libraries: dict[str, str]


class Explanation(Strict):
    method: str
    units: str
    base_value: float


class Card(Strict):
    name: str
    version: int
    date: date
    description: str
    label: Label
    data: Data
    features: list[Feature]
    segments: list[str]
    estimator: Estimator
    metrics: Metrics
    score_distribution: list[SegmentScores]
    explanation: Explanation
    reference: list[Reference]
    trusted_types: list[str]

    def to_json(self) -> str:
        """The card as card.json holds it (stable key order, two-space indent)."""
        return self.model_dump_json(indent=2) + "\n"


def markdown(card: Card) -> str:
    """The card for people: card.md, and what `wayline models show` prints."""
    lines = [
        f"# {card.name}, version {card.version}",
        "",
        card.description,
        "",
        f"Trained on {card.date.isoformat()}. Predicts **{card.label.name}**: "
        f"{card.label.description}.",
        "",
        *_data(card),
        *_features(card),
        *_metrics(card),
        *_segments(card),
        "## Explanations",
        "",
        f"{card.explanation.method} Contributions are in {card.explanation.units}; "
        f"the base value (the average case) is {card.explanation.base_value:+.3f}.",
        "",
        "## Trusted types",
        "",
        "The model file is loaded only if it holds nothing but these types:",
        "",
        *[f"- `{name}`" for name in card.trusted_types],
    ]
    return "\n".join(lines) + "\n"


def _data(card: Card) -> list[str]:
    data, estimator = card.data, card.estimator
    settings = ", ".join(f"{key} {value}" for key, value in estimator.settings.items())
    libraries = ", ".join(f"{key} {value}" for key, value in estimator.libraries.items())
    return [
        "## Data",
        "",
        f"- Source: {data.source} ({data.rows} rows, {data.positives} positive, "
        f"base rate {data.base_rate:.1%}), seed {data.seed}",
        f"- Split: {data.training_rows} rows to train, {data.evaluation_rows} held out "
        "to evaluate (stratified)",
        f"- Estimator: {estimator.kind} ({settings}); {libraries}",
        "",
    ]


def _features(card: Card) -> list[str]:
    rows = [
        f"| `{f.name}` | {f.label} | {f.kind.value} | {f.classification.value} | "
        f"{', '.join(f'`{path}`' for path in f.reads)} |"
        for f in card.features
    ]
    return [
        "## Features",
        "",
        "| feature | label | kind | classification | reads |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
        f"Segments (reported, never used as features): {', '.join(card.segments) or 'none'}.",
        "",
    ]


def _metrics(card: Card) -> list[str]:
    m = card.metrics
    rows = [
        f"| {p.name} | {p.threshold:.3f} | {p.flagged} | "
        f"{'–' if p.precision is None else f'{p.precision:.3f}'} | {p.recall:.3f} |"
        for p in m.operating_points
    ]
    return [
        "## Metrics",
        "",
        f"On {m.evaluated_on} held-out rows ({m.positives} positive): ROC AUC {m.roc_auc:.3f}, "
        f"average precision {m.average_precision:.3f}.",
        "",
        "| operating point | threshold | flagged | precision | recall |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]


def _segments(card: Card) -> list[str]:
    rows = [
        f"| {s.segment} | {'yes' if s.member else 'no'} | {s.count} | {_n(s.mean)} | "
        f"{_n(s.p50)} | {_n(s.p90)} | {_n(s.label_rate)} |"
        for s in card.score_distribution
    ]
    return [
        "## Scores by segment",
        "",
        "Held-out rows; `label rate` is how often those rows really were positive.",
        "",
        "| segment | member | count | mean | p50 | p90 | label rate |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]


def _n(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"
