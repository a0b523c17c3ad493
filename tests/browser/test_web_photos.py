"""Several photos chosen at once: each gets its own status (uploaded, or why not), any one can
be removed, and what is left is what the claim keeps."""

from __future__ import annotations

from pathlib import Path

from browser_journey import (
    Keyboard,
    Photos,
    api_view,
    check_page,
    fill_incident,
    focused,
    press,
    sign_in,
    start_claim,
    wait_saved,
)
from playwright.sync_api import BrowserContext, Page, expect


def test_several_photos_at_once_with_a_status_each_and_remove_one(
    context: BrowserContext, page: Page, photos: Photos, tmp_path: Path
) -> None:
    not_a_photo = tmp_path / "notes.jpg"
    not_a_photo.write_text("These are my notes about the accident, not a photo.")
    sign_in(page, "jordan")
    claim = start_claim(page)
    press(page)
    fill_incident(page, "collision_object", description="I hit a deer on a country lane.")
    press(page)
    expect(page.locator("h1")).to_have_text("Photos of the damage")

    page.locator("#damage_photos").set_input_files(
        [photos.front, photos.side, not_a_photo, photos.close]
    )
    items = page.locator(".file-list-item")
    expect(items).to_have_count(4)
    for name in ("front-bumper.jpg", "driver-side.jpg", "close-up.png"):
        expect(items.filter(has_text=name).locator(".file-status")).to_have_text("uploaded")
    refused = items.filter(has_text="notes.jpg").locator(".file-status")
    expect(refused).to_contain_text("not uploaded:")
    expect(refused).to_have_class("file-status file-status-error")
    announced = page.locator("[data-upload-status]")
    expect(announced).to_have_attribute("role", "status")
    expect(announced).to_contain_text("notes.jpg was not uploaded")
    expect(announced).to_contain_text("close-up.png uploaded")
    wait_saved(page)
    check_page(page)
    assert len(api_view(context, claim)["drafts"]["photos"]["damage_photos"]) == 3

    # Remove one photo with the keyboard: focus goes back to the file input.
    keys = Keyboard(page)
    keys.tab_to(".file-list-item[data-document] + .file-list-item[data-document] button")
    expect(page.locator(":focus")).to_have_text("Remove driver-side.jpg")
    page.keyboard.press("Enter")
    expect(items).to_have_count(3)
    assert focused(page)["id"] == "damage_photos"
    expect(announced).to_have_text("driver-side.jpg removed")
    wait_saved(page)
    # And the one that failed.
    items.filter(has_text="notes.jpg").get_by_role("button").click()
    expect(items).to_have_count(2)
    wait_saved(page)
    kept = api_view(context, claim)["drafts"]["photos"]["damage_photos"]
    assert len(kept) == 2

    # The draft is what the page shows after a reload, and what the step keeps.
    page.reload()
    expect(page.locator(".file-name")).to_have_text(["front-bumper.jpg", "close-up.png"])
    press(page)
    expect(page.locator("h1")).to_have_text("How would you like to settle your claim?")
    assert api_view(context, claim)["answers"]["damage_photos"] == kept
