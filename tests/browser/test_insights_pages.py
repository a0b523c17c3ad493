"""The insights page in Chromium, signed in as the demo's analyst (Avery), over a small seeded
history: reached from the staff home, checked with axe-core (zero violations) with its charts
and their tables, compared across two versions, the history's experiment with its arms,
intervals and verdict, the models the claims were scored by (the version acted on and one in
shadow, with their agreement and the latest drift check), and a bad date range shown as errors
on the page. A customer and a handler are refused."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from browser_journey import Keyboard, check_page
from conftest import REPO, _free_port, _Server, new_context
from playwright.sync_api import Browser, BrowserContext, Page, expect

from wayline.bootstrap import build
from wayline.config import Settings
from wayline.insights.drift_log import DriftCheck, FeatureFinding
from wayline.insights.experiments import ExperimentQuestion
from wayline.journeys.engine import Event
from wayline.sandbox.history import seed_history
from wayline.sandbox.wiring import demo_options
from wayline.store import events
from wayline.web.app import create_app

SCORED_AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
DRIFT_CHECK = DriftCheck(
    "claim-triage",
    1,
    SCORED_AT,
    10,
    0.2,
    (
        FeatureFinding("estimate_vs_typical", 0.41, "drift"),
        FeatureFinding("incident_type", 0.02, "stable"),
    ),
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home: Path = tmp_path_factory.mktemp("insights-browser")
    settings = Settings(
        home=home,
        demo=True,
        secret_key="insights-browser-tests",
        journeys_dir=REPO / "journeys",
        rate_limits=False,
    )
    components = build(settings, migrate=True, **demo_options())
    made = seed_history(settings, 10)
    # Each claim scored by claim-triage version 1, with version 2 in shadow: the second and
    # third are over 0.8 with one version only.
    with components.store.write() as connection:
        for i, journey_id in enumerate(made):
            live, shadow = [(0.9, 0.95), (0.85, 0.4), (0.31, 0.82)][i] if i < 3 else (0.2, 0.1)
            data = {"name": "claim_triage", "model": "claim-triage", "version": 1,
                    "score": live, "shadow_version": 2, "shadow_score": shadow}  # fmt: skip
            events.append(connection, journey_id, (Event("model.scored", SCORED_AT, data=data),))
    app = create_app(components)
    app.state.insights.record_drift([DRIFT_CHECK])
    # Declared as the motor claim's definition declares it, so both arms always show.
    photo_guidance = ExperimentQuestion(
        "photo-guidance", "Photo guidance", "drop_off", "photos", ("control", "examples")
    )
    app.state.insights.experiments_of = lambda journey: (
        [photo_guidance] if journey == "motor-claim" else []
    )
    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"
    )
    server = _Server(config)
    thread = threading.Thread(target=server.run, name="insights-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = server.force_exit = True
        thread.join(timeout=10)
        components.store.engine.dispose()


@pytest.fixture
def signed_in_as(browser: Browser, served: str) -> Iterator:
    opened: list[BrowserContext] = []

    def make(**who: str) -> Page:
        context = new_context(browser, served)
        opened.append(context)
        response = context.request.post("/auth/demo", data=who)
        assert response.status == 204, response.text()
        return context.new_page()

    yield make
    for context in opened:
        context.close()


def test_avery_reads_the_insights_by_keyboard(signed_in_as) -> None:
    page = signed_in_as(staff="avery")
    keys = Keyboard(page)
    keys.go("/staff")
    keys.follow('a[href="/insights"]')
    expect(page.locator("h1")).to_have_text("Insights")
    check_page(page)
    charts = page.locator('svg[role="img"]')
    # Funnel, errors and times of two versions; an experiment; a model.
    expect(charts).to_have_count(8)
    expect(charts.first.locator("title")).to_contain_text("Funnel of motor-claim version")
    funnel_table = page.locator(".insight-column").first.locator("table").first
    expect(funnel_table.locator("tbody th", has_text="policy")).to_be_visible()
    expect(page.locator("#completion-heading")).to_be_visible()
    expect(page.locator("input[name=version]:checked")).to_have_count(2)
    keys.assert_no_pointer()


def test_the_experiment_shows_each_arm_with_its_interval(signed_in_as) -> None:
    page = signed_in_as(staff="avery")
    page.goto("/insights")
    section = page.locator("section#experiments")
    expect(section.locator("h3")).to_have_text("Experiments")
    expect(section.locator("h4")).to_have_text("Photo guidance")
    chart = section.locator('svg[role="img"]')
    expect(chart.locator("title")).to_have_text(
        "Photo guidance: drop-off at photos by arm, with 95% intervals"
    )
    expect(chart.locator("desc")).to_contain_text("control: drop-off at photos")
    table = section.locator("table")
    expect(table.locator("thead th").nth(1)).to_have_text("Journeys that reached photos")
    expect(table.locator("tbody th")).to_have_text(["control", "examples"])
    # Each arm's journeys add up to those the funnels say reached the photos.
    arms = [int(n) for n in table.locator("tbody tr td:nth-child(2)").all_inner_texts()]
    reached = 0
    for funnel in page.locator(".insight-column table").all()[:2]:
        row = funnel.locator("tbody tr", has=page.locator("th", has_text="photos"))
        if row.count():
            reached += int(row.locator("td").first.inner_text())
    assert sum(arms) == reached > 0
    expect(table.locator("tbody td:nth-child(4)").first).to_contain_text("% to ")
    expect(section.locator(".experiment-verdict")).to_contain_text(
        "Too small to tell: each arm needs 100 journeys that reached photos before a verdict"
    )
    check_page(page)


def test_the_models_section_compares_live_and_shadow(signed_in_as) -> None:
    page = signed_in_as(staff="avery")
    page.goto("/insights")
    section = page.locator("section#models")
    expect(section.locator("h3")).to_have_text("Models")
    expect(section.locator("h4").first).to_have_text("claim-triage")
    chart = section.locator('svg[role="img"]')
    expect(chart.locator("title")).to_have_text(
        "claim-triage: share of journeys scored over 0.8, by version"
    )
    versions, shadows, drift = section.locator("table").all()
    expect(versions.locator("tbody th")).to_have_text(["1 (acted on)", "2 (in shadow)"])
    # Ten claims each: version 1 puts two over 0.8, version 2 two (one of them another).
    expect(versions.locator("tbody tr").first.locator("td")).to_have_text(
        ["10", "0.35", "2", "20.0%", "0"]
    )
    expect(shadows.locator("tbody tr").first.locator("td")).to_have_text(["10", "80.0%", "1", "1"])
    expect(section.locator(".experiment-verdict").first).to_contain_text(
        "Switching version 2 on in place of version 1 would have put 1 journey over 0.8 that "
        "version 1 did not, and 1 journey under it that version 1 put over"
    )
    expect(section.locator("#drift-heading")).to_have_text("Drift")
    expect(section).to_contain_text("drift above 0.2 in estimate_vs_typical (PSI 0.41)")
    expect(drift.locator("tbody th")).to_have_text(["estimate_vs_typical", "incident_type"])
    check_page(page)


def test_a_bad_date_range_is_shown_on_the_page(signed_in_as) -> None:
    page = signed_in_as(staff="avery")
    page.goto("/insights")
    page.fill("#since", "2026-02-31")
    page.fill("#until", "soon")
    with page.expect_navigation():
        page.get_by_role("button", name="Show insights").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator('a[href="#since"]')).to_contain_text("From must be a real date")
    expect(page.locator("#until-error")).to_contain_text("To must be a real date")
    assert page.locator('svg[role="img"]').count() == 0
    check_page(page)


@pytest.mark.parametrize("who", [{"customer": "alex"}, {"staff": "casey"}])
def test_customers_and_handlers_are_refused(signed_in_as, who: dict[str, str]) -> None:
    page = signed_in_as(**who)
    response = page.goto("/insights")
    assert response is not None and response.status == 403
    expect(page.locator("svg[role=img]")).to_have_count(0)
