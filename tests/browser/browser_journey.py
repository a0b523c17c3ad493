"""Helpers shared by the browser tests: page checks (axe-core, one h1, the title), a keyboard
driver that moves only with Tab, arrows, Space, Enter and typing, and the JSON API view of a
journey read in the same browser context (the session cookie is shared)."""

from __future__ import annotations

import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import uvicorn
import yaml
from axe_playwright_python.base import AxeResults
from axe_playwright_python.sync_playwright import DEFAULT_OPTIONS, Axe
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from wayline.bootstrap import build
from wayline.config import Settings
from wayline.sandbox.wiring import demo_options
from wayline.web.app import create_app


class PreloadedAxe(Axe):
    """axe-playwright-python's Axe, but the axe-core script is sent to the browser once per
    context (`preload`, run by Chromium in every new page) instead of once per check; it is
    injected only into a page that lacks it. Checks take a third of the time."""

    def preload(self, context: BrowserContext) -> None:
        context.add_init_script(self.axe_script)

    def run(self, page: Page, context=None, options: dict | None = DEFAULT_OPTIONS) -> AxeResults:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(self.axe_script)
        arguments = self._format_script_args(context=context, options=options)
        return AxeResults(page.evaluate(f"axe.run({arguments}).then(results => results)"))


AXE = PreloadedAxe()


def new_context(browser: Browser, base_url: str, **options: Any) -> BrowserContext:
    """A fresh context (its own cookies) at a modest desktop size unless told otherwise, with
    axe-core preloaded."""
    options.setdefault("viewport", {"width": 1024, "height": 800})
    context = browser.new_context(base_url=base_url, **options)
    context.set_default_timeout(10_000)
    AXE.preload(context)
    return context


REFERENCE = re.compile(r"^CLM-[A-Z0-9]{6}$")
JOURNEY_URL = re.compile(r"/journeys/([0-9a-z]+)(/|$)")


@dataclass(frozen=True)
class Photos:
    front: Path
    side: Path
    close: Path
    estimate: Path


def days_ago(days: int) -> date:
    return date.today() - timedelta(days=days)


# --- checks every page gets ----------------------------------------------------------------


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations for the page as it stands (every rule axe has, best practices
    included), printed in full when there are any."""
    results = AXE.run(page)
    if results.violations_count:
        print(f"axe-core on {page.url}:\n{results.generate_report()}")
    return results.response["violations"]


def check_page(page: Page, *, axe: bool = True) -> None:
    """The checks every page of the journey passes: zero axe violations, exactly one h1, and
    a title that begins with "Error:" exactly when the page shows an error summary."""
    if axe:
        violations = axe_violations(page)
        assert violations == [], f"axe-core found {len(violations)} violation(s) on {page.url}"
    assert page.locator("h1").count() == 1, f"{page.url} should have exactly one h1"
    title = page.title()
    has_errors = page.locator(".error-summary").count() > 0
    assert title.startswith("Error: ") == has_errors, (
        f"title {title!r} on {page.url}: it must begin with 'Error:' exactly when errors show"
    )
    if "/steps/" in page.url or page.url.endswith("/check-answers"):
        heading = page.locator("h1").inner_text().replace(" (optional)", "").strip()
        assert heading in title, f"title {title!r} should name the step {heading!r}"


def check_snapshot(axe_page: Page, html: str, url: str) -> None:
    """Check a page captured without JavaScript: its HTML is loaded into a page at the same
    origin whose own script is blocked, so axe sees exactly what a no-script browser shows
    (every conditional field visible). axe cannot run in a context with JavaScript off."""
    axe_page.set_content(html, wait_until="load")
    violations = axe_violations(axe_page)
    assert violations == [], f"axe-core found {len(violations)} violation(s) on {url} (no JS)"
    check_page(axe_page, axe=False)


def journey_id(page: Page) -> str:
    match = JOURNEY_URL.search(page.url)
    assert match, f"no journey id in {page.url}"
    return match.group(1)


def api_view(context: BrowserContext, journey: str) -> dict[str, Any]:
    """GET /api/v1/journeys/{id} with the context's own session cookie."""
    response = context.request.get(f"/api/v1/journeys/{journey}")
    assert response.ok, f"GET /api/v1/journeys/{journey}: {response.status} {response.text()}"
    return response.json()


def focused(page: Page) -> dict[str, Any]:
    return page.evaluate(
        """() => { const el = document.activeElement;
        return { tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name'),
                 value: el.value, text: (el.innerText || '').trim(),
                 summary: el.hasAttribute('data-error-summary') }; }"""
    )


# --- the keyboard alone ----------------------------------------------------------------------


class Keyboard:
    """Drives a page with the keyboard alone: Tab (and Shift+Tab) to move, arrows within a
    radio group, Space to tick or open the file chooser, Enter to follow links and press
    buttons, and typing. No mouse event is ever sent."""

    def __init__(self, page: Page, check: Callable[[Page], None] = check_page):
        self.page = page
        self.check = check
        # Count any pointer event on every page, to prove none is ever sent.
        page.add_init_script(
            "window.__pointerEvents = 0; ['pointerdown', 'mousedown', 'touchstart'].forEach("
            "t => addEventListener(t, e => { if (e.isTrusted) window.__pointerEvents++; }, true));"
        )

    def assert_no_pointer(self) -> None:
        count = self.page.evaluate("window.__pointerEvents")
        assert count == 0, f"{count} pointer event(s) on {self.page.url}: keyboard only"

    def matches(self, selector: str) -> bool:
        return self.page.evaluate(
            "s => !!document.activeElement && document.activeElement.matches(s)", selector
        )

    def tab_to(self, selector: str, limit: int = 60) -> None:
        """Press Tab until the focused element matches the CSS selector."""
        for _ in range(limit):
            if self.matches(selector):
                return
            self.page.keyboard.press("Tab")
        raise AssertionError(f"Tab never reached {selector} on {self.page.url}")

    def type_into(self, selector: str, text: str) -> None:
        self.tab_to(selector)
        self.page.keyboard.press("ControlOrMeta+a")
        self.page.keyboard.press("Delete")
        if text:
            self.page.keyboard.type(text)

    def choose(self, name: str, value: str) -> None:
        """Tab into a radio group, then arrow to the option (arrows select as they move)."""
        self.tab_to(f'input[type="radio"][name="{name}"]')
        for _ in range(20):
            if self.matches(f'input[value="{value}"]'):
                self.page.keyboard.press("Space")
                assert self.page.locator(
                    f'input[type="radio"][name="{name}"][value="{value}"]'
                ).is_checked()
                return
            self.page.keyboard.press("ArrowDown")
        raise AssertionError(f"no option {value!r} for {name}")

    def tick(self, selector: str) -> None:
        self.tab_to(selector)
        if not self.page.locator(selector).is_checked():
            self.page.keyboard.press("Space")
        assert self.page.locator(selector).is_checked()

    def files(self, selector: str, paths: list[Path]) -> None:
        """Open the file chooser from the focused file input with Space, and pick files."""
        self.tab_to(selector)
        try:
            with self.page.expect_file_chooser(timeout=4_000) as chooser:
                self.page.keyboard.press("Space")
        except PlaywrightTimeoutError:
            # On a busy machine Chromium now and then drops the first key; Enter opens the
            # chooser too.
            self.tab_to(selector)
            with self.page.expect_file_chooser() as chooser:
                self.page.keyboard.press("Enter")
        chooser.value.set_files([str(p) for p in paths])

    def follow(self, selector: str) -> None:
        """Tab to a link or button and press Enter; wait for the next page and check it."""
        self.tab_to(selector)
        self.assert_no_pointer()
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")
        self.check(self.page)

    def go(self, url: str) -> None:
        """Typing an address into the browser (keyboard too)."""
        self.page.goto(url)
        self.check(self.page)

    def date(self, field: str, day: date) -> None:
        self.type_into(f"#{field}-day", str(day.day))
        self.type_into(f"#{field}-month", str(day.month))
        self.type_into(f"#{field}-year", str(day.year))

    def continue_(self) -> None:
        self.follow('button[value="continue"]')

    def wait_saved(self) -> None:
        self.page.locator("[data-autosave-status]").get_by_text("Saved", exact=True).wait_for()


# --- quick ways through the first steps (mouse and fill; the keyboard tests do it by keys) ---


def navigate(page: Page, target: Locator) -> None:
    """Click a link or button and wait for the page it leads to."""
    with page.expect_navigation():
        target.click()


def sign_in(page: Page, customer: str, method: str = "password") -> None:
    """Sign in through the demo's page: by password (level 1), or with method="one_time_code"
    (level 2, what step-up asks for)."""
    page.goto("/sign-in")
    page.locator(f'input[name="customer"][value="{customer}"]').check()
    page.locator(f'input[name="method"][value="{method}"]').check()
    navigate(page, page.locator('form[action="/sign-in"] button[type="submit"]'))
    expect(page.locator("h1")).to_have_text("Your activity")


def start_claim(page: Page) -> str:
    """Start a motor claim; returns its id (the page shows the policy step)."""
    page.goto("/start/motor-claim")
    navigate(page, page.get_by_role("button", name="Start now"))
    expect(page.locator("h1")).to_have_text("Which car is the claim for?")
    return journey_id(page)


def press(page: Page, name: str = "Continue") -> None:
    """Press a button that sends the form, and wait for the page that answers."""
    navigate(page, page.get_by_role("button", name=name, exact=True))


def fill_incident(
    page: Page,
    kind: str = "glass",
    *,
    ago: int = 3,
    postcode: str = "SW1A 1AA",
    description: str = "A stone thrown up by a lorry cracked the windscreen.",
    driveable: str | None = "yes",
) -> None:
    day = days_ago(ago)
    page.locator("#incident_date-day").fill(str(day.day))
    page.locator("#incident_date-month").fill(str(day.month))
    page.locator("#incident_date-year").fill(str(day.year))
    page.locator(f'input[name="incident_type"][value="{kind}"]').check()
    page.locator("#incident_postcode").fill(postcode)
    page.locator("#description").fill(description)
    if driveable:
        page.locator(f'input[name="driveable"][value="{driveable}"]').check()


def wait_saved(page: Page) -> None:
    expect(page.locator("[data-autosave-status]")).to_have_text("Saved")


class _ThreadServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # runs in a thread: leave signals alone
        pass


@contextmanager
def app_on_partners(home: Path, partner_urls: dict[str, str]) -> Iterator[str]:
    """The demo app in `home`, on the given partners over HTTP (no in-process sources),
    served on a free loopback port for the `with` block; yields its base URL."""
    connectors = home / "connectors.yaml"
    connectors.write_text(
        yaml.safe_dump(
            {"partners": {name: {"base_url": url} for name, url in partner_urls.items()}}
        )
    )
    settings = Settings(
        home=home,
        demo=True,
        secret_key=secrets.token_urlsafe(32),
        journeys_dir=Path(__file__).resolve().parents[2] / "journeys",
        connectors=connectors,
        rate_limits=False,
    )
    app = create_app(build(settings, migrate=True, **demo_options(in_process_sources=False)))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = _ThreadServer(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        server.force_exit = True
        thread.join(timeout=10)
