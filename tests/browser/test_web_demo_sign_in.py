"""The demo's sign-in pages in Chromium: customers and staff, by password or one-time code, a
step-up that comes back to the page it left with its query, the keyboard alone, and axe-core
on every sign-in page and its error states."""

from __future__ import annotations

from urllib.parse import urlencode

from browser_journey import Keyboard, check_page, navigate, press, sign_in, start_claim
from playwright.sync_api import Page, expect

STAFF_SIGN_IN = 'form[action="/staff/sign-in"] button[type="submit"]'
CUSTOMER_SIGN_IN = 'form[action="/sign-in"] button[type="submit"]'


def step_up_link(path: str, back_to: str) -> str:
    return f"{path}?{urlencode({'next': back_to, 'level': 2, 'max_age': 300})}"


def test_every_sign_in_page_and_its_error_state_passes_axe(page: Page) -> None:
    for path in ("/sign-in", "/staff/sign-in", step_up_link("/staff/sign-in", "/staff")):
        page.goto(path)
        check_page(page)
        press(page, "Sign in")  # nobody chosen
        expect(page.locator(".error-summary")).to_contain_text("Select who you want to sign in as")
        check_page(page)
        # The summary's link takes the keyboard to the first person.
        page.locator(".error-summary a").first.click()
        expect(page.locator("input[type=radio]").first).to_be_focused()


def test_a_customer_signs_in_with_a_one_time_code_and_out_again(page: Page) -> None:
    page.goto("/sign-in")
    page.get_by_label("Jordan Lee").check()
    page.get_by_label("Sign in with a one-time code").check()
    press(page, "Sign in")
    expect(page.locator("h1")).to_have_text("Your activity")
    navigate(page, page.get_by_role("button", name="Sign out"))
    page.goto("/journeys")
    assert "/sign-in?next=/journeys" in page.url


def test_a_step_up_confirms_it_is_you_and_returns_to_the_page_with_its_query(page: Page) -> None:
    sign_in(page, "alex")  # by password, the default
    claim = start_claim(page)
    back_to = f"/journeys/{claim}/steps/policy?change=1"
    page.goto(step_up_link("/sign-in", back_to))
    expect(page.locator("h1")).to_have_text("Confirm it's you")
    expect(page.locator("main")).to_contain_text("You are signed in as Alex Morgan")
    expect(page.locator('input[type="radio"]')).to_have_count(0)  # nothing to choose
    check_page(page)
    press(page, "Continue with a one-time code")
    assert page.url.endswith(back_to), page.url
    expect(page.locator("h1")).to_have_text("Which car is the claim for?")
    # Still Alex's claim in Alex's (new) session: the choice made before is still there.
    expect(page.locator('input[name="policy_number"][value="MTR-100001"]')).to_be_checked()


def test_a_step_up_with_nobody_signed_in_cannot_use_a_password(page: Page) -> None:
    page.goto(step_up_link("/staff/sign-in", "/staff"))
    expect(page.locator("h1")).to_have_text("Confirm it's you")
    expect(page.get_by_label("Sign in with a password")).to_be_disabled()
    expect(page.get_by_label("Sign in with a one-time code")).to_be_checked()
    page.get_by_label("Morgan Blake").check()
    press(page, "Sign in")
    assert page.url.endswith("/staff"), page.url


def test_a_member_of_staff_signs_in_with_the_keyboard_alone(page: Page) -> None:
    keys = Keyboard(page)
    keys.go("/staff/sign-in")
    keys.choose("staff", "riley")
    keys.choose("method", "one_time_code")
    keys.follow(STAFF_SIGN_IN)
    assert page.url.endswith("/staff"), page.url
    # Signed in as staff: a customer's page is refused, not sent to sign in.
    page.goto("/journeys")
    expect(page.locator("h1")).to_have_text("You do not have access to this page")
    keys.assert_no_pointer()


def test_a_customer_signs_in_with_the_keyboard_alone_after_an_error(page: Page) -> None:
    keys = Keyboard(page)
    keys.go("/sign-in")
    keys.follow(CUSTOMER_SIGN_IN)  # nobody chosen: the error summary takes focus
    expect(page.locator(".error-summary")).to_be_focused()
    keys.choose("customer", "sam")
    keys.follow(CUSTOMER_SIGN_IN)
    expect(page.locator("h1")).to_have_text("Your activity")
    keys.assert_no_pointer()
