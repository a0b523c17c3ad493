"""A held payment in a real browser, keyboard only, with axe-core on every page: the fee
worked out on the step that asks, explained on check answers, the hold on the status page
and its cancelling; and the same pages with JavaScript off."""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from browser_journey import Keyboard, check_snapshot, journey_id, navigate, new_context
from playwright.sync_api import Browser, BrowserContext, Page, expect

from wayline.bootstrap import build
from wayline.config import Settings
from wayline.sandbox.wiring import demo_options
from wayline.web.app import create_app

TRANSFER = """\
journey: transfer
title: Send money
reference_prefix: TRF
fulfilment:
  withdraw_while: [in_progress, submitted]
computed:
  fee:
    type: money
    currency: GBP
    label: Our fee
    explanation: One per cent of the amount, at least 50p.
    expression: maximum("0.50", round_half_even(percent_of("1", answers.amount), 2))
steps:
  - name: payment
    title: How much do you want to send?
    fields:
      - name: amount
        type: money
        currency: GBP
        label: Amount
        classification: internal
        required: Enter an amount
  - name: confirm
    title: Confirm the payment
    show: [fee]
    fields:
      - name: sure
        type: yes_no
        label: Send it?
        classification: internal
        required: Say whether to send it
declaration:
  text: It is all true
effects:
  - kind: notify
    after: PT30M
    title: Your payment
    params: {template: sent}
recipient:  # who the messages go to: the customer record in the demo data
  source: customer
  name: data.customer.name
  email: data.customer.email
notifications:
  sent:
    email:
      subject: Payment {reference}
      body: Your payment is on its way.
"""


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a thread cannot install them
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app with the small payment journey, on a free loopback port."""
    home = tmp_path_factory.mktemp("holds")
    journeys = home / "journeys"
    (journeys / "fragments").mkdir(parents=True)
    (journeys / "transfer.yaml").write_text(TRANSFER, encoding="utf-8")
    settings = Settings(
        home=home,
        demo=True,
        secret_key=secrets.token_urlsafe(32),
        journeys_dir=Path(journeys),
        rate_limits=False,
    )
    app = create_app(build(settings, migrate=True, **demo_options()))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = _Server(config)
    thread = threading.Thread(target=server.run, name="holds-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = server.force_exit = True
    thread.join(timeout=10)


@pytest.fixture
def context(browser: Browser, site: str) -> Iterator[BrowserContext]:
    context = new_context(browser, site)
    yield context
    context.close()


def signed_in(page: Page) -> None:
    page.goto("/sign-in")
    page.locator('input[name="customer"][value="alex"]').check()
    page.locator('input[name="method"][value="password"]').check()
    navigate(page, page.locator('form[action="/sign-in"] button[type="submit"]'))


def test_a_held_payment_is_cancelled_with_the_keyboard(context: BrowserContext):
    page = context.new_page()
    signed_in(page)
    keys = Keyboard(page)
    keys.go("/start/transfer")
    keys.follow("button.button")  # Start now
    expect(page.locator("h1")).to_have_text("How much do you want to send?")
    keys.type_into("#amount", "1234.50")
    keys.continue_()
    expect(page.locator("h1")).to_have_text("Confirm the payment")
    fee = page.locator(".summary-list-row").filter(has_text="Our fee")
    expect(fee).to_contain_text("£12.34")  # 12.345 rounded half to even
    expect(fee).to_contain_text("One per cent of the amount, at least 50p.")
    keys.choose("sure", "yes")
    keys.continue_()
    expect(page.locator("h1")).to_have_text("Check your answers")
    expect(page.get_by_text("Worked out from your answers")).to_be_visible()
    keys.tick("#declaration")
    keys.follow('form[action$="/check-answers"] button[type="submit"]')
    keys.go(f"/journeys/{journey_id(page)}/status")
    expect(page.get_by_text("unless you cancel it")).to_be_visible()

    keys.follow('form[action$="/holds/cancel"] button')
    expect(page.get_by_text("Nothing was sent.")).to_be_visible()
    expect(page.locator('form[action$="/holds/cancel"]')).to_have_count(0)
    keys.assert_no_pointer()


def test_the_status_page_without_javascript(browser: Browser, site: str, context):
    page = context.new_page()
    signed_in(page)
    page.goto("/start/transfer")
    navigate(page, page.locator("button.button").first)
    page.fill("#amount", "20")
    navigate(page, page.locator('button[value="continue"]'))
    page.locator('input[name="sure"][value="yes"]').check()
    navigate(page, page.locator('button[value="continue"]'))
    page.locator("#declaration").check()
    navigate(page, page.locator('form[action$="/check-answers"] button[type="submit"]'))
    status_url = f"/journeys/{journey_id(page)}/status"

    plain = new_context(browser, site, java_script_enabled=False)
    try:
        plain.add_cookies(context.cookies())
        no_js = plain.new_page()
        no_js.goto(status_url)
        expect(no_js.get_by_text("unless you cancel it")).to_be_visible()
        check_snapshot(context.new_page(), no_js.content(), status_url)
        navigate(no_js, no_js.locator('form[action$="/withdraw"] button'))
        expect(no_js.get_by_text("You withdrew it.")).to_be_visible()
        expect(no_js.get_by_text("Nothing was sent.")).to_be_visible()  # its hold went too
        check_snapshot(context.new_page(), no_js.content(), status_url)
    finally:
        plain.close()
