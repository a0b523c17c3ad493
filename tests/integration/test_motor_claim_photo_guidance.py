"""The motor claim's photo-guidance experiment through the API, on SQLite and PostgreSQL: each
claim is assigned an arm by its id, half and half (an `experiment.assigned` event in the
journey's event log, by the deterministic rule of docs/personalisation.md, never in the
customer's own view of the journey); the `examples` arm's photo step adds "The photos that help
us most", the control arm's is as declared. Claims are started until there
is one in each arm."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from journey_api import ACTIVE_POLICY, Api, incident

from wayline.bootstrap import Components
from wayline.journeys import personalise
from wayline.store import events as event_log

EXPERIMENT = "photo-guidance"
INSET = "The photos that help us most"
DECLARED_HINT = "Upload up to 10 photos. Show the whole car and close-ups of the damage."
EXAMPLES_WORDS = "Three photos are usually enough."
TRIES = 40  # the chance that 40 claims all fall in one arm is 2^-39


def assigned(components: Components, journey_id: str) -> list[dict[str, Any]]:
    with components.store.read() as connection:
        stored = event_log.of(connection, journey_id)
    return [
        {k: v for k, v in event["data"].items() if k != "next"}
        for event in stored
        if event["type"] == "experiment.assigned"
    ]


def one_in_each_arm(api: Api, components: Components) -> dict[str, str]:
    """{arm: journey id}: claims started until both arms have one."""
    arms: dict[str, str] = {}
    for _ in range(TRIES):
        journey = api.start("motor-claim")
        [event] = assigned(components, journey["id"])
        arms.setdefault(event["arm"], journey["id"])
        if len(arms) == 2:
            return arms
    raise AssertionError(f"{TRIES} claims, all in the arm {list(arms)}")


def to_photos(api: Api, journey_id: str) -> dict[str, Any]:
    journey = api.journey(journey_id)
    journey = api.step(journey, "policy", {"policy_number": ACTIVE_POLICY[api.customer or ""]})
    journey = api.step(journey, "incident", incident("collision_object"))
    assert journey["current_step"]["name"] == "photos", journey["current_step"]
    return journey


def test_each_arm_of_photo_guidance_shows_its_photo_step(
    sign_in: Callable[..., Api], components: Components
) -> None:
    alex = sign_in("alex")
    arms = one_in_each_arm(alex, components)
    assert set(arms) == {"control", "examples"}
    spec = next(
        e
        for e in personalise.experiments(components.catalog.get("motor-claim"))
        if e.name == EXPERIMENT
    )
    for arm, journey_id in arms.items():
        variant = "photo-examples" if arm == "examples" else None
        expected = {"experiment": EXPERIMENT, "arm": arm, "variant": variant, "by": "journey"}
        assert assigned(components, journey_id) == [expected]
        assert personalise.arm_for(spec, journey_id) == arm  # by the journey's id
        told = {event["type"] for event in alex.journey(journey_id)["events"]}
        assert "experiment.assigned" not in told  # for staff and insight, not the customer

    examples = to_photos(alex, arms["examples"])["current_step"]
    assert examples["hint"] == DECLARED_HINT  # the variant adds guidance, it keeps the hint
    [inset] = [block for block in examples["content"] if block.get("title") == INSET]
    assert inset["type"] == "inset"
    assert "with the number plate showing" in inset["text"]
    assert "the mileage on the dashboard" in inset["text"]
    assert EXAMPLES_WORDS in inset["text"]

    control = to_photos(alex, arms["control"])["current_step"]
    assert control["hint"] == DECLARED_HINT
    assert INSET not in [block.get("title") for block in control["content"]]
    assert "number plate showing" not in str(control) and EXAMPLES_WORDS not in str(control)

    # The arm is kept for the journey's life: read again, each photo step is as it was, and
    # going on assigns nothing new.
    again = {arm: alex.journey(journey_id)["current_step"] for arm, journey_id in arms.items()}
    assert INSET in [block.get("title") for block in again["examples"]["content"]]
    assert INSET not in [block.get("title") for block in again["control"]["content"]]
    for arm, journey_id in arms.items():
        assert [event["arm"] for event in assigned(components, journey_id)] == [arm]
