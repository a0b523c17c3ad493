"""Replace a stolen card in a real browser, against the partner simulators over HTTP: by
keyboard alone with axe-core on every page and error state, and with JavaScript switched off.
The card is frozen at the reason step, and the next page says so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser_journey import Keyboard, app_on_partners, navigate, new_context
from playwright.sync_api import Browser, BrowserContext, expect

from wayline.sandbox.server import Sandbox

REPO = Path(__file__).resolve().parents[2]
PARTNERS = frozenset({"card_issuer", "core_banking", "fraud_bureau", "notification_provider"})
SIGN_IN = 'form[action="/sign-in"] button[type="submit"]'


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    running = Sandbox(only=PARTNERS).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def card_url(tmp_path_factory: pytest.TempPathFactory, sandbox: Sandbox) -> Iterator[str]:
    """The app on the sandbox's partners (the cards come from the card issuer over HTTP)."""
    with app_on_partners(tmp_path_factory.mktemp("card-home"), sandbox.urls()) as url:
        yield url


@pytest.fixture
def card_context(browser: Browser, card_url: str) -> Iterator[BrowserContext]:
    context = new_context(browser, card_url)
    yield context
    context.close()


@pytest.fixture
def no_js(browser: Browser, card_url: str) -> Iterator[BrowserContext]:
    context = new_context(browser, card_url, java_script_enabled=False)
    yield context
    context.close()


def test_alex_reports_a_card_stolen_and_sees_it_frozen_by_keyboard(
    card_context: BrowserContext, sandbox: Sandbox
) -> None:
    page = card_context.new_page()
    keys = Keyboard(page)
    keys.go("/sign-in")
    expect(page.locator("main")).to_contain_text("Replace a lost, stolen or damaged card: no cards")
    keys.choose("customer", "alex")
    keys.follow(SIGN_IN)
    keys.go("/start/card-replacement")
    keys.follow("button.button-start")

    expect(page.locator("h1")).to_have_text("Which card do you want to replace?")
    expect(page.locator("main")).to_contain_text("Visa debit card ending 4821")
    keys.continue_()  # nothing chosen: the error state, checked by axe too
    expect(page.locator(".error-summary")).to_contain_text("Select the card you want to replace")
    keys.choose("card_id", "card-alex-4821")
    keys.continue_()

    expect(page.locator("h1")).to_have_text("What has happened to your card?")
    keys.choose("card_reason", "stolen")
    keys.continue_()

    # Frozen before this page was shown.
    expect(page.locator(".panel")).to_contain_text("Your card is frozen")
    issuer = sandbox.urls()["card_issuer"]
    card = httpx.get(f"{issuer}/cards/card-alex-4821", timeout=5).json()
    assert card["status"] == "frozen" and card["frozen_reason"] == "stolen"
    keys.continue_()

    expect(page.locator("h1")).to_have_text("Where and how should we send your new card?")
    keys.choose("delivery_address", "on_file")
    keys.choose("delivery_speed", "standard")
    keys.continue_()

    expect(page.locator("h1")).to_have_text("Check your answers before ordering your card")
    expect(page.locator("main")).to_contain_text("It's been stolen")
    keys.follow(
        'form[action$="/check-answers"] button[type="submit"]'
    )  # without the declaration: the error state
    expect(page.locator(".error-summary")).to_contain_text("Confirm that you want to order")
    keys.tick("#declaration")
    keys.follow('form[action$="/check-answers"] button[type="submit"]')
    expect(page.locator(".panel-body strong")).to_contain_text("CRD-")
    keys.assert_no_pointer()


def test_without_javascript_a_damaged_card_is_replaced_without_a_freeze(
    no_js: BrowserContext, sandbox: Sandbox
) -> None:
    page = no_js.new_page()

    def press(name: str = "Continue") -> None:
        navigate(page, page.get_by_role("button", name=name, exact=True))

    page.goto("/sign-in")
    page.locator('input[name="customer"][value="jordan"]').check()
    navigate(page, page.locator(SIGN_IN))
    page.goto("/start/card-replacement")
    press("Start now")
    expect(page.locator("h1")).to_have_text("Which card do you want to replace?")
    page.get_by_label("Visa debit card ending 5550").check()
    press()
    press()  # nothing chosen
    expect(page.locator(".error-summary")).to_contain_text("Select what has happened to your card")
    page.get_by_label("It's damaged or has stopped working").check()
    press()
    # Damaged: no freeze, so no frozen page.
    expect(page.locator("h1")).to_have_text("Where and how should we send your new card?")
    page.get_by_label("22 Mill Road, Leeds, LS1 4AP").check()
    page.locator('input[name="delivery_speed"][value="standard"]').check()
    press()
    expect(page.locator("h1")).to_have_text("Check your answers before ordering your card")
    page.get_by_label("I want to order a new card", exact=False).check()
    press("Order new card")
    expect(page.locator(".panel-body strong")).to_contain_text("CRD-")
    card = httpx.get(f"{sandbox.urls()['card_issuer']}/cards/card-jordan-5550", timeout=5).json()
    assert card["status"] == "active"
