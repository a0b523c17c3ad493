"""Odd text typed or pasted into real fields in Chromium (issue 8, "Form input"): a day
written "²", a control character, a direction override, a count in another script and an
amount with a comma for the pence each get the step again, with the error summary (focused,
its links moving to the fields) and the message beside the field, and no axe-core finding;
then a valid value goes through, kept exactly."""

from __future__ import annotations

from browser_journey import Photos, api_view, days_ago, fill_incident, press, sign_in, start_claim
from playwright.sync_api import BrowserContext, Page, expect
from test_web_errors import check_errors

CONTROL = "Remove the control character at character 14: answers cannot contain them"
DIRECTION = "Remove the character that changes the direction of text, at character 4"
NOT_A_DATE = "Date of the incident must be a real date"
NOT_A_COUNT = "How many people were injured must be a whole number, like 2"
COMMA_FOR_PENCE = "Use a full stop, not a comma, before the decimals, like 850.00 or 1,234.50"


def type_into(page: Page, selector: str, text: str) -> None:
    """Clear a field, then type into it key by key, as a person does."""
    field = page.locator(selector)
    field.fill("")
    field.press_sequentially(text)


def paste_into(page: Page, selector: str, before: str, pasted: str, after: str) -> None:
    """Type, paste a character no key produces (as an input method or a paste inserts it),
    then type on."""
    type_into(page, selector, before)
    page.keyboard.insert_text(pasted)
    page.locator(selector).press_sequentially(after)


def test_odd_text_in_real_fields_gets_the_step_again_then_valid_text_goes_through(
    context: BrowserContext, page: Page, photos: Photos
):
    sign_in(page, "alex")
    claim = start_claim(page)
    press(page)  # Alex's one active policy is already chosen

    # What happened: a day typed as "²" and an escape character pasted into the description.
    fill_incident(page, "collision_vehicle")
    type_into(page, "#incident_date-day", "²")
    paste_into(page, "#description", "A van hit the", "\x1b", " back of my car at the lights.")
    press(page)
    check_errors(page, NOT_A_DATE, CONTROL)
    expect(page.locator("#incident_date-day")).to_have_value("²")  # shown as typed
    type_into(page, "#incident_date-day", str(days_ago(3).day))
    type_into(page, "#description", "A van hit the back of my car at the lights.")
    press(page)

    # The other vehicle: a right-to-left override pasted into the driver's name.
    expect(page.locator("h1")).to_have_text("About the other vehicle")
    paste_into(page, "#other_driver_name", "Pat", "\u202e", "senoJ")
    page.get_by_label("Other vehicle's registration").fill("AB12 CDE")
    page.locator('input[name="injuries"][value="yes"]').check()
    press(page)
    check_errors(page, DIRECTION)
    type_into(page, "#other_driver_name", "Pat Jones")
    press(page)

    # Injuries: a count written in Arabic-Indic digits, then in ours.
    type_into(page, "#injured_count", "٣")
    page.get_by_label("Describe the injuries").fill("Whiplash, seen by a doctor.")
    press(page)
    check_errors(page, NOT_A_COUNT)
    type_into(page, "#injured_count", "3")
    press(page)

    # Photos, then the settlement: an amount with a comma for the pence, then grouped.
    page.locator("#damage_photos").set_input_files(photos.front)
    expect(page.locator(".file-status")).to_have_text("uploaded")
    press(page)
    page.get_by_label("Get a cash settlement").check()
    type_into(page, "#estimate_amount", "850,00")
    page.locator("#estimate_document").set_input_files(photos.estimate)
    expect(page.locator('[data-field="estimate_document"] .file-status')).to_have_text("uploaded")
    press(page)
    check_errors(page, COMMA_FOR_PENCE)
    expect(page.locator("#estimate_amount")).to_have_value("850,00")
    type_into(page, "#estimate_amount", "1 234.50")
    press(page)

    expect(page.locator("h1")).to_have_text("Where should we pay you?")
    view = api_view(context, claim)
    assert view["answers"]["estimate_amount"] == "1234.50"
    assert view["answers"]["injured_count"] == 3
    assert view["answers"]["other_driver_name"] == "Pat Jones"
    assert view["answers"]["description"] == "A van hit the back of my car at the lights."
    assert view["answers"]["incident_date"] == days_ago(3).isoformat()
