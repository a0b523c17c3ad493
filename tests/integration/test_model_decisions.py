"""The claim-triage model beside the motor claim's rules, through the API and the effect
worker with the partners as real HTTP services on loopback, on SQLite and PostgreSQL: a claim
the model scores over 0.8 is referred for a handler, who sees the score and its reasons in
words on the workbench, while the customer sees neither; a shadow version is scored and kept
but changes no outcome."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from cases_kit import case_of
from fastapi.testclient import TestClient
from journey_api import JOURNEYS_DIR, Api
from sqlalchemy import select
from test_partner_outcomes import NEUTRAL, claim, drain

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.models import save, spec, train
from wayline.sandbox.claim_training import claim_history
from wayline.sandbox.server import Sandbox
from wayline.sandbox.wiring import demo_options
from wayline.store import events, journeys, tables
from wayline.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
MODEL_REASON = "The claim-triage model scored this claim over 0.8, so a handler looks first"
# What no page or message for the customer may hold.
SCORE_WORDS = re.compile(r"claim-triage|claim_triage|triage|model|score", re.IGNORECASE)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    running = Sandbox().start()
    yield running
    running.stop()


def connectors(sandbox: Sandbox, home: Path) -> Path:
    path = home / "connectors.yaml"
    partners = {name: {"base_url": url} for name, url in sandbox.urls().items()}
    defaults = {"retries": 2, "backoff_base": 0.001, "backoff_max": 0.005}
    path.write_text(yaml.safe_dump({"defaults": defaults, "partners": partners}))
    return path


def system_of(settings: Settings) -> Components:
    return build(settings, migrate=True, **demo_options(in_process_sources=False))


@pytest.fixture
def system(make_settings: Callable[..., Settings], sandbox: Sandbox, tmp_path: Path):
    components = system_of(make_settings(connectors=connectors(sandbox, tmp_path)))
    yield components
    components.store.engine.dispose()
    if components.partners:
        components.partners.close()


def signed_in(system: Components, name: str, opened: list[TestClient]) -> Api:
    http = TestClient(create_app(system))
    opened.append(http)
    return Api(http).sign_in(name)


@pytest.fixture
def customer(system: Components) -> Iterator[Callable[[str], Api]]:
    opened: list[TestClient] = []
    yield lambda name: signed_in(system, name, opened)
    for http in opened:
        http.close()


def stored_state(system: Components, journey_id: str, owner: str) -> Any:
    with system.store.read() as connection:
        loaded = journeys.load(connection, journey_id, owner)
    assert loaded is not None
    return loaded.state


def scored_events(system: Components, journey_id: str) -> list[dict[str, Any]]:
    with system.store.read() as connection:
        return [e["data"] for e in events.of(connection, journey_id) if e["type"] == "model.scored"]


def test_a_claim_the_model_scores_high_is_referred_and_only_staff_see_why(system, customer):
    """A windscreen claim with a £2,500 estimate (under the £3,000 rule, about seven times a
    typical one) is referred by the model alone; a £850 one is approved."""
    alex = customer("alex")
    high = claim(alex, amount="2500")
    usual = claim(alex, amount="850")
    drain(system)

    high_view, usual_view = alex.journey(high["id"]), alex.journey(usual["id"])
    assert usual_view["outcome"]["outcome"] == "approved"
    assert high_view["status"] == "in_review" and high_view["outcome"]["outcome"] == "referred"
    assert high_view["outcome"]["reasons"] == [NEUTRAL]  # the customer is not told why
    for view in (high_view, usual_view):
        shown = str({k: v for k, v in view.items() if k != "events"})
        assert not SCORE_WORDS.search(shown), shown
        told = {e["type"] for e in view["events"]}
        assert not told & {"model.scored", "journey.segmented", "experiment.assigned"}

    status_page = alex.http.get(f"/journeys/{high['id']}/status").text
    assert NEUTRAL in status_page and not re.search(r"triage|score", status_page, re.I)

    state = stored_state(system, high["id"], "alex")
    scored = state.scores["claim_triage"]
    assert (scored["model"], scored["version"]) == ("claim-triage", 1)
    assert scored["score"] > 0.8
    assert scored["reasons"][0]["text"].startswith(
        "estimate amount much higher than similar claims (+"
    )
    assert scored["features"]["incident_type"] == "glass"
    assert state.outcome is not None and MODEL_REASON in state.outcome["reasons"]
    assert stored_state(system, usual["id"], "alex").scores["claim_triage"]["score"] < 0.8
    (event,) = scored_events(system, high["id"])
    assert event["model"] == "claim-triage" and event["version"] == 1
    assert event["score"] == round(scored["score"], 2) and event["shadow_version"] is None
    assert "features" not in event and "reasons" not in event

    with system.store.read() as connection:  # sealed: the estimate's ratio is not in clear
        column = tables.journeys.c
        raw = connection.execute(select(column.state).where(column.id == high["id"])).scalar_one()
    assert raw["scores"] == {} and "estimate_vs_typical" not in str(raw)


def test_the_workbench_shows_the_score_and_its_reasons_in_words(system, customer):
    alex = customer("alex")
    high = claim(alex, amount="2500")
    drain(system)
    http = TestClient(create_app(system))
    assert http.post("/auth/demo", json={"staff": "casey"}).status_code == 204
    page = http.get(f"/workbench/cases/{case_of(system, high['id'])['id']}")
    assert page.status_code == 200
    table = re.search(r'<table class="table" id="model-scores">.*?</table>', page.text, re.S)
    assert table is not None
    assert "claim-triage version 1" in table.group(0)
    assert re.search(r"<td>0\.(8|9)\d</td>", table.group(0))
    assert "estimate amount much higher than similar claims (+" in table.group(0)
    assert MODEL_REASON in page.text
    http.close()


@pytest.fixture
def shadowed(tmp_path: Path) -> tuple[Path, Path]:
    """A models folder with a version 2 of claim-triage (another seed), and journeys whose
    motor claim scores it in shadow."""
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models)
    trained = train(
        spec(models, "claim-triage"),
        claim_history(rows=1500, seed=99),
        seed=99,
        version=2,
        trained_on=date(2026, 12, 1),
        source="claim-history (1,500 rows, seed 99)",
    )
    save(models, trained)
    definitions = tmp_path / "journeys"
    shutil.copytree(JOURNEYS_DIR, definitions)
    motor = definitions / "motor-claim.yaml"
    text = motor.read_text()
    declared = "      model: claim-triage\n      version: 1\n"
    assert declared in text
    motor.write_text(text.replace(declared, declared + "      shadow: 2\n"))
    return models, definitions


def test_a_shadow_version_is_scored_and_kept_but_changes_no_outcome(
    make_settings,
    sandbox,
    tmp_path,
    shadowed,
    system,
    customer,
):
    models, definitions = shadowed
    with_shadow = system_of(
        make_settings(
            connectors=connectors(sandbox, tmp_path),
            models_dir=models,
            journeys_dir=definitions,
        )
    )
    opened: list[TestClient] = []
    try:
        outcomes = {}
        for label, components, make in (
            ("live only", system, customer),
            ("with shadow", with_shadow, lambda n: signed_in(with_shadow, n, opened)),
        ):
            alex = make("alex")
            sent = [claim(alex, amount=amount) for amount in ("850", "2500", "1400")]
            drain(components)
            outcomes[label] = [alex.journey(j["id"])["outcome"]["outcome"] for j in sent]
            states = [stored_state(components, j["id"], "alex") for j in sent]
            shadows = [s.scores["claim_triage"].get("shadow") for s in states]
            if label == "with shadow":
                assert all(s is not None and s["version"] == 2 for s in shadows)
                assert [s["score"] for s in shadows] != [
                    st.scores["claim_triage"]["score"] for st in states
                ]
                event = scored_events(components, sent[1]["id"])[0]
                assert event["shadow_version"] == 2 and event["shadow_score"] is not None
            else:
                assert shadows == [None, None, None]
        assert (
            outcomes["with shadow"]
            == outcomes["live only"]
            == [
                "approved",
                "referred",
                outcomes["live only"][2],
            ]
        )
    finally:
        for http in opened:
            http.close()
        with_shadow.store.engine.dispose()
        if with_shadow.partners:
            with_shadow.partners.close()


def test_a_shadow_that_cannot_load_holds_up_no_decision(
    make_settings, sandbox, tmp_path, shadowed, system
):
    models, definitions = shadowed
    (models / "claim-triage" / "2" / "model.skops").write_bytes(b"not a model at all")
    with_shadow = system_of(
        make_settings(
            connectors=connectors(sandbox, tmp_path), models_dir=models, journeys_dir=definitions
        )
    )
    opened: list[TestClient] = []
    try:
        alex = signed_in(with_shadow, "alex", opened)
        sent = claim(alex, amount="2500")
        drain(with_shadow)
        assert alex.journey(sent["id"])["outcome"]["outcome"] == "referred"
        scored = stored_state(with_shadow, sent["id"], "alex").scores["claim_triage"]
        assert scored["score"] > 0.8
        assert scored["shadow"] == {
            "model": "claim-triage",
            "version": 2,
            "at": scored["at"],
            "unavailable": True,
        }
    finally:
        for http in opened:
            http.close()
        with_shadow.store.engine.dispose()
        if with_shadow.partners:
            with_shadow.partners.close()
