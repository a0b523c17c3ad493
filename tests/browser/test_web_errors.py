"""Every error state of the claim, with JavaScript on: the error summary takes focus, its
links move focus to the fields, each message sits beside its field tied by aria-describedby,
the title begins with "Error:", and axe-core finds nothing on any of them."""

from __future__ import annotations

from pathlib import Path

from browser_journey import (
    Photos,
    api_view,
    check_page,
    days_ago,
    fill_incident,
    focused,
    navigate,
    press,
    start_claim,
)
from playwright.sync_api import BrowserContext, Page, expect


def check_errors(page: Page, *messages: str) -> None:
    """The page shows exactly these errors, and its error summary works as it should."""
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    assert focused(page)["summary"], "the error summary takes focus when the page loads"
    check_page(page)
    links = summary.locator("a")
    expect(links).to_have_text(list(messages))
    for index in range(links.count()):
        link = links.nth(index)
        target = (link.get_attribute("href") or "").lstrip("#")
        if index == 0:
            page.keyboard.press("Tab")  # from the summary to its first link
            assert focused(page)["tag"] == "a"
        else:
            link.focus()
        page.keyboard.press("Enter")
        now = focused(page)
        assert now["id"] == target, f"{messages[index]!r} should move focus to #{target}: {now}"
        # The message beside the field, tied to it (or to its fieldset) by aria-describedby.
        tied = page.evaluate(
            """id => { const el = document.getElementById(id);
            const holder = el.closest('fieldset[aria-describedby]') || el;
            const ids = (holder.getAttribute('aria-describedby') || '').split(' ');
            const error = ids.map(i => document.getElementById(i))
                             .find(e => e && e.classList.contains('error-message'));
            return error ? error.textContent : null; }""",
            target,
        )
        assert tied is not None and messages[index] in tied, f"#{target} is not tied to its error"


def test_every_error_state(context: BrowserContext, page: Page, photos: Photos, tmp_path: Path):
    # Signing in without choosing anyone.
    page.goto("/sign-in")
    press(page, "Sign in")
    check_errors(page, "Select who you want to sign in as")
    page.get_by_label("Sam Patel").check()
    # Sam gives new payee details later, which ask for the stronger sign-in (step-up).
    page.locator('input[name="method"][value="one_time_code"]').check()
    press(page, "Sign in")
    claim = start_claim(page)

    # Which car: nothing chosen (Sam's active policy is preselected, so clear it first).
    page.locator('input[name="policy_number"]:checked').evaluate("radio => radio.checked = false")
    press(page)
    check_errors(page, "Select the car the claim is for")
    page.get_by_label("Toyota Yaris (2021), CD34 EFG, comprehensive").check()
    press(page)

    # What happened: empty, then each kind of wrong.
    press(page)
    check_errors(
        page,
        "Enter the date of the incident",
        "Select the type of incident",
        "Enter the postcode where it happened",
        "Tell us what happened",
        "Select yes if the car can be driven safely",
    )
    fill_incident(page, "collision_vehicle", ago=-3, postcode="nowhere", description="Bump")
    page.locator("#incident_time").fill("25:99")
    press(page)
    check_errors(
        page,
        "Date of the incident must be today or in the past",
        "Enter the time in hours and minutes, like 14:30",
        "Enter a real postcode, like SW1A 1AA",
        "What happened must be 20 characters or more",
    )
    page.locator("#incident_date-month").fill("13")
    page.locator("#incident_time").fill("")
    page.locator("#incident_postcode").fill("SW1A 1AA")
    page.locator("#description").fill("x" * 2001)
    press(page)
    check_errors(
        page,
        "Date of the incident must be a real date",
        "What happened must be 2,000 characters or fewer",
    )
    fill_incident(
        page, "collision_vehicle", description="A van reversed into my car at a junction."
    )
    press(page)

    # About the other vehicle.
    press(page)
    check_errors(
        page,
        "Enter the other driver's name",
        "Enter the other vehicle's registration",
        "Select yes if anyone was injured",
    )
    page.get_by_label("Other driver's name").fill("Robin Hart")
    page.get_by_label("Other vehicle's registration").fill("NOT A REG 123")
    page.locator('input[name="injuries"][value="yes"]').check()
    press(page)
    check_errors(page, "Enter a real registration number, like AB12 CDE")
    page.get_by_label("Other vehicle's registration").fill("AB12 CDE")
    press(page)

    # About the injuries.
    press(page)
    check_errors(page, "Enter how many people were injured", "Describe the injuries")
    page.get_by_label("How many people were injured?").fill("21")
    page.get_by_label("Describe the injuries").fill("Whiplash.")
    press(page)
    check_errors(page, "How many people were injured must be 20 or fewer")
    page.get_by_label("How many people were injured?").fill("two")
    press(page)
    check_errors(page, "How many people were injured must be a whole number, like 2")
    page.get_by_label("How many people were injured?").fill("1")
    press(page)

    # Photos: none, then a file that is not a photo sent with the form itself.
    press(page)
    check_errors(page, "Upload at least one photo of the damage")
    page.locator("#damage_photos").set_input_files(photos.front)
    expect(page.locator(".file-status")).to_have_text("uploaded")
    press(page)

    # Settlement: nothing chosen; a repairer not chosen; a cash settlement half answered.
    press(page)
    check_errors(page, "Select how you would like to settle your claim")
    page.get_by_label("Use one of our approved repairers").check()
    press(page)
    check_errors(page, "Choose a repairer")
    page.get_by_label("Get a cash settlement").check()
    page.get_by_label("Repair estimate (£)").fill("0.50")
    press(page)
    check_errors(page, "Repair estimate must be £1 or more", "Upload the garage's estimate")
    page.get_by_label("Repair estimate (£)").fill("1250")
    page.locator("#estimate_document").set_input_files(photos.estimate)
    expect(page.locator('[data-field="estimate_document"] .file-status')).to_have_text("uploaded")
    press(page)

    # Where to pay: Sam banks elsewhere, so the account details are asked outright.
    expect(page.locator("h1")).to_have_text("Where should we pay you?")
    press(page)
    check_errors(
        page, "Enter the name on the account", "Enter a sort code", "Enter an account number"
    )
    page.get_by_label("Name on the account").fill("S Patel")
    page.get_by_label("Sort code").fill("12-34")
    page.get_by_label("Account number").fill("1234")
    press(page)
    check_errors(
        page,
        "Enter a valid sort code, like 30-94-57",
        "Enter a valid account number, like 00733445",
    )
    page.get_by_label("Sort code").fill("30-94-57")
    page.get_by_label("Account number").fill("00733445")
    press(page)

    # Check your answers: the declaration not ticked.
    expect(page.locator("h1")).to_have_text("Check your answers before sending your claim")
    check_page(page)
    press(page, "Send claim")
    check_errors(page, "Confirm that the information you have given is true and complete")

    # Change the type of incident to vandalism: a police reference is now needed.
    navigate(page, page.locator('a[href$="/steps/incident?change=1"]').first)
    page.get_by_label("Vandalism").check()
    press(page)
    expect(page.locator("h1")).to_have_text("Police report")
    press(page)
    check_errors(page, "Enter the police crime reference number")
    page.get_by_label("Police crime reference number").fill("no!")
    press(page)
    check_errors(page, "Crime reference must be 6 to 20 letters, numbers, slashes or hyphens")
    page.get_by_label("Police crime reference number").fill("VN-778899")
    press(page)
    expect(page.locator("h1")).to_have_text("Check your answers before sending your claim")
    main = page.locator("main")
    expect(main).to_contain_text("Vandalism")
    expect(main).not_to_contain_text("About the other vehicle")
    page.get_by_label("I confirm the information I have given is true and complete").check()
    press(page, "Send claim")
    expect(page.locator("h1")).to_have_text("Claim received")
    view = api_view(context, claim)
    assert view["status"] == "submitted"
    assert "other_driver_name" not in view["answers"]  # a step that no longer applies
    assert view["answers"]["crime_reference"] == "VN-778899"
    assert view["answers"]["incident_date"] == days_ago(3).isoformat()
