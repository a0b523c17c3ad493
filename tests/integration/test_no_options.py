"""A required choice whose partner answers with no options (`options_from.when_none`), with the
partners as real HTTP services on loopback: the customer is told why, types the answer
instead and goes on, in the API and on the page."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from journey_api import Api, field_of, incident

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.sandbox.server import Sandbox
from wayline.sandbox.wiring import demo_options
from wayline.web.app import create_app

NO_REPAIRERS = "We have no approved repairers near you."


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    running = Sandbox().start()
    yield running
    running.stop()


@pytest.fixture
def alex(make_settings: Callable[..., Settings], sandbox: Sandbox) -> Iterator[Api]:
    components: Components = build(
        make_settings(),
        migrate=True,
        partner_urls=sandbox.urls(),
        **demo_options(in_process_sources=False),
    )
    with TestClient(create_app(components)) as http:
        yield Api(http).sign_in("alex")
    components.store.engine.dispose()
    if components.partners:
        components.partners.close()


def test_with_no_repairer_near_the_incident_the_customer_types_one_and_goes_on(alex: Api):
    # No approved repairer covers Shetland (ZE): the network answers, with none.
    journey = alex.start()
    journey = alex.step(journey, "policy", {"policy_number": "MTR-100001"})
    journey = alex.step(journey, "incident", incident("glass", incident_postcode="ZE1 0AA"))
    photos = {"damage_photos": [alex.upload(journey, "damage_photos")]}
    journey = alex.step(journey, "photos", photos)
    repairer = field_of(journey, "repairer_id")
    assert (repairer["type"], repairer["unavailable"]) == ("text", False)
    assert repairer["hint"].startswith(NO_REPAIRERS)
    assert "options" not in repairer
    page = alex.http.get(
        f"/journeys/{journey['id']}/steps/settlement", headers={"accept": "text/html"}
    )
    assert NO_REPAIRERS in page.text and 'name="repairer_id" type="text"' in page.text
    answers = {"settlement": "repairer", "repairer_id": "Lerwick Garage"}
    journey = alex.step(journey, "settlement", answers)
    assert journey["answers"]["repairer_id"] == "Lerwick Garage"
    assert journey["current_step"]["name"] != "settlement"


def test_near_a_covered_postcode_the_repairers_are_offered(alex: Api):
    journey = alex.start()
    journey = alex.step(journey, "policy", {"policy_number": "MTR-100001"})
    journey = alex.step(journey, "incident", incident("glass"))
    photos = {"damage_photos": [alex.upload(journey, "damage_photos")]}
    journey = alex.step(journey, "photos", photos)
    repairer = field_of(journey, "repairer_id")
    assert repairer["type"] == "single_choice" and len(repairer["options"]) == 3
    assert "unavailable" not in repairer
