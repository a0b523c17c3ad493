"""What the insights page shows of a report: per version, its charts (laid out by
insights/charts.py) and the numbers for their tables. Aggregates only: step and field names,
message templates, counts and times; never an answer or a person."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from wayline.insights.charts import Chart, bar_chart, duration, percent
from wayline.insights.drift_log import DriftCheck
from wayline.insights.experiments.questions import Metric
from wayline.insights.experiments.results import ExperimentResult
from wayline.insights.experiments.verdicts import (
    ArmResult,
    metric_name,
    unit_name,
    value_text,
)
from wayline.insights.interval_charts import IntervalChart, interval_chart
from wayline.insights.model_versions import ModelComparison, ShadowAgreement, VersionScores
from wayline.insights.service import VersionReport


@dataclass(frozen=True)
class VersionView:
    report: VersionReport
    funnel: Chart
    errors: Chart
    times: Chart

    @property
    def version(self) -> str:
        return self.report.version

    @property
    def short(self) -> str:
        return short_version(self.report.version)


def short_version(version: str) -> str:
    """Versions are content hashes: their first 12 characters tell them apart on a page."""
    return version[:12]


def version_view(journey: str, report: VersionReport, index: int) -> VersionView:
    name = f"{journey} version {short_version(report.version)}"
    return VersionView(
        report,
        _funnel(f"funnel-{index}", name, report),
        _errors(f"errors-{index}", name, report),
        _times(f"times-{index}", name, report),
    )


def _funnel(chart_id: str, name: str, report: VersionReport) -> Chart:
    rows = [
        (
            row.step,
            [("chart-reached", row.reached), ("chart-completed", row.completed)],
            f"{row.completed}/{row.reached}, {row.dropped} left",
        )
        for row in report.funnel
    ]
    first = report.funnel[0].reached if report.funnel else 0
    last = report.funnel[-1] if report.funnel else None
    description = (
        f"{first} journeys reached the first step. "
        + " ".join(
            f"{row.step}: {row.reached} reached, {row.completed} completed, {row.dropped} dropped."
            for row in report.funnel
        )
        if last
        else "No journeys in this range."
    )
    return bar_chart(chart_id, f"Funnel of {name}", description, rows)


def _errors(chart_id: str, name: str, report: VersionReport) -> Chart:
    totals: dict[str, int] = {}
    for row in report.field_errors:
        totals[row.field] = totals.get(row.field, 0) + row.errors
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    rows = [(field, [("chart-errors", count)], f"{count} errors") for field, count in ranked]
    description = (
        " ".join(f"{field}: {count} errors." for field, count in ranked)
        if ranked
        else "No answers were refused in this range."
    )
    return bar_chart(chart_id, f"Fields with the most errors, {name}", description, rows)


def _times(chart_id: str, name: str, report: VersionReport) -> Chart:
    rows = [
        (
            row.step,
            [("chart-p90", row.p90_s or 0.0), ("chart-median", row.median_s or 0.0)],
            duration(row.median_s),
        )
        for row in report.step_times
    ]
    description = (
        " ".join(
            f"{row.step}: median {duration(row.median_s)}, 90th percentile {duration(row.p90_s)}."
            for row in report.step_times
        )
        if rows
        else "No steps were completed in this range."
    )
    return bar_chart(chart_id, f"Time per step, {name}", description, rows)


@dataclass(frozen=True)
class ArmRow:
    """An arm as its table row shows it: n, the number and the interval in words."""

    arm: str
    n: int
    value: str
    interval: str


@dataclass(frozen=True)
class ExperimentView:
    """An experiment as the page shows it: its chart, the table's column names and rows,
    and its verdict sentences."""

    result: ExperimentResult
    chart: IntervalChart
    metric: str  # the metric in words, e.g. "drop-off at photos"
    unit: str  # what n counts, e.g. "journeys that reached photos"
    arms: tuple[ArmRow, ...]

    @property
    def title(self) -> str:
        return self.result.question.title

    @property
    def unit_heading(self) -> str:
        return _first_upper(self.unit)

    @property
    def metric_heading(self) -> str:
        mean = " (mean minutes)" if self.result.question.metric == "time_to_complete" else ""
        return _first_upper(self.metric) + mean

    @property
    def sentences(self) -> list[str]:
        return [comparison.sentence for comparison in self.result.comparisons]


def experiment_view(result: ExperimentResult, index: int) -> ExperimentView:
    """The view of one experiment; `index` keeps its chart's ids apart on the page."""
    question = result.question
    metric = metric_name(question)
    unit = unit_name(question)
    rows = tuple(_arm_row(question.metric, arm) for arm in result.arms)
    entries = [
        (
            arm.arm,
            arm.value,
            (arm.interval.low, arm.interval.high) if arm.interval else None,
            f"{row.value} ({row.interval})" if arm.interval else row.value,
        )
        for arm, row in zip(result.arms, rows, strict=True)
    ]
    description = " ".join(
        f"{row.arm}: {metric} {row.value}, 95% CI {row.interval}, {row.n} {unit}." for row in rows
    )
    chart = interval_chart(
        f"experiment-{index}",
        f"{question.title}: {metric} by arm, with 95% intervals",
        description,
        entries,
        _scale(question.metric, result.arms),
        _tick_text(question.metric),
    )
    return ExperimentView(result, chart, metric, unit, rows)


def _arm_row(metric: Metric, arm: ArmResult) -> ArmRow:
    if arm.value is None:
        return ArmRow(arm.arm, arm.n, "none", "none")
    value = value_text(metric, arm.value)
    if arm.interval is None:
        return ArmRow(arm.arm, arm.n, value, "none")
    low = value_text(metric, arm.interval.low)
    high = value_text(metric, arm.interval.high)
    return ArmRow(arm.arm, arm.n, value, f"{low} to {high}")


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _tick_text(metric: Metric) -> Callable[[float], str]:
    """An axis tick in whole units: 40%, 15 min."""
    if metric == "time_to_complete":
        return lambda value: f"{value:.0f} min"
    return lambda value: f"{100 * value:.0f}%"


def _scale(metric: Metric, arms: tuple[ArmResult, ...]) -> tuple[float, float]:
    """The chart's axis: shares in whole tens of percent around the intervals; minutes from
    0 to the next multiple of 5 above the longest."""
    ends = [v for arm in arms if arm.interval for v in (arm.interval.low, arm.interval.high)]
    ends += [arm.value for arm in arms if arm.value is not None]
    if metric == "time_to_complete":
        return 0.0, max(5.0, 5 * math.ceil(max(ends, default=0.0) / 5))
    lowest = math.floor(min(ends, default=0.0) * 10) / 10
    highest = math.ceil(max(ends, default=1.0) * 10) / 10
    return (lowest, highest) if highest > lowest else (max(0.0, lowest - 0.1), highest + 0.1)


@dataclass(frozen=True)
class ScoreRow:
    """A model version as its table row shows it."""

    version: str  # e.g. "2 (in shadow)"
    journeys: int
    scored: int
    mean: str
    over: int
    share_over: str


@dataclass(frozen=True)
class ShadowRow:
    """A shadow run as its table row shows it."""

    pair: str  # e.g. "1 and 2"
    paired: int
    agreement: str
    shadow_only: int
    live_only: int


@dataclass(frozen=True)
class ModelView:
    """A model as the page shows it: a chart of each version's share over the threshold, the
    versions' and shadow runs' tables, and what switching a shadow on would change."""

    comparison: ModelComparison
    chart: Chart
    versions: tuple[ScoreRow, ...]
    shadows: tuple[ShadowRow, ...]

    @property
    def model(self) -> str:
        return self.comparison.model

    @property
    def threshold(self) -> str:
        return f"{self.comparison.threshold:g}"

    @property
    def sentences(self) -> list[str]:
        return self.comparison.sentences


def model_view(comparison: ModelComparison, index: int) -> ModelView:
    """The view of one model; `index` keeps its chart's ids apart on the page."""
    cut = f"{comparison.threshold:g}"
    rows = tuple(_score_row(v) for v in comparison.versions)
    description = " ".join(
        f"Version {row.version}: {row.share_over} of {row.scored} scored over {cut}, "
        f"mean score {row.mean}."
        for row in rows
    )
    chart = bar_chart(
        f"model-{index}",
        f"{comparison.model}: share of journeys scored over {cut}, by version",
        description or "No journeys were scored in this range.",
        [
            (
                f"version {row.version}",
                [("chart-completed" if v.role == "live" else "chart-reached", v.share_over or 0)],
                row.share_over,
            )
            for v, row in zip(comparison.versions, rows, strict=True)
        ],
        scale=1.0,
    )
    return ModelView(comparison, chart, rows, tuple(_shadow_row(s) for s in comparison.shadows))


def _score_row(scores: VersionScores) -> ScoreRow:
    role = "acted on" if scores.role == "live" else "in shadow"
    return ScoreRow(
        version=f"{scores.version} ({role})",
        journeys=scores.journeys,
        scored=scores.scored,
        mean="none" if scores.mean_score is None else f"{scores.mean_score:.2f}",
        over=scores.over,
        share_over=_share(scores.share_over),
    )


def _shadow_row(shadow: ShadowAgreement) -> ShadowRow:
    return ShadowRow(
        pair=f"{shadow.version} and {shadow.shadow_version}",
        paired=shadow.paired,
        agreement=_share(shadow.agreement),
        shadow_only=shadow.shadow_only,
        live_only=shadow.live_only,
    )


def _share(share: float | None) -> str:
    return "none" if share is None else f"{100 * share:.1f}%"


@dataclass(frozen=True)
class DriftView:
    """A model version's latest drift check as the page shows it: a sentence and each
    feature's PSI."""

    check: DriftCheck

    @property
    def title(self) -> str:
        return f"{self.check.model} version {self.check.version}"

    @property
    def sentence(self) -> str:
        check = self.check
        when = check.checked_at.strftime("%Y-%m-%d %H:%M UTC")
        head = f"Checked {when} against the last {check.rows} journeys it scored: "
        if not check.drifted:
            return head + f"no feature's PSI is above {check.threshold:g}."
        named = ", ".join(f"{f.feature} (PSI {f.psi:.2f})" for f in check.drifted)
        return head + (
            f"drift above {check.threshold:g} in {named}. The cases scored now differ from the "
            "training data: check the features' inputs, and consider training a new version."
        )


FILTERS = {
    "percent": percent,
    "duration": duration,
    "experiment_view": experiment_view,
    "model_view": model_view,
    "drift_view": DriftView,
}
