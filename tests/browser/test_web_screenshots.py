"""Screenshots of every page of the claim at phone and desktop widths, with a gallery page, so
a reader sees the journey without running it.

The pictures go to a temporary folder unless WAYLINE_UPDATE_SCREENSHOTS=1 is set, in which
case they replace docs/screenshots/ (and its README.md gallery):

    WAYLINE_UPDATE_SCREENSHOTS=1 .venv/bin/pytest tests/browser -k screenshots
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser_journey import Photos, fill_incident, navigate, press, wait_saved
from PIL import Image
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WIDTHS = {"phone": (375, 740), "desktop": (1280, 800)}
MAX_BYTES = 3 * 1024 * 1024


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    if os.environ.get("WAYLINE_UPDATE_SCREENSHOTS", "").strip() in ("1", "true", "yes"):
        DOCS.mkdir(parents=True, exist_ok=True)
        for old in DOCS.glob("*.png"):
            old.unlink()
        return DOCS
    return tmp_path


def _compact(path: Path) -> None:
    """Pages are flat colour: a 256-colour palette keeps them sharp at a fraction of the size."""
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    small.save(path)


class Camera:
    def __init__(self, page: Page, folder: Path):
        self.page = page
        self.folder = folder
        self.shots: list[tuple[str, str]] = []

    def shoot(self, name: str, caption: str) -> None:
        # Content reflows at 320 CSS pixels without scrolling sideways (WCAG 1.4.10).
        self.page.set_viewport_size({"width": 320, "height": 640})
        overflow = self.page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{self.page.url} scrolls sideways by {overflow}px at 320px wide"
        for prefix, (width, height) in WIDTHS.items():
            self.page.set_viewport_size({"width": width, "height": height})
            path = self.folder / f"{prefix}-{name}.png"
            self._capture(path)
            _compact(path)
        self.shots.append((name, caption))

    def _capture(self, path: Path) -> None:
        # Headless Chromium now and then cannot capture a page just after a resize (a
        # compositor race: "Unable to capture screenshot"); a later frame captures it.
        for attempt in range(3):
            try:
                self.page.screenshot(path=str(path), full_page=True, animations="disabled")
                return
            except PlaywrightError as error:
                if "Unable to capture screenshot" not in str(error) or attempt == 2:
                    raise
                self.page.wait_for_timeout(250)

    def gallery(self) -> str:
        lines = [
            "# The customer's web journey, page by page",
            "",
            "Every page of a motor claim, at phone (375 pixels wide) and desktop (1280 pixels)",
            "widths. These pictures are made by the browser tests "
            "(`tests/browser/test_web_screenshots.py`);",
            "to make them again:",
            "",
            "```",
            "WAYLINE_UPDATE_SCREENSHOTS=1 .venv/bin/pytest tests/browser -k screenshots",
            "```",
            "",
        ]
        for name, caption in self.shots:
            lines += [
                f"## {caption}",
                "",
                "| Phone | Desktop |",
                "| --- | --- |",
                f"| ![{caption}, phone](phone-{name}.png) "
                f"| ![{caption}, desktop](desktop-{name}.png) |",
                "",
            ]
        return "\n".join(lines)


def test_screenshots_of_every_page(page: Page, photos: Photos, folder: Path) -> None:
    camera = Camera(page, folder)
    shoot = camera.shoot
    page.goto("/")
    shoot("home", "Home: what do you need to do?")
    page.goto("/sign-in")
    shoot("sign-in", "Demo sign-in")
    page.get_by_label("Alex Morgan").check()
    press(page, "Sign in")
    page.goto("/start/motor-claim")
    shoot("start", "Start page")
    press(page, "Start now")
    shoot("policy", "Which car is the claim for? (prefilled from the policy system)")
    press(page)
    press(page)
    shoot("incident-errors", "An error state: the error summary and the messages by the fields")
    fill_incident(
        page,
        "collision_vehicle",
        postcode="SW1A 1AA",
        description="Another car pulled out of a junction into my front bumper.",
        driveable="no",
    )
    page.locator("#incident_time").fill("17:40")
    shoot("incident", "What happened?")
    press(page)
    page.get_by_label("Other driver's name").fill("Chris Taylor")
    page.get_by_label("Other vehicle's registration").fill("XY21 ZZB")
    page.locator('input[name="injuries"][value="yes"]').check()
    shoot("other-vehicle", "About the other vehicle")
    press(page)
    page.get_by_label("How many people were injured?").fill("1")
    page.get_by_label("Describe the injuries").fill("The other driver hurt a wrist.")
    shoot("injuries", "About the injuries")
    press(page)
    page.locator("#damage_photos").set_input_files([photos.front, photos.side, photos.close])
    expect(page.locator(".file-status", has_text="uploaded")).to_have_count(3)
    wait_saved(page)
    shoot("photos", "Photos of the damage: several at once, each with its status")
    press(page)
    page.get_by_label("Get a cash settlement").check()
    page.get_by_label("Repair estimate (£)").fill("1450")
    page.locator("#estimate_document").set_input_files(photos.estimate)
    expect(page.locator('[data-field="estimate_document"] .file-status')).to_have_text("uploaded")
    wait_saved(page)
    shoot("settlement", "How would you like to settle your claim?")
    press(page)
    shoot("payment-details", "Where should we pay you? (the customer's own account offered)")
    press(page)
    shoot("check-answers", "Check your answers, with a Change link for each")

    # Change the type of incident to vandalism: the police step is asked, then back here.
    navigate(page, page.locator('a[href$="/steps/incident?change=1"]').first)
    page.get_by_label("Vandalism").check()
    press(page)
    page.get_by_label("Police crime reference number").fill("VN-778899")
    shoot("police", "Police report (asked for theft and vandalism)")
    press(page)
    expect(page.locator("h1")).to_have_text("Check your answers before sending your claim")
    page.get_by_label("I confirm the information I have given is true and complete").check()
    press(page, "Send claim")
    shoot("confirmation", "Claim received, with its reference")
    navigate(page, page.get_by_role("link", name="Follow the progress of your claim"))
    shoot("status", "The claim's progress in plain words")
    navigate(page, page.locator('header a[href="/journeys"]'))
    shoot("journeys", "Your activity")

    order = [
        "home", "sign-in", "start", "policy", "incident", "incident-errors", "other-vehicle",
        "injuries", "police", "photos", "settlement", "payment-details", "check-answers",
        "confirmation", "status", "journeys",
    ]  # fmt: skip
    camera.shots.sort(key=lambda shot: order.index(shot[0]))
    (folder / "README.md").write_text(camera.gallery())
    pictures = sorted(folder.glob("*.png"))
    assert len(pictures) == 2 * len(order)
    total = sum(p.stat().st_size for p in pictures)
    assert total < MAX_BYTES, f"screenshots take {total} bytes; keep them under {MAX_BYTES}"
