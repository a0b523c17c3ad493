"""Scoring one case: its probability, and the reasons, in words, that moved it most.

`Model.score` takes feature values already computed by the journey (the spec's expressions)
and returns a `Scored`: the probability of the positive class, the model and version, and the
top reasons sorted by absolute contribution. A missing value (absent or None) is imputed as in
training; a category the model never saw counts as none of the known ones; a value of the
wrong kind raises FeatureValueError.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wayline.models.card import Card
from wayline.models.explain import LinearExplainer, top, words
from wayline.models.features import matrix

TOP_REASONS = 3


@dataclass(frozen=True)
class Reason:
    """One feature's part in a score: its value, its contribution in log-odds (positive
    raises the score), and the words a claims handler reads."""

    feature: str
    label: str
    value: Any
    contribution: float
    words: str

    @property
    def text(self) -> str:
        """The words with the contribution, e.g. "estimate much higher … (+0.21)"."""
        return f"{self.words} ({self.contribution:+.2f})"


@dataclass(frozen=True)
class Scored:
    """A score with its reasons. base_value + Σ contributions of every feature = log_odds,
    and score = 1 / (1 + e^−log_odds)."""

    model: str
    version: int
    score: float
    log_odds: float
    base_value: float
    reasons: list[Reason]


class Model:
    """A loaded version of a model (see `registry.load_model`), ready to score."""

    def __init__(self, card: Card, explainer: LinearExplainer, estimator: Any) -> None:
        self.card = card
        self.explainer = explainer
        self.estimator = estimator

    @property
    def name(self) -> str:
        return self.card.name

    @property
    def version(self) -> int:
        return self.card.version

    def score(self, values: Mapping[str, Any], top_reasons: int | None = TOP_REASONS) -> Scored:
        """Score one case from its feature values; `top_reasons=None` gives every feature."""
        row = matrix(self.card.features, [values])
        attribution = self.explainer.attribute(row)
        reasons = [
            self._reason(name, values.get(name), contribution, attribution.higher[name])
            for name, contribution in top(attribution.contributions, top_reasons)
        ]
        return Scored(
            model=self.name,
            version=self.version,
            score=_probability(attribution.log_odds),
            log_odds=attribution.log_odds,
            base_value=attribution.base_value,
            reasons=reasons,
        )

    def _reason(self, name: str, value: Any, contribution: float, higher: bool) -> Reason:
        feature = next(f for f in self.card.features if f.name == name)
        return Reason(
            feature=name,
            label=feature.label,
            value=value,
            contribution=contribution,
            words=words(feature, value, higher),
        )


def _probability(log_odds: float) -> float:
    if log_odds >= 0:
        return 1.0 / (1.0 + math.exp(-log_odds))
    odds = math.exp(log_odds)
    return odds / (1.0 + odds)
