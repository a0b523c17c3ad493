"""deploy/observability: the alerting rules pass `promtool check rules` and their unit tests
(`promtool test rules`), the dashboard JSON is what dashboard.py generates, and every metric
the rules and the dashboard name is one Wayline exports (or a recording rule of the rules)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from prometheus_client import REGISTRY

import wayline.runtime.effects  # noqa: F401  (registers its metrics, as a running process does)
import wayline.web.app  # noqa: F401  (the app's modules: partners, rate limits, requests)

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "observability"
RULES = DEPLOY / "wayline-rules.yml"
METRIC = re.compile(r"\bwayline[a-z0-9_:]*")
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gauge": ("",),
}


def promtool() -> str:
    found = os.environ.get("WAYLINE_PROMTOOL") or shutil.which("promtool")
    assert found, "promtool is missing: scripts/promtool installs it (scripts/test runs it)"
    return found


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *args], cwd=DEPLOY, capture_output=True, text=True, timeout=60
    )


def dashboard_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wayline_dashboard", DEPLOY / "dashboard.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def exported() -> set[str]:
    """Every series name Wayline's registry can produce."""
    names = set()
    for family in REGISTRY.collect():
        for suffix in SUFFIXES.get(family.type, ("",)):
            names.add(family.name + suffix)
    return names


def rules() -> list[dict]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_the_rules_are_valid_and_their_unit_tests_pass() -> None:
    checked = run("check", "rules", RULES.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tests = sorted(str(path.relative_to(DEPLOY)) for path in (DEPLOY / "tests").glob("*.yml"))
    assert tests
    tested = run("test", "rules", *tests)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert tested.stdout.count("SUCCESS") == len(tests)


def test_every_alert_has_a_test_that_fires_it_and_one_that_does_not() -> None:
    alerts = {rule["alert"] for rule in rules() if "alert" in rule}
    fired, quiet = set(), set()
    for path in (DEPLOY / "tests").glob("*.yml"):
        for test in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for case in test.get("alert_rule_test", []):
                (fired if case.get("exp_alerts") else quiet).add(case["alertname"])
    assert alerts - fired == set(), "alerts no test fires"
    assert alerts - quiet == set(), "alerts no test keeps quiet"
    assert {
        "StepAvailabilityBudgetFastBurn",
        "StepLatencyBudgetSlowBurn",
        "PartnerBreakerOpen",
        "EffectsDeadLettered",
        "PayoutDeadlineAtRisk",
        "CanaryAnalysisFailing",
    } <= alerts


def test_the_checked_in_dashboard_is_the_generated_one() -> None:
    generated = dashboard_module().render()
    checked_in = (DEPLOY / "wayline-dashboard.json").read_text(encoding="utf-8")
    assert generated == checked_in, "run deploy/observability/dashboard.py and commit its JSON"


def test_the_rules_and_the_dashboard_name_only_metrics_wayline_exports() -> None:
    records = {rule["record"] for rule in rules() if "record" in rule}
    rule_exprs = [rule["expr"] for rule in rules()]
    board = json.loads((DEPLOY / "wayline-dashboard.json").read_text(encoding="utf-8"))
    board_exprs = [
        target["expr"]
        for panel in board["panels"]
        for target in panel.get("targets", [])
        if "expr" in target
    ]
    board_exprs += [v["query"] for v in board["templating"]["list"] if v.get("type") == "query"]
    assert len(board_exprs) >= 15
    known = exported() | records
    named = {name for expr in rule_exprs + board_exprs for name in METRIC.findall(expr)}
    assert named - known == set(), "names neither exported nor recorded"
    # The checks look at real names: each panel row's metrics are among them.
    assert {
        "wayline_journeys_started_total",
        "wayline_journeys_ended_total",
        "wayline_effect_queue_age_seconds",
        "wayline_partner_breaker_open",
        "wayline_deadlines_at_risk",
        "wayline_release_analysis_failing",
        "wayline_http_request_duration_seconds_bucket",
    } <= named
    assert "wayline_no_such_metric" not in known


@pytest.mark.parametrize(
    "name", ["wayline_journeys_started_total", "wayline_step_submissions_total"]
)
def test_per_journey_metrics_carry_the_definition_version(name: str) -> None:
    family = next(f for f in REGISTRY.collect() if f.name + "_total" == name)
    labels = REGISTRY._names_to_collectors[name]._labelnames  # the metric's declared labels
    assert family.type == "counter" and "version" in labels and "journey" in labels
