"""Jordan answers a handler's requests for more information on his own pages, in Chromium:
with JavaScript and by keyboard for the question, without JavaScript for the photos (several
sent at once with a plain file input). axe-core finds nothing on the status page, each
request's page, each error state and the confirmation."""

from __future__ import annotations

import secrets
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from browser_journey import Photos, check_page, check_snapshot, navigate, sign_in
from conftest import REPO, _free_port, _Server, new_context
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.sandbox.wiring import demo_options
from wayline.web.app import create_app

sys.path.insert(0, str(REPO / "tests" / "integration"))
from cases_kit import case_of, referred, riley  # noqa: E402
from journey_api import Api  # noqa: E402

PARKED = "Where was the car parked?"
PLATE = "Upload a photo of the other car's number plate"


class Served:
    def __init__(self, url: str, components: Components, app: Any):
        self.url, self.components, self.app = url, components, app

    def asked(self) -> tuple[str, str, str]:
        """A claim of Jordan's, referred, with Riley asking where the car was parked and for
        a photo of the other car's plate: (journey id, question task, upload task)."""
        with TestClient(self.app) as http:
            journey_id = referred(self.components, Api(http).sign_in("jordan"))
        case_id = case_of(self.components, journey_id)["id"]
        cases = self.components.cases
        cases.claim(riley(), case_id)
        question = cases.request_information(riley(), case_id, code="parked_where")
        upload = cases.request_information(riley(), case_id, code="other_plate")
        return journey_id, question.id, upload.id


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The app with its parts at hand (to refer a claim and ask for information), served by
    uvicorn on a loopback port."""
    settings = Settings(
        home=tmp_path_factory.mktemp("tasks-home"),
        demo=True,
        secret_key=secrets.token_urlsafe(32),
        journeys_dir=REPO / "journeys",
        rate_limits=False,
    )
    components = build(settings, migrate=True, **demo_options())
    app = create_app(components)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = _Server(config)
    thread = threading.Thread(target=server.run, name="wayline-tasks", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    yield Served(f"http://127.0.0.1:{port}", components, app)
    server.should_exit = server.force_exit = True
    thread.join(timeout=10)
    components.store.engine.dispose()


@pytest.fixture
def jordan_page(browser: Browser, served: Served) -> Iterator[Page]:
    context = new_context(browser, served.url)
    page = context.new_page()
    sign_in(page, "jordan")
    yield page
    context.close()


def test_jordan_answers_the_question_by_keyboard(jordan_page: Page, served: Served) -> None:
    page = jordan_page
    journey_id, question, _upload = served.asked()
    page.goto("/journeys")
    check_page(page)
    navigate(page, page.get_by_role("link", name="We need more information").first)
    expect(page.locator("h1")).to_contain_text("Progress")
    expect(page.get_by_role("heading", name="We need more information")).to_be_visible()
    check_page(page)
    navigate(page, page.get_by_role("link", name=PARKED))
    assert page.url.endswith(f"/journeys/{journey_id}/tasks/{question}")
    check_page(page)

    # Sent empty by keyboard alone: the error summary takes focus and links to the box.
    page.get_by_label(PARKED).focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send answer")).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator("#answer-error")).to_contain_text("Enter your answer")
    check_page(page)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Enter your answer")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label(PARKED)).to_be_focused()
    page.keyboard.type("In the supermarket car park, bay 14")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Thank you")
    expect(page.get_by_role("heading", name="We still need more information")).to_be_visible()
    expect(page.get_by_role("link", name=PLATE)).to_be_visible()
    check_page(page)

    # Back to the question: it has been answered, and the page says so.
    page.goto(f"/journeys/{journey_id}/tasks/{question}")
    expect(page.locator("main")).to_contain_text("already been answered")
    check_page(page)


def test_jordan_sends_two_photos_without_javascript(
    browser: Browser, served: Served, photos: Photos, tmp_path: Path
) -> None:
    journey_id, question, upload = served.asked()
    context = new_context(browser, served.url, java_script_enabled=False)
    axe_context = new_context(browser, served.url)
    axe_context.route("**/static/app.js", lambda route: route.abort())
    axe_page = axe_context.new_page()
    axe_page.goto("/static/app.css")
    page = context.new_page()

    def check() -> None:
        check_snapshot(axe_page, page.content(), page.url)

    try:
        sign_in(page, "jordan")
        page.goto(f"/journeys/{journey_id}/status")
        check()
        navigate(page, page.get_by_role("link", name=PLATE))
        check()
        file_input = page.get_by_label(PLATE)
        expect(file_input).to_have_attribute("accept", "image/jpeg,image/png,image/heic")

        # A PDF is not a photo: the page says so beside the input, and nothing is kept.
        pdf = tmp_path / "estimate.pdf"
        pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
        file_input.set_input_files(str(pdf))
        navigate(page, page.get_by_role("button", name="Send files"))
        expect(page.locator("#files-error")).to_contain_text("must be a JPEG, PNG, HEIC")
        assert page.title().startswith("Error: ")
        check()

        page.get_by_label(PLATE).set_input_files([str(photos.front), str(photos.close)])
        navigate(page, page.get_by_role("button", name="Send files"))
        expect(page.locator("h1")).to_have_text("Thank you")
        check()
        tasks = context.request.get(f"/api/v1/journeys/{journey_id}/tasks").json()
        assert [t["id"] for t in tasks] == [question]  # the photos answered theirs
        documents = context.request.get(f"/api/v1/journeys/{journey_id}/documents").json()
        sent = sorted(d["filename"] for d in documents if d["field"] == f"task:{upload}")
        assert sent == ["close-up.png", "front-bumper.jpg"]
    finally:
        context.close()
        axe_context.close()
