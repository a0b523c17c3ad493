"""Step-up on a journey's step, on SQLite and PostgreSQL: the submit-step command refuses new
payee details for a sign-in below level 2 or older than five minutes, before it writes anything;
the API answers that with RFC 9470's challenge; and the journey's view says which steps ask."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from journey_api import PROBLEM, Api, jpeg_bytes, pdf_bytes, through_incident

from wayline.bootstrap import Components
from wayline.errors import StepUpRequired
from wayline.runtime.commands import Proof
from wayline.web.app import create_app

PAYMENT = "payment-details"
NEW_PAYEE = {
    "payout_account": "different",
    "account_holder": "Alex Morgan",
    "sort_code": "309457",
    "account_number": "00733445",
}
HELD_ACCOUNT = {"payout_account": "acc-alex-9911"}
CHALLENGE = (
    'Bearer error="insufficient_user_authentication", '
    'error_description="A stronger or more recent sign-in is needed", '
    'acr_values="urn:wayline:loa:2", max_age=300'
)


def at_payment(api: Api) -> dict[str, Any]:
    """A glass claim settled in cash, at the payment details."""
    journey = through_incident(api, "glass")
    photo = api.upload(journey, "damage_photos", jpeg_bytes(), "windscreen.jpg")
    journey = api.step(journey, "photos", {"damage_photos": [photo]})
    estimate = api.upload(journey, "estimate_document", pdf_bytes(), "estimate.pdf")
    answers = {"settlement": "cash", "estimate_amount": "450", "estimate_document": [estimate]}
    journey = api.step(journey, "settlement", answers)
    assert journey["current_step"]["name"] == PAYMENT
    return journey


def stored(components: Components, customer: str, journey_id: str) -> dict[str, Any]:
    """The journey as the store holds it now, with its event log."""
    return components.queries.journey_view(customer, journey_id)


def now() -> datetime:
    return datetime.now(UTC)


# --- the command ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proof", "why"),
    [
        (lambda: Proof(1, now()), "a password only"),
        (lambda: Proof(2, now() - timedelta(minutes=5, seconds=30)), "a second factor too old"),
        (lambda: Proof(0, now()), "no proof at all"),
    ],
)
def test_the_command_refuses_new_payee_details_and_writes_nothing(
    components: Components, alex: Api, proof: Any, why: str
) -> None:
    journey = at_payment(alex)
    before = stored(components, "alex", journey["id"])
    with pytest.raises(StepUpRequired) as refused:
        components.commands.submit_step(
            "alex", journey["id"], PAYMENT, NEW_PAYEE, journey["revision"], proof=proof()
        )
    assert (refused.value.level, refused.value.within) == (2, timedelta(minutes=5)), why
    after = stored(components, "alex", journey["id"])
    assert after == before  # revision, answers, drafts, events: all as they were
    assert after["revision"] == journey["revision"]
    assert "sort_code" not in after["answers"]


def test_the_command_refuses_an_empty_submission_of_a_drafted_new_payee(
    components: Components, alex: Api
) -> None:
    journey = alex.draft(at_payment(alex), PAYMENT, NEW_PAYEE)  # a draft needs no step-up
    with pytest.raises(StepUpRequired):
        components.commands.submit_step(
            "alex", journey["id"], PAYMENT, {}, journey["revision"], proof=Proof(1, now())
        )
    assert stored(components, "alex", journey["id"])["revision"] == journey["revision"]


def test_the_command_takes_new_payee_details_at_level_2_fresh(
    components: Components, alex: Api
) -> None:
    journey = at_payment(alex)
    proof = Proof(2, now() - timedelta(minutes=4))
    changed = components.commands.submit_step(
        "alex", journey["id"], PAYMENT, NEW_PAYEE, journey["revision"], proof=proof
    )
    assert changed.revision == journey["revision"] + 1
    after = stored(components, "alex", journey["id"])
    assert after["answers"]["sort_code"] == "30-94-57"
    assert after["current_step"]["name"] == "check-answers"


def test_the_account_we_hold_needs_no_step_up(components: Components, alex: Api) -> None:
    journey = at_payment(alex)
    changed = components.commands.submit_step(
        "alex", journey["id"], PAYMENT, HELD_ACCOUNT, journey["revision"], proof=Proof(1, now())
    )
    assert changed.state.answers["payout_account"] == "acc-alex-9911"


def test_changing_to_new_payee_from_check_answers_asks_again(
    components: Components, alex: Api
) -> None:
    journey = alex.step(at_payment(alex), PAYMENT, HELD_ACCOUNT)
    assert journey["current_step"]["name"] == "check-answers"
    with pytest.raises(StepUpRequired):
        components.commands.submit_step(
            "alex", journey["id"], PAYMENT, NEW_PAYEE, journey["revision"], proof=Proof(1, now())
        )
    after = stored(components, "alex", journey["id"])
    assert after["answers"]["payout_account"] == "acc-alex-9911"
    assert after["revision"] == journey["revision"]


# --- the API ----------------------------------------------------------------------------------


def test_the_api_answers_rfc_9470_and_then_takes_it_after_a_stronger_sign_in(alex: Api) -> None:
    journey = at_payment(alex)
    response = alex.post_step(journey["id"], PAYMENT, NEW_PAYEE, journey["revision"])
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == CHALLENGE
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["acr_values"] == "urn:wayline:loa:2"
    assert body["max_age"] == 300
    assert "Confirm it's you" in body["detail"]
    unchanged = alex.journey(journey["id"])
    assert unchanged["revision"] == journey["revision"]
    assert unchanged["answers"] == journey["answers"]

    alex.sign_in("alex", method="one_time_code")
    done = alex.step(journey, PAYMENT, NEW_PAYEE)
    assert done["answers"]["account_number"] == "00733445"


def test_the_journey_view_says_which_steps_ask_for_step_up(alex: Api) -> None:
    journey = at_payment(alex)
    expected = {"level": 2, "max_age": 300, "conditional": True}
    assert journey["current_step"]["step_up"] == expected
    listed = {step["name"]: step.get("step_up") for step in journey["steps"]}
    assert listed[PAYMENT] == expected
    assert listed["policy"] is None and listed["settlement"] is None
    assert alex.journey(journey["id"])["current_step"]["step_up"] == expected


def test_a_draft_through_the_api_needs_no_step_up(alex: Api) -> None:
    journey = alex.draft(at_payment(alex), PAYMENT, NEW_PAYEE)
    assert journey["drafts"][PAYMENT]["sort_code"] == "309457"
    assert "sort_code" not in journey["answers"]


def test_an_idempotent_retry_after_the_step_up_is_carried_out(alex: Api) -> None:
    """A refused request records nothing under its key: the same key works once stepped up."""
    journey = at_payment(alex)
    key = {"Idempotency-Key": "payee-1"}
    first = alex.post_step(journey["id"], PAYMENT, NEW_PAYEE, journey["revision"], headers=key)
    assert first.status_code == 401
    alex.sign_in("alex", method="one_time_code")
    second = alex.post_step(journey["id"], PAYMENT, NEW_PAYEE, journey["revision"], headers=key)
    assert second.status_code == 200, second.text
    assert "Idempotent-Replayed" not in second.headers


# --- a step that asks for it whatever the answers: not even shown without it ----------------

ALWAYS = """\
journey: payee
title: Change who we pay
reference_prefix: PAY
steps:
  - name: about
    title: About you
    fields:
      - {name: full_name, type: text, label: Full name, classification: personal,
         required: Enter your full name}
  - name: payee
    title: Who should we pay?
    step_up: {level: 2, within: PT10M}
    fields:
      - {name: payee_name, type: text, label: Name on the account, classification: personal,
         required: Enter the name on the account}
declaration:
  text: It is all true
"""


@pytest.fixture
def always(make_components: Any, tmp_path: Any) -> Iterator[Api]:
    """Alex, signed in with a password, at the `payee` step of a journey whose step asks for
    level 2 within 10 minutes for any answers."""
    folder = tmp_path / "always"
    (folder / "fragments").mkdir(parents=True)
    (folder / "payee.yaml").write_text(ALWAYS, encoding="utf-8")
    with TestClient(create_app(make_components(journeys_dir=folder))) as http:
        yield Api(http).sign_in("alex")


def test_a_page_that_always_asks_sends_the_browser_through_it_and_back(always: Api) -> None:
    journey = always.step(always.start("payee"), "about", {"full_name": "Alex Morgan"})
    assert journey["current_step"]["step_up"] == {"level": 2, "max_age": 600, "conditional": False}
    page = f"/journeys/{journey['id']}/steps/payee"
    html = {"accept": "text/html"}
    refused = always.http.get(page, headers=html, follow_redirects=False)
    assert refused.status_code == 303
    back = quote(f"{page}?confirmed=1", safe="/")
    assert refused.headers["location"] == f"/sign-in?next={back}&level=2&max_age=600"
    change = always.http.get(f"{page}?change=1", headers=html, follow_redirects=False)
    assert quote("?change=1&confirmed=1", safe="/") in change.headers["location"]
    assert always.post_step(journey["id"], "payee", {"payee_name": "A"}, 2).status_code == 401

    always.sign_in("alex", method="one_time_code")
    shown = always.http.get(f"{page}?confirmed=1", headers=html)
    assert shown.status_code == 200
    assert "You have confirmed it&#39;s you" in shown.text
    plain = always.http.get(page, headers=html)
    assert plain.status_code == 200 and "You have confirmed it" not in plain.text
    assert always.step(journey, "payee", {"payee_name": "Alex Morgan"})["revision"] == 3
