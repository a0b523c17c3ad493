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


NEW_TO_DIGITAL = "New to paying online?"


def sign_in_as(keys: Keyboard, customer: str) -> None:
    keys.go("/sign-in")
    keys.choose("customer", customer)
    keys.follow(SIGN_IN)


def to_payee(keys: Keyboard, preview_segment: str | None = None) -> None:
    """Start a payment (through the demo's preview switch when given) and choose Alex's
    account: the payee step."""
    keys.go("/start/payment")
    expect(keys.page.locator("legend", has_text="Preview (demo only)")).to_be_visible()
    if preview_segment is not None:
        keys.choose("preview_segment", preview_segment)
    keys.follow("button.button-start")
    expect(keys.page.locator("h1")).to_have_text("Which account do you want to pay from?")
    keys.choose("from_account", "acc-alex-9911")
    keys.continue_()
    expect(keys.page.locator("h1")).to_have_text("Who do you want to pay?")


def test_alex_previewing_new_to_digital_is_told_how_payments_are_checked(
    payment_context: BrowserContext,
) -> None:
    """Alex is not new to digital banking: his payee page is as declared. Through the demo's
    preview switch, as a customer who first signed in lately, it says how we check payments
    before he chooses who to pay. By keyboard, axe on every page."""
    page = payment_context.new_page()
    keys = Keyboard(page)
    reassurance = page.locator("main .inset-text", has_text=NEW_TO_DIGITAL)
    sign_in_as(keys, "alex")

    to_payee(keys)
    expect(reassurance).to_have_count(0)

    to_payee(keys, "new_to_digital")
    expect(reassurance).to_contain_text("we check the name on the account you are paying")
    expect(reassurance).to_contain_text("We will never ask you to move money to keep it safe")
    keys.continue_()  # nothing chosen: the error state keeps the variant, checked by axe
    expect(page.locator(".error-summary")).to_contain_text("Select who you want to pay")
    expect(reassurance).to_have_count(1)

    to_payee(keys, "none")
    expect(reassurance).to_have_count(0)
    keys.assert_no_pointer()


def test_the_warning_fits_what_the_payment_is_for(payment_context: BrowserContext) -> None:
    """An investment: the strong warning, which must be confirmed (its error state checked by
    axe). Paying friends or family: different words, no strong warning, nothing to confirm.
    Nothing is sent: each payment stops at its check page."""
    page = payment_context.new_page()
    keys = Keyboard(page)
    main = page.locator("main")
    sign_in_as(keys, "alex")

    def to_warning(purpose: str) -> None:
        to_payee(keys)
        keys.choose("payee_id", "payee-alex-jane")
        keys.continue_()
        expect(page.locator("h1")).to_have_text("How much do you want to pay?")
        keys.type_into("#pay_amount", "600")
        keys.choose("pay_when", "now")
        keys.continue_()
        expect(page.locator("h1")).to_have_text("What is this payment for?")
        keys.choose("purpose", purpose)
        keys.choose("told_what_to_say", "no")
        keys.continue_()
        expect(page.locator("h1")).to_have_text("Before you make this payment")

    to_warning("investment")
    strong = page.locator("main .warning-text")
    expect(strong).to_have_count(1)
    expect(strong).to_contain_text("Investment scams promise high returns, often in crypto")
    expect(main).not_to_contain_text("Asked for money by a friend or relative")
    keys.continue_()  # not confirmed: refused
    expect(page.locator(".error-summary")).to_contain_text(
        "Confirm you have read the warning, or cancel the payment"
    )
    keys.tick('input[name="warning_read"][value="read"]')
    keys.continue_()
    expect(page.locator("h1")).to_have_text("Check your payment")

    to_warning("family_friends")
    expect(main).to_contain_text("Asked for money by a friend or relative by message?")
    expect(page.locator("main .warning-text")).to_have_count(0)
    expect(main).not_to_contain_text("Investment scams")
    expect(page.locator('input[name="warning_read"]')).to_have_count(0)
    keys.continue_()
    expect(page.locator("h1")).to_have_text("Check your payment")
    keys.assert_no_pointer()
