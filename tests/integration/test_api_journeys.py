"""The motor claim through the JSON API alone, for each demo customer along every branch of the
specification, with the specification's validation messages (issue 2, "Done when")."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from journey_api import (
    DESCRIPTION,
    OTHER_VEHICLE,
    PROBLEM,
    REFERENCE,
    REPAIRER_NAMES,
    Api,
    days_from_today,
    event_trail,
    event_types,
    field_of,
    incident,
    jpeg_bytes,
    pdf_bytes,
    through_incident,
    without_events,
)

from wayline.web.app import create_app


def assert_submitted(
    api: Api, journey: dict, steps: list[str], saved: tuple[str, ...] = ()
) -> None:
    """Sent, with a reference, and the events in order (drafts saved of `saved` steps are
    left out of the comparison, after checking they are there). The send's answer has no
    event log (docs/api.md): the journey read back has it."""
    assert journey["status"] == "submitted"
    assert re.fullmatch(REFERENCE, journey["reference"]), journey["reference"]
    assert journey["current_step"] is None
    assert journey["submitted_at"] is not None
    assert journey["drafts"] == {}
    assert "events" not in journey
    trail = event_trail(api.journey(journey["id"]))
    assert [step for kind, step in trail if kind == "step.saved"] == list(saved)
    assert [e for e in trail if e[0] != "step.saved"] == [
        ("journey.started", None),
        *[("step.completed", step) for step in steps],
        ("journey.submitted", None),
    ]


def check_answers(api: Api, journey: dict) -> None:
    """The journey waits at check-answers, with the declaration to confirm."""
    assert journey["current_step"]["name"] == "check-answers"
    assert journey["current_step"]["title"] == "Check your answers before sending your claim"
    assert journey["current_step"]["declaration"] == {
        "text": "I confirm the information I have given is true and complete",
        "button": "Send claim",
    }
    assert all(step["status"] == "completed" for step in journey["steps"])


def test_collision_with_injuries_alex(alex: Api) -> None:
    journey = alex.start()
    assert (journey["type"], journey["status"], journey["revision"]) == (
        "motor-claim",
        "in_progress",
        1,
    )
    assert journey["title"] == "Make a car insurance claim"
    assert journey["reference"] is None
    policy = field_of(journey, "policy_number")
    assert policy["label"] == "Which car is the claim for?"
    assert policy["type"] == "single_choice"
    assert policy["required"] is True
    assert policy["options"] == [
        {"value": "MTR-100001", "label": "Ford Focus (2019), AB12 CDE, comprehensive"}
    ]
    # Preselected: Alex has exactly one active policy.
    assert policy["value"] == "MTR-100001"
    assert policy["prefilled"]["source"] == "policies"

    assert alex.refused(journey, "policy", {"policy_number": ""}) == {
        "policy_number": "Select the car the claim is for"
    }
    assert alex.refused(journey, "policy", {"policy_number": "MTR-100003"}) == {
        "policy_number": "Select the car the claim is for"
    }
    journey = alex.step(journey, "policy", {"policy_number": "MTR-100001"})
    assert journey["current_step"]["name"] == "incident"

    journey = alex.step(journey, "incident", incident("collision_vehicle"))
    assert journey["answers"]["incident_postcode"] == "SW1A 1AA"
    assert journey["current_step"]["name"] == "other-vehicle"
    assert [s["name"] for s in journey["steps"]] == [
        "policy",
        "incident",
        "other-vehicle",
        "photos",
        "settlement",
    ]

    assert alex.refused(
        journey,
        "other-vehicle",
        {**OTHER_VEHICLE, "other_registration": "not a plate", "injuries": None},
    ) == {
        "other_registration": "Enter a real registration number, like AB12 CDE",
        "injuries": "Select yes if anyone was injured",
    }
    assert alex.refused(journey, "other-vehicle", {"injuries": False}) == {
        "other_driver_name": "Enter the other driver's name",
        "other_registration": "Enter the other vehicle's registration",
    }
    journey = alex.step(journey, "other-vehicle", {**OTHER_VEHICLE, "injuries": True})
    assert journey["answers"]["other_registration"] == "XY21 ZZZ"
    assert journey["current_step"]["name"] == "injuries"

    assert alex.refused(journey, "injuries", {"injured_count": 0}) == {
        "injured_count": "How many people were injured must be 1 or more",
        "injury_description": "Describe the injuries",
    }
    assert alex.refused(
        journey, "injuries", {"injured_count": 21, "injury_description": "Whiplash"}
    ) == {"injured_count": "How many people were injured must be 20 or fewer"}
    assert alex.refused(
        journey, "injuries", {"injured_count": "two", "injury_description": "Whiplash"}
    ) == {"injured_count": "How many people were injured must be a whole number, like 2"}
    journey = alex.step(
        journey, "injuries", {"injured_count": 2, "injury_description": "Whiplash, both drivers"}
    )
    assert journey["current_step"]["name"] == "photos"

    photos = field_of(journey, "damage_photos")
    assert photos["required"] is True
    assert set(photos["accept"]) >= {"image/jpeg", "image/png", "image/webp"}
    assert alex.refused(journey, "photos", {}) == {
        "damage_photos": "Upload at least one photo of the damage"
    }
    assert alex.refused(journey, "photos", {"damage_photos": ["not-an-uploaded-document"]}) == {
        "damage_photos": "Photos of the damage: a file in the list was not uploaded for this "
        "question"
    }
    first, second = alex.upload(journey, "damage_photos"), alex.upload(journey, "damage_photos")
    journey = alex.step(journey, "photos", {"damage_photos": [first, second]})
    assert journey["answers"]["damage_photos"] == [first, second]

    repairers = field_of(journey, "repairer_id")["options"]
    journey = alex.step(
        journey, "settlement", {"settlement": "repairer", "repairer_id": repairers[0]["value"]}
    )
    check_answers(alex, journey)
    journey = alex.submit(journey)
    assert_submitted(
        alex, journey, ["policy", "incident", "other-vehicle", "injuries", "photos", "settlement"]
    )
    assert journey["answers"]["injured_count"] == 2
    assert without_events(alex.journey(journey["id"])) == journey


def test_theft_with_police_reference_sam(sam: Api) -> None:
    journey = sam.start()
    policy = field_of(journey, "policy_number")
    assert [o["value"] for o in policy["options"]] == ["MTR-100002", "MTR-100003"]
    assert policy["options"][1]["label"] == "Vauxhall Corsa (2015), EF56 GHI, third party only"
    assert policy["value"] == "MTR-100002"  # one active policy, one lapsed
    journey = sam.step(journey, "policy", {"policy_number": "MTR-100002"})

    # A draft of the type shows that "Can the car be driven safely?" is not asked for theft.
    assert field_of(journey, "driveable")["applies"] is True
    journey = sam.draft(journey, "incident", {"incident_type": "theft"})
    assert field_of(journey, "driveable")["applies"] is False

    assert sam.refused(
        journey, "incident", incident("theft", incident_date=days_from_today(2))
    ) == {"incident_date": "Date of the incident must be today or in the past"}
    assert sam.refused(
        journey,
        "incident",
        {
            "incident_date": "",
            "incident_type": "",
            "incident_postcode": "",
            "description": "",
            "incident_time": "25:61",
        },
    ) == {
        "incident_date": "Enter the date of the incident",
        "incident_time": "Enter the time in hours and minutes, like 14:30",
        "incident_type": "Select the type of incident",
        "incident_postcode": "Enter the postcode where it happened",
        "description": "Tell us what happened",
        "driveable": "Select yes if the car can be driven safely",
    }
    assert sam.refused(
        journey,
        "incident",
        incident(
            "theft", incident_postcode="XYZ", description="Stolen.", incident_date="2026-02-30"
        ),
    ) == {
        "incident_date": "Date of the incident must be a real date",
        "incident_postcode": "Enter a real postcode, like SW1A 1AA",
        "description": "What happened must be 20 characters or more",
    }
    assert sam.refused(journey, "incident", incident("theft", description="x" * 2001)) == {
        "description": "What happened must be 2,000 characters or fewer"
    }
    journey = sam.step(journey, "incident", incident("theft", incident_date=days_from_today(0)))
    assert "driveable" not in journey["answers"]
    assert journey["current_step"]["name"] == "police"
    assert [s["name"] for s in journey["steps"]] == ["policy", "incident", "police", "photos"]

    assert sam.refused(journey, "police", {}) == {
        "crime_reference": "Enter the police crime reference number"
    }
    assert sam.refused(journey, "police", {"crime_reference": "AB 1"}) == {
        "crime_reference": "Crime reference must be 6 to 20 letters, numbers, slashes or hyphens"
    }
    journey = sam.step(journey, "police", {"crime_reference": "MPS/24-001234"})

    # No photos needed for theft.
    assert field_of(journey, "damage_photos")["required"] is False
    journey = sam.step(journey, "photos", {"damage_photos": []})
    check_answers(sam, journey)
    journey = sam.submit(journey)
    assert_submitted(sam, journey, ["policy", "incident", "police", "photos"], saved=("incident",))
    assert journey["answers"]["crime_reference"] == "MPS/24-001234"
    assert "settlement" not in journey["answers"]


def _through_photos(api: Api, incident_type: str = "glass", **overrides: object) -> dict:
    journey = through_incident(api, incident_type, **overrides)
    photo = api.upload(journey, "damage_photos", jpeg_bytes(), "windscreen.jpg")
    journey = api.step(journey, "photos", {"damage_photos": [photo]})
    assert journey["current_step"]["name"] == "settlement"
    return journey


def _cash_settlement(api: Api, journey: dict) -> dict:
    assert api.refused(journey, "settlement", {}) == {
        "settlement": "Select how you would like to settle your claim"
    }
    assert api.refused(journey, "settlement", {"settlement": "cash"}) == {
        "estimate_amount": "Enter the repair estimate",
        "estimate_document": "Upload the garage's estimate",
    }
    estimate = api.upload(journey, "estimate_document", pdf_bytes(), "estimate.pdf")
    for amount, message in [
        ("abc", "Repair estimate must be an amount of money, like 850 or 850.50"),
        ("12.345", "Repair estimate must be an amount of money, like 850 or 850.50"),
        ("0.50", "Repair estimate must be £1 or more"),
        ("100000.01", "Repair estimate must be £100,000 or less"),
    ]:
        answers = {"settlement": "cash", "estimate_amount": amount, "estimate_document": [estimate]}
        assert api.refused(journey, "settlement", answers) == {"estimate_amount": message}
    journey = api.step(
        journey,
        "settlement",
        {"settlement": "cash", "estimate_amount": "450.5", "estimate_document": [estimate]},
    )
    assert journey["answers"]["estimate_amount"] == "450.50"
    assert journey["current_step"]["name"] == "payment-details"
    return journey


def test_glass_cash_settlement_to_prefilled_account_alex(alex: Api) -> None:
    journey = _cash_settlement(alex, _through_photos(alex, "glass"))
    payout = field_of(journey, "payout_account")
    assert payout["applies"] is True
    assert payout["value"] == "acc-alex-9911"
    assert payout["prefilled"]["source"] == "customer"
    assert payout["options"] == [
        {"value": "acc-alex-9911", "label": "Everyday account ending 9911"},
        {"value": "different", "label": "A different account"},
    ]
    assert field_of(journey, "sort_code")["applies"] is False
    journey = alex.step(journey, "payment-details", {"payout_account": "acc-alex-9911"})
    check_answers(alex, journey)
    journey = alex.submit(journey)
    assert_submitted(
        alex, journey, ["policy", "incident", "photos", "settlement", "payment-details"]
    )
    assert journey["answers"]["payout_account"] == "acc-alex-9911"
    assert "sort_code" not in journey["answers"]


def test_glass_cash_settlement_to_another_account_sam(sam: Api) -> None:
    sam.sign_in("sam", method="one_time_code")  # new payee details ask for it (step-up)
    journey = _cash_settlement(sam, _through_photos(sam, "glass"))
    assert field_of(journey, "payout_account")["applies"] is False  # Sam does not bank with us
    assert all(
        field_of(journey, name)["applies"]
        for name in ("account_holder", "sort_code", "account_number")
    )
    assert sam.refused(journey, "payment-details", {}) == {
        "account_holder": "Enter the name on the account",
        "sort_code": "Enter a sort code",
        "account_number": "Enter an account number",
    }
    assert sam.refused(
        journey,
        "payment-details",
        {"account_holder": "Sam Patel", "sort_code": "12-34", "account_number": "1234"},
    ) == {
        "sort_code": "Enter a valid sort code, like 30-94-57",
        "account_number": "Enter a valid account number, like 00733445",
    }
    journey = sam.step(
        journey,
        "payment-details",
        {"account_holder": "Sam Patel", "sort_code": "309457", "account_number": "00733445"},
    )
    assert journey["answers"]["sort_code"] == "30-94-57"
    check_answers(sam, journey)
    journey = sam.submit(journey)
    assert_submitted(
        sam, journey, ["policy", "incident", "photos", "settlement", "payment-details"]
    )


def test_alex_may_choose_a_different_account(alex: Api) -> None:
    alex.sign_in("alex", method="one_time_code")  # new payee details ask for it (step-up)
    journey = _cash_settlement(alex, _through_photos(alex, "weather"))
    journey = alex.draft(journey, "payment-details", {"payout_account": "different"})
    assert field_of(journey, "account_holder")["applies"] is True
    assert alex.refused(journey, "payment-details", {"payout_account": "different"}) == {
        "account_holder": "Enter the name on the account",
        "sort_code": "Enter a sort code",
        "account_number": "Enter an account number",
    }
    journey = alex.step(
        journey,
        "payment-details",
        {
            "payout_account": "different",
            "account_holder": "Alex Morgan",
            "sort_code": "30 94 57",
            "account_number": "00733445",
        },
    )
    assert alex.submit(journey)["status"] == "submitted"


def test_repairer_settlement_jordan(jordan: Api) -> None:
    journey = _through_photos(jordan, "collision_object", incident_postcode="m1 1ae")
    assert journey["answers"]["incident_postcode"] == "M1 1AE"
    repairer = field_of(journey, "repairer_id")
    assert repairer["applies"] is False  # until the customer picks "repairer"
    options = repairer["options"]
    assert {o["label"] for o in options} == REPAIRER_NAMES
    for option in options:
        assert re.fullmatch(
            r"\d+(\.\d)? miles away, next available \d{4}-\d{2}-\d{2}", option["hint"]
        ), option
    assert field_of(journey, "settlement")["options"] == [
        {"value": "repairer", "label": "Use one of our approved repairers"},
        {"value": "cash", "label": "Get a cash settlement"},
    ]

    # The list is the repairer network's near the incident postcode: another postcode differs.
    other = _through_photos(jordan, "fire", incident_postcode="EH1 1YZ")
    other_ids = {o["value"] for o in field_of(other, "repairer_id")["options"]}
    assert other_ids.isdisjoint({o["value"] for o in options})

    assert jordan.refused(journey, "settlement", {"settlement": "repairer"}) == {
        "repairer_id": "Choose a repairer"
    }
    assert jordan.refused(
        journey, "settlement", {"settlement": "repairer", "repairer_id": "rep-9-nowhere"}
    ) == {"repairer_id": "Choose a repairer"}
    chosen = options[1]["value"]
    journey = jordan.step(journey, "settlement", {"settlement": "repairer", "repairer_id": chosen})
    assert journey["answers"]["repairer_id"] == chosen
    assert "payment-details" not in [s["name"] for s in journey["steps"]]
    check_answers(jordan, journey)
    journey = jordan.submit(journey)
    assert_submitted(jordan, journey, ["policy", "incident", "photos", "settlement"])


def test_declaration_must_be_confirmed(alex: Api) -> None:
    # Vandalism asks for the police reference, and then for photos and settlement.
    journey = through_incident(alex, "vandalism")
    assert journey["current_step"]["name"] == "police"
    journey = alex.step(journey, "police", {"crime_reference": "CRIME-2024-77"})
    photo = alex.upload(journey, "damage_photos")
    journey = alex.step(journey, "photos", {"damage_photos": [photo]})
    options = field_of(journey, "repairer_id")["options"]
    journey = alex.step(
        journey, "settlement", {"settlement": "repairer", "repairer_id": options[0]["value"]}
    )
    response = alex.post_submit(journey["id"], journey["revision"], False)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["errors"] == [
        {
            "field": "declaration",
            "message": "Confirm that the information you have given is true and complete",
        }
    ]
    after = alex.journey(journey["id"])
    assert (after["status"], after["revision"], after["reference"]) == (
        "in_progress",
        journey["revision"],
        None,
    )
    submitted = alex.submit(after)
    assert submitted["status"] == "submitted"
    # Sent once: a second send is refused and changes nothing.
    again = alex.post_submit(submitted["id"], submitted["revision"], True)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith(PROBLEM)
    assert alex.journey(submitted["id"])["reference"] == submitted["reference"]
    # Nor can a step of a sent journey be changed.
    changed = alex.post_step(submitted["id"], "incident", incident(), submitted["revision"])
    assert changed.status_code == 409


def test_submit_before_every_step_is_answered_is_refused(alex: Api) -> None:
    journey = through_incident(alex, "glass")
    response = alex.post_submit(journey["id"], journey["revision"], True)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["errors"] == [
        {"field": "photos", "message": "Complete 'Photos of the damage' before sending"}
    ]
    assert alex.journey(journey["id"])["status"] == "in_progress"


def test_going_back_changes_the_branch_and_drops_answers(alex: Api) -> None:
    journey = through_incident(alex, "collision_vehicle")
    journey = alex.step(journey, "other-vehicle", OTHER_VEHICLE)
    photo = alex.upload(journey, "damage_photos")
    journey = alex.step(journey, "photos", {"damage_photos": [photo]})
    journey = _cash_settlement(alex, journey)
    assert journey["answers"]["other_driver_name"] == "Pat Jones"
    journey = alex.step(journey, "payment-details", {"payout_account": "acc-alex-9911"})
    check_answers(alex, journey)

    # Change the incident to a theft: the other vehicle, settlement and payment details no
    # longer apply and lose their answers; the police step is newly asked.
    journey = alex.step(journey, "incident", incident("theft"))
    for gone in (
        "driveable",
        "other_driver_name",
        "other_registration",
        "other_insurer",
        "injuries",
        "settlement",
        "estimate_amount",
        "estimate_document",
        "payout_account",
    ):
        assert gone not in journey["answers"], gone
    assert journey["answers"]["incident_type"] == "theft"
    assert journey["answers"]["damage_photos"]  # photos still apply (optional for theft)
    assert [s["name"] for s in journey["steps"]] == ["policy", "incident", "police", "photos"]
    assert journey["current_step"]["name"] == "police"
    assert event_trail(alex.journey(journey["id"]))[-1] == ("answer.changed", "incident")

    # Sending now is refused: the police step has not been answered.
    response = alex.post_submit(journey["id"], journey["revision"], True)
    assert response.status_code == 409

    journey = alex.step(journey, "police", {"crime_reference": "MPS/24-009999"})
    check_answers(alex, journey)

    # And back again to glass: police goes, settlement comes back, unanswered.
    journey = alex.step(journey, "incident", incident("glass"))
    assert "crime_reference" not in journey["answers"]
    assert journey["current_step"]["name"] == "settlement"
    assert field_of(journey, "settlement")["value"] is None
    repairer = field_of(journey, "repairer_id")["options"][0]["value"]
    journey = alex.step(journey, "settlement", {"settlement": "repairer", "repairer_id": repairer})
    journey = alex.submit(journey)
    assert journey["status"] == "submitted"
    types = event_types(alex.journey(journey["id"]))
    assert types[0] == "journey.started" and types[-1] == "journey.submitted"
    assert types.count("answer.changed") == 2


def test_drafts_keep_invalid_values_and_survive_a_restart(
    alex: Api, make_components, sign_in
) -> None:
    journey = alex.step(alex.start(), "policy", {"policy_number": "MTR-100001"})
    draft = {"incident_date": "31/02/2026", "incident_postcode": "nowhere", "description": "Hit"}
    journey = alex.draft(journey, "incident", draft)
    assert journey["revision"] == 3
    assert journey["drafts"] == {"incident": draft}
    assert journey["current_step"]["name"] == "incident"
    assert field_of(journey, "incident_date")["value"] == "31/02/2026"
    assert event_trail(alex.journey(journey["id"]))[-1] == ("step.saved", "incident")
    # A second draft adds to the first.
    journey = alex.draft(journey, "incident", {"incident_type": "glass"})
    assert journey["drafts"]["incident"] == {**draft, "incident_type": "glass"}

    # A new process over the same database (a restart) sees the same drafts.
    restarted = sign_in("alex", app=create_app(make_components()))
    again = restarted.journey(journey["id"])
    assert again["drafts"] == journey["drafts"]
    assert again["answers"] == journey["answers"]
    assert again["revision"] == journey["revision"]

    # Submitting the step checks the draft merged with what is sent; fixing it clears the draft.
    assert restarted.refused(again, "incident", {}) == {
        "incident_date": "Date of the incident must be a real date",
        "incident_postcode": "Enter a real postcode, like SW1A 1AA",
        "description": "What happened must be 20 characters or more",
        "driveable": "Select yes if the car can be driven safely",
    }
    journey = restarted.step(
        again,
        "incident",
        {
            "incident_date": days_from_today(-1),
            "incident_postcode": "SW1A 1AA",
            "description": DESCRIPTION,
            "driveable": False,
        },
    )
    assert journey["drafts"] == {}
    assert journey["answers"]["incident_type"] == "glass"


def test_customers_see_only_their_own_journeys(alex: Api, sam: Api, client: TestClient) -> None:
    mine = [alex.start()["id"], alex.start()["id"]]
    theirs = sam.start()
    listed = alex.list()
    assert sorted(j["id"] for j in listed) == sorted(mine)
    assert {j["type"] for j in listed} == {"motor-claim"}
    assert {j["status"] for j in listed} == {"in_progress"}
    assert [j["id"] for j in sam.list()] == [theirs["id"]]

    # Sam's journey does not exist as far as Alex can tell: 404 for every verb, nothing changes.
    journey_id = theirs["id"]
    responses = [
        alex.get_journey(journey_id),
        alex.patch_step(journey_id, "policy", {"policy_number": "MTR-100001"}, 1),
        alex.post_step(journey_id, "policy", {"policy_number": "MTR-100001"}, 1),
        alex.post_submit(journey_id, 1, True),
        alex.post_document(journey_id, "damage_photos", jpeg_bytes(), "x.jpg"),
    ]
    for response in responses:
        assert response.status_code == 404, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["detail"] == f"There is no journey '{journey_id}'"
    # As it was (its event log aside: a command's answer has none, GET has it).
    assert without_events(sam.journey(journey_id)) == theirs

    # Nobody signed in: 401, as problem+json.
    for response in [
        client.get("/api/v1/journeys"),
        client.post("/api/v1/journeys", json={"type": "motor-claim"}),
        client.get(f"/api/v1/journeys/{journey_id}"),
        client.post(
            f"/api/v1/journeys/{journey_id}/steps/policy",
            json={"answers": {}, "revision": 1},
        ),
        client.post(
            f"/api/v1/journeys/{journey_id}/submit", json={"revision": 1, "declaration": True}
        ),
    ]:
        assert response.status_code == 401, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
    # A forged cookie is nobody too.
    client.cookies.set("wayline_session", "eyJjdXN0b21lciI6ImFsZXgifQ.forged.signature")
    assert client.get("/api/v1/journeys").status_code == 401
    assert sam.journey(journey_id)["revision"] == 1


def test_demo_sign_in(client: TestClient, make_components) -> None:
    response = client.post("/auth/demo", json={"customer": "nobody"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    # Outside demo mode the route does not exist.
    with TestClient(create_app(make_components(demo=False))) as plain:
        response = plain.post("/auth/demo", json={"customer": "alex"})
        assert response.status_code in (404, 405)
        assert response.headers["content-type"].startswith(PROBLEM)


def test_journey_types(client: TestClient) -> None:
    response = client.get("/api/v1/journey-types")
    assert response.status_code == 200
    types = {t["type"]: t for t in response.json()}
    motor = types["motor-claim"]
    assert motor["title"] == "Make a car insurance claim"
    assert re.fullmatch(r"[0-9a-f]{12}", motor["version"])


def test_openapi_describes_the_api(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        "/api/v1/journey-types": {"get"},
        "/api/v1/journeys": {"get", "post"},
        "/api/v1/journeys/{journey_id}": {"get"},
        "/api/v1/journeys/{journey_id}/steps/{step}": {"patch", "post"},
        "/api/v1/journeys/{journey_id}/submit": {"post"},
        "/api/v1/journeys/{journey_id}/documents": {"post"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    step = paths["/api/v1/journeys/{journey_id}/steps/{step}"]["post"]
    assert "application/problem+json" in step["responses"]["409"]["content"]
