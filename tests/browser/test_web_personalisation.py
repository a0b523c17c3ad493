"""The motor claim's photo-guidance experiment in Chromium: claims are started until one
lands in each arm (by its id, half and half; the customer's pages never say which, so the arm
expected is worked out from the definition by the documented rule). The `examples` arm's photo
page shows "The photos that help us most" (the step's hint unchanged) and passes axe-core, in
its error state too; the control arm's photo page is as declared."""

from __future__ import annotations

from pathlib import Path

import yaml
from browser_journey import api_view, check_page, fill_incident, press, sign_in, start_claim
from playwright.sync_api import BrowserContext, Page, expect

from wayline.journeys import personalise
from wayline.journeys.schema import ExperimentSpec

MOTOR_CLAIM = Path(__file__).resolve().parents[2] / "journeys" / "motor-claim.yaml"

INSET = "The photos that help us most"
DECLARED_HINT = "Upload up to 10 photos. Show the whole car and close-ups of the damage."
EXAMPLES_WORDS = "Three photos are usually enough."
TRIES = 12  # the chance that 12 claims all fall in one arm is 2^-11


def photo_guidance() -> ExperimentSpec:
    declared = yaml.safe_load(MOTOR_CLAIM.read_text())["personalisation"]["experiments"]
    return ExperimentSpec.model_validate(next(e for e in declared if e["name"] == "photo-guidance"))


def to_photos(page: Page) -> str:
    """A new claim, through its policy and incident pages to the photo page; its id."""
    claim = start_claim(page)
    press(page)
    fill_incident(page, "collision_object", description="I hit a deer on a country lane.")
    press(page)
    expect(page.locator("h1")).to_have_text("Photos of the damage")
    return claim


def test_the_examples_arm_s_photo_page_shows_the_guidance_and_passes_axe(
    context: BrowserContext, page: Page
) -> None:
    sign_in(page, "alex")
    inset = page.locator("main .inset-text", has_text=INSET)
    hint = page.locator("main .hint").first
    experiment = photo_guidance()
    seen: set[str] = set()
    for _ in range(TRIES):
        claim = to_photos(page)
        arm = personalise.arm_for(experiment, claim)  # assigned by the claim's id
        events = {event["type"] for event in api_view(context, claim)["events"]}
        assert "experiment.assigned" not in events  # never shown to the customer
        if arm == "examples":
            expect(inset).to_contain_text("with the number plate showing")
            expect(inset).to_contain_text("One of the mileage on the dashboard")
            expect(inset).to_contain_text(EXAMPLES_WORDS)
            expect(hint).to_have_text(DECLARED_HINT)  # the variant keeps the step's hint
            check_page(page)  # axe-core, one h1, the title
            press(page)  # no photo: the error state keeps the guidance
            expect(page.locator(".error-summary")).to_contain_text(
                "Upload at least one photo of the damage"
            )
            expect(inset).to_have_count(1)
            check_page(page)
        else:
            assert arm == "control"
            expect(inset).to_have_count(0)
            expect(hint).to_have_text(DECLARED_HINT)
            expect(page.locator("main")).not_to_contain_text(EXAMPLES_WORDS)
            check_page(page)
        seen.add(arm)
        if seen == {"control", "examples"}:
            return
    raise AssertionError(f"{TRIES} claims, all in the arm {sorted(seen)}")
