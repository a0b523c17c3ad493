"""The same claim with JavaScript switched off: plain form posts with POST-redirect-GET, photos
sent with a plain file input (several at once) and removed with a plain button, every field of
a choice shown at once. axe-core checks each page and error state as a no-script browser
shows it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_journey import (
    REFERENCE,
    Photos,
    api_view,
    check_snapshot,
    days_ago,
    journey_id,
    navigate,
)
from conftest import new_context
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect


@pytest.fixture
def axe_page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A page at the app's origin with the app's own script blocked, for axe-core."""
    context = new_context(browser, base_url)
    context.route("**/static/app.js", lambda route: route.abort())
    page = context.new_page()
    page.goto("/static/app.css")
    yield page
    context.close()


def test_alex_claim_completes_without_javascript(
    no_js_context: BrowserContext, axe_page: Page, photos: Photos
) -> None:
    page = no_js_context.new_page()

    def check() -> None:
        check_snapshot(axe_page, page.content(), page.url)

    def follow(target: Locator) -> None:
        navigate(page, target)
        check()

    def press(name: str) -> None:
        follow(page.get_by_role("button", name=name, exact=True))

    page.goto("/sign-in")
    check()
    press("Sign in")  # nobody chosen
    expect(page.locator("#customer-error")).to_contain_text("Select who you want to sign in as")
    page.get_by_label("Alex Morgan").check()
    press("Sign in")
    page.goto("/start/motor-claim")
    check()
    press("Start now")
    expect(page.get_by_label("Ford Focus (2019), AB12 CDE, comprehensive")).to_be_checked()
    press("Continue")

    # What happened: an empty form first, then a date in the future and a short description.
    press("Continue")
    expect(page.locator(".error-summary")).to_contain_text("Enter the date of the incident")
    assert page.title().startswith("Error: What happened?")
    future = days_ago(-2)
    page.locator("#incident_date-day").fill(str(future.day))
    page.locator("#incident_date-month").fill(str(future.month))
    page.locator("#incident_date-year").fill(str(future.year))
    page.get_by_label("Windscreen or window damage").check()
    page.get_by_label("Postcode where it happened").fill("not a postcode")
    page.get_by_label("Tell us what happened").fill("Too short")
    press("Continue")
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Date of the incident must be today or in the past")
    expect(summary).to_contain_text("Enter a real postcode, like SW1A 1AA")
    expect(summary).to_contain_text("What happened must be 20 characters or more")
    # What was typed is shown again, as typed.
    expect(page.get_by_label("Postcode where it happened")).to_have_value("not a postcode")
    expect(page.get_by_label("Windscreen or window damage")).to_be_checked()

    day = days_ago(2)
    page.locator("#incident_date-day").fill(str(day.day))
    page.locator("#incident_date-month").fill(str(day.month))
    page.locator("#incident_date-year").fill(str(day.year))
    page.get_by_label("Postcode where it happened").fill("sw1a 1aa")
    page.get_by_label("Tell us what happened").fill("A stone cracked the windscreen on the M4.")
    page.locator('input[name="driveable"][value="yes"]').check()
    press("Continue")

    # Photos: none is an error; then three at once with the plain file input.
    expect(page.locator("h1")).to_have_text("Photos of the damage")
    press("Continue")
    expect(page.locator(".error-summary")).to_contain_text("Upload at least one photo")
    page.locator("#damage_photos").set_input_files([photos.front, photos.side, photos.close])
    press("Continue")
    expect(page.locator("h1")).to_have_text("How would you like to settle your claim?")

    # Back to the photos: remove one with its own button, then continue again.
    follow(page.get_by_role("link", name="Back"))
    files = page.locator(".file-list-item")
    expect(files).to_have_count(3)
    follow(page.get_by_role("button", name="Remove driver-side.jpg"))
    expect(files).to_have_count(2)
    expect(page.locator(".file-list")).not_to_contain_text("driver-side.jpg")
    press("Continue")

    # Settlement: without script every choice's follow-up questions are on show.
    expect(page.get_by_label("Repair estimate (£)")).to_be_visible()
    expect(page.locator('input[name="repairer_id"]').first).to_be_visible()
    page.get_by_label("Get a cash settlement").check()
    page.get_by_label("Repair estimate (£)").fill("twelve")
    press("Continue")
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Repair estimate must be an amount of money")
    expect(summary).to_contain_text("Upload the garage's estimate")
    page.get_by_label("Repair estimate (£)").fill("620.50")
    page.locator("#estimate_document").set_input_files(photos.estimate)
    press("Continue")

    expect(page.locator("h1")).to_have_text("Where should we pay you?")
    expect(page.get_by_label("Everyday account ending 9911")).to_be_checked()
    press("Continue")

    expect(page.locator("h1")).to_have_text("Check your answers before sending your claim")
    main = page.locator("main")
    expect(main).to_contain_text("2 files: front-bumper.jpg, close-up.png")
    expect(main).to_contain_text("£620.50")
    claim = journey_id(page)
    press("Send claim")  # without the declaration
    expect(page.locator(".error-summary")).to_contain_text(
        "Confirm that the information you have given is true and complete"
    )
    page.get_by_label("I confirm the information I have given is true and complete").check()
    press("Send claim")
    expect(page.locator("h1")).to_have_text("Claim received")
    reference = page.locator(".panel-body strong").inner_text()
    assert REFERENCE.match(reference)

    follow(page.get_by_role("link", name="Follow the progress of your claim"))
    expect(page.locator(".timeline")).to_contain_text("You sent it to us")
    follow(page.get_by_role("link", name="Your activity"))
    expect(page.locator("tr", has_text=reference)).to_contain_text("Sent")

    view = api_view(no_js_context, claim)
    assert view["status"] == "submitted"
    assert view["answers"]["estimate_amount"] in ("620.50", 620.5)
    assert len(view["answers"]["damage_photos"]) == 2


def test_the_error_summary_takes_focus_without_javascript(no_js_context) -> None:
    """The summary carries autofocus, so even with scripts off a keyboard or screen-reader
    user lands on what went wrong."""
    page = no_js_context.new_page()
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in").press("Enter")
    page.wait_for_selector(".error-summary")
    assert page.title().startswith("Error:")
    focused = page.evaluate("document.activeElement.className")
    assert "error-summary" in focused
