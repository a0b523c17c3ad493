"""Close the browser mid-way, open a fresh one, sign in again: the claim resumes at the same
step with every answer in place, including what was autosaved but never submitted."""

from __future__ import annotations

from browser_journey import (
    Photos,
    api_view,
    check_page,
    fill_incident,
    navigate,
    press,
    sign_in,
    start_claim,
    wait_saved,
)
from conftest import new_context
from playwright.sync_api import Browser, expect


def test_resume_in_a_fresh_browser_with_every_answer_in_place(
    browser: Browser, base_url: str, photos: Photos
) -> None:
    first = new_context(browser, base_url)
    page = first.new_page()
    sign_in(page, "alex")
    claim = start_claim(page)
    press(page)
    fill_incident(page, "vandalism", postcode="bs1 4dj", description="Someone keyed both doors.")
    press(page)
    page.locator("#crime_reference").fill("AV/12345")
    press(page)
    page.locator("#damage_photos").set_input_files([photos.front, photos.close])
    expect(page.locator(".file-status", has_text="uploaded")).to_have_count(2)
    wait_saved(page)
    press(page)

    # The settlement step is answered but never sent: autosave keeps it as a draft.
    expect(page.locator("h1")).to_have_text("How would you like to settle your claim?")
    page.get_by_label("Get a cash settlement").check()
    amount = page.get_by_label("Repair estimate (£)")
    amount.press_sequentially("385.20")
    status = page.locator("[data-autosave-status]")
    expect(status).to_have_attribute("role", "status")
    wait_saved(page)  # after the pause in typing, without leaving the field
    page.locator("#estimate_document").set_input_files(photos.estimate)
    expect(page.locator('[data-field="estimate_document"] .file-status')).to_have_text("uploaded")
    wait_saved(page)
    drafts = api_view(first, claim)["drafts"]["settlement"]
    assert drafts["settlement"] == "cash" and drafts["estimate_amount"] == "385.20"
    first.close()  # the browser goes away mid-way

    second = new_context(browser, base_url)
    try:
        page = second.new_page()
        sign_in(page, "alex")
        navigate(page, page.locator(f'a[href="/journeys/{claim}"]'))
        expect(page).to_have_url(f"{base_url}/journeys/{claim}/steps/settlement")
        check_page(page)
        expect(page.get_by_label("Get a cash settlement")).to_be_checked()
        expect(page.get_by_label("Repair estimate (£)")).to_be_visible()
        expect(page.get_by_label("Repair estimate (£)")).to_have_value("385.20")
        expect(page.locator('[data-field="estimate_document"] .file-name')).to_have_text(
            "garage-estimate.png"
        )

        navigate(page, page.get_by_role("link", name="Back"))
        expect(page.locator(".file-name")).to_have_text(["front-bumper.jpg", "close-up.png"])
        navigate(page, page.get_by_role("link", name="Back"))
        expect(page.locator("#crime_reference")).to_have_value("AV/12345")
        navigate(page, page.get_by_role("link", name="Back"))
        expect(page.locator("h1")).to_have_text("What happened?")
        day = api_view(second, claim)["answers"]["incident_date"].split("-")
        expect(page.locator("#incident_date-day")).to_have_value(str(int(day[2])))
        expect(page.locator("#incident_date-month")).to_have_value(str(int(day[1])))
        expect(page.locator("#incident_date-year")).to_have_value(day[0])
        expect(page.get_by_label("Vandalism")).to_be_checked()
        expect(page.locator("#incident_postcode")).to_have_value("BS1 4DJ")
        expect(page.locator("#description")).to_have_value("Someone keyed both doors.")
        expect(page.locator('input[name="driveable"][value="yes"]')).to_be_checked()
        navigate(page, page.get_by_role("link", name="Back"))
        expect(page.get_by_label("Ford Focus (2019), AB12 CDE, comprehensive")).to_be_checked()

        # Carry on, change the draft, and save explicitly for later.
        page.goto(f"/journeys/{claim}")
        expect(page.locator("h1")).to_have_text("How would you like to settle your claim?")
        page.get_by_label("Repair estimate (£)").fill("390")
        press(page, "Save and come back later")
        expect(page).to_have_url(f"{base_url}/journeys?saved={claim}")
        expect(page.get_by_role("status")).to_contain_text("Your answers have been saved")
        check_page(page)
        view = api_view(second, claim)
        assert view["drafts"]["settlement"]["estimate_amount"] == "390"
        assert view["current_step"]["name"] == "settlement"
    finally:
        second.close()
