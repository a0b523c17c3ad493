"""A repeating group's pages in a real browser, with the tests' own journey
(tests/definitions/household.yaml) served by its own app: previous names added, changed and
removed with the keyboard alone, axe-core on every page and every error state, the error
summary taking focus; and the same pages without JavaScript.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import uvicorn
from browser_journey import (
    AXE,
    Keyboard,
    api_view,
    check_snapshot,
    focused,
    journey_id,
    navigate,
    press,
    sign_in,
)
from playwright.sync_api import Browser, BrowserContext, Page, expect

from wayline.bootstrap import build
from wayline.config import Settings
from wayline.sandbox.wiring import demo_options
from wayline.web.app import create_app

DEFINITION = Path(__file__).resolve().parents[1] / "definitions" / "household.yaml"
SUBMIT = "main form button.button"


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # runs in a thread: leave signals alone
        pass


@pytest.fixture(scope="module")
def household_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An app in demo mode serving only the household journey, on a free loopback port."""
    home = tmp_path_factory.mktemp("groups-home")
    journeys = home / "journeys"
    journeys.mkdir()
    shutil.copy(DEFINITION, journeys / "household.yaml")
    settings = Settings(
        home=home,
        demo=True,
        secret_key=secrets.token_urlsafe(32),
        journeys_dir=journeys,
        rate_limits=False,
    )
    app = create_app(build(settings, migrate=True, **demo_options()))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"
    )
    server = _Server(config)
    thread = threading.Thread(target=server.run, name="groups-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("The app did not start under uvicorn", pytrace=False)
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    server.force_exit = True
    thread.join(timeout=10)


def _context(browser: Browser, base_url: str, **options: object) -> BrowserContext:
    context = browser.new_context(
        base_url=base_url, viewport={"width": 1024, "height": 800}, **options
    )
    context.set_default_timeout(10_000)
    AXE.preload(context)
    return context


@pytest.fixture
def group_page(browser: Browser, household_url: str) -> Iterator[Page]:
    context = _context(browser, household_url)
    yield context.new_page()
    context.close()


def assert_error_summary_focused(page: Page, message: str) -> None:
    expect(page.locator(".error-summary")).to_contain_text(message)
    assert focused(page)["summary"], f"the error summary should take focus on {page.url}"


def test_previous_names_with_the_keyboard_alone(group_page: Page):
    page = group_page
    sign_in(page, "alex")
    keys = Keyboard(page)
    keys.go("/start/household")
    keys.follow("button.button-start")
    expect(page.locator("h1")).to_have_text("About you")
    keys.date("moved_in", date(2019, 5, 4))
    keys.choose("known_by_other_name", "yes")
    keys.follow(SUBMIT)

    # the group is empty: its page asks for the first item
    expect(page.locator("h1")).to_have_text("Add a previous name")
    keys.follow(SUBMIT)
    assert_error_summary_focused(page, "Enter the last name you used")
    keys.type_into("#previous_first_name", "Sam")
    keys.type_into("#previous_last_name", "Jones")
    keys.date("used_until", date(2020, 3, 1))
    keys.follow(SUBMIT)

    expect(page.locator("h1")).to_have_text("You have added 1 name")
    keys.follow(SUBMIT)  # neither yes nor no
    assert_error_summary_focused(page, "Select yes if you need to add another")
    keys.choose("add_another", "yes")
    keys.follow(SUBMIT)
    expect(page.locator("h1")).to_have_text("Add a previous name")
    keys.type_into("#previous_first_name", "Kim")
    keys.type_into("#previous_last_name", "Lee")
    keys.date("used_until", date(2018, 1, 1))
    keys.follow(SUBMIT)
    expect(page.locator("h1")).to_have_text("You have added 2 names")

    keys.follow('a[href$="/items/2"]')  # Change Kim Lee
    expect(page.locator("h1")).to_have_text("Add a previous name")
    keys.type_into("#previous_last_name", "")
    keys.follow(SUBMIT)
    assert_error_summary_focused(page, "Enter the last name you used")
    keys.type_into("#previous_last_name", "Park")
    keys.follow(SUBMIT)
    expect(page.locator(".summary-list")).to_contain_text("Kim Park")

    keys.follow('a[href$="/items/1/remove"]')
    expect(page.locator("h1")).to_have_text("Are you sure you want to remove Sam Jones?")
    keys.follow(SUBMIT)
    assert_error_summary_focused(page, "Select yes if you want to remove Sam Jones")
    keys.choose("confirm", "yes")
    keys.follow(SUBMIT)
    expect(page.locator("h1")).to_have_text("You have added 1 name")

    keys.choose("add_another", "no")
    keys.follow(SUBMIT)
    expect(page.locator("h1")).to_have_text("Check your answers")
    expect(page.locator("main")).to_contain_text("Kim Park")
    keys.follow('a[href$="/items/1?change=1"]')
    expect(page.locator("#previous_last_name")).to_have_value("Park")
    keys.assert_no_pointer()
    names = api_view(page.context, journey_id(page))["answers"]["previous_names"]
    assert [(n["previous_first_name"], n["previous_last_name"]) for n in names] == [("Kim", "Park")]


def test_the_group_pages_work_without_javascript(browser: Browser, household_url: str):
    context = _context(browser, household_url, java_script_enabled=False)
    axe_context = _context(browser, household_url)
    page, axe_page = context.new_page(), axe_context.new_page()
    try:
        sign_in(page, "alex")
        page.goto("/start/household")
        navigate(page, page.get_by_role("button", name="Start now"))
        page.locator("#moved_in-day").fill("4")
        page.locator("#moved_in-month").fill("5")
        page.locator("#moved_in-year").fill("2019")
        page.locator('input[name="known_by_other_name"][value="yes"]').check()
        press(page)
        pages = []
        press(page, "Save and continue")  # nothing typed: errors
        pages.append((page.content(), page.url))
        page.locator("#previous_last_name").fill("Jones")
        page.locator("#used_until-day").fill("1")
        page.locator("#used_until-month").fill("3")
        page.locator("#used_until-year").fill("2020")
        press(page, "Save and continue")
        expect(page.locator("h1")).to_have_text("You have added 1 name")
        pages.append((page.content(), page.url))
        navigate(page, page.get_by_role("link", name="Remove Jones"))
        pages.append((page.content(), page.url))
        page.locator('input[name="confirm"][value="no"]').check()
        press(page)
        page.locator('input[name="add_another"][value="no"]').check()
        press(page)
        expect(page.locator("h1")).to_have_text("Check your answers")
        pages.append((page.content(), page.url))
        for html, url in pages:
            check_snapshot(axe_page, html, url)
    finally:
        context.close()
        axe_context.close()
