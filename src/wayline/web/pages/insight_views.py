"""What the insights page shows of a report: per version, its charts (laid out by
insights/charts.py) and the numbers for their tables. Aggregates only: step and field names,
message templates, counts and times; never an answer or a person."""

from __future__ import annotations

from dataclasses import dataclass

from wayline.insights.charts import Chart, bar_chart, duration, percent
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


FILTERS = {"percent": percent, "duration": duration}
