"""Sessions in a real browser: signing out ends the session on the server, so a copy of the
cookie in another browser is sent to sign in; the pages' own forms and scripts (which Chromium
sends with their real `Origin` and `Sec-Fetch-Site`) pass the cross-origin check, and a form
posted from another site is refused."""

from __future__ import annotations

from browser_journey import check_page, navigate, sign_in, start_claim
from conftest import new_context
from playwright.sync_api import Browser, BrowserContext, Page, expect

SIGN_IN = "Sign in to the demo"
JOURNEYS = "Your activity"


def _journeys(context: BrowserContext) -> int:
    """The number of claims the context's session can see, or -1 when it is refused (401)."""
    response = context.request.get("/api/v1/journeys")
    return len(response.json()) if response.ok else -response.status


def test_sign_out_ends_the_session_for_a_copied_cookie(
    browser: Browser, base_url: str, context: BrowserContext, page: Page
) -> None:
    sign_in(page, "alex")
    start_claim(page)  # a form post from our own page: Chromium sends our Origin
    # The page's own script (fetch, as autosave does) passes as well.
    status = page.evaluate(
        """async () => {
          const token = document.querySelector('meta[name="csrf-token"]').content;
          const response = await fetch('/api/v1/journeys', {method: 'POST',
            headers: {'X-CSRF-Token': token, 'Content-Type': 'application/json'},
            body: JSON.stringify({type: 'motor-claim'})});
          return response.status; }"""
    )
    assert status == 201
    copied = new_context(browser, base_url)
    try:
        copied.add_cookies(context.cookies())
        other = copied.new_page()
        other.goto("/journeys")
        expect(other.locator("h1")).to_have_text(JOURNEYS)
        assert _journeys(copied) == _journeys(context) >= 2

        page.goto("/journeys")
        navigate(page, page.get_by_role("button", name="Sign out"))
        expect(page.locator("h1")).to_have_text("What do you need to do?")

        other.goto("/journeys")
        expect(other.locator("h1")).to_have_text(SIGN_IN)
        assert "/sign-in?next=/journeys" in other.url
        check_page(other)
        assert _journeys(copied) == -401
    finally:
        copied.close()
    page.goto("/journeys")
    expect(page.locator("h1")).to_have_text(SIGN_IN)


def test_a_form_posted_from_another_site_is_refused(
    context: BrowserContext, page: Page, base_url: str
) -> None:
    sign_in(page, "alex")
    before = _journeys(context)
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    # Another site's page (served by the browser itself), with a form aimed at ours: even the
    # leaked token in it does not help.
    attacker = "http://attacker.example/win-a-prize"
    html = f"""<!doctype html><html lang="en"><title>Prize</title><main>
      <form method="post" action="{base_url}/start/motor-claim">
      <input type="hidden" name="csrf_token" value="{token}">
      <button type="submit">Claim your prize</button></form></main></html>"""
    page.route(attacker, lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto(attacker)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Claim your prize").click()
    response = navigation.value
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("This request was refused")
    check_page(page)
    assert _journeys(context) == before  # nothing started, and Alex is still signed in
