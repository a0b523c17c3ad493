"""Opening a current account in Chromium (journeys/account-opening.yaml), without signing in:
the main path with the keyboard alone and axe-core on every page and error state, from the
start page to the account number; then the same application without JavaScript. The app is
its own, with the shipped journeys and every partner simulator on loopback; the effect
worker is run by the test once the application is sent."""

from __future__ import annotations

import random
import secrets
import socket
import string
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from browser_journey import AXE, Keyboard, Photos, check_snapshot
from playwright.sync_api import Browser, BrowserContext, Locator, expect

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.sandbox.server import Sandbox
from wayline.sandbox.wiring import demo_options
from wayline.web.app import create_app

ROOT_JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"
SUBMIT = "main form button.button"
SEND = 'form[action$="/check-answers"] button[type="submit"]'


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
    url = running.urls()["identity_verification"]
    httpx.put(f"{url}/_sandbox/settings", json={"check_seconds": 0})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, sandbox: Sandbox
) -> Iterator[tuple[str, Components]]:
    home = tmp_path_factory.mktemp("account-home")
    connectors = home / "connectors.yaml"
    partners = {name: {"base_url": url} for name, url in sandbox.urls().items()}
    connectors.write_text(yaml.safe_dump({"partners": partners}))
    settings = Settings(
        home=home,
        demo=True,
        secret_key=secrets.token_urlsafe(32),
        journeys_dir=ROOT_JOURNEYS,
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
    thread = threading.Thread(target=server.run, name="wayline-account", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("The app did not start under uvicorn", pytrace=False)
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", components
    server.should_exit = True
    server.force_exit = True
    thread.join(timeout=10)
    components.store.engine.dispose()
    if components.partners:
        components.partners.close()


@pytest.fixture
def open_context(
    browser: Browser, served: tuple[str, Components]
) -> Iterator[Callable[..., BrowserContext]]:
    opened: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        context = browser.new_context(
            base_url=served[0], viewport={"width": 1024, "height": 800}, **options
        )
        context.set_default_timeout(10_000)
        AXE.preload(context)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


def drain(components: Components) -> None:
    worker = components.worker(base_delay=0.001)
    for _ in range(40):
        if worker.run_due() == 0:
            return


def months_ago(months: int) -> date:
    today = date.today()
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def unique_first_name() -> str:
    """The identity simulator counts each person's attempts: each run is a new person."""
    return "Sam" + "".join(random.choice(string.ascii_lowercase) for _ in range(8))


def test_an_applicant_opens_an_account_by_keyboard(
    open_context: Callable[..., BrowserContext],
    served: tuple[str, Components],
    photos: Photos,
) -> None:
    keys = Keyboard(open_context().new_page())
    page = keys.page
    keys.go("/start/account-opening")
    keys.follow("button.button-start")
    assert "/steps/eligibility" in page.url
    keys.follow(SUBMIT)  # nothing chosen: the error state, checked by axe too
    assert "Select yes if you are 18 or over" in page.locator(".error-summary").inner_text()
    keys.choose("is_adult", "yes")
    keys.choose("uk_resident", "yes")
    keys.follow(SUBMIT)

    assert "/steps/about-you" in page.url
    keys.type_into("#first_name", unique_first_name())
    keys.type_into("#last_name", "Walker")
    keys.date("date_of_birth", date.today().replace(year=date.today().year - 10))
    keys.choose("nationality", "british")
    keys.choose("known_by_other_name", "no")
    keys.choose("tax_elsewhere", "no")
    keys.follow(SUBMIT)
    assert "You must be 18 or over" in page.locator(".error-summary").inner_text()
    keys.date("date_of_birth", date(1968, 5, 14))
    keys.follow(SUBMIT)

    assert "/steps/contact" in page.url
    keys.type_into("#email_address", f"kb-{uuid.uuid4().hex[:8]}@example.com")
    keys.type_into("#mobile", "07700 900982")
    keys.follow(SUBMIT)

    assert "/steps/address" in page.url
    keys.type_into("#address_line_1", "12 Harbour Road")
    keys.type_into("#town", "Bristol")
    keys.type_into("#home_postcode", "BS1 4RN")
    keys.date("home_moved_in", months_ago(8))
    keys.follow(SUBMIT)

    # Three previous addresses, until three years are covered.
    for number, (line, town, postcode, months) in enumerate(
        (
            ("3 Abbey Street", "Bath", "BA1 1SU", 18),
            ("40 Queen Street", "Cardiff", "CF10 2GP", 30),
            ("7 Stonegate", "York", "YO1 7HH", 50),
        )
    ):
        if number:
            keys.choose("add_another", "yes")
            keys.follow(SUBMIT)
        assert "/steps/previous-addresses" in page.url
        keys.choose("in_uk", "yes")
        keys.type_into("#previous_line_1", line)
        keys.type_into("#previous_town", town)
        keys.type_into("#previous_postcode", postcode)
        keys.date("previous_moved_in", months_ago(months))
        keys.follow(SUBMIT)
    assert "You have added 3 previous addresses" in page.locator("h1").inner_text()
    keys.choose("add_another", "no")
    keys.follow(SUBMIT)

    assert "/steps/employment" in page.url
    keys.choose("employment_status", "employed")
    keys.choose("occupation_group", "soc2")
    keys.type_into("#annual_income", "48000")
    keys.choose("monthly_pay_in", "up_to_3000")
    keys.tick('input[name="source_of_funds"][value="pay"]')
    keys.follow(SUBMIT)

    assert "/steps/identity" in page.url
    keys.choose("document_type", "passport")
    keys.choose("identity_route", "photo_check")
    keys.files("#document_front", [photos.front])
    keys.files("#selfie", [photos.close])
    expect(page.locator('[data-field="selfie"] .file-status')).to_have_text("uploaded")
    keys.follow(SUBMIT)

    assert "/steps/choose-account" in page.url
    keys.choose("account_type", "everyday")
    keys.follow(SUBMIT)
    assert "/steps/overdraft" in page.url
    keys.choose("wants_overdraft", "no")
    keys.follow(SUBMIT)

    assert page.url.endswith("/check-answers")
    assert "Check your answers before sending your application" in page.inner_text("h1")
    assert "7 Stonegate" in page.inner_text("main")
    keys.tick("#declaration")
    keys.follow(SEND)
    reference = page.locator(".panel-body strong").inner_text()
    assert reference.startswith("ACC-")

    drain(served[1])
    status = page.url.replace("/confirmation", "/status")
    keys.go(status)
    expect(page.locator(".panel-title")).to_contain_text("Your account is open")
    assert "Sort code 20-00-00, account number" in page.inner_text("main")
    keys.assert_no_pointer()


def test_an_applicant_opens_an_account_without_javascript(
    open_context: Callable[..., BrowserContext],
    served: tuple[str, Components],
    photos: Photos,
) -> None:
    page = open_context(java_script_enabled=False).new_page()
    axe_context = open_context()
    axe_context.route("**/static/app.js", lambda route: route.abort())
    axe_page = axe_context.new_page()
    axe_page.goto("/static/app.css")

    def check() -> None:
        check_snapshot(axe_page, page.content(), page.url)

    def press(name: str) -> None:
        target: Locator = page.get_by_role("button", name=name, exact=True)
        with page.expect_navigation():
            target.click()
        check()

    page.goto("/start/account-opening")
    check()
    press("Start now")
    press("Continue")  # nothing chosen
    expect(page.locator(".error-summary")).to_contain_text("Select yes if you live in the UK")
    page.locator('input[name="is_adult"][value="yes"]').check()
    page.locator('input[name="uk_resident"][value="yes"]').check()
    press("Continue")
    page.fill("#first_name", unique_first_name())
    page.fill("#last_name", "A" * 51)
    page.fill("#date_of_birth-day", "14")
    page.fill("#date_of_birth-month", "5")
    page.fill("#date_of_birth-year", "1968")
    page.locator('input[name="nationality"][value="british"]').check()
    page.locator('input[name="known_by_other_name"][value="no"]').check()
    page.locator('input[name="tax_elsewhere"][value="no"]').check()
    press("Continue")
    expect(page.locator(".error-summary")).to_contain_text(
        "Last name must be 50 characters or fewer"
    )
    page.fill("#last_name", "Walker")
    press("Continue")
    page.fill("#email_address", f"nojs-{uuid.uuid4().hex[:8]}@example.com")
    page.fill("#mobile", "07700900982")
    press("Continue")
    expect(page.locator("h1")).to_contain_text("Your home address")
    page.fill("#address_line_1", "12 Harbour Road")
    page.fill("#town", "Bristol")
    page.fill("#home_postcode", "BS1 4RN")
    moved = months_ago(8)
    page.fill("#home_moved_in-day", str(moved.day))
    page.fill("#home_moved_in-month", str(moved.month))
    page.fill("#home_moved_in-year", str(moved.year))
    press("Continue")
    assert "/steps/previous-addresses" in page.url
    page.locator('input[name="in_uk"][value="no"]').check()
    page.fill("#previous_line_1", "Rue 1")
    page.fill("#previous_town", "Lyon")
    page.fill("#previous_country", "France")
    early = months_ago(18)
    page.fill("#previous_moved_in-day", str(early.day))
    page.fill("#previous_moved_in-month", str(early.month))
    page.fill("#previous_moved_in-year", str(early.year))
    press("Save and continue")
    expect(page.locator("h1")).to_contain_text("You have added 1 previous address")
    page.locator('input[name="add_another"][value="no"]').check()
    press("Continue")
    expect(page.locator(".error-summary")).to_contain_text(
        "Add your addresses until they cover the last 3 years"
    )
    page.locator('input[name="add_another"][value="yes"]').check()
    press("Continue")
    page.locator('input[name="in_uk"][value="yes"]').check()
    page.fill("#previous_line_1", "7 Stonegate")
    page.fill("#previous_town", "York")
    page.fill("#previous_postcode", "YO1 7HH")
    page.fill("#previous_moved_in-day", "1")
    page.fill("#previous_moved_in-month", str(months_ago(50).month))
    page.fill("#previous_moved_in-year", str(months_ago(50).year))
    press("Save and continue")
    page.locator('input[name="add_another"][value="no"]').check()
    press("Continue")
    assert "/steps/employment" in page.url
    page.locator('input[name="employment_status"][value="retired"]').check()
    page.fill("#annual_income", "30000")
    page.locator('input[name="monthly_pay_in"][value="up_to_1000"]').check()
    page.locator('input[name="source_of_funds"][value="pension"]').check()
    press("Continue")
    page.locator('input[name="document_type"][value="passport"]').check()
    page.locator('input[name="identity_route"][value="photo_check"]').check()
    page.set_input_files("#document_front", str(photos.front))
    page.set_input_files("#selfie", str(photos.close))
    press("Continue")
    assert "/steps/choose-account" in page.url, page.url
    page.locator('input[name="account_type"][value="premier"]').check()
    press("Continue")
    expect(page.locator(".error-summary")).to_contain_text(
        "The premier account is for incomes of £75,000 or more"
    )
    page.locator('input[name="account_type"][value="everyday"]').check()
    press("Continue")
    page.locator('input[name="wants_overdraft"][value="no"]').check()
    press("Continue")
    assert page.url.endswith("/check-answers")
    page.locator("#declaration").check()
    press("Send application")
    assert page.locator(".panel-body strong").inner_text().startswith("ACC-")
    drain(served[1])
    page.goto(page.url.replace("/confirmation", "/status"))
    check()
    expect(page.locator(".panel-title")).to_contain_text("Your account is open")


# --- personalisation: the premier account recommended to high-value investors ----------------

SIGN_IN = 'form[action="/sign-in"] button[type="submit"]'
RECOMMENDED = "Recommended for you"


def sign_in_as(keys: Keyboard, customer: str) -> None:
    keys.go("/sign-in")
    keys.choose("customer", customer)
    keys.follow(SIGN_IN)


def start_application(keys: Keyboard, preview_segment: str | None = None) -> None:
    """The start page (its demo-only preview switch checked by axe with it), then Start."""
    keys.go("/start/account-opening")
    expect(keys.page.locator("legend", has_text="Preview (demo only)")).to_be_visible()
    if preview_segment is not None:
        keys.choose("preview_segment", preview_segment)
    keys.follow("button.button-start")
    assert "/steps/eligibility" in keys.page.url


def to_choose_account(keys: Keyboard) -> None:
    """By keyboard from the first step to choose-account: a home of forty months (no previous
    address), identity in a branch (no photos)."""
    page = keys.page
    keys.choose("is_adult", "yes")
    keys.choose("uk_resident", "yes")
    keys.follow(SUBMIT)
    assert "/steps/about-you" in page.url
    keys.type_into("#first_name", unique_first_name())
    keys.type_into("#last_name", "Walker")
    keys.date("date_of_birth", date(1968, 5, 14))
    keys.choose("nationality", "british")
    keys.choose("known_by_other_name", "no")
    keys.choose("tax_elsewhere", "no")
    keys.follow(SUBMIT)
    assert "/steps/contact" in page.url
    keys.type_into("#email_address", f"premier-{uuid.uuid4().hex[:8]}@example.com")
    keys.type_into("#mobile", "07700 900982")
    keys.follow(SUBMIT)
    assert "/steps/address" in page.url
    keys.type_into("#address_line_1", "12 Harbour Road")
    keys.type_into("#town", "Bristol")
    keys.type_into("#home_postcode", "BS1 4RN")
    keys.date("home_moved_in", months_ago(40))
    keys.follow(SUBMIT)
    assert "/steps/employment" in page.url
    keys.choose("employment_status", "employed")
    keys.choose("occupation_group", "soc2")
    keys.type_into("#annual_income", "48000")
    keys.choose("monthly_pay_in", "up_to_3000")
    keys.tick('input[name="source_of_funds"][value="pay"]')
    keys.follow(SUBMIT)
    assert "/steps/identity" in page.url
    keys.choose("document_type", "passport")
    keys.choose("identity_route", "in_person")
    keys.follow(SUBMIT)
    assert "/steps/choose-account" in page.url, page.url


def account_values(page: Any) -> list[str]:
    radios = page.locator('input[name="account_type"]')
    return [radios.nth(i).get_attribute("value") for i in range(radios.count())]


def assert_recommended(page: Any) -> None:
    assert account_values(page) == ["premier", "everyday", "student"]
    inset = page.locator("main .inset-text", has_text=RECOMMENDED)
    expect(inset).to_contain_text("we recommend the premier account")
    premier = page.locator('input[name="account_type"][value="premier"]')
    hint_id = premier.get_attribute("aria-describedby")
    assert hint_id, "the premier account's hint describes its radio"
    expect(page.locator(f"#{hint_id}")).to_contain_text(
        "Recommended for you: you invest £50,000 or more with us."
    )


def assert_not_recommended(page: Any) -> None:
    assert account_values(page) == ["everyday", "student", "premier"]
    expect(page.locator("main .inset-text", has_text=RECOMMENDED)).to_have_count(0)
    expect(page.locator("main .radios-hint")).to_have_count(0)
    assert RECOMMENDED not in page.inner_text("main")


def test_sam_is_recommended_the_premier_account_and_alex_is_not(
    open_context: Callable[..., BrowserContext],
) -> None:
    """Core banking's profile says Sam invests £73,700 with us: signed in, his choose-account
    page shows the premier account first, with why, under an inset saying so; Alex (£22,400)
    sees the accounts as declared. By keyboard, axe on every page."""
    keys = Keyboard(open_context().new_page())
    sign_in_as(keys, "sam")
    start_application(keys)
    to_choose_account(keys)
    assert_recommended(keys.page)
    keys.choose("account_type", "premier")  # recommended, not decided: the income rule holds
    keys.follow(SUBMIT)
    expect(keys.page.locator(".error-summary")).to_contain_text(
        "The premier account is for incomes of £75,000 or more"
    )
    assert_recommended(keys.page)  # the error state keeps the variant

    keys = Keyboard(open_context().new_page())
    sign_in_as(keys, "alex")
    start_application(keys)
    to_choose_account(keys)
    assert_not_recommended(keys.page)
    keys.assert_no_pointer()


def test_the_demo_previews_the_recommendation_for_a_visitor_and_alex(
    open_context: Callable[..., BrowserContext],
) -> None:
    """The start page's preview switch (demo only), High-value investor: a visitor, and Alex
    signed in, see the choose-account page as Sam would; without it, as their data says."""
    keys = Keyboard(open_context().new_page())
    start_application(keys, "high_value_investor")
    to_choose_account(keys)
    assert_recommended(keys.page)

    keys = Keyboard(open_context().new_page())
    sign_in_as(keys, "alex")
    start_application(keys, "high_value_investor")
    to_choose_account(keys)
    assert_recommended(keys.page)
    keys.assert_no_pointer()
