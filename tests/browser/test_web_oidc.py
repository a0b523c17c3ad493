"""Signing in through a real OpenID provider in a real browser: the test provider
(tests/oidc_provider, panva's oidc-provider under Node 22) on one loopback port, the app on
another, Chromium between them. Customers and staff sign in with the provider's own form;
changing payout details asks for the one-time code and carries on where it was; signing out
ends the provider's session too; spoiled ID tokens are refused; a JWKS key rollover is followed.
Every step is checked in the audit log, and the pages people land on pass axe.

One provider and app serve the module (oidc_fixtures.oidc_site); each test has a fresh browser
context, so neither a Wayline nor a provider session carries from one test to the next.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_journey import Photos, check_page, fill_incident, press, start_claim
from conftest import new_context
from oidc_fixtures import (
    OidcSite,
    oidc_context,
    oidc_page,
    oidc_site,
    provider_sign_in,
    running_site,
)
from oidc_kit import KEY_IDS
from playwright.sync_api import Browser, BrowserContext, Page, expect

from wayline.store.audit import AuditRow
from wayline.web.cookies import SESSION

__all__ = ["oidc_context", "oidc_page", "oidc_site"]  # fixtures, used by name

JOURNEYS = "Your activity"
COULD_NOT_SIGN_IN = "We could not sign you in"
NEW_PAYEE = {"account_holder": "Alex Morgan", "sort_code": "30-94-57", "account_number": "00733445"}


class NewEntries:
    """The audit entries written since this was made (the module's tests share one log)."""

    def __init__(self, site: OidcSite):
        self.site = site
        self.seen = {row.id for row in site.audit.entries(limit=1000)}

    def __call__(self, action: str, actor: str | None = None) -> list[AuditRow]:
        rows = self.site.audit_entries(action, actor)
        return [row for row in rows if row.id not in self.seen]


def _session_cookies(context: BrowserContext) -> list[str]:
    return [c["name"] for c in context.cookies() if c["name"].endswith(SESSION)]


def _me(context: BrowserContext) -> dict[str, object] | int:
    """GET /api/v1/me with the context's cookies: the answer, or the status when refused."""
    response = context.request.get("/api/v1/me")
    return response.json() if response.ok else response.status


def _assert_from_this_browser(row: AuditRow) -> None:
    assert row.ip == "127.0.0.1"
    assert row.user_agent is not None and "Chrome" in row.user_agent


def sign_in_customer(page: Page, site: OidcSite, username: str = "alex") -> None:
    """From a page that needs a customer: through the provider's form, back on /journeys."""
    page.goto("/journeys")
    provider_sign_in(page, site, username)
    expect(page).to_have_url(f"{site.base_url}/journeys")
    expect(page.locator("h1")).to_have_text(JOURNEYS)


def sign_in_staff(page: Page, site: OidcSite, username: str) -> None:
    page.goto("/staff/sign-in?next=/staff")
    provider_sign_in(page, site, username)


# --- 1. customers ----------------------------------------------------------------------------


def test_customer_signs_in_through_the_provider(
    oidc_site: OidcSite, oidc_context: BrowserContext, oidc_page: Page
) -> None:
    new = NewEntries(oidc_site)
    page = oidc_page
    page.goto("/journeys")
    # Wayline sent the browser to the provider, which shows its own form.
    expect(page).to_have_url(re.compile(re.escape(oidc_site.provider.issuer) + "/interaction/"))
    assert _session_cookies(oidc_context) == []
    provider_sign_in(page, oidc_site, "alex")

    expect(page).to_have_url(f"{oidc_site.base_url}/journeys")
    expect(page.locator("h1")).to_have_text(JOURNEYS)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    check_page(page)
    me = _me(oidc_context)
    assert isinstance(me, dict)
    assert (me["subject"], me["kind"], me["assurance"]) == ("alex", "customer", 1)

    [signed_in] = new("sign_in", "alex")
    assert (signed_in.outcome, signed_in.actor_kind) == ("success", "customer")
    _assert_from_this_browser(signed_in)


# --- 2. staff --------------------------------------------------------------------------------


def test_staff_member_signs_in_and_reaches_staff_pages_not_customers(
    oidc_site: OidcSite, oidc_context: BrowserContext, oidc_page: Page
) -> None:
    new = NewEntries(oidc_site)
    page = oidc_page
    sign_in_staff(page, oidc_site, "casey")
    expect(page).to_have_url(f"{oidc_site.base_url}/staff")
    expect(page.locator("h1")).to_have_text("Staff home")
    expect(page.locator("main")).to_contain_text("Handler")
    check_page(page)
    me = _me(oidc_context)
    assert isinstance(me, dict)
    assert (me["subject"], me["kind"], me["roles"]) == ("casey", "staff", ["handler"])
    [signed_in] = new("sign_in", "casey")
    assert signed_in.actor_kind == "staff"
    _assert_from_this_browser(signed_in)

    # A customer's page and the customers' API are not for staff.
    response = page.goto("/journeys")
    assert response is not None and response.status == 403
    assert oidc_context.request.get("/api/v1/journeys").status == 403
    assert new("role_denied", "casey"), "the refusals are on record"


def test_customer_cannot_open_staff_pages(
    oidc_site: OidcSite, oidc_context: BrowserContext, oidc_page: Page
) -> None:
    new = NewEntries(oidc_site)
    sign_in_customer(oidc_page, oidc_site, "alex")
    response = oidc_page.goto("/staff")
    assert response is not None and response.status == 403
    assert "Staff home" not in oidc_page.content()
    assert oidc_context.request.get("/api/v1/audit").status == 403
    assert new("role_denied", "alex")


def test_staff_account_without_a_role_is_refused_at_sign_in(
    oidc_site: OidcSite, oidc_context: BrowserContext, oidc_page: Page
) -> None:
    new = NewEntries(oidc_site)
    page = oidc_page
    sign_in_staff(page, oidc_site, "nobody")
    expect(page.locator("h1")).to_have_text(COULD_NOT_SIGN_IN)
    expect(page.locator("main")).to_contain_text("role")
    check_page(page)
    assert _session_cookies(oidc_context) == []
    assert _me(oidc_context) == 401
    [failed] = new("sign_in_failed")
    assert failed.outcome == "failure"
    assert failed.details["reason"] == "no_role"
    _assert_from_this_browser(failed)
    assert new("sign_in", "nobody") == []


# --- 3. step-up ------------------------------------------------------------------------------


def _to_payment_details(page: Page, photos: Photos) -> str:
    """A glass claim with a cash settlement, up to "Where should we pay you?"; its id."""
    claim = start_claim(page)
    press(page)  # the only active policy is already chosen
    fill_incident(page, "glass")
    press(page)
    page.locator("#damage_photos").set_input_files([photos.front])
    expect(page.locator(".file-status", has_text="uploaded")).to_have_count(1)
    press(page)
    page.get_by_label("Get a cash settlement").check()
    page.get_by_label("Repair estimate (£)").fill("450")
    page.locator("#estimate_document").set_input_files(photos.estimate)
    expect(page.locator('[data-field="estimate_document"] .file-status')).to_have_text("uploaded")
    press(page)
    expect(page.locator("h1")).to_have_text("Where should we pay you?")
    return claim


def test_changing_payout_details_asks_for_the_one_time_code_and_carries_on(
    oidc_site: OidcSite, oidc_context: BrowserContext, oidc_page: Page, photos: Photos
) -> None:
    new = NewEntries(oidc_site)
    page = oidc_page
    sign_in_customer(page, oidc_site, "alex")
    claim = _to_payment_details(page, photos)
    step = f"{oidc_site.base_url}/journeys/{claim}/steps/payment-details"
    expect(page).to_have_url(step)

    page.locator('input[name="payout_account"][value="different"]').check()
    for field, value in NEW_PAYEE.items():
        page.locator(f"#{field}").fill(value)
    page.get_by_role("button", name="Continue", exact=True).click()

    # The provider asks again, this time for the one-time code too.
    otp = page.locator("#otp")
    expect(otp).to_have_attribute("required", "")
    provider_sign_in(page, oidc_site, "alex", one_time_code=True)

    # Back on the same step, saying so, with what was typed still there.
    expect(page).to_have_url(re.compile(re.escape(step) + r"(\?confirmed=1)?$"))
    expect(page.get_by_role("status").first).to_contain_text("confirmed it's you")
    expect(page.locator('input[name="payout_account"][value="different"]')).to_be_checked()
    for field, value in NEW_PAYEE.items():
        expect(page.locator(f"#{field}")).to_have_value(value)
    check_page(page)
    me = _me(oidc_context)
    assert isinstance(me, dict) and me["assurance"] == 2

    press(page)
    expect(page).to_have_url(f"{oidc_site.base_url}/journeys/{claim}/check-answers")
    main = page.locator("main")
    expect(main).to_contain_text("Alex Morgan")
    expect(main).to_contain_text("30-94-57")
    [stepped_up] = new("step_up", "alex")
    assert stepped_up.outcome == "success"
    _assert_from_this_browser(stepped_up)
    assert not any("00733445" in str(row.details) for row in new("step_up"))


# --- 4. sign-out -----------------------------------------------------------------------------


def test_sign_out_ends_both_sessions(
    oidc_site: OidcSite, oidc_context: BrowserContext, oidc_page: Page
) -> None:
    new = NewEntries(oidc_site)
    page = oidc_page
    issuer = oidc_site.provider.issuer
    sign_in_customer(page, oidc_site, "alex")

    page.get_by_role("button", name="Sign out").click()
    # The provider asks to confirm its own sign-out; Wayline's session has already ended.
    expect(page.locator("#logout")).to_be_visible()
    assert page.url.startswith(f"{issuer}/")
    assert _me(oidc_context) == 401
    page.locator("#logout").click()
    expect(page).to_have_url(re.compile(re.escape(f"{oidc_site.base_url}/signed-out")))
    check_page(page)
    [signed_out] = new("sign_out", "alex")
    _assert_from_this_browser(signed_out)

    # Signing in again needs the password: the provider's session ended as well.
    page.goto("/journeys")
    expect(page).to_have_url(re.compile(re.escape(issuer) + "/interaction/"))
    expect(page.locator("#password")).to_be_visible()
    assert _session_cookies(oidc_context) == []


# --- 5. spoiled ID tokens --------------------------------------------------------------------


@pytest.fixture
def mischief(oidc_site: OidcSite) -> Iterator[OidcSite]:
    """The site, with any pending mischief cleared afterwards (whatever the test did)."""
    yield oidc_site
    oidc_site.provider.mischief(None)


@pytest.mark.parametrize("kind", ["expire", "tamper"])
def test_a_spoiled_id_token_is_refused(
    kind: str, mischief: OidcSite, oidc_context: BrowserContext, oidc_page: Page
) -> None:
    site = mischief
    new = NewEntries(site)
    page = oidc_page
    page.goto("/journeys")
    site.provider.mischief(kind)  # the token endpoint's next ID token is spoiled
    provider_sign_in(page, site, "alex")

    expect(page.locator("h1")).to_have_text(COULD_NOT_SIGN_IN)
    check_page(page)
    assert _session_cookies(oidc_context) == []
    assert _me(oidc_context) == 401
    [failed] = new("sign_in_failed")
    assert failed.outcome == "failure"
    assert failed.actor is None  # nobody was signed in
    _assert_from_this_browser(failed)
    assert new("sign_in") == []
    assert "eyJ" not in str(failed.details)  # never the token


# --- 6. JWKS key rollover --------------------------------------------------------------------


def test_a_jwks_key_rollover_is_followed(browser: Browser, tmp_path: Path) -> None:
    # A site of its own: the provider restarts, and no earlier test's refused token has just
    # made Wayline refetch the keys (it refetches at most once in 30 seconds).
    with running_site(tmp_path) as site:
        new = NewEntries(site)
        first = new_context(browser, site.base_url)
        try:
            sign_in_customer(first.new_page(), site, "alex")  # Wayline now holds key A
        finally:
            first.close()

        site.provider.restart(keys=["B", "A"])  # B signs from now on; A is still published
        assert site.provider.signing_key_id == KEY_IDS["B"]
        fresh = new_context(browser, site.base_url)
        try:
            sign_in_customer(fresh.new_page(), site, "sam")
            me = _me(fresh)
            assert isinstance(me, dict) and me["subject"] == "sam"
        finally:
            fresh.close()
        assert len(new("sign_in", "alex")) == 1 and len(new("sign_in", "sam")) == 1
        assert new("sign_in_failed") == []


# --- the same sign-in and sign-out on PostgreSQL ---------------------------------------------


@pytest.mark.postgres
def test_sign_in_and_out_on_postgresql(browser: Browser, postgres_url: str, tmp_path: Path) -> None:
    with running_site(tmp_path, database_url=postgres_url) as site:
        new = NewEntries(site)
        context = new_context(browser, site.base_url)
        try:
            page = context.new_page()
            sign_in_customer(page, site, "jordan")
            page.get_by_role("button", name="Sign out").click()
            page.locator("#logout").click()
            expect(page).to_have_url(re.compile(re.escape(f"{site.base_url}/signed-out")))
            assert _me(context) == 401
        finally:
            context.close()
        assert len(new("sign_in", "jordan")) == 1
        assert len(new("sign_out", "jordan")) == 1
