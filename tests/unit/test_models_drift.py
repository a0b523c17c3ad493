"""Drift: PSI against a hand computation, the reference bins, and when the check warns."""

from __future__ import annotations

import math

import pytest

from wayline.models import check_drift, psi
from wayline.models.drift import Status, bin_of, proportions, reference, status
from wayline.models.spec import Feature

NUMBER = Feature.model_validate(
    {
        "name": "amount",
        "kind": "number",
        "classification": "financial",
        "label": "Amount",
        "reads": ["answers.amount"],
        "expression": "answers.amount",
        "words": {"higher": "more", "lower": "less"},
    }
)
CATEGORY = Feature.model_validate(
    {
        "name": "colour",
        "kind": "category",
        "classification": "public",
        "label": "Colour",
        "reads": ["answers.colour"],
        "expression": "answers.colour",
        "words": {"values": {"red": "red", "blue": "blue"}},
    }
)


def test_psi_matches_a_hand_computation() -> None:
    # (0.25 − 0.5)·ln(0.25/0.5) + (0.75 − 0.5)·ln(0.75/0.5)
    #   = 0.25 × 0.693147 + 0.25 × 0.405465 = 0.274653
    assert psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.274653, abs=1e-6)
    assert psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0


def test_psi_floors_an_empty_bin_instead_of_dividing_by_zero() -> None:
    # actual 0 → 0.0001: (0.0001 − 0.5)·ln(0.0001/0.5) + (1 − 0.5)·ln(1/0.5)
    expected = (0.0001 - 0.5) * math.log(0.0001 / 0.5) + 0.5 * math.log(2)
    assert psi([0.5, 0.5], [0.0, 1.0]) == pytest.approx(expected)


def test_number_bins_are_deciles_with_a_missing_bin() -> None:
    ref = reference(NUMBER, [float(v) for v in range(1, 101)] + [None] * 10)
    assert ref.edges == [11.0, 21.0, 31.0, 41.0, 51.0, 60.0, 70.0, 80.0, 90.0]
    assert ref.bins[-1] == "missing" and len(ref.bins) == 11
    assert sum(ref.proportions) == pytest.approx(1.0)
    assert ref.proportions[-1] == pytest.approx(10 / 110)
    assert bin_of(ref, 11.0) == 0 and bin_of(ref, 11.5) == 1 and bin_of(ref, 1e9) == 9


def test_category_bins_count_an_unknown_value_as_other() -> None:
    ref = reference(CATEGORY, ["red", "blue", "blue", None])
    assert ref.bins == ["blue", "red", "other", "missing"]
    assert proportions(ref, ["green", "red"]) == [0.0, 0.5, 0.5, 0.0]


def test_status_bands() -> None:
    assert status(0.05) is Status.STABLE
    assert status(0.1) is Status.WATCH and status(0.2) is Status.WATCH
    assert status(0.21) is Status.DRIFT


def test_drift_warns_above_the_threshold_and_not_below() -> None:
    training = [{"colour": "red"}] * 50 + [{"colour": "blue"}] * 50
    ref = reference(CATEGORY, [row["colour"] for row in training])

    alike = check_drift([ref], [{"colour": "red"}] * 48 + [{"colour": "blue"}] * 52)
    assert alike.features[0].status is Status.STABLE
    assert alike.warning is None and alike.drifted == []

    shifted = check_drift([ref], [{"colour": "red"}] * 25 + [{"colour": "blue"}] * 75)
    assert shifted.features[0].psi == pytest.approx(0.274653, abs=1e-6)
    assert [f.feature for f in shifted.drifted] == ["colour"]
    assert shifted.warning is not None and "colour (PSI 0.27)" in shifted.warning

    lenient = check_drift([ref], [{"colour": "red"}] * 25 + [{"colour": "blue"}] * 75, 0.3)
    assert lenient.warning is None and lenient.features[0].status is Status.WATCH


def test_drift_needs_rows() -> None:
    with pytest.raises(ValueError, match="no feature rows"):
        check_drift([reference(CATEGORY, ["red"])], [])


def test_a_value_that_is_not_a_number_counts_as_missing_instead_of_failing() -> None:
    ref = reference(NUMBER, [float(v) for v in range(1, 101)])
    missing = len(ref.bins) - 1
    for value in ("lots", math.inf, math.nan, True, [1]):
        assert bin_of(ref, value) == missing
    assert bin_of(ref, "42") == bin_of(ref, 42.0)  # text that is a number is that number
