"""Exact explanations of a linear model's score, and the words a claims handler reads.

The model is a logistic regression over prepared columns z (numbers and flags imputed and
standardised, categories one-hot). Its log-odds are intercept + Σ coefᵢ zᵢ. Against the mean
prepared training row z̄, each column contributes coefᵢ (zᵢ − z̄ᵢ), and

    log-odds = base value + Σ contributions,   base value = intercept + Σ coefᵢ z̄ᵢ

exactly: these are the SHAP values of the linear model with independent features
(shap.LinearExplainer with the training rows as background), computed with one dot product,
without shap. A feature's contribution is the sum over its columns (a category's one-hot
columns together). Contributions are in log-odds: +0.7 roughly doubles the odds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from wayline.models.features import Matrix
from wayline.models.spec import Feature, Kind

Vector = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Attribution:
    """One case's log-odds split into the base value and each feature's contribution."""

    base_value: float
    log_odds: float
    contributions: dict[str, float]
    higher: dict[str, bool]  # numbers and flags: above the training mean (after imputing)


@dataclass(frozen=True)
class LinearExplainer:
    """What explaining needs: the fitted pipeline's parts and the mean prepared row.

    `prepare` maps the input matrix to prepared columns; `columns` names the feature each
    prepared column comes from; `coef` and `intercept` are the regression's."""

    prepare: Any
    coef: Vector
    intercept: float
    background: Vector
    columns: tuple[str, ...]

    def __post_init__(self) -> None:
        width = len(self.columns)
        if self.coef.shape != (width,) or self.background.shape != (width,):
            raise ValueError("coef, background and columns must have one entry per column")

    @property
    def base_value(self) -> float:
        return float(self.intercept + self.coef @ self.background)

    def attribute(self, row: Matrix) -> Attribution:
        """The attribution of one case (`row`: a one-row input matrix)."""
        prepared = np.asarray(self.prepare.transform(row), dtype=np.float64)[0]
        centred = prepared - self.background
        per_column = self.coef * centred
        contributions: dict[str, float] = {}
        higher: dict[str, bool] = {}
        for index, feature in enumerate(self.columns):
            contributions[feature] = contributions.get(feature, 0.0) + float(per_column[index])
            higher[feature] = bool(centred[index] > 0)
        log_odds = float(self.intercept + self.coef @ prepared)
        return Attribution(self.base_value, log_odds, contributions, higher)


def words(feature: Feature, value: Any, higher: bool) -> str:
    """The phrase for `feature` at `value` (None: missing) from the spec's templates."""
    said = feature.words
    if value is None:
        template = said.missing
    elif feature.kind is Kind.CATEGORY:
        template = said.values.get(str(value), said.other)
    else:
        template = (said.higher if higher else said.lower) or ""
    return template.format(value=_shown(value), label=feature.label)


def top(contributions: dict[str, float], count: int | None) -> Sequence[tuple[str, float]]:
    """Features by absolute contribution, largest first (ties by name); the first `count`."""
    ordered = sorted(contributions.items(), key=lambda item: (-abs(item[1]), item[0]))
    return ordered if count is None else ordered[:count]


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
