"""A journey anyone may start, in Chromium: started without signing in, saved by verifying an
email address with the code the notification provider (the sandbox, over HTTP) received, and
come back to by the emailed link, with the keyboard alone and axe-core on every page and
error state; then the same without JavaScript.

The app here is its own (the session app serves only the motor claim, without a
notification provider): a small `who: anyone` journey, the partner simulators on loopback.
"""

from __future__ import annotations

import re
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
import uvicorn
import yaml
from browser_journey import AXE, Keyboard, check_page, check_snapshot
from playwright.sync_api import Browser, BrowserContext, Page

from wayline.bootstrap import build
from wayline.config import Settings
from wayline.sandbox.server import Sandbox
from wayline.sandbox.wiring import demo_options
from wayline.web.app import create_app

JOURNEY = "open-test-account"
DEFINITION = """\
journey: open-test-account
title: Open a test account
who: anyone
owner: answers.customer_number
reference_prefix: OPN
steps:
  - name: about
    title: About you
    fields:
      - name: full_name
        type: text
        label: Full name
        classification: personal
        required: Enter your full name
  - name: customer
    title: Your customer number
    fields:
      - name: customer_number
        type: text
        label: Customer number
        classification: internal
        required: Enter your customer number
declaration:
  text: My answers are true
"""


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # runs in a thread: leave signals alone
        pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    running = Sandbox().start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def visitors_url(tmp_path_factory: pytest.TempPathFactory, sandbox: Sandbox) -> Iterator[str]:
    home = tmp_path_factory.mktemp("visitors-home")
    journeys = home / "journeys"
    journeys.mkdir()
    (journeys / f"{JOURNEY}.yaml").write_text(DEFINITION, encoding="utf-8")
    connectors = home / "connectors.yaml"
    partners = {name: {"base_url": url} for name, url in sandbox.urls().items()}
    connectors.write_text(yaml.safe_dump({"partners": partners}))
    settings = Settings(
        home=home,
        demo=True,
        secret_key=secrets.token_urlsafe(32),
        journeys_dir=journeys,
        connectors=connectors,
        rate_limits=False,
    )
    components = build(settings, migrate=True, **demo_options(in_process_sources=False))
    port = _free_port()
    server = _Server(
        uvicorn.Config(
            create_app(components),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, name="wayline-visitors", daemon=True)
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
    components.store.engine.dispose()
    if components.partners:
        components.partners.close()


def _context(browser: Browser, url: str, **options: object) -> BrowserContext:
    context = browser.new_context(base_url=url, viewport={"width": 1024, "height": 800}, **options)
    context.set_default_timeout(10_000)
    AXE.preload(context)
    return context


@pytest.fixture
def open_context(browser: Browser, visitors_url: str) -> Iterator[Callable[..., BrowserContext]]:
    opened: list[BrowserContext] = []

    def make(**options: object) -> BrowserContext:
        context = _context(browser, visitors_url, **options)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


def _sent(sandbox: Sandbox, email: str, pattern: str) -> str:
    messages = httpx.get(f"{sandbox.urls()['notification_provider']}/messages").json()
    found = [re.search(pattern, m["body"]) for m in messages if m["to"] == email]
    matched = [match.group(1) for match in found if match]
    assert matched, f"nothing matching {pattern} was sent to {email}"
    return matched[-1]


def code_for(sandbox: Sandbox, email: str) -> str:
    return _sent(sandbox, email, r"code is (\d{6})")


def link_for(sandbox: Sandbox, email: str) -> str:
    return _sent(sandbox, email, r"(/resume/\S+)")


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def start_and_save(keys: Keyboard) -> None:
    """From the start page to "Save and come back later", by keys."""
    keys.go(f"/start/{JOURNEY}")
    keys.follow("button.button-start")
    assert "/steps/about" in keys.page.url
    keys.type_into("#full_name", "Sam Visitor")
    keys.follow('button[value="save"]')
    assert keys.page.url.endswith("/save")


def test_a_visitor_saves_and_comes_back_by_keyboard(
    open_context: Callable[..., BrowserContext], sandbox: Sandbox
) -> None:
    email = f"kb-{uuid.uuid4().hex[:8]}@example.com"
    keys = Keyboard(open_context().new_page())
    start_and_save(keys)
    keys.type_into("#email", "not an address")
    keys.follow('form[action$="/email"] button[type="submit"]')
    assert keys.page.title().startswith("Error:")
    assert "like name@example.com" in keys.page.locator(".error-summary").inner_text()
    keys.type_into("#email", email)
    keys.follow('form[action$="/email"] button[type="submit"]')
    assert "We have sent a 6-digit code" in keys.page.inner_text("main")
    code = code_for(sandbox, email)
    keys.type_into("#code", wrong(code))
    keys.follow('form[action$="/email/code"] button[type="submit"]')
    assert "The code is not correct" in keys.page.locator(".error-summary").inner_text()
    keys.type_into("#code", "12")
    keys.follow('form[action$="/email/code"] button[type="submit"]')
    assert "The code must be 6 numbers" in keys.page.locator(".error-summary").inner_text()
    keys.type_into("#code", code)
    keys.follow('form[action$="/email/code"] button[type="submit"]')
    assert keys.page.locator("h1").inner_text() == "Your answers are saved"
    keys.assert_no_pointer()

    # Later, in another browser: the emailed link, then a button (the link alone uses nothing).
    link = link_for(sandbox, email)
    later = Keyboard(open_context().new_page())
    later.go(link)
    later.follow('main button[type="submit"]')
    assert "/steps/about" in later.page.url
    assert later.page.locator("#full_name").input_value() == "Sam Visitor"
    later.assert_no_pointer()

    # The link works once.
    again = Keyboard(open_context().new_page())
    again.go(link)
    again.follow('main button[type="submit"]')
    assert again.page.locator("h1").inner_text() == "This link has already been used"


def test_five_wrong_codes_lock_the_page_by_keyboard(
    open_context: Callable[..., BrowserContext], sandbox: Sandbox
) -> None:
    email = f"lock-{uuid.uuid4().hex[:8]}@example.com"
    keys = Keyboard(open_context().new_page())
    start_and_save(keys)
    keys.type_into("#email", email)
    keys.follow('form[action$="/email"] button[type="submit"]')
    code = code_for(sandbox, email)
    for _ in range(5):
        keys.type_into("#code", wrong(code))
        keys.follow('form[action$="/email/code"] button[type="submit"]')
    assert "Too many wrong codes" in keys.page.inner_text("main")
    assert keys.page.locator("#code").count() == 0


def test_a_link_that_is_not_ours_gets_a_clear_page(
    open_context: Callable[..., BrowserContext],
) -> None:
    keys = Keyboard(open_context().new_page())
    keys.go("/resume/" + "A" * 32 + "." + "B" * 43)
    assert keys.page.locator("h1").inner_text() == "This link is not valid"


def test_without_javascript_a_visitor_saves_with_a_code(
    open_context: Callable[..., BrowserContext], sandbox: Sandbox
) -> None:
    email = f"nojs-{uuid.uuid4().hex[:8]}@example.com"
    page: Page = open_context(java_script_enabled=False).new_page()
    axe_page = open_context().new_page()
    axe_page.route("**/*.js", lambda route: route.abort())

    def snapshot() -> None:
        check_snapshot(axe_page, page.content(), page.url)

    page.goto(f"/start/{JOURNEY}")
    snapshot()
    page.get_by_role("button", name="Start now").click()
    page.fill("#full_name", "Sam NoScript")
    page.get_by_role("button", name="Save and come back later").click()
    assert page.url.endswith("/save")
    snapshot()
    page.fill("#email", email)
    page.get_by_role("button", name="Send the code").click()
    snapshot()
    page.fill("#code", wrong(code_for(sandbox, email)))
    page.get_by_role("button", name="Confirm").click()
    assert "The code is not correct" in page.inner_text(".error-summary")
    snapshot()
    page.fill("#code", code_for(sandbox, email))
    page.get_by_role("button", name="Confirm").click()
    assert page.locator("h1").inner_text() == "Your answers are saved"
    snapshot()
    check_page(axe_page, axe=False)
