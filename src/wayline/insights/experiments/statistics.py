"""Confidence intervals for comparing the arms of an experiment: pure arithmetic, no I/O.

- A proportion (the share of an arm that completed, or that dropped off at a step): the
  Wilson score interval (Wilson 1927), which stays inside 0 to 1 and behaves at 0 and at all
  successes, unlike the textbook normal ("Wald") interval.
- The difference of two proportions: Newcombe's hybrid score interval (Newcombe 1998, method
  10), built from each arm's Wilson interval; it has close to nominal coverage even for small
  or extreme proportions.
- Time to complete: the difference of means with Welch's t interval (unequal variances,
  Welch-Satterthwaite degrees of freedom). Chosen over a bootstrap of medians because it needs
  only each arm's count, mean and variance (the warehouse aggregates them; no journey's times
  leave it), gives the same answer every time without a random seed, and with the minimum
  sample an experiment asks for (100 a side by default) the means are close to normal even
  for skewed times. The price: a mean is pulled by a few very slow journeys, which the page's
  medians elsewhere are not.

Every function takes counts or summaries and returns an `Interval`; `confidence` is two-sided
(0.95 for a 95% interval).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A closed interval `low` to `high` (low <= high)."""

    low: float
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def above_zero(self) -> bool:
        return self.low > 0

    def below_zero(self) -> bool:
        return self.high < 0


@dataclass(frozen=True)
class Summary:
    """A sample of numbers as its count, mean and sample variance (n - 1 in the divisor)."""

    n: int
    mean: float
    variance: float


def z_value(confidence: float = CONFIDENCE) -> float:
    """The standard normal quantile for a two-sided `confidence` (1.959964 for 0.95)."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(successes: int, n: int, confidence: float = CONFIDENCE) -> Interval:
    """The Wilson score interval for `successes` out of `n`. With n = 0 nothing is known: the
    whole range 0 to 1. ValueError when the counts are impossible (negative, or more successes
    than trials)."""
    _check_counts(successes, n)
    if n == 0:
        return Interval(0.0, 1.0)
    z = z_value(confidence)
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    # At 0 or n successes one bound is exactly 0 or 1; arithmetic must not leave it a hair off.
    low = 0.0 if successes == 0 else (centre - spread) / scale
    high = 1.0 if successes == n else (centre + spread) / scale
    return Interval(low, high)


def proportion_difference(
    successes_a: int, n_a: int, successes_b: int, n_b: int, confidence: float = CONFIDENCE
) -> Interval:
    """Newcombe's hybrid score interval for p_b - p_a (arm b against arm a), from each arm's
    Wilson interval. ValueError when either arm has no trials (no difference to estimate)."""
    if n_a == 0 or n_b == 0:
        raise ValueError("a difference of proportions needs trials in both arms")
    a = wilson(successes_a, n_a, confidence)
    b = wilson(successes_b, n_b, confidence)
    p_a, p_b = successes_a / n_a, successes_b / n_b
    difference = p_b - p_a
    low = difference - math.sqrt((p_b - b.low) ** 2 + (a.high - p_a) ** 2)
    high = difference + math.sqrt((b.high - p_b) ** 2 + (p_a - a.low) ** 2)
    return Interval(max(low, -1.0), min(high, 1.0))


def mean_interval(sample: Summary, confidence: float = CONFIDENCE) -> Interval:
    """Student's t interval for the mean of one sample. ValueError below two values (a
    variance needs two)."""
    if sample.n < 2:
        raise ValueError("an interval for a mean needs at least two values")
    error = math.sqrt(sample.variance / sample.n)
    t = t_quantile(0.5 + confidence / 2, sample.n - 1)
    return Interval(sample.mean - t * error, sample.mean + t * error)


def welch_difference(a: Summary, b: Summary, confidence: float = CONFIDENCE) -> Interval:
    """Welch's interval for mean_b - mean_a, with Welch-Satterthwaite degrees of freedom.
    ValueError when either sample has fewer than two values. Two samples without any spread
    give the difference itself."""
    if a.n < 2 or b.n < 2:
        raise ValueError("Welch's interval needs at least two values in each sample")
    share_a, share_b = a.variance / a.n, b.variance / b.n
    difference = b.mean - a.mean
    error = math.sqrt(share_a + share_b)
    if error == 0:
        return Interval(difference, difference)
    freedom = (share_a + share_b) ** 2 / (share_a**2 / (a.n - 1) + share_b**2 / (b.n - 1))
    t = t_quantile(0.5 + confidence / 2, freedom)
    return Interval(difference - t * error, difference + t * error)


def t_quantile(p: float, freedom: float) -> float:
    """The `p` quantile of Student's t with `freedom` degrees of freedom (any positive real),
    found by bisection on the distribution function to about 1e-12."""
    if not 0 < p < 1 or freedom <= 0:
        raise ValueError("t_quantile needs 0 < p < 1 and positive degrees of freedom")
    if p < 0.5:
        return -t_quantile(1 - p, freedom)
    low, high = 0.0, 1.0
    while t_cdf(high, freedom) < p:
        low, high = high, high * 2
    for _ in range(200):
        middle = (low + high) / 2
        if t_cdf(middle, freedom) < p:
            low = middle
        else:
            high = middle
        if high - low < 1e-12:
            break
    return (low + high) / 2


def t_cdf(t: float, freedom: float) -> float:
    """Student's t distribution function, through the regularized incomplete beta."""
    tail = 0.5 * _incomplete_beta(freedom / 2, 0.5, freedom / (freedom + t * t))
    return 1 - tail if t > 0 else tail


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta I_x(a, b) (Numerical Recipes' continued fraction)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(a, b, x) / a
    return 1 - front * _beta_fraction(b, a, 1 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta, by the modified Lentz method."""
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 500):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1) < 1e-15:
            break
    return result


def _check_counts(successes: int, n: int) -> None:
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"impossible counts: {successes} successes out of {n}")
