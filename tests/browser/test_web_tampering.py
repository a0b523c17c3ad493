"""Tampered forms: an unknown field, a choice that is not an option (another customer's
policy), a step that is not current, a missing, wrong or borrowed CSRF token. Each gets a
clear error page or the step again with its errors, and the journey does not change: its
answers, drafts and revision, read through the JSON API in the same browser context."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_journey import api_view, check_page, fill_incident, press, sign_in, start_claim
from conftest import new_context
from playwright.sync_api import Browser, BrowserContext, Page, expect


@pytest.fixture
def scriptless(browser: Browser, base_url: str) -> Iterator[BrowserContext]:
    """A context whose pages run none of the app's script (so no autosave changes anything
    behind the test's back), while the test itself can still edit the page."""
    context = new_context(browser, base_url)
    context.route("**/static/app.js", lambda route: route.abort())
    yield context
    context.close()


def _unchanged(context: BrowserContext, claim: str, before: dict[str, Any]) -> None:
    after = api_view(context, claim)
    for key in ("revision", "answers", "drafts", "status", "current_step"):
        assert after[key] == before[key], f"{key} changed: {before[key]!r} -> {after[key]!r}"


def _send(page: Page, expected_status: int) -> None:
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Continue", exact=True).click()
    response = navigation.value
    assert response is not None and response.status == expected_status, (
        f"expected {expected_status}, got {response.status if response else None}"
    )
    check_page(page)


def test_tampered_forms_change_nothing(
    scriptless: BrowserContext, browser: Browser, base_url: str
) -> None:
    page = scriptless.new_page()
    sign_in(page, "alex")
    claim = start_claim(page)
    press(page)
    expect(page.locator("h1")).to_have_text("What happened?")
    before = api_view(scriptless, claim)
    assert before["current_step"]["name"] == "incident"
    form = page.locator("form[data-autosave]")

    # A field the page never had.
    fill_incident(page)
    form.evaluate(
        """form => { const input = document.createElement('input');
        input.type = 'hidden'; input.name = 'approved'; input.value = 'yes';
        form.appendChild(input); }"""
    )
    _send(page, 400)
    expect(page.locator("h1")).to_have_text("Sorry, there is a problem")
    expect(page.locator("main")).to_contain_text("fields this page does not have: approved")
    _unchanged(scriptless, claim, before)

    # A choice that is not one of the options.
    page.goto(f"/journeys/{claim}/steps/incident")
    fill_incident(page)
    page.locator('input[name="incident_type"][value="glass"]').evaluate(
        "radio => radio.value = 'meteorite'"
    )
    _send(page, 200)
    expect(page.locator(".error-summary")).to_be_visible()
    assert page.title().startswith("Error: What happened?")
    _unchanged(scriptless, claim, before)

    # Another customer's policy, on the completed first step.
    page.goto(f"/journeys/{claim}/steps/policy")
    page.locator('input[name="policy_number"]').evaluate("radio => radio.value = 'MTR-100002'")
    _send(page, 200)
    expect(page.locator(".error-summary")).to_be_visible()
    _unchanged(scriptless, claim, before)

    # A step that is not reached yet (the form pointed at a later step).
    page.goto(f"/journeys/{claim}/steps/incident")
    form.evaluate(
        """(form, claim) => {
        form.action = `/journeys/${claim}/steps/settlement`;
        form.querySelectorAll('.form-group').forEach(group => group.remove());
        const input = document.createElement('input');
        input.type = 'hidden'; input.name = 'settlement'; input.value = 'cash';
        form.appendChild(input); }""",
        claim,
    )
    _send(page, 409)
    expect(page.locator("main")).to_contain_text("is not reached yet")
    _unchanged(scriptless, claim, before)

    # No CSRF token, then a made-up one.
    for token in (None, "forged.0123456789abcdef0123456789abcdef"):
        page.goto(f"/journeys/{claim}/steps/incident")
        fill_incident(page)
        token_input = page.locator('form[data-autosave] input[name="csrf_token"]')
        if token is None:
            token_input.evaluate("input => input.remove()")
        else:
            token_input.evaluate("(input, token) => input.value = token", token)
        _send(page, 403)
        expect(page.locator("h1")).to_have_text("Your session has expired")
        _unchanged(scriptless, claim, before)

    # A real token from another customer's session, in both the cookie and the form.
    other = new_context(browser, base_url)
    try:
        other_page = other.new_page()
        sign_in(other_page, "sam")
        borrowed = other_page.locator('meta[name="csrf-token"]').get_attribute("content")
        # Sam cannot see Alex's claim at all.
        response = other_page.goto(f"/journeys/{claim}/steps/incident")
        assert response is not None and response.status == 404
        expect(other_page.locator("h1")).to_have_text("Page not found")
        check_page(other_page)
    finally:
        other.close()
    assert borrowed
    page.goto(f"/journeys/{claim}/steps/incident")
    scriptless.add_cookies([{"name": "wayline_csrf", "value": borrowed, "url": base_url}])
    fill_incident(page)
    page.locator('form[data-autosave] input[name="csrf_token"]').evaluate(
        "(input, token) => input.value = token", borrowed
    )
    _send(page, 403)
    _unchanged(scriptless, claim, before)

    # Script-style requests without the X-CSRF-Token header: autosave and the API.
    draft = scriptless.request.post(
        f"/journeys/{claim}/steps/incident/draft", form={"incident_postcode": "E1 6AN"}
    )
    assert draft.status == 403
    patch = scriptless.request.patch(
        f"/api/v1/journeys/{claim}/steps/incident",
        data={"answers": {"incident_postcode": "E1 6AN"}, "revision": before["revision"]},
    )
    assert patch.status == 403
    _unchanged(scriptless, claim, before)

    # After all that, the honest form still works.
    page.goto(f"/journeys/{claim}/steps/incident")
    fill_incident(page)
    press(page)
    expect(page.locator("h1")).to_have_text("Photos of the damage")
    assert api_view(scriptless, claim)["answers"]["incident_type"] == "glass"
