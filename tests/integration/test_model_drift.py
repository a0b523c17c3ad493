"""The drift check with the insight ingest, on SQLite and PostgreSQL: journeys of the motor
claim are started through the real commands, then given model scores the way a decision keeps
them (a `scores` entry in the state, written through the store and so sealed by the codec,
and a `model.scored` event). The store's query returns the N most recent scored journeys,
newest first and opened, while the database holds their scores sealed; feature values far
from the training data's drift and warn (`model.drift`, names and PSIs only), values drawn
like the training data's do not; `wayline insights ingest` prints the warning, keeps the check
for /insights, and exits 1 with --fail-on-drift."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from journey_api import JOURNEYS_DIR
from typer.testing import CliRunner

from wayline.bootstrap import Components
from wayline.cli import app as cli
from wayline.config import Settings
from wayline.insights.filters import Asked
from wayline.journeys.engine import Event
from wayline.runtime.model_drift import check_models, feature_rows
from wayline.sandbox.claim_training import claim_history
from wayline.store import events, journeys, tables
from wayline.store.model_scores import recent_scored
from wayline.web.app import create_app

MODELS = Path(__file__).resolve().parents[2] / "models"
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
FEATURES = (
    "estimate_vs_typical",
    "incident_type",
    "days_since_policy_start",
    "previous_claims_2y",
    "photos_count",
    "night_incident",
    "theft_at_night",
    "police_report",
    "injuries",
)
# Nothing like the training claims: estimates forty times the typical one, an incident type
# never seen, claims on the policy's first day with many earlier claims and no photos.
FAR = {
    "estimate_vs_typical": 40.0,
    "incident_type": "meteorite",
    "days_since_policy_start": 0,
    "previous_claims_2y": 9,
    "photos_count": 0,
    "night_incident": True,
    "theft_at_night": True,
    "police_report": False,
    "injuries": True,
}
runner = CliRunner()


@pytest.fixture
def system(make_components: Callable[..., Components]) -> Components:
    return make_components()


def scored(system: Components, rows: Sequence[dict[str, Any]], first: datetime = T0) -> list[str]:
    """One started motor claim per row of feature values, scored by claim-triage version 1
    with those features, each updated a minute after the one before; their ids, in order."""
    ids = []
    for i, row in enumerate(rows):
        started = system.commands.start("alex", "motor-claim")
        at = first + timedelta(minutes=i)
        entry = {
            "model": "claim-triage",
            "version": 1,
            "at": at.isoformat(),
            "score": 0.5,
            "reasons": [],
            "features": {name: row.get(name) for name in FEATURES},
        }
        with system.store.write() as connection:
            state = replace(started.state, scores={"claim_triage": entry}, updated_at=at)
            journeys.update_journey(connection, state, started.revision, "policy")
            data = {"name": "claim_triage", "model": "claim-triage", "version": 1, "score": 0.5}
            events.append(connection, state.id, (Event("model.scored", at, data=data),))
        ids.append(started.state.id)
    return ids


def training_like(count: int) -> list[dict[str, Any]]:
    """Feature rows drawn as the training data's were (the same generator, another seed)."""
    return claim_history(count, seed=99)


def test_the_query_returns_the_newest_scored_journeys_opened(system: Components) -> None:
    older = scored(system, training_like(3))
    newer = scored(system, [FAR, FAR], first=T0 + timedelta(days=1))
    system.commands.start("alex", "motor-claim")  # not scored: never returned
    system.commands.start("sam", "motor-claim")
    with system.store.read() as connection:
        found = recent_scored(connection, 4)
        stored = {
            row.id: row.state
            for row in connection.execute(
                tables.journeys.select().where(tables.journeys.c.id.in_([*older, *newer]))
            )
        }
    assert [state.id for state in found] == [newer[1], newer[0], older[2], older[1]]
    assert found[0].scores["claim_triage"]["features"]["incident_type"] == "meteorite"
    assert found[0].scores["claim_triage"]["features"]["estimate_vs_typical"] == 40.0
    for state in stored.values():  # held sealed: the column shows no score and no feature
        assert state["scores"] == {}
        assert isinstance(state["sealed"], str) and "meteorite" not in str(state)
    with system.store.read() as connection:
        assert len(recent_scored(connection, 50)) == 5


def test_features_far_from_training_drift_and_warn(system: Components) -> None:
    scored(system, training_like(200))
    scored(system, [FAR] * 60, first=T0 + timedelta(days=1))
    with structlog.testing.capture_logs() as logs:
        (drift,) = check_models(system.store, MODELS, last_n=60, threshold=0.2)
    assert (drift.model, drift.version, drift.report.rows) == ("claim-triage", 1, 60)
    drifted = {f.feature for f in drift.report.drifted}
    assert {"estimate_vs_typical", "incident_type", "photos_count"} <= drifted
    (warning,) = [entry for entry in logs if entry["event"] == "model.drift"]
    assert warning["log_level"] == "warning"
    assert (warning["model"], warning["version"]) == ("claim-triage", 1)
    assert set(warning["features"]) == drifted and all(
        psi > 0.2 for psi in warning["features"].values()
    )
    assert "meteorite" not in str(warning) and "40.0" not in str(warning)


def test_features_like_trainings_do_not_warn(system: Components) -> None:
    scored(system, [FAR] * 30)  # older than the last 200: not read
    scored(system, training_like(200), first=T0 + timedelta(days=1))
    with structlog.testing.capture_logs() as logs:
        (drift,) = check_models(system.store, MODELS, last_n=200, threshold=0.2)
    assert drift.report.rows == 200
    assert drift.report.drifted == []
    assert max(f.psi for f in drift.report.features) < 0.1
    assert not [entry for entry in logs if entry["event"] == "model.drift"]


def test_feature_rows_by_model_version_live_and_shadow(system: Components) -> None:
    (state,) = [
        replace(
            system.commands.start("alex", "motor-claim").state,
            scores={
                "claim_triage": {
                    "model": "claim-triage",
                    "version": 1,
                    "features": {"photos_count": 2},
                    "shadow": {"model": "claim-triage", "version": 2, "features": {"a": 1}},
                },
                "broken": {"model": "x", "version": "1", "features": {}},  # passed over
            },
        )
    ]
    assert feature_rows([state, state]) == {
        ("claim-triage", 1): [{"photos_count": 2}, {"photos_count": 2}],
        ("claim-triage", 2): [{"a": 1}, {"a": 1}],
    }


@pytest.fixture
def cli_env(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """The CLI's settings from the environment, those of the system under test."""
    settings = make_settings()
    monkeypatch.setenv("WAYLINE_HOME", str(settings.home))
    monkeypatch.setenv("WAYLINE_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("WAYLINE_DEMO", "true")
    monkeypatch.setenv("WAYLINE_SECRET_KEY", "test")
    monkeypatch.setenv("WAYLINE_JOURNEYS_DIR", str(JOURNEYS_DIR))
    monkeypatch.setenv("WAYLINE_MODELS_DIR", str(MODELS))
    yield settings


def test_the_ingest_command_prints_the_drift_and_keeps_it(
    system: Components, cli_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAYLINE_DRIFT_LAST_N", "50")
    scored(system, training_like(10))  # older than the last 50: not read
    scored(system, [FAR] * 50, first=T0 + timedelta(days=1))
    ran = runner.invoke(cli, ["insights", "ingest"])
    assert ran.exit_code == 0, ran.output
    assert "Drift of claim-triage version 1 over 50 journeys: WARNING above 0.2:" in ran.output
    assert "estimate_vs_typical (PSI " in ran.output and "meteorite" not in ran.output
    failed = runner.invoke(cli, ["insights", "ingest", "--fail-on-drift"])
    assert failed.exit_code == 1, failed.output

    report = create_app(system).state.insights.report(Asked(journey="motor-claim"))
    (check,) = report.drift
    assert (check.model, check.version, check.rows) == ("claim-triage", 1, 50)
    assert "estimate_vs_typical" in {f.feature for f in check.drifted}
    (model,) = report.models
    assert model.model == "claim-triage" and model.versions[0].scored == 60  # every one


def test_the_ingest_command_says_no_drift(
    system: Components, cli_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Some hundreds: over 50 journeys, chance alone moves a feature's PSI to about 0.2.
    monkeypatch.setenv("WAYLINE_DRIFT_LAST_N", "200")
    scored(system, training_like(200))
    ran = runner.invoke(cli, ["insights", "ingest", "--fail-on-drift"])
    assert ran.exit_code == 0, ran.output
    assert "Drift of claim-triage version 1 over 200 journeys: no drift" in ran.output
