"""The staff pages in Chromium: the staff home and the audit log, used with the keyboard alone,
with zero axe-core violations on every state (entries, no entries, bad filters); and who may
not see them (a handler, a customer, nobody)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from browser_journey import Keyboard, check_page, focused
from conftest import new_context
from playwright.sync_api import Browser, BrowserContext, Page, expect

AUDIT_FORM = 'form[action="/staff/audit"]'


def sign_in_as(context: BrowserContext, **person: str) -> None:
    """The demo's API sign-in (`{"staff": "harper"}` or `{"customer": "alex"}`); the browser
    context keeps its cookies."""
    response = context.request.post("/auth/demo", data=person)
    assert response.status == 204, response.text()


def test_an_auditor_reads_and_filters_the_log_with_the_keyboard_alone(
    context: BrowserContext, page: Page
) -> None:
    sign_in_as(context, staff="harper")
    keys = Keyboard(page)
    keys.go("/staff")
    expect(page.locator("h1")).to_have_text("Staff home")
    expect(page.locator("main")).to_contain_text("harper")
    expect(page.locator("main")).to_contain_text("Auditor")

    keys.follow('a[href="/staff/audit"]')
    expect(page.locator("h1")).to_have_text("Audit log")
    table = page.locator("main table")
    expect(table.locator("th[scope=col]")).to_have_count(7)
    expect(table.locator("tbody tr").first).to_be_visible()

    keys.type_into("#actor", "harper")
    keys.tab_to("#action")
    for _ in range(20):
        if page.locator("#action").input_value() == "sign_in":
            break
        page.keyboard.press("ArrowDown")
    assert page.locator("#action").input_value() == "sign_in"
    keys.follow(f"{AUDIT_FORM} button[type=submit]")

    query = parse_qs(urlsplit(page.url).query)
    assert query["actor"] == ["harper"] and query["action"] == ["sign_in"]
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("harper (staff)")
    expect(rows.first).to_contain_text("sign_in")
    # The form keeps what was asked.
    expect(page.locator("#actor")).to_have_value("harper")
    expect(page.locator("#action")).to_have_value("sign_in")
    keys.assert_no_pointer()


def test_no_entries_is_said_plainly(context: BrowserContext, page: Page) -> None:
    sign_in_as(context, staff="harper")
    keys = Keyboard(page)
    keys.go("/staff/audit")
    keys.type_into("#actor", "nobody-of-that-name")
    keys.follow(f"{AUDIT_FORM} button[type=submit]")
    expect(page.locator("main [role=status]")).to_have_text("No entries match these filters.")
    expect(page.locator("main table")).to_have_count(0)


def test_bad_filters_are_shown_beside_their_fields(context: BrowserContext, page: Page) -> None:
    sign_in_as(context, staff="harper")
    keys = Keyboard(page)
    keys.go("/staff/audit")
    keys.type_into("#since", "last tuesday")
    keys.type_into("#limit", "0")
    with page.expect_navigation() as navigation:
        keys.tab_to(f"{AUDIT_FORM} button[type=submit]")
        page.keyboard.press("Enter")
    response = navigation.value
    assert response is not None and response.status == 422
    check_page(page)  # axe on the error state; the title begins with "Error:"
    summary = page.locator(".error-summary")
    assert focused(page)["summary"], "the error summary takes focus"
    links = summary.locator("a")
    expect(links).to_have_count(2)
    assert [links.nth(i).get_attribute("href") for i in range(2)] == ["#since", "#limit"]
    for field in ("since", "limit"):
        described = page.locator(f"#{field}").get_attribute("aria-describedby") or ""
        assert f"{field}-error" in described.split()
    expect(page.locator("#since")).to_have_value("last tuesday")  # what was typed stays
    expect(page.locator("main table")).to_have_count(0)  # nothing was read
    page.keyboard.press("Tab")
    assert focused(page)["text"].startswith("Since")
    keys.assert_no_pointer()


def test_a_handler_has_a_staff_home_but_no_audit_log(context: BrowserContext, page: Page) -> None:
    sign_in_as(context, staff="casey")
    page.goto("/staff")
    check_page(page)
    expect(page.locator("main")).to_contain_text("Handler")
    expect(page.locator('a[href="/staff/audit"]')).to_have_count(0)
    response = page.goto("/staff/audit")
    assert response is not None and response.status == 403
    check_page(page)


@pytest.fixture
def customer_and_nobody(browser: Browser, base_url: str) -> Iterator[tuple[Page, Page]]:
    """A page signed in as Alex, and one of nobody's, each in a context of its own."""
    contexts = [new_context(browser, base_url), new_context(browser, base_url)]
    sign_in_as(contexts[0], customer="alex")
    yield contexts[0].new_page(), contexts[1].new_page()
    for context in contexts:
        context.close()


def test_customers_and_nobody_are_kept_out(customer_and_nobody: tuple[Page, Page]) -> None:
    customer, nobody = customer_and_nobody
    response = customer.goto("/staff")
    assert response is not None and response.status == 403
    check_page(customer)
    nobody.goto("/staff")
    assert urlsplit(nobody.url).path == "/staff/sign-in"
    assert parse_qs(urlsplit(nobody.url).query)["next"] == ["/staff"]


def test_signing_out_from_the_staff_area_ends_the_session(
    context: BrowserContext, page: Page
) -> None:
    sign_in_as(context, staff="harper")
    keys = Keyboard(page, check=lambda _: None)  # the page signed out to is checked elsewhere
    keys.go("/staff")
    keys.follow('nav[aria-label="Staff"] button[type=submit]')
    assert context.request.get("/api/v1/me").status == 401
    page.goto("/staff")
    assert urlsplit(page.url).path == "/staff/sign-in"
