"""A motor claim completed by each demo customer with the keyboard alone, along different
branches, with axe-core, the h1 and the title checked on every page on the way."""

from __future__ import annotations

from browser_journey import (
    REFERENCE,
    Keyboard,
    Photos,
    api_view,
    days_ago,
    fill_incident,
    journey_id,
    press,
    sign_in,
    start_claim,
    wait_saved,
)
from playwright.sync_api import BrowserContext, Page, expect

SEND = 'form[action$="/check-answers"] button[type="submit"]'
SIGN_IN = 'form[action="/sign-in"] button[type="submit"]'


def _send(keys: Keyboard) -> str:
    """Tick the declaration, send the claim, and return the reference shown."""
    keys.tick("#declaration")
    keys.follow(SEND)
    page = keys.page
    expect(page.locator("h1")).to_have_text("Claim received")
    reference = page.locator(".panel-body strong").inner_text()
    assert REFERENCE.match(reference), reference
    return reference


def _follow_up(keys: Keyboard, reference: str) -> None:
    """From the confirmation page: the status page, then the customer's journeys."""
    page = keys.page
    keys.follow('main a[href$="/status"]')
    expect(page.locator("h1")).to_have_text(f"Progress of {reference}")
    expect(page.locator(".timeline")).to_contain_text("You sent it to us")
    expect(page.locator(".timeline")).to_contain_text("You answered ‘What happened?’")
    keys.follow('header a[href="/journeys"]')
    row = page.locator("tr", has_text=reference)
    expect(row).to_contain_text("Sent")


def _uploaded(page: Page, field: str, names: list[str]) -> None:
    items = page.locator(f'[data-field="{field}"] .file-list-item')
    expect(items).to_have_count(len(names))
    for name in names:
        expect(items.filter(has_text=name).locator(".file-status")).to_have_text("uploaded")


def test_alex_glass_claim_with_cash_settlement_by_keyboard(
    context: BrowserContext, page: Page, photos: Photos
) -> None:
    """Alex: glass damage, two photos, a cash settlement paid into the prefilled account; signs
    in part-way (starting asks for it), and changes an answer from check your answers."""
    keys = Keyboard(page)
    keys.go("/")
    keys.follow('main a[href="/start/motor-claim"]')
    keys.follow("button.button-start")
    assert "/sign-in" in page.url
    keys.choose("customer", "alex")
    keys.follow(SIGN_IN)
    assert page.url.endswith("/start/motor-claim")
    keys.follow("button.button-start")

    # Which car: one active policy, so it is already chosen.
    expect(page.locator("h1")).to_have_text("Which car is the claim for?")
    expect(page.locator('input[name="policy_number"][value="MTR-100001"]')).to_be_checked()
    keys.continue_()

    expect(page.locator("h1")).to_have_text("What happened?")
    keys.date("incident_date", days_ago(3))
    keys.type_into("#incident_time", "08:45")
    keys.choose("incident_type", "glass")
    keys.type_into("#incident_postcode", "sw1a1aa")
    keys.type_into("#description", "A stone thrown up by a lorry cracked the windscreen.")
    keys.choose("driveable", "yes")
    keys.continue_()

    expect(page.locator("h1")).to_have_text("Photos of the damage")
    expect(page.locator("#damage_photos-hint")).to_contain_text("Upload up to 10 photos")
    keys.files("#damage_photos", [photos.front, photos.side])
    _uploaded(page, "damage_photos", ["front-bumper.jpg", "driver-side.jpg"])
    keys.wait_saved()
    keys.continue_()

    expect(page.locator("h1")).to_have_text("How would you like to settle your claim?")
    keys.choose("settlement", "cash")
    expect(page.locator("#estimate_amount")).to_be_visible()
    expect(page.locator("#repairer_id")).to_be_hidden()
    keys.type_into("#estimate_amount", "450")
    keys.files("#estimate_document", [photos.estimate])
    _uploaded(page, "estimate_document", ["garage-estimate.png"])
    keys.continue_()

    expect(page.locator("h1")).to_have_text("Where should we pay you?")
    expect(page.locator('input[name="payout_account"][value="acc-alex-9911"]')).to_be_checked()
    # Another account's details are asked only when "A different account" is chosen.
    expect(page.locator("#account_holder")).to_be_hidden()
    keys.choose("payout_account", "different")
    expect(page.locator("#account_holder")).to_be_visible()
    keys.choose("payout_account", "acc-alex-9911")
    expect(page.locator("#account_holder")).to_be_hidden()
    keys.continue_()

    expect(page.locator("h1")).to_have_text("Check your answers before sending your claim")
    main = page.locator("main")
    for text in (
        "Windscreen or window damage",
        "SW1A 1AA",
        "2 files: front-bumper.jpg, driver-side.jpg",
        "£450.00",
        "Everyday account ending 9911",
    ):
        expect(main).to_contain_text(text)

    # Change an answer: back to the step, then straight back to check your answers.
    keys.follow('a[href$="/steps/incident?change=1"]')
    expect(page.locator("#incident_postcode")).to_have_value("SW1A 1AA")
    keys.type_into("#incident_postcode", "SW1A 2AA")
    keys.continue_()
    assert page.url.endswith("/check-answers")
    expect(main).to_contain_text("SW1A 2AA")

    claim = journey_id(page)
    reference = _send(keys)
    _follow_up(keys, reference)

    view = api_view(context, claim)
    assert view["status"] == "submitted"
    assert view["reference"] == reference
    answers = view["answers"]
    assert answers["policy_number"] == "MTR-100001"
    assert answers["incident_date"] == days_ago(3).isoformat()
    assert answers["incident_type"] == "glass"
    assert answers["incident_postcode"] == "SW1A 2AA"
    assert answers["settlement"] == "cash"
    assert answers["payout_account"] == "acc-alex-9911"
    assert len(answers["damage_photos"]) == 2
    assert len(answers["estimate_document"]) == 1


def test_sam_theft_claim_with_police_report_by_keyboard(
    context: BrowserContext, page: Page
) -> None:
    """Sam: the car was stolen, so a police reference is asked, photos are optional, and
    neither settlement nor payment is asked. Signs in first from the header."""
    keys = Keyboard(page)
    keys.go("/")
    keys.follow('header a[href="/sign-in"]')
    keys.choose("customer", "sam")
    keys.follow(SIGN_IN)
    expect(page.locator("h1")).to_have_text("Your activity")
    keys.follow('main a[href="/"]')
    keys.follow('main a[href="/start/motor-claim"]')
    keys.follow("button.button-start")

    # Two policies, one of them lapsed: the active one is chosen.
    expect(page.locator('input[name="policy_number"]')).to_have_count(2)
    keys.choose("policy_number", "MTR-100002")
    keys.continue_()

    keys.date("incident_date", days_ago(10))
    keys.type_into("#incident_time", "23:15")
    expect(page.locator("#driveable")).to_be_visible()
    keys.choose("incident_type", "theft")
    expect(page.locator("#driveable")).to_be_hidden()  # not asked when the car was stolen
    keys.type_into("#incident_postcode", "M1 1AE")
    keys.type_into("#description", "The car was taken from outside my house overnight.")
    keys.continue_()

    expect(page.locator("h1")).to_have_text("Police report")
    keys.type_into("#crime_reference", "CR/2026-004211")
    keys.continue_()

    # Photos are optional when the car was stolen.
    expect(page.locator("h1")).to_have_text("Photos of the damage (optional)")
    keys.continue_()

    expect(page.locator("h1")).to_have_text("Check your answers before sending your claim")
    main = page.locator("main")
    expect(main).to_contain_text("Theft of the car")
    expect(main).to_contain_text("CR/2026-004211")
    expect(main).not_to_contain_text("How would you like to settle your claim?")
    claim = journey_id(page)
    reference = _send(keys)
    _follow_up(keys, reference)

    answers = api_view(context, claim)["answers"]
    assert answers["incident_type"] == "theft"
    assert answers["crime_reference"] == "CR/2026-004211"
    assert "settlement" not in answers and "driveable" not in answers


def test_jordan_collision_with_injuries_and_repairer_by_keyboard(
    context: BrowserContext, page: Page, photos: Photos
) -> None:
    """Jordan: a collision with another vehicle in which people were hurt, three photos at
    once, and one of the approved repairers."""
    keys = Keyboard(page)
    keys.go("/sign-in")
    keys.choose("customer", "jordan")
    keys.follow(SIGN_IN)
    keys.go("/start/motor-claim")
    keys.follow("button.button-start")
    expect(page.locator('input[name="policy_number"][value="MTR-100004"]')).to_be_checked()
    keys.continue_()

    keys.date("incident_date", days_ago(1))
    keys.choose("incident_type", "collision_vehicle")
    keys.type_into("#incident_postcode", "LS1 4AP")
    keys.type_into("#description", "Another car pulled out of a side road into my passenger door.")
    keys.choose("driveable", "no")
    keys.continue_()

    expect(page.locator("h1")).to_have_text("About the other vehicle")
    keys.type_into("#other_driver_name", "Chris Taylor")
    keys.type_into("#other_registration", "xy21 zzb")
    keys.choose("injuries", "yes")
    keys.continue_()

    expect(page.locator("h1")).to_have_text("About the injuries")
    keys.type_into("#injured_count", "2")
    keys.type_into("#injury_description", "My passenger hurt her neck; the other driver a wrist.")
    keys.continue_()

    keys.files("#damage_photos", [photos.front, photos.side, photos.close])
    _uploaded(page, "damage_photos", ["front-bumper.jpg", "driver-side.jpg", "close-up.png"])
    keys.wait_saved()
    keys.continue_()

    keys.choose("settlement", "repairer")
    repairers = page.locator('input[name="repairer_id"]')
    expect(repairers).to_have_count(3)
    expect(page.locator("#estimate_amount")).to_be_hidden()
    second = repairers.nth(1).get_attribute("value")
    assert second
    keys.choose("repairer_id", second)
    keys.continue_()

    expect(page.locator("h1")).to_have_text("Check your answers before sending your claim")
    main = page.locator("main")
    expect(main).to_contain_text("Collision with another vehicle")
    expect(main).to_contain_text("Chris Taylor")
    expect(main).to_contain_text("3 files")
    expect(main).to_contain_text("Use one of our approved repairers")
    expect(main).not_to_contain_text("Where should we pay you?")
    claim = journey_id(page)
    reference = _send(keys)
    _follow_up(keys, reference)

    answers = api_view(context, claim)["answers"]
    assert answers["injuries"] is True
    assert answers["injured_count"] in (2, "2")
    assert answers["repairer_id"] == second
    assert len(answers["damage_photos"]) == 3


FOCUS_STYLE = """el => {
  const choice = el.type === 'radio' || el.type === 'checkbox';
  const shown = choice ? document.querySelector(`label[for="${el.id}"]`) : el;
  const style = getComputedStyle(shown, choice ? '::before' : null);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2
    && !['transparent', 'rgba(0, 0, 0, 0)'].includes(style.outlineColor);
  return { outline, background: style.backgroundColor,
           what: el.outerHTML.slice(0, 80) };
}"""


def test_focus_is_visible_on_every_control(page: Page, photos: Photos) -> None:
    """Tab through whole pages: every stop shows a focus outline or the focus colour."""
    sign_in(page, "alex")
    start_claim(page)
    press(page)
    fill_incident(page, "glass")
    press(page)
    page.locator("#damage_photos").set_input_files([photos.front, photos.side])
    expect(page.locator(".file-status", has_text="uploaded")).to_have_count(2)
    wait_saved(page)
    focus_colour = "rgb(255, 221, 0)"
    for url in (page.url, page.url.replace("/photos", "/incident")):
        page.goto(url)
        seen = 0
        first = None
        for _ in range(80):
            page.keyboard.press("Tab")
            handle = page.evaluate_handle("document.activeElement")
            style = page.evaluate(FOCUS_STYLE, handle)
            if style["what"].startswith("<body"):
                continue
            if style["what"] == first:
                break  # round the page once
            first = first or style["what"]
            seen += 1
            assert style["outline"] or style["background"] == focus_colour, (
                f"no visible focus on {style['what']} at {url}"
            )
        assert seen > 8, f"only {seen} focus stops on {url}"
