"""The experiments' intervals against published values: Wilson's score interval and
Newcombe's hybrid score interval for a difference of proportions (Newcombe 1998, "Two-sided
confidence intervals for the single proportion" and "Interval estimation for the difference
between independent proportions", method 10, to the four places the papers print), Welch's
interval on R's `sleep` data (`t.test(extra ~ group, data = sleep)`), Student's t quantiles
from the tables, and the edge cases: no successes, all successes, no trials."""

from __future__ import annotations

from statistics import mean, variance

import pytest

from wayline.insights.experiments.statistics import (
    Interval,
    Summary,
    mean_interval,
    proportion_difference,
    t_quantile,
    welch_difference,
    wilson,
    z_value,
)


def places(interval: Interval, digits: int = 4) -> tuple[float, float]:
    return round(interval.low, digits), round(interval.high, digits)


@pytest.mark.parametrize(
    ("successes", "n", "expected"),
    [
        (81, 263, (0.2553, 0.3662)),  # Newcombe 1998a, example (a)
        (15, 148, (0.0624, 0.1605)),  # (b)
        (0, 20, (0.0, 0.1611)),  # (c): no successes
        (1, 29, (0.0061, 0.1718)),  # (d)
    ],
)
def test_wilson_matches_newcombes_single_proportion_examples(
    successes: int, n: int, expected: tuple[float, float]
) -> None:
    assert places(wilson(successes, n)) == expected


def test_wilson_with_every_trial_a_success_mirrors_none() -> None:
    none, every = wilson(0, 20), wilson(20, 20)
    assert every.high == 1.0 and none.low == 0.0
    assert every.low == pytest.approx(1 - none.high)


def test_wilson_without_trials_knows_nothing() -> None:
    assert wilson(0, 0) == Interval(0.0, 1.0)


@pytest.mark.parametrize(("successes", "n"), [(-1, 10), (11, 10), (0, -1)])
def test_wilson_refuses_impossible_counts(successes: int, n: int) -> None:
    with pytest.raises(ValueError, match="impossible counts"):
        wilson(successes, n)


def test_a_wider_confidence_gives_a_wider_interval() -> None:
    assert wilson(81, 263, 0.99).half_width > wilson(81, 263).half_width
    assert z_value() == pytest.approx(1.959964, abs=1e-6)


# Newcombe 1998b, Table II, method 10: (m/n for the first group, then the second) and the
# interval for the first proportion minus the second.
NEWCOMBE = [
    ((56, 70), (48, 80), (0.0524, 0.3339)),
    ((9, 10), (3, 10), (0.1705, 0.8090)),
    ((6, 7), (2, 7), (0.0582, 0.8062)),
    ((5, 56), (0, 29), (-0.0381, 0.1926)),
    ((0, 10), (0, 20), (-0.1611, 0.2775)),
    ((0, 10), (0, 10), (-0.2775, 0.2775)),
    ((10, 10), (0, 20), (0.6791, 1.0)),
    ((10, 10), (0, 10), (0.6075, 1.0)),
]


@pytest.mark.parametrize(("first", "second", "expected"), NEWCOMBE)
def test_the_difference_matches_newcombes_worked_examples(
    first: tuple[int, int], second: tuple[int, int], expected: tuple[float, float]
) -> None:
    # proportion_difference(a, b) is p_b - p_a: the paper's first group is arm b.
    assert places(proportion_difference(*second, *first)) == expected


def test_the_difference_turns_round_when_the_arms_swap() -> None:
    forward = proportion_difference(48, 80, 56, 70)
    backward = proportion_difference(56, 70, 48, 80)
    assert backward.low == pytest.approx(-forward.high)
    assert backward.high == pytest.approx(-forward.low)


def test_the_difference_needs_trials_in_both_arms() -> None:
    with pytest.raises(ValueError, match="both arms"):
        proportion_difference(0, 0, 5, 10)


SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def summary(values: list[float]) -> Summary:
    return Summary(len(values), mean(values), variance(values))


def test_welch_matches_r_on_the_sleep_data() -> None:
    # R: t.test(extra ~ group, data = sleep) gives -3.3654832 0.2054832 for group 1 - group 2.
    interval = welch_difference(summary(SLEEP_2), summary(SLEEP_1))
    assert places(interval, 6) == (-3.365483, 0.205483)


def test_the_mean_interval_matches_r() -> None:
    # R: t.test(sleep$extra[1:10]) gives -0.5297804 2.0297804.
    assert places(mean_interval(summary(SLEEP_1)), 6) == (-0.52978, 2.02978)


def test_welch_without_spread_is_the_difference_itself() -> None:
    assert welch_difference(Summary(5, 10.0, 0.0), Summary(5, 12.0, 0.0)) == Interval(2.0, 2.0)


def test_means_need_two_values() -> None:
    with pytest.raises(ValueError):
        mean_interval(Summary(1, 3.0, 0.0))
    with pytest.raises(ValueError):
        welch_difference(Summary(1, 3.0, 0.0), Summary(10, 3.0, 1.0))


@pytest.mark.parametrize(
    ("p", "freedom", "expected"),
    [
        (0.975, 1, 12.7062),
        (0.975, 10, 2.2281),
        (0.975, 30, 2.0423),
        (0.95, 5, 2.0150),
        (0.025, 10, -2.2281),
        (0.975, 1e7, 1.9600),
    ],
)
def test_t_quantiles_match_the_tables(p: float, freedom: float, expected: float) -> None:
    assert round(t_quantile(p, freedom), 4) == expected
