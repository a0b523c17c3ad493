"""Pay a saved payee in a real browser, against the partner simulators over HTTP, by keyboard
alone with axe-core on every page and error state: the accounts and payees come from core
banking, the amount asks why it is paid and warns to fit the answer, and the payment is sent
once the customer confirms."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_journey import Keyboard, app_on_partners, new_context
from playwright.sync_api import Browser, BrowserContext, expect

from wayline.sandbox.server import Sandbox

REPO = Path(__file__).resolve().parents[2]
PARTNERS = frozenset({"core_banking", "payment_provider", "fraud_bureau", "notification_provider"})
SIGN_IN = 'form[action="/sign-in"] button[type="submit"]'


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    running = Sandbox(only=PARTNERS).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def payment_url(tmp_path_factory: pytest.TempPathFactory, sandbox: Sandbox) -> Iterator[str]:
    """The app on the sandbox's partners (accounts and payees from core banking over HTTP)."""
    with app_on_partners(tmp_path_factory.mktemp("payment-home"), sandbox.urls()) as url:
        yield url


@pytest.fixture
def payment_context(browser: Browser, payment_url: str) -> Iterator[BrowserContext]:
    context = new_context(browser, payment_url)
    yield context
    context.close()


def test_alex_pays_jane_by_keyboard_warned_for_what_it_is_for(
    payment_context: BrowserContext, sandbox: Sandbox
) -> None:
    page = payment_context.new_page()
    keys = Keyboard(page)
    keys.go("/sign-in")
    expect(page.locator("main")).to_contain_text("Pay someone or pay a bill")
    keys.choose("customer", "alex")
    keys.follow(SIGN_IN)
    keys.go("/start/payment")
    keys.follow("button.button-start")

    expect(page.locator("h1")).to_have_text("Which account do you want to pay from?")
    expect(page.locator("main")).to_contain_text("£2,450.00 available")
    keys.continue_()  # nothing chosen: the error state, checked by axe too
    expect(page.locator(".error-summary")).to_contain_text("Select the account you want to pay")
    keys.choose("from_account", "acc-alex-9911")
    keys.continue_()

    expect(page.locator("h1")).to_have_text("Who do you want to pay?")
    expect(page.locator("main")).to_contain_text("British Gas (Bill)")
    keys.choose("payee_id", "payee-alex-jane")
    keys.continue_()

    expect(page.locator("h1")).to_have_text("How much do you want to pay?")
    keys.type_into("#pay_amount", "3000")
    keys.choose("pay_when", "now")
    keys.continue_()  # more than is available: refused, with the message
    expect(page.locator(".error-summary")).to_contain_text(
        "Amount must be no more than your available balance"
    )
    keys.type_into("#pay_amount", "600")
    keys.continue_()

    expect(page.locator("h1")).to_have_text("What is this payment for?")
    keys.choose("purpose", "tradesperson")
    keys.choose("told_what_to_say", "no")
    keys.continue_()

    expect(page.locator("h1")).to_have_text("Before you make this payment")
    expect(page.locator("main")).to_contain_text("You are paying £600.00 to Jane Morgan")
    expect(page.locator("main")).to_contain_text("Never pay a tradesperson")
    keys.continue_()

    expect(page.locator("h1")).to_have_text("Check your payment")
    keys.tick("#declaration")
    keys.follow('form[action$="/check-answers"] button[type="submit"]')
    expect(page.locator(".panel-body strong")).to_contain_text("PAY-")
    keys.assert_no_pointer()
