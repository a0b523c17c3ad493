"""Each arm's number with its 95% interval, and each arm's verdict against the baseline arm,
with a sentence that says it in words. Pure: counts and summaries in, results out.

The verdict rule: while any arm compared has fewer journeys than the experiment's minimum
sample, "too small to tell" (and about how many more each needs). Otherwise the interval of
the difference (arm minus baseline) decides: entirely on the better side, the arm is better;
entirely on the worse side, worse; containing no difference, "no difference shown". Which
side is better depends on the metric: more completion, less drop-off, less time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from wayline.insights.experiments.questions import ExperimentQuestion, Metric
from wayline.insights.experiments.statistics import (
    Interval,
    Summary,
    mean_interval,
    proportion_difference,
    welch_difference,
    wilson,
)

HIGHER_IS_BETTER: dict[Metric, bool] = {
    "completion": True,
    "drop_off": False,
    "time_to_complete": False,
}


class Verdict(StrEnum):
    BETTER = "better"
    WORSE = "worse"
    NO_DIFFERENCE = "no difference shown"
    TOO_SMALL = "too small to tell"


@dataclass(frozen=True)
class ArmResult:
    """One arm. `n`: the journeys measured (every journey of the arm for completion, those
    that reached the step for drop-off, those that completed for time). `value`: the share
    (0 to 1) or the mean minutes; None with nothing measured. `interval`: its 95% interval;
    None when it cannot be computed (no journeys; fewer than two times). `count` holds a
    share's successes (completed, dropped), `summary` the times in minutes."""

    arm: str
    n: int
    value: float | None
    interval: Interval | None
    count: int | None = None
    summary: Summary | None = None


@dataclass(frozen=True)
class Comparison:
    """One arm against the baseline: the verdict, the difference (arm minus baseline: a
    share's difference as a fraction, or minutes) with its 95% interval (None when too small
    to tell), and a sentence that says all of it."""

    baseline: str
    arm: str
    verdict: Verdict
    difference: float | None
    interval: Interval | None
    sentence: str

    @property
    def label(self) -> str:
        """The verdict in a few words: "examples better", "no difference shown"."""
        if self.verdict in (Verdict.BETTER, Verdict.WORSE):
            return f"{self.arm} {self.verdict}"
        return str(self.verdict)


def share_arm(arm: str, count: int, n: int) -> ArmResult:
    """An arm measured as a share: `count` of its `n` journeys (Wilson interval)."""
    if n == 0:
        return ArmResult(arm, 0, None, None, count=0)
    return ArmResult(arm, n, count / n, wilson(count, n), count=count)


def time_arm(arm: str, summary: Summary) -> ArmResult:
    """An arm measured in minutes to complete (t interval for the mean)."""
    value = summary.mean if summary.n else None
    interval = mean_interval(summary) if summary.n >= 2 else None
    return ArmResult(arm, summary.n, value, interval, summary=summary)


def compare(question: ExperimentQuestion, baseline: ArmResult, arm: ArmResult) -> Comparison:
    """`arm` against `baseline` on the question's metric, under its minimum sample."""
    needed = minimum(question)
    short = [(a.arm, a.n) for a in (baseline, arm) if a.n < needed]
    if short or baseline.value is None or arm.value is None:
        sentence = _too_small(question, needed, short)
        return Comparison(baseline.arm, arm.arm, Verdict.TOO_SMALL, None, None, sentence)
    interval = _difference(question.metric, baseline, arm)
    difference = arm.value - baseline.value
    verdict = _verdict(interval, HIGHER_IS_BETTER[question.metric])
    sentence = _sentence(question, verdict, baseline, arm, difference, interval)
    return Comparison(baseline.arm, arm.arm, verdict, difference, interval, sentence)


def minimum(question: ExperimentQuestion) -> int:
    """The journeys each arm needs before a verdict (Welch's interval needs two times)."""
    return max(question.minimum_sample, 2 if question.metric == "time_to_complete" else 1)


def _difference(metric: Metric, baseline: ArmResult, arm: ArmResult) -> Interval:
    if metric == "time_to_complete":
        assert baseline.summary is not None and arm.summary is not None
        return welch_difference(baseline.summary, arm.summary)
    assert baseline.count is not None and arm.count is not None
    return proportion_difference(baseline.count, baseline.n, arm.count, arm.n)


def _verdict(interval: Interval, higher_is_better: bool) -> Verdict:
    if interval.above_zero():
        return Verdict.BETTER if higher_is_better else Verdict.WORSE
    if interval.below_zero():
        return Verdict.WORSE if higher_is_better else Verdict.BETTER
    return Verdict.NO_DIFFERENCE


def _sentence(
    question: ExperimentQuestion,
    verdict: Verdict,
    baseline: ArmResult,
    arm: ArmResult,
    difference: float,
    interval: Interval,
) -> str:
    assert baseline.value is not None and arm.value is not None
    metric = metric_name(question)
    numbers = (
        f"{value_text(question.metric, arm.value)} against "
        f"{value_text(question.metric, baseline.value)}, "
        f"{difference_text(question.metric, difference)} "
        f"(95% CI {difference_text(question.metric, interval.low, unit=False)} to "
        f"{difference_text(question.metric, interval.high)})"
    )
    if verdict is Verdict.NO_DIFFERENCE:
        more = _would_show(question, baseline, arm, difference, interval)
        between = f"between {arm.arm} and {baseline.arm}"
        return f"No difference shown {between} on {metric}: {numbers}.{more}"
    return f"{arm.arm} {verdict} than {baseline.arm} on {metric}: {numbers}."


def _too_small(question: ExperimentQuestion, needed: int, short: list[tuple[str, int]]) -> str:
    unit = unit_name(question)
    each = ", ".join(f"{arm} has {n} (about {needed - n} more)" for arm, n in short)
    return f"Too small to tell: each arm needs {needed} {unit} before a verdict; {each}."


def _would_show(
    question: ExperimentQuestion,
    baseline: ArmResult,
    arm: ArmResult,
    difference: float,
    interval: Interval,
) -> str:
    """Roughly how many per arm would show a difference this size, were it real: an
    interval's width shrinks with the square root of the sample."""
    if difference == 0 or interval.half_width == 0:
        return ""
    per_arm = (baseline.n + arm.n) / 2 * (interval.half_width / abs(difference)) ** 2
    return (
        f" If a difference this size is real, about {_rounded(per_arm):,} "
        f"{unit_name(question)} per arm would show it."
    )


def _rounded(value: float) -> int:
    """Up, to two significant figures: an estimate, not a count."""
    places = max(0, len(str(math.ceil(value))) - 2)
    step = int(10**places)
    return math.ceil(value / step) * step


def metric_name(question: ExperimentQuestion) -> str:
    """The metric in words: completion, drop-off at photos, time to complete."""
    if question.metric == "drop_off":
        return f"drop-off at {question.step}"
    return {"completion": "completion", "time_to_complete": "time to complete"}[question.metric]


def unit_name(question: ExperimentQuestion) -> str:
    """What an arm's n counts, in words."""
    if question.metric == "drop_off":
        return f"journeys that reached {question.step}"
    return {"completion": "journeys", "time_to_complete": "completed journeys"}[question.metric]


def value_text(metric: Metric, value: float) -> str:
    """An arm's number: a share as a percentage, a time in minutes."""
    if metric == "time_to_complete":
        return f"{value:.1f} min"
    return f"{100 * value:.1f}%"


def difference_text(metric: Metric, value: float, unit: bool = True) -> str:
    """A signed difference: in percentage points for a share, in minutes for time."""
    if metric == "time_to_complete":
        return f"{round(value, 1) + 0.0:+.1f}" + (" min" if unit else "")
    return f"{round(100 * value, 1) + 0.0:+.1f}" + (" points" if unit else "")
