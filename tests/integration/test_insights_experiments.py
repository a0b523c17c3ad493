"""Experiments on the insights report over a seeded history driven through the real commands,
on SQLite and PostgreSQL: every claim is in the motor claim's `photo-guidance` experiment
(assigned once, by the engine at the start), each arm's journeys add up to the claims and
agree with the completion and funnel questions, and with ten claims every verdict is "too
small to tell". The page shows the Experiments section with a chart and its table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from identity_kit import signed_in, staff
from journey_api import JOURNEYS_DIR

from wayline.bootstrap import build
from wayline.config import Settings
from wayline.identity.roles import Role
from wayline.insights.experiments import ExperimentQuestion
from wayline.insights.experiments.verdicts import Verdict
from wayline.insights.filters import Asked
from wayline.insights.service import Insights
from wayline.insights.warehouse import open_warehouse
from wayline.sandbox.history import seed_history
from wayline.sandbox.wiring import demo_options
from wayline.web.app import create_app

CLAIMS = 10
DROP_OFF = ExperimentQuestion(
    "photo-guidance", "Photo guidance", "drop_off", "photos", ("control", "examples")
)


@pytest.fixture(scope="module")
def app(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    settings = Settings(
        home=tmp_path_factory.mktemp("experiments"),
        database_url=module_database_url,
        demo=True,
        secret_key="test",
        journeys_dir=JOURNEYS_DIR,
        rate_limits=False,
    )
    components = build(settings, migrate=True, **demo_options())
    assert len(seed_history(settings, CLAIMS)) == CLAIMS
    yield create_app(components)
    components.store.engine.dispose()


def test_each_claim_is_in_one_arm_once(app: Any) -> None:
    insights: Insights = app.state.insights
    report = insights.report(Asked(journey="motor-claim"), refresh=True)
    with open_warehouse(insights.path) as warehouse:
        assigned = warehouse.connection.execute(
            "SELECT count(*), count(DISTINCT journey_id) FROM events "
            "WHERE type = 'experiment.assigned' AND name = 'photo-guidance'"
        ).fetchone()
    assert assigned == (CLAIMS, CLAIMS)  # the engine's assignment; history added none
    (experiment,) = report.experiments
    # As the motor claim's definition declares it (bootstrap passes the definitions' questions).
    assert experiment.question.name == "photo-guidance" and experiment.declared
    assert experiment.question.metric == "drop_off" and experiment.question.step == "photos"
    assert {arm.arm for arm in experiment.arms} <= {"control", "examples"}
    # Drop-off is counted over the claims that reached the photo step (its own test below).
    assert 0 < sum(arm.n for arm in experiment.arms) <= CLAIMS
    assert all(c.verdict is Verdict.TOO_SMALL for c in experiment.comparisons)


@pytest.fixture
def declared(app: Any) -> Iterator[Insights]:
    """The insights with photo-guidance declared as drop-off at photos (as the motor claim's
    definition declares it), for one test."""
    insights: Insights = app.state.insights
    before = insights.experiments_of
    insights.experiments_of = lambda journey: [DROP_OFF] if journey == "motor-claim" else []
    yield insights
    insights.experiments_of = before


def test_a_declared_drop_off_agrees_with_the_funnel(declared: Insights) -> None:
    report = declared.report(Asked(journey="motor-claim"), refresh=True)
    (experiment,) = report.experiments
    assert experiment.declared and [a.arm for a in experiment.arms] == ["control", "examples"]
    photos = [row for v in report.shown for row in v.funnel if row.step == "photos"]
    assert sum(arm.n for arm in experiment.arms) == sum(row.reached for row in photos) > 0
    assert sum(arm.count or 0 for arm in experiment.arms) == sum(row.dropped for row in photos)
    (comparison,) = experiment.comparisons
    assert comparison.verdict is Verdict.TOO_SMALL
    assert comparison.sentence.startswith(
        "Too small to tell: each arm needs 100 journeys that reached photos before a verdict"
    )


def test_the_page_shows_the_experiment(app: Any, declared: Insights) -> None:
    with signed_in(app, staff(app, Role.ANALYST, "avery")) as http:
        page = http.get("/insights", headers={"accept": "text/html"})
    assert page.status_code == 200, page.text
    html = page.text
    assert '<h3 class="heading-m" id="experiments-heading">Experiments</h3>' in html
    assert 'id="experiment-0-title">Photo guidance: drop-off at photos by arm' in html
    assert '<th scope="col">Journeys that reached photos</th>' in html
    assert '<th scope="row">control</th>' in html and '<th scope="row">examples</th>' in html
    assert "Too small to tell: each arm needs 100 journeys that reached photos" in html
