"""Take money out of an investment in a real browser, against the partner simulators over
HTTP, by keyboard alone with axe-core on every page and error state: Alex sells all of his
general account and sees the exit charge, the gain and what he will get before he chooses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser_journey import AXE, Keyboard, app_on_partners
from playwright.sync_api import Browser, BrowserContext, expect

from wayline.sandbox.server import Sandbox

REPO = Path(__file__).resolve().parents[2]
PARTNERS = frozenset({"wealth_platform", "pension_wise", "core_banking", "notification_provider"})
SIGN_IN = 'form[action="/sign-in"] button[type="submit"]'
SEND = 'form[action$="/check-answers"] button[type="submit"]'


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    running = Sandbox(only=PARTNERS).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def cashout_url(tmp_path_factory: pytest.TempPathFactory, sandbox: Sandbox) -> Iterator[str]:
    """The app on the sandbox's partners (holdings come from the wealth platform over HTTP)."""
    with app_on_partners(tmp_path_factory.mktemp("cashout-home"), sandbox.urls()) as url:
        yield url


@pytest.fixture
def cashout_context(browser: Browser, cashout_url: str) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=cashout_url, viewport={"width": 1024, "height": 800})
    context.set_default_timeout(10_000)
    AXE.preload(context)
    yield context
    context.close()


def test_alex_sells_his_general_account_by_keyboard(
    cashout_context: BrowserContext, sandbox: Sandbox
) -> None:
    page = cashout_context.new_page()
    keys = Keyboard(page)
    keys.go("/sign-in")
    expect(page.locator("main")).to_contain_text(
        "Take money out of your investments: a flexible ISA (£18,400.00)"
    )
    keys.choose("customer", "alex")
    keys.follow(SIGN_IN)
    keys.go("/start/investment-cashout")
    keys.follow("button.button-start")

    expect(page.locator("h1")).to_have_text("Which investment do you want to take money from?")
    expect(page.locator("main")).to_contain_text("Worth £6,200.00 at 12pm today")
    keys.continue_()  # nothing chosen: the error state, checked by axe too
    expect(page.locator(".error-summary")).to_contain_text(
        "Select the investment you want to take money from"
    )
    keys.choose("holding_id", "GIA-200002")
    keys.continue_()

    expect(page.locator("h1")).to_have_text("How much do you want to take out?")
    keys.choose("amount_choice", "all")
    keys.continue_()

    expect(page.locator("h1")).to_have_text("What you'll get and what it costs")
    main = page.locator("main")
    expect(main).to_contain_text("£50.00")  # the exit charge
    expect(main).to_contain_text("£6,150.00")  # what he gets
    expect(main).to_contain_text("Your estimated gain on what you sell is £666.00")
    keys.tick('input[name="understood"][value="confirmed"]')
    keys.continue_()

    expect(page.locator("h1")).to_have_text("Your circumstances")
    keys.tick('input[name="circumstance_reasons"][value="none"]')
    keys.choose("someone_involved", "no")
    keys.continue_()

    expect(page.locator("h1")).to_have_text("Where we'll pay the money")
    expect(main).to_contain_text("Wayline Bank, account ending 9911")
    expect(main).to_contain_text("You'll get about £6,150.00")
    keys.continue_()

    expect(page.locator("h1")).to_have_text("Check your answers before you sell")
    keys.follow(SEND)  # without the declaration: the error state
    expect(page.locator(".error-summary")).to_contain_text(
        "Confirm that you understand the sale cannot be undone"
    )
    keys.tick("#declaration")
    keys.follow(SEND)
    expect(page.locator("h1")).to_contain_text("Request received")
    expect(page.locator(".panel-body strong")).to_contain_text("WDR-")
    keys.assert_no_pointer()
    holding = httpx.get(f"{sandbox.urls()['wealth_platform']}/holdings/GIA-200002", timeout=5)
    assert holding.json()["value_pence"] == 620_000  # sold by the worker, not by the page


def test_sam_is_offered_a_callback_and_the_demo_previews_a_segment(
    cashout_context: BrowserContext,
) -> None:
    """Core banking records a support need for Sam: his first step offers a callback. Alex
    sees the journey as it is, and, through the demo's preview switch, as Sam would; axe
    checks every page, the start page's preview switch too."""
    page = cashout_context.new_page()
    keys = Keyboard(page)
    help_offer = page.locator("main .inset-text", has_text="We're here to help")

    keys.go("/sign-in")
    keys.choose("customer", "sam")
    keys.follow(SIGN_IN)
    keys.go("/start/investment-cashout")
    expect(page.locator("legend", has_text="Preview (demo only)")).to_be_visible()
    keys.follow("button.button-start")
    expect(page.locator("h1")).to_have_text("Which investment do you want to take money from?")
    expect(help_offer).to_contain_text("call us free on 0800 015 4321")

    keys.go("/sign-in")  # signing in again as someone else replaces the session
    keys.choose("customer", "alex")
    keys.follow(SIGN_IN)
    keys.go("/start/investment-cashout")
    keys.follow("button.button-start")
    expect(page.locator("h1")).to_have_text("Which investment do you want to take money from?")
    expect(help_offer).to_have_count(0)

    keys.go("/start/investment-cashout")
    keys.choose("preview_segment", "possibly_vulnerable")
    keys.follow("button.button-start")
    expect(help_offer).to_contain_text("Your answers are saved for 90 days")
