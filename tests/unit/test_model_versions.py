"""Model versions on the insights report, end to end from event records: `model.scored` events
taken into a DuckDB warehouse through the Insights service give, per model, the version acted
on and the version in shadow with the journeys scored, the mean score and the share over the
threshold; a shadow run's agreement with the live version and what switching it on would
change. A redelivered event counts once; a journey scored again counts as last scored; a
model that could not score is counted apart; another journey type's scores are not counted; a
warehouse file made before the score columns still opens. Drift checks kept in the warehouse
read back as the latest per model version."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import insights_kit
import pytest
from insights_kit import AS_OF, JOURNEY, T0

from wayline.insights import drift_log
from wayline.insights.drift_log import DriftCheck, FeatureFinding
from wayline.insights.filters import Asked
from wayline.insights.ingest import FromDatabase
from wayline.insights.model_versions import ModelComparison, ShadowAgreement, switch_sentence
from wayline.insights.records import EventRecord
from wayline.insights.service import Insights
from wayline.insights.warehouse import open_warehouse
from wayline.web.pages.insight_views import DriftView, model_view

# Live (version 1) and shadow (version 2) scores of ten claims; j9's live model could not score.
LIVE = [0.9, 0.85, 0.81, 0.8, 0.5, 0.2, 0.95, 0.1, 0.79, None]
SHADOW = [0.92, 0.7, 0.83, 0.86, 0.4, 0.9, 0.96, 0.05, 0.6, 0.3]


class History(insights_kit.History):
    """The shared history, with what these tests add to it."""

    def scored(
        self,
        journey_id: str,
        at: datetime,
        model: str,
        version: int,
        score: float | None,
        shadow: tuple[int, float | None] | None = None,
        journey: str = JOURNEY,
    ) -> EventRecord:
        data = {
            "name": model.replace("-", "_"),
            "model": model,
            "version": version,
            "score": score,
            "shadow_version": shadow[0] if shadow else None,
            "shadow_score": shadow[1] if shadow else None,
        }
        return self.add(journey_id, "model.scored", at, journey=journey, data=data)


def history() -> tuple[History, EventRecord]:
    h = History()
    for i, (live, shadow) in enumerate(zip(LIVE, SHADOW, strict=True)):
        start = T0 + timedelta(hours=i)
        h.add(f"j{i}", "journey.started", start, data={"next": "policy"})
        if i == 0:  # j0 was decided twice: first scored low, then as LIVE and SHADOW say
            h.scored("j0", start, "claim-triage", 1, 0.3, (2, 0.3))
        h.scored(f"j{i}", start + timedelta(minutes=20), "claim-triage", 1, live, (2, shadow))
    # Another model on two journeys, acted on alone.
    h.scored("j0", T0, "fraud-risk", 3, 0.5)
    h.scored("j1", T0, "fraud-risk", 3, 0.9)
    # Another journey type's claims: not counted for the motor claim.
    for i in range(3):
        h.add(f"k{i}", "journey.started", T0, journey="card-replacement")
        h.scored(f"k{i}", T0, "claim-triage", 1, 0.99, (2, 0.1), journey="card-replacement")
    redelivered = next(r for r in h.records if r.journey_id == "j1" and r.type == "model.scored")
    return h, redelivered


class Listed:
    """An event source over a list (records in id order; a copy may repeat an id)."""

    def __init__(self, records: Sequence[EventRecord]):
        self.records = list(records)

    def after(self, event_id: int, limit: int) -> list[EventRecord]:
        return [r for r in self.records if r.event_id > event_id][:limit]


@pytest.fixture(scope="module")
def warehouse_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The history taken in, j1's scoring delivered twice in the first batch and once more
    afterwards (as a bus redelivers)."""
    path = tmp_path_factory.mktemp("models") / "insights.duckdb"
    h, again = history()
    records = sorted([*h.records, again], key=lambda r: r.event_id)
    with open_warehouse(path) as warehouse:
        assert warehouse.add("bus", records) == len(h.records)
        assert warehouse.add("bus", [again]) == 0
        held = warehouse.connection.execute(
            "SELECT name, status, outcome, score, shadow_score FROM events "
            "WHERE journey_id = 'j1' AND type = 'model.scored' ORDER BY event_id"
        ).fetchall()
    assert held == [("claim-triage", "1", "2", 0.85, 0.7), ("fraud-risk", "3", None, 0.9, None)]
    return path


def report(path: Path, threshold: float = 0.8) -> dict[str, ModelComparison]:
    insights = Insights(
        path,
        FromDatabase(Listed([])),
        lambda: [],
        timedelta(days=30),
        lambda: AS_OF,
        model_threshold=threshold,
    )
    shown = insights.report(Asked(journey=JOURNEY), refresh=True)
    return {comparison.model: comparison for comparison in shown.models}


def by_version(comparison: ModelComparison) -> dict[str, tuple[int, int, float | None, int]]:
    return {
        f"{v.role} {v.version}": (v.journeys, v.scored, v.mean_score, v.over)
        for v in comparison.versions
    }


def test_each_version_scored_mean_and_share_over_the_threshold(warehouse_file: Path) -> None:
    models = report(warehouse_file)
    assert list(models) == ["claim-triage", "fraud-risk"]
    triage = by_version(models["claim-triage"])
    # Ten journeys each (j0 once, as last scored; j1 once though delivered three times);
    # the live model could not score j9; 0.8 itself is not over 0.8.
    assert triage == {
        "live 1": (10, 9, pytest.approx(5.9 / 9), 4),
        "shadow 2": (10, 10, pytest.approx(0.652), 5),
    }
    live, shadow = models["claim-triage"].versions
    assert live.share_over == pytest.approx(4 / 9)
    assert shadow.share_over == pytest.approx(0.5)
    assert by_version(models["fraud-risk"]) == {"live 3": (2, 2, pytest.approx(0.7), 1)}
    assert models["fraud-risk"].shadows == ()


def test_a_shadow_runs_agreement_with_the_live_version(warehouse_file: Path) -> None:
    (shadow,) = report(warehouse_file)["claim-triage"].shadows
    # Nine journeys scored by both (not j9). Same side: j0, j2, j4, j6, j7, j8; over in
    # shadow only: j3 (0.8 and 0.86), j5 (0.2 and 0.9); over live only: j1 (0.85 and 0.7).
    assert shadow == ShadowAgreement(
        version=1, shadow_version=2, paired=9, agree=6, shadow_only=2, live_only=1
    )
    assert shadow.agreement == pytest.approx(6 / 9)
    assert shadow.change == 1
    (sentence,) = report(warehouse_file)["claim-triage"].sentences
    assert sentence == (
        "Switching version 2 on in place of version 1 would have put 2 journeys over 0.8 that "
        "version 1 did not, and 1 journey under it that version 1 put over (1 more over 0.8 in "
        "all, of 9 scored by both; the two agree on 66.7%)."
    )


def test_the_threshold_is_a_parameter(warehouse_file: Path) -> None:
    models = report(warehouse_file, threshold=0.5)
    # Over 0.5 live: 0.9, 0.85, 0.81, 0.8, 0.95, 0.79; shadow: all but 0.4, 0.05 and 0.3.
    assert by_version(models["claim-triage"])["live 1"][3] == 6
    assert by_version(models["claim-triage"])["shadow 2"][3] == 7
    (shadow,) = models["claim-triage"].shadows
    # j5 (0.2, 0.9) over in shadow only; j8 (0.79, 0.6) now both over.
    assert (shadow.agree, shadow.shadow_only, shadow.live_only) == (8, 1, 0)


def test_the_page_view_of_a_model(warehouse_file: Path) -> None:
    view = model_view(report(warehouse_file)["claim-triage"], 0)
    assert [(r.version, r.scored, r.mean, r.over, r.share_over) for r in view.versions] == [
        ("1 (acted on)", 9, "0.66", 4, "44.4%"),
        ("2 (in shadow)", 10, "0.65", 5, "50.0%"),
    ]
    assert [(r.pair, r.paired, r.agreement, r.shadow_only, r.live_only) for r in view.shadows] == [
        ("1 and 2", 9, "66.7%", 2, 1)
    ]
    assert view.chart.title == "claim-triage: share of journeys scored over 0.8, by version"
    assert "Version 2 (in shadow): 50.0% of 10 scored over 0.8" in view.chart.description
    live_bar, shadow_bar = view.chart.bars
    assert shadow_bar.segments[0].width > live_bar.segments[0].width


def test_switching_sentences() -> None:
    assert switch_sentence(ShadowAgreement(1, 2, 0, 0, 0, 0), 0.8) == (
        "No journey was scored by both version 1 and version 2 yet: nothing to compare."
    )
    assert switch_sentence(ShadowAgreement(1, 2, 40, 40, 0, 0), 0.8) == (
        "Switching version 2 on would change nothing at 0.8: it put all 40 journeys scored by "
        "both on the same side as version 1."
    )
    assert "(3 fewer over 0.7 in all, of 10 scored by both; the two agree on 70.0%)" in (
        switch_sentence(ShadowAgreement(1, 2, 10, 7, 0, 3), 0.7)
    )


def test_a_warehouse_file_made_before_the_score_columns_opens(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path))
    old.execute(
        "CREATE TABLE events (event_id BIGINT NOT NULL, journey_id VARCHAR NOT NULL, "
        "journey VARCHAR NOT NULL, version VARCHAR NOT NULL, type VARCHAR NOT NULL, "
        "ts TIMESTAMP NOT NULL, step VARCHAR, next_step VARCHAR, name VARCHAR, "
        "status VARCHAR, outcome VARCHAR, reasons VARCHAR[])"
    )
    old.execute(
        "INSERT INTO events VALUES (1, 'j0', 'motor-claim', 'v1', 'journey.started', "
        "'2026-06-01 09:00', NULL, 'policy', NULL, NULL, NULL, NULL)"
    )
    old.close()
    h, _ = history()
    for _attempt in range(2):  # opened twice: the columns are added once
        with open_warehouse(path) as warehouse:
            warehouse.add("bus", h.records[1:3])
    with open_warehouse(path) as warehouse:
        rows = warehouse.connection.execute(
            "SELECT event_id, type, score, shadow_score FROM events ORDER BY event_id"
        ).fetchall()
    assert rows == [(1, "journey.started", None, None), (2, "model.scored", 0.3, 0.3),
                    (3, "model.scored", 0.9, 0.92)]  # fmt: skip


def test_drift_checks_read_back_the_latest_of_each_version(tmp_path: Path) -> None:
    def check(version: int, at: datetime, psi: float) -> DriftCheck:
        status = "drift" if psi > 0.2 else "stable"
        findings = (FeatureFinding("estimate_vs_typical", psi, status),
                    FeatureFinding("incident_type", 0.01, "stable"))  # fmt: skip
        return DriftCheck("claim-triage", version, at, 500, 0.2, findings)

    path = tmp_path / "insights.duckdb"
    with open_warehouse(path) as warehouse:
        assert drift_log.latest(warehouse) == []
        drift_log.record(warehouse, [check(1, T0, 0.05), check(2, T0, 0.5)])
        drift_log.record(warehouse, [check(1, T0 + timedelta(days=1), 0.9)])
        latest = drift_log.latest(warehouse)
    assert [(c.model, c.version, [f.feature for f in c.drifted]) for c in latest] == [
        ("claim-triage", 1, ["estimate_vs_typical"]),
        ("claim-triage", 2, ["estimate_vs_typical"]),
    ]
    first = latest[0]
    assert first.checked_at == datetime(2026, 6, 2, 9, 0)  # naive UTC, as the warehouse keeps
    assert [f.psi for f in first.features] == [0.9, 0.01]
    sentence = DriftView(first).sentence
    assert sentence.startswith(
        "Checked 2026-06-02 09:00 UTC against the last 500 journeys it scored: drift above 0.2 "
        "in estimate_vs_typical (PSI 0.90)."
    )
    stable = DriftView(check(1, T0, 0.05)).sentence
    assert stable.endswith("no feature's PSI is above 0.2.")
