"""The platform's pages say each journey's own words (`words:`, `confirmation:` and a decision
outcome's `next_steps:`), and words of their own that suit any journey when it declares none:
on check-answers, confirmation and status, over the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from journey_api import CSRF_HEADER, Api

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.sandbox.server import Sandbox
from wayline.sandbox.wiring import demo_options
from wayline.web.app import create_app

STEPS = """\
reference_prefix: ORD
steps:
  - name: size
    title: Your size
    fields:
      - name: shirt_size
        type: text
        label: Size
        classification: internal
        required: Enter a size
declaration:
  text: The size is right
effects:
  - kind: run_checks
    at: submitted
decision:
  outcomes:
    - outcome: declined
      reasons:
        - when: answers.shirt_size == "XXL"
          reason: We have none in that size
      {next_steps}
  otherwise: approved
"""
OWN_WORDS = """\
journey: shirt-order
title: Order a shirt
words:
  noun: order
confirmation:
  title: Order placed
  next:
    - We will pack your shirt today.
    - It comes by post within 3 days.
  status_link: Where is my shirt?
""" + STEPS.format(next_steps="next_steps: Ask for another size and quote {reference}.")
NO_WORDS = "journey: shirt-plain\ntitle: Order a plain shirt\n" + STEPS.format(next_steps="")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    running = Sandbox().start()
    yield running
    running.stop()


@pytest.fixture
def shop(
    tmp_path: Path, make_settings: Callable[..., Settings], sandbox: Sandbox, sign_in: Any
) -> Iterator[tuple[Api, Components]]:
    """Alex, signed in to an app serving the two small shirt journeys, with a worker that
    can decide them (its partners the sandbox's)."""
    journeys = tmp_path / "shirt-journeys"
    journeys.mkdir()
    (journeys / "shirt-order.yaml").write_text(OWN_WORDS, encoding="utf-8")
    (journeys / "shirt-plain.yaml").write_text(NO_WORDS, encoding="utf-8")
    components = build(
        make_settings(journeys_dir=journeys),
        migrate=True,
        partner_urls=sandbox.urls(),
        **demo_options(in_process_sources=False),
    )
    yield sign_in("alex", app=create_app(components)), components
    components.store.engine.dispose()
    if components.partners:
        components.partners.close()


def page(api: Api, path: str) -> str:
    response = api.http.get(path, headers={"accept": "text/html"})
    assert response.status_code == 200, response.text[:300]
    return html.unescape(response.text)


def send(api: Api, components: Components, journey_type: str, size: str) -> dict[str, Any]:
    """Answers, sees check-answers, sends from the page and lets the worker decide."""
    journey = api.step(api.start(journey_type), "size", {"shirt_size": size})
    check = page(api, f"/journeys/{journey['id']}/check-answers")
    data = {
        "csrf_token": api.http.headers[CSRF_HEADER],
        "revision": str(api.journey(journey["id"])["revision"]),
        "declaration": "yes",
    }
    sent = api.http.post(
        f"/journeys/{journey['id']}/check-answers", data=data, follow_redirects=False
    )
    assert sent.status_code == 303, sent.text[:500]
    worker = components.worker(base_delay=0.001)
    for _ in range(10):
        if worker.run_due() == 0:
            break
    kept = api.journey(journey["id"])
    return {"id": journey["id"], "reference": kept["reference"], "check": check}


def test_a_journey_with_its_own_words_says_them_on_each_page(shop):
    api, components = shop
    sent = send(api, components, "shirt-order", "XXL")
    assert "Now send your order" in sent["check"]
    confirmation = page(api, f"/journeys/{sent['id']}/confirmation")
    assert '<h1 class="panel-title">Order placed</h1>' in confirmation
    assert "<p>We will pack your shirt today.</p>" in confirmation
    assert "<p>It comes by post within 3 days.</p>" in confirmation
    assert ">Where is my shirt?</a>" in confirmation
    status = page(api, f"/journeys/{sent['id']}/status")
    assert "We have none in that size" in status
    assert f"Ask for another size and quote {sent['reference']}." in status
    for text in (sent["check"], confirmation, status):
        assert "claim" not in text.lower() and "policy" not in text.lower()


def test_a_journey_without_words_reads_well_with_the_defaults(shop):
    api, components = shop
    sent = send(api, components, "shirt-plain", "XXL")
    assert "Now send your application" in sent["check"]
    confirmation = page(api, f"/journeys/{sent['id']}/confirmation")
    assert '<h1 class="panel-title">Received</h1>' in confirmation
    assert "We will check the details you gave us" in confirmation
    assert ">Follow the progress of your application</a>" in confirmation
    status = page(api, f"/journeys/{sent['id']}/status")
    assert "We have none in that size" in status
    assert "quote" not in status
    for text in (sent["check"], confirmation, status):
        assert "claim" not in text.lower() and "policy" not in text.lower()


def test_the_next_steps_belong_to_the_outcome_reached(shop):
    api, components = shop
    sent = send(api, components, "shirt-order", "M")
    status = page(api, f"/journeys/{sent['id']}/status")
    assert "Ask for another size" not in status
