"""Wayline's Grafana dashboard, as code (grafana-foundation-sdk; decision 0014).

    .venv/bin/python deploy/observability/dashboard.py          # writes wayline-dashboard.json
    .venv/bin/python deploy/observability/dashboard.py --check  # exits 1 if it is out of date

The JSON beside this file is what operators import (Dashboards → New → Import, or Grafana's
file provisioning); it is generated here and checked in, and a test regenerates it and fails
when the two differ, or when a query names a metric Wayline does not export. Queries read the
metrics of observability/metrics.py and the recording rules of wayline-rules.yml.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from grafana_foundation_sdk.builders import bargauge, prometheus, stat, timeseries
from grafana_foundation_sdk.builders.dashboard import (
    Dashboard,
    DatasourceVariable,
    QueryVariable,
    Row,
)
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef, VariableRefresh

OUTPUT = Path(__file__).with_name("wayline-dashboard.json")
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
JOURNEY = 'journey=~"$journey"'
RATE = "$__rate_interval"


def query(expr: str, legend: str) -> prometheus.Dataquery:
    return prometheus.Dataquery().expr(expr).legend_format(legend).datasource(DATASOURCE)


def graph(title: str, unit: str, *queries: prometheus.Dataquery) -> timeseries.Panel:
    panel = timeseries.Panel().title(title).unit(unit).datasource(DATASOURCE).height(8).span(12)
    for target in queries:
        panel = panel.with_target(target)
    return panel


def journeys_row(board: Dashboard) -> Dashboard:
    """Journeys by definition version: started, submitted, ended; where customers struggle."""
    by_version = "sum by (journey, version)"
    return (
        board.with_row(Row("Journeys, by definition version"))
        .with_panel(
            graph(
                "Journeys started",
                "reqps",
                query(
                    f"{by_version} (rate(wayline_journeys_started_total{{{JOURNEY}}}[{RATE}]))",
                    "{{journey}} {{version}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Journeys submitted",
                "reqps",
                query(
                    f"{by_version} (rate(wayline_journeys_submitted_total{{{JOURNEY}}}[{RATE}]))",
                    "{{journey}} {{version}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Journeys ended (completed, declined, withdrawn, expired)",
                "reqps",
                query(
                    "sum by (journey, version, status) "
                    f"(rate(wayline_journeys_ended_total{{{JOURNEY}}}[{RATE}]))",
                    "{{journey}} {{version}} {{status}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Step errors: answers refused, and server errors",
                "reqps",
                query(
                    "sum by (journey, step) (rate(wayline_step_submissions_total"
                    f'{{{JOURNEY},outcome="invalid"}}[{RATE}]))',
                    "refused: {{journey}} {{step}}",
                ),
                query(
                    "sum by (route) (rate(wayline_http_request_duration_seconds_count"
                    '{route=~"(/api/v1)?/journeys/\\\\{journey_id\\\\}/steps/\\\\{step\\\\}",'
                    f'status=~"5.."}}[{RATE}]))',
                    "5xx: {{route}}",
                ),
            )
        )
        .with_panel(
            bargauge.Panel()
            .title("Funnel: steps completed in the time range, by step")
            .datasource(DATASOURCE)
            .height(10)
            .span(24)
            .with_target(
                query(
                    "sum by (step) (increase(wayline_step_submissions_total"
                    f'{{{JOURNEY},outcome="accepted"}}[$__range]))',
                    "{{step}}",
                ).instant()
            )
        )
        .with_panel(
            graph(
                "Validation errors by field (where customers struggle)",
                "reqps",
                query(
                    "topk(10, sum by (journey, step, field) "
                    f"(rate(wayline_validation_errors_total{{{JOURNEY}}}[{RATE}])))",
                    "{{journey}} {{step}} {{field}}",
                ),
            )
        )
    )


def slo_row(board: Dashboard) -> Dashboard:
    """The step SLOs' error ratios (wayline-rules.yml), against their budgets."""
    return (
        board.with_row(Row("Step SLOs"))
        .with_panel(
            graph(
                "Step requests failing (SLO: at most 0.1%)",
                "percentunit",
                query("wayline:step_request_errors:ratio_rate5m", "5m"),
                query("wayline:step_request_errors:ratio_rate1h", "1h"),
                query("wayline:step_request_errors:ratio_rate6h", "6h"),
            )
        )
        .with_panel(
            graph(
                "Step requests over 1 s (SLO: at most 1%)",
                "percentunit",
                query("wayline:step_request_slow:ratio_rate5m", "5m"),
                query("wayline:step_request_slow:ratio_rate1h", "1h"),
                query("wayline:step_request_slow:ratio_rate6h", "6h"),
            )
        )
    )


def partners_row(board: Dashboard) -> Dashboard:
    """Partner health: breakers, failures by outcome, call durations."""
    return (
        board.with_row(Row("Partners"))
        .with_panel(
            stat.Panel()
            .title("Breakers open")
            .datasource(DATASOURCE)
            .height(8)
            .span(8)
            .with_target(query("max by (partner) (wayline_partner_breaker_open)", "{{partner}}"))
        )
        .with_panel(
            timeseries.Panel()
            .title("Partner call failures, by outcome")
            .unit("reqps")
            .datasource(DATASOURCE)
            .height(8)
            .span(8)
            .with_target(
                query(
                    "sum by (partner, outcome) "
                    f'(rate(wayline_partner_calls_total{{outcome!="ok"}}[{RATE}]))',
                    "{{partner}} {{outcome}}",
                )
            )
        )
        .with_panel(
            timeseries.Panel()
            .title("Partner call duration, 95th percentile")
            .unit("s")
            .datasource(DATASOURCE)
            .height(8)
            .span(8)
            .with_target(
                query(
                    "histogram_quantile(0.95, sum by (partner, le) "
                    f"(rate(wayline_partner_call_duration_seconds_bucket[{RATE}])))",
                    "{{partner}}",
                )
            )
        )
    )


def effects_row(board: Dashboard) -> Dashboard:
    """The outbox and the promises with a time on them: queue age, effects, deadlines."""
    return (
        board.with_row(Row("Effects and deadlines"))
        .with_panel(
            graph(
                "Effect queue age (the oldest due effect's wait)",
                "s",
                query("max(wayline_effect_queue_age_seconds)", "oldest due effect"),
            )
        )
        .with_panel(
            graph(
                "Effects run, by kind and result",
                "reqps",
                query(
                    f"sum by (kind, result) (rate(wayline_effects_total[{RATE}]))",
                    "{{kind}} {{result}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Deadlines at risk, and missed",
                "short",
                query("max by (kind) (wayline_deadlines_at_risk)", "at risk: {{kind}}"),
                query(
                    "sum by (journey, kind) (increase(wayline_deadline_breaches_total[1h]))",
                    "missed in the hour: {{journey}} {{kind}}",
                ),
            )
        )
        .with_panel(
            stat.Panel()
            .title("Canary analysis failing")
            .datasource(DATASOURCE)
            .height(8)
            .span(12)
            .with_target(
                query(
                    "max by (journey, version) (wayline_release_analysis_failing)",
                    "{{journey}} {{version}}",
                )
            )
        )
    )


def build() -> Dashboard:
    board = (
        Dashboard("Wayline")
        .uid("wayline-overview")
        .description("Journeys, step SLOs, partners, effects and deadlines (docs/observability.md)")
        .tags(["wayline"])
        .time("now-6h", "now")
        .refresh("1m")
        .with_variable(DatasourceVariable("datasource").label("Prometheus").type("prometheus"))
        .with_variable(
            QueryVariable("journey")
            .label("Journey")
            .datasource(DATASOURCE)
            .query("label_values(wayline_journeys_started_total, journey)")
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
            .multi(True)
            .include_all(True)
            .all_value(".*")
        )
    )
    for row in (journeys_row, slo_row, partners_row, effects_row):
        board = row(board)
    return board


def render() -> str:
    """The dashboard as Grafana's JSON, keys sorted so that its diff reads well."""
    model = json.loads(json.dumps(build().build(), cls=JSONEncoder))
    return json.dumps(model, indent=2, sort_keys=True) + "\n"


def main(arguments: list[str]) -> int:
    text = render()
    if "--check" in arguments:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.name} is out of date: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
