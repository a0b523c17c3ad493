"""Feature values as the estimator's input: one object array, a row per case.

Numbers become floats and flags 1.0 or 0.0; a category stays its text. A value that is
missing (absent or None) becomes NaN, which the pipeline imputes as it did in training
(numbers and flags: the training median; categories: a category of their own). A value of the
wrong kind (text for a number, NaN or infinity) is refused with FeatureValueError rather than
scored as something it is not.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from wayline.models.spec import Feature, Kind

Matrix = npt.NDArray[np.object_]


class FeatureValueError(ValueError):
    """A feature value that is not of its feature's kind."""


def matrix(features: Sequence[Feature], rows: Iterable[Mapping[str, Any]]) -> Matrix:
    """The estimator's input for `rows` (each a mapping of feature name to value)."""
    encoded = [[encode(feature, row.get(feature.name)) for feature in features] for row in rows]
    array = np.empty((len(encoded), len(features)), dtype=object)
    for index, values in enumerate(encoded):
        array[index, :] = values
    return array


def encode(feature: Feature, value: Any) -> object:
    """One value as the estimator takes it: float, or text for a category; NaN when missing."""
    if value is None:
        return math.nan
    if feature.kind is Kind.CATEGORY:
        if not isinstance(value, str):
            raise FeatureValueError(f"{feature.name}: a category is text, not {value!r}")
        return value
    if feature.kind is Kind.FLAG:
        if isinstance(value, bool) or value in (0, 1):
            return float(value)
        raise FeatureValueError(f"{feature.name}: a flag is true or false, not {value!r}")
    return _number(feature, value)


def is_missing(value: object) -> bool:
    """Whether an encoded value is the missing marker."""
    return isinstance(value, float) and math.isnan(value)


def _number(feature: Feature, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise FeatureValueError(f"{feature.name}: a number, not {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise FeatureValueError(f"{feature.name}: a finite number, not {value!r}")
    return number
