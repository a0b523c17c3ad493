"""Step-up in the browser: Alex, signed in with a password, types new payee details; Wayline
sends them to confirm it's them (the demo's one-time code), brings them back to the page with
what they typed, and the next Continue carries on. With JavaScript and without, and from the
check-answers page's "Change" link."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from browser_journey import (
    Photos,
    api_view,
    check_page,
    fill_incident,
    journey_id,
    navigate,
    press,
    sign_in,
    start_claim,
)
from playwright.sync_api import BrowserContext, Page, expect

PAYMENT_HEADING = "Where should we pay you?"
NOTICE = "You have confirmed it's you. Check your details and continue."


def to_payment(page: Page, photos: Photos, script: bool = True) -> str:
    """Alex's glass claim settled in cash, at the payment details; returns the claim's id.
    With `script` the page uploads each file as it is chosen: wait for it."""

    def upload(field: str, path: Path) -> None:
        page.locator(f"#{field}").set_input_files(path)
        if script:
            status = page.locator(f'[data-field="{field}"] .file-status')
            expect(status).to_have_text("uploaded")

    sign_in(page, "alex")
    claim = start_claim(page)
    press(page)  # the prefilled policy
    fill_incident(page, "glass")
    press(page)
    upload("damage_photos", photos.front)
    press(page)
    page.get_by_label("Get a cash settlement").check()
    page.get_by_label("Repair estimate (£)").fill("640")
    upload("estimate_document", photos.estimate)
    press(page)
    expect(page.locator("h1")).to_have_text(PAYMENT_HEADING)
    return claim


def type_new_payee(page: Page) -> None:
    page.get_by_label("A different account").check()
    page.get_by_label("Name on the account").fill("Alex Morgan")
    page.get_by_label("Sort code").fill("30 94 57")
    page.get_by_label("Account number").fill("0073 3445")


def confirm_with_a_code(page: Page, back_to: str, script: bool = True) -> None:
    """On the demo's "Confirm it's you" page (asked for level 2 within 5 minutes), continue
    with a one-time code; the browser comes back to `back_to`. axe-core checks the page when
    `script` is on (it cannot run without it)."""
    expect(page.locator("h1")).to_have_text("Confirm it's you")
    asked = urlsplit(page.url)
    assert asked.path == "/sign-in"
    query = parse_qs(asked.query)
    assert query["level"] == ["2"] and query["max_age"] == ["300"]
    assert query["next"][0].startswith(back_to)
    if script:
        check_page(page)
    navigate(page, page.get_by_role("button", name="Continue with a one-time code"))


def expect_typed_details(page: Page) -> None:
    expect(page.get_by_label("A different account")).to_be_checked()
    expect(page.get_by_label("Name on the account")).to_have_value("Alex Morgan")
    expect(page.get_by_label("Sort code")).to_have_value("30 94 57")
    expect(page.get_by_label("Account number")).to_have_value("0073 3445")


def expect_new_payee_on_check_answers(page: Page, context: BrowserContext, claim: str) -> None:
    expect(page.locator("h1")).to_have_text("Check your answers before sending your claim")
    main = page.locator("main")
    expect(main).to_contain_text("Alex Morgan")
    expect(main).to_contain_text("30-94-57")
    expect(main).to_contain_text("00733445")
    view = api_view(context, claim)
    assert view["answers"]["sort_code"] == "30-94-57"
    assert view["answers"]["payout_account"] == "different"
    assert "payment-details" not in view["drafts"]


def test_new_payee_details_ask_for_the_stronger_sign_in_then_carry_on(
    context: BrowserContext, page: Page, photos: Photos
) -> None:
    claim = to_payment(page, photos)
    step_page = f"/journeys/{claim}/steps/payment-details"
    type_new_payee(page)
    press(page)

    confirm_with_a_code(page, step_page)
    assert urlsplit(page.url).path == step_page
    expect(page.locator("h1")).to_have_text(PAYMENT_HEADING)
    expect(page.locator(".banner[role=status]")).to_have_text(NOTICE)
    expect_typed_details(page)
    check_page(page)
    # Nothing was written but the draft: the answers are as before the attempt.
    view = api_view(context, claim)
    assert "sort_code" not in view["answers"]
    assert view["drafts"]["payment-details"]["account_holder"] == "Alex Morgan"

    press(page)
    expect_new_payee_on_check_answers(page, context, claim)


def test_the_account_we_hold_needs_no_stronger_sign_in(page: Page, photos: Photos) -> None:
    to_payment(page, photos)
    expect(page.get_by_label("Everyday account ending 9911")).to_be_checked()
    press(page)
    expect(page.locator("h1")).to_have_text("Check your answers before sending your claim")


def test_changing_to_new_payee_from_check_answers_without_javascript(
    no_js_context: BrowserContext, photos: Photos
) -> None:
    page = no_js_context.new_page()
    claim = to_payment(page, photos, script=False)
    press(page)  # the account we hold, for now
    expect(page.locator("h1")).to_have_text("Check your answers before sending your claim")

    navigate(page, page.get_by_role("link", name=re.compile(r"^Change\s+where should we pay")))
    assert urlsplit(page.url).query == "change=1"
    type_new_payee(page)  # without script every follow-up question is on show
    press(page)

    confirm_with_a_code(page, f"/journeys/{claim}/steps/payment-details?change=1", script=False)
    expect(page.locator(".banner[role=status]")).to_have_text(NOTICE)
    expect_typed_details(page)
    press(page)
    assert journey_id(page) == claim
    expect_new_payee_on_check_answers(page, no_js_context, claim)
