"""Insights from the database's events table, on SQLite and PostgreSQL: a small seeded history
(claims driven through the real commands) is taken in incrementally and idempotently, the
refused answers arrive as field errors without what was typed, and /insights answers analysts
only (a customer and a handler are refused; nobody signed in is sent to sign in), with a 422
naming a bad date."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from identity_kit import customer, signed_in, staff
from journey_api import JOURNEYS_DIR

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.identity.roles import Role
from wayline.insights.filters import Asked
from wayline.insights.warehouse import open_warehouse
from wayline.sandbox.history import seed_history
from wayline.sandbox.wiring import demo_options
from wayline.store import tables
from wayline.web.app import create_app

CLAIMS = 10
HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def seeded(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    home = tmp_path_factory.mktemp("insights")
    settings = Settings(
        home=home,
        database_url=module_database_url,
        demo=True,
        secret_key="test",
        journeys_dir=JOURNEYS_DIR,
        rate_limits=False,
    )
    components = build(settings, migrate=True, **demo_options())
    made = seed_history(settings, CLAIMS)
    yield components, made
    components.store.engine.dispose()


def stored_events(components: Components) -> int:
    with components.store.read() as connection:
        return len(connection.execute(tables.events.select()).all())


def test_ingest_takes_in_every_event_once(seeded: Any) -> None:
    components, made = seeded
    assert len(made) == CLAIMS
    insights = create_app(components).state.insights
    first = insights.refresh()
    assert first.added == stored_events(components) > CLAIMS
    assert insights.refresh().added == 0  # again: nothing new, nothing twice

    components.commands.start("alex", "motor-claim")  # one more journey: started, and its arm
    again = insights.refresh()
    assert again.added == 2 and again.cursor > first.cursor
    with open_warehouse(insights.path) as warehouse:
        (held,) = warehouse.connection.execute("SELECT count(*) FROM events").fetchone() or (0,)
        assert held == stored_events(components)
        messages = warehouse.connection.execute("SELECT DISTINCT message FROM field_errors")
        texts = {row[0] for row in messages.fetchall()}
    # Message templates of the definition, never an answer (the seeded mistakes were typed).
    assert texts and all("bollard" not in text.lower() for text in texts)
    assert "What happened must be 40 characters or more" in texts


def test_the_report_compares_two_versions(seeded: Any) -> None:
    components, _ = seeded
    insights = create_app(components).state.insights
    report = insights.report(Asked(), refresh=True)
    assert report.journey == "motor-claim"
    assert len(report.shown) == 2
    for version in report.shown:
        steps = {row.step: row for row in version.funnel}
        assert steps["policy"].reached >= steps["incident"].reached > 0
        assert version.completion is not None and version.completion.started > 0


@pytest.fixture(scope="module")
def app(seeded: Any) -> Any:
    components, _ = seeded
    return create_app(components)


def test_analysts_see_the_insights_page(app: Any) -> None:
    with signed_in(app, staff(app, Role.ANALYST, "avery")) as http:
        page = http.get("/insights", headers=HTML)
        assert page.status_code == 200, page.text
        assert 'role="img"' in page.text and "<title id=" in page.text
        assert "incident" in page.text and "history-" not in page.text
        bad = http.get("/insights?since=2026-02-31&until=yesterday", headers=HTML)
        assert bad.status_code == 422
        assert "From must be a real date, like 2026-11-01" in bad.text
        assert "To must be a real date" in bad.text
        backwards = http.get("/insights?since=2026-11-02&until=2026-11-01", headers=HTML)
        assert backwards.status_code == 422
        assert "To must be the same as or after From" in backwards.text


@pytest.mark.parametrize("who", ["customer", "handler"])
def test_others_are_refused(app: Any, who: str) -> None:
    principal = customer(app, "alex") if who == "customer" else staff(app, Role.HANDLER)
    with signed_in(app, principal) as http:
        assert http.get("/insights", headers=HTML, follow_redirects=False).status_code == 403


def test_nobody_signed_in_is_sent_to_sign_in(app: Any) -> None:
    with signed_in(app, None) as http:
        answer = http.get("/insights", headers=HTML, follow_redirects=False)
    assert answer.status_code in (302, 303)
    assert "sign-in" in answer.headers["location"]
