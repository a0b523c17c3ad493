"""Claims through the API and the effect worker, with the partners as real HTTP services on
loopback: prefill from partners, checks, the decision, payouts, notifications and deadlines."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from journey_api import WAYLINE, Api, field_of, incident, png_bytes, server_env
from sqlalchemy import select

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.runtime.clock import FixedClock
from wayline.runtime.worker import retry_dead
from wayline.sandbox.server import Sandbox
from wayline.sandbox.wiring import demo_options
from wayline.store import tables
from wayline.web.app import create_app

BREAKER_RESET = 0.3
ACTIVE = {"alex": "MTR-100001", "sam": "MTR-100002", "jordan": "MTR-100004"}
NEUTRAL = "We need to look at your claim more closely"
FRAUD_REASON = "The fraud bureau holds a risk marker that a claims handler needs to review"
PHOTO_REASON = "A photo shows a sign of fraud that a claims handler needs to review"
# Any of these in what a customer receives would tip them off.
TIPPING_OFF = re.compile(
    r"fraud|\brisk\b|marker|signal|sign of|taken_before|reused|photo_signals", re.IGNORECASE
)
PAYEE_DOWN = "We could not check the account name just now. We will check it before we pay you."
PAYEE_REFERRED = (
    "We could not check the name on the payment account, so a claims handler will check it "
    "before we pay you"
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    running = Sandbox().start()
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def calm(sandbox: Sandbox) -> Iterator[None]:
    """Every test starts and ends with partners that answer at once and never fail."""
    for url in sandbox.urls().values():
        httpx.put(f"{url}/_sandbox/faults", json={})
    yield
    for url in sandbox.urls().values():
        httpx.put(f"{url}/_sandbox/faults", json={})


def faults(sandbox: Sandbox, partner: str, **settings: Any) -> None:
    response = httpx.put(f"{sandbox.urls()[partner]}/_sandbox/faults", json=settings)
    assert response.status_code == 200, response.text


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def system(
    make_settings: Callable[..., Settings], sandbox: Sandbox, clock: FixedClock, tmp_path: Path
) -> Iterator[Components]:
    # Quick retries and a breaker that resets fast, so tests need not wait.
    connectors = tmp_path / "connectors.yaml"
    connectors.write_text(
        yaml.safe_dump(
            {
                "defaults": {
                    "retries": 2,
                    "backoff_base": 0.001,
                    "backoff_max": 0.005,
                    "breaker_failures": 5,
                    "breaker_reset": BREAKER_RESET,
                },
                "partners": {name: {"base_url": url} for name, url in sandbox.urls().items()},
            }
        )
    )
    settings = make_settings(operations_email="ops@example.com", connectors=connectors)
    components = build(
        settings, migrate=True, clock=clock, **demo_options(in_process_sources=False)
    )
    yield components
    components.store.engine.dispose()
    if components.partners:
        components.partners.close()


@pytest.fixture
def customer(system: Components) -> Iterator[Callable[[str], Api]]:
    app = create_app(system)
    opened: list[TestClient] = []

    def make(name: str, method: str = "password") -> Api:
        """`method` "one_time_code" for a customer who gives new payee details (step-up)."""
        http = TestClient(app)
        opened.append(http)
        return Api(http).sign_in(name, method)

    yield make
    for http in opened:
        http.close()


def drain(system: Components, rounds: int = 30) -> None:
    worker = system.worker(base_delay=0.001)
    for _ in range(rounds):
        if worker.run_due() == 0:
            return


def claim(
    api: Api,
    *,
    policy: str | None = None,
    incident_type: str = "glass",
    settlement: str = "cash",
    amount: str = "850",
    payment: dict | None = None,
) -> dict[str, Any]:
    journey = api.start()
    journey = api.step(journey, "policy", {"policy_number": policy or ACTIVE[api.customer]})
    journey = api.step(journey, "incident", incident(incident_type))
    journey = api.step(journey, "photos", {"damage_photos": [api.upload(journey, "damage_photos")]})
    if settlement == "cash":
        estimate = api.upload(journey, "estimate_document", png_bytes())
        journey = api.step(
            journey,
            "settlement",
            {"settlement": "cash", "estimate_amount": amount, "estimate_document": [estimate]},
        )
        if payment is None:
            payment = {"payout_account": field_of(journey, "payout_account")["value"]}
        journey = api.step(journey, "payment-details", payment)
    else:
        repairer = field_of(journey, "repairer_id")["options"][0]["value"]
        journey = api.step(
            journey, "settlement", {"settlement": "repairer", "repairer_id": repairer}
        )
    return api.submit(journey)


def messages_for(sandbox: Sandbox, reference: str) -> list[dict[str, Any]]:
    sent = httpx.get(f"{sandbox.urls()['notification_provider']}/messages").json()
    return [m for m in sent if reference in m["body"] or reference in (m.get("subject") or "")]


def payouts_for(sandbox: Sandbox, reference: str) -> list[dict[str, Any]]:
    paid = httpx.get(f"{sandbox.urls()['payment_provider']}/payouts").json()
    return [p for p in paid if p["reference"] == reference]


def types(journey: dict[str, Any]) -> list[str]:
    return [event["type"] for event in journey["events"]]


def test_alex_glass_cash_claim_is_approved_paid_once_and_told(system, customer, sandbox):
    alex = customer("alex")
    sent = claim(alex, amount="850")
    drain(system)
    journey = alex.journey(sent["id"])
    assert journey["status"] == "decided"
    assert journey["outcome"]["outcome"] == "approved"
    # One at the policy step and four after, of which the customer sees the two on their
    # cover: the fraud bureau's and the photos' are for staff.
    assert types(journey).count("check.completed") == 3
    assert types(journey).count("payment.sent") == 1
    payouts = payouts_for(sandbox, sent["reference"])
    assert [(p["amount_pence"], p["account_ending"]) for p in payouts] == [(85000, "9911")]
    messages = messages_for(sandbox, sent["reference"])
    assert {(m["channel"], m["to"]) for m in messages} == {
        ("email", "alex@example.com"),
        ("sms", "+44 7700 900001"),
    }
    subjects = {m["subject"] for m in messages if m["channel"] == "email"}
    assert subjects == {
        f"We have received your claim {sent['reference']}",
        f"Update on your claim {sent['reference']}",
        f"We have paid your claim {sent['reference']}",
    }
    assert types(journey).count("notification.sent") == 6
    page = httpx.get(f"{sandbox.urls()['notification_provider']}/").text
    assert sent["reference"] in page


def test_jordan_is_referred_for_the_fraud_bureau_marker_and_never_told_of_it(
    system, customer, sandbox
):
    jordan = customer("jordan")
    sent = claim(jordan, settlement="repairer")
    drain(system)
    journey = jordan.journey(sent["id"])
    assert journey["status"] == "in_review"
    assert journey["outcome"]["outcome"] == "referred"
    assert journey["outcome"]["reasons"] == [NEUTRAL]
    assert payouts_for(sandbox, sent["reference"]) == []
    assert "effect.done" not in types(journey)
    # Staff keep the reason, in the state and in the decision event.
    state = system.system.current(sent["id"]).state
    assert state.outcome["reasons"] == [FRAUD_REASON]
    assert state.checks["fraud_bureau"]["passed"] is False
    assert_never_told_of_fraud(jordan, sandbox, sent, "jordan@example.com", "+44 7700 900003")


def test_an_approved_repairer_claim_is_booked_once(system, customer, sandbox):
    alex = customer("alex")
    sent = claim(alex, settlement="repairer")
    drain(system)
    drain(system)
    journey = alex.journey(sent["id"])
    assert journey["outcome"]["outcome"] == "approved"
    assert types(journey).count("effect.done") == 1
    assert journey["effects"]["booking"]["status"] == "done"
    bookings = httpx.get(f"{sandbox.urls()['repairer_network']}/bookings").json()
    assert [b["registration"] for b in bookings if b["reference"] == sent["reference"]] == [
        "AB12 CDE"
    ]


def test_sam_on_the_lapsed_policy_is_not_covered_with_the_reason_shown(system, customer):
    sam = customer("sam", "one_time_code")  # new payee details
    sent = claim(
        sam,
        policy="MTR-100003",
        payment={
            "account_holder": "Sam Patel",
            "sort_code": "40-47-84",
            "account_number": "70872490",
        },
    )
    drain(system)
    journey = sam.journey(sent["id"])
    assert journey["status"] == "decided"
    assert journey["outcome"]["outcome"] == "not_covered"
    assert journey["outcome"]["reasons"] == [
        "Your policy was not active on the date of the incident",
        "Your policy covers damage to other people and their property, not to your own car",
    ]
    page = sam.http.get(f"/journeys/{sent['id']}/status", headers={"accept": "text/html"})
    assert "not covered by your policy" in page.text
    assert "Your policy was not active on the date of the incident" in page.text


def test_a_payee_name_that_does_not_match_is_a_warning_then_a_referral(system, customer):
    sam = customer("sam", "one_time_code")  # new payee details
    journey = sam.start()
    journey = sam.step(journey, "policy", {"policy_number": "MTR-100002"})
    journey = sam.step(journey, "incident", incident("glass"))
    journey = sam.step(journey, "photos", {"damage_photos": [sam.upload(journey, "damage_photos")]})
    estimate = sam.upload(journey, "estimate_document")
    journey = sam.step(
        journey,
        "settlement",
        {"settlement": "cash", "estimate_amount": "400", "estimate_document": [estimate]},
    )
    journey = sam.step(
        journey,
        "payment-details",
        {"account_holder": "Someone Else", "sort_code": "40-47-84", "account_number": "70872490"},
    )
    assert journey["current_step"]["name"] == "check-answers"  # warned, not stopped
    assert journey["checks"]["confirmation_of_payee"]["passed"] is False
    page = sam.http.get(f"/journeys/{journey['id']}/check-answers", headers={"accept": "text/html"})
    assert "does not match the name on that account" in page.text
    sent = sam.submit(journey)
    drain(system)
    decided = sam.journey(sent["id"])
    assert decided["outcome"]["outcome"] == "referred"
    assert (
        "The name given for the payment account did not match the account"
        in (decided["outcome"]["reasons"])
    )


def test_with_the_policy_system_down_the_customer_types_the_policy_number(
    system, customer, sandbox
):
    faults(sandbox, "policy_administration", outage_seconds=60)
    alex = customer("alex")
    journey = alex.start()
    policy = field_of(journey, "policy_number")
    assert policy["type"] == "text"
    assert policy["unavailable"] is True
    assert "cannot show your policies just now" in policy["hint"]
    page = alex.http.get(f"/journeys/{journey['id']}/steps/policy", headers={"accept": "text/html"})
    assert 'type="text"' in page.text and "cannot show your policies" in page.text
    journey = alex.step(journey, "policy", {"policy_number": "MTR-100001"})
    assert journey["answers"]["policy_number"] == "MTR-100001"
    metrics = alex.http.get("/metrics").text
    assert re.search(r'wayline_data_source_failures_total\{source="policies"\} [1-9]', metrics)


def test_a_missed_payout_deadline_is_counted_and_escalated(system, customer, sandbox, clock):
    faults(sandbox, "payment_provider", error_rate=1.0, after_effect_share=0.0)
    alex = customer("alex")
    sent = claim(alex)
    drain(system)
    journey = alex.journey(sent["id"])
    assert journey["outcome"]["outcome"] == "approved"
    assert "payment.sent" not in types(journey)
    clock.advance(timedelta(minutes=16))
    drain(system)
    journey = alex.journey(sent["id"])
    assert "deadline.breached" in types(journey)
    escalations = [
        m
        for m in httpx.get(f"{sandbox.urls()['notification_provider']}/messages").json()
        if m["to"] == "ops@example.com" and sent["reference"] in m["body"]
    ]
    # The operations team finds the claim by its reference, not by an internal id.
    assert len(escalations) == 1
    assert sent["reference"] in escalations[0]["subject"]
    assert sent["id"] not in escalations[0]["body"] + escalations[0]["subject"]
    metrics = alex.http.get("/metrics").text
    assert re.search(
        r'wayline_deadline_breaches_total\{journey="motor-claim",kind="payout"\} '
        r"[1-9]",
        metrics,
    )
    faults(sandbox, "payment_provider")
    clock.advance(timedelta(minutes=5))
    time.sleep(BREAKER_RESET)  # the payment provider's breaker opened: let a trial through
    drain(system)
    assert len(payouts_for(sandbox, sent["reference"])) == 1  # paid late, but paid once
    assert types(alex.journey(sent["id"])).count("payment.sent") == 1


def camera_photo(taken: datetime, seed: int = 1, size: tuple[int, int] = (800, 600)) -> bytes:
    """A photo-like JPEG with a camera's EXIF capture time (Pillow draws, piexif writes)."""
    import io

    import piexif
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, (30, 90, 140))
    draw = ImageDraw.Draw(image)
    for x in range(0, size[0], 4):  # a smooth gradient with broad shapes, like a photo
        draw.rectangle([x, 0, x + 4, size[1]], fill=(x * 255 // size[0], 60 + seed * 20, 120))
    draw.ellipse([200, 150, 600, 450], fill=(240, 200, 40))
    draw.rectangle([50 + seed * 30, 380, 250 + seed * 30, 560], fill=(20, 20, 20))
    exif = piexif.dump(
        {
            "0th": {piexif.ImageIFD.Make: "Apple", piexif.ImageIFD.Model: "iPhone 13"},
            "Exif": {piexif.ExifIFD.DateTimeOriginal: taken.strftime("%Y:%m:%d %H:%M:%S")},
        }
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def photo_claim(api: Api, photo: bytes, filename: str) -> tuple[dict[str, Any], str]:
    journey = api.start()
    journey = api.step(journey, "policy", {"policy_number": ACTIVE[api.customer]})
    journey = api.step(journey, "incident", incident("glass"))
    document = api.upload(journey, "damage_photos", photo, filename)
    journey = api.step(journey, "photos", {"damage_photos": [document]})
    journey = api.step(
        journey,
        "settlement",
        {
            "settlement": "repairer",
            "repairer_id": field_of(journey, "repairer_id")["options"][0]["value"],
        },
    )
    return api.submit(journey), document


def signals_of(
    system: Components, api: Api, journey_id: str, document: str
) -> dict[str, dict[str, str]]:
    """A photo's fraud signals as staff see them (in the store); the customer's own view of
    the document never has them."""
    response = api.http.get(f"/api/v1/journeys/{journey_id}/documents/{document}")
    assert response.status_code == 200, response.text
    assert "signals" not in response.json()
    record = system.queries.document(api.customer, journey_id, document)
    return {signal["code"]: signal for signal in record["signals"]}


def test_a_photo_taken_before_the_policy_started_refers_the_claim_without_telling_why(
    system, customer, clock, sandbox
):
    alex = customer("alex")  # policy MTR-100001 started 270 days before today
    taken = clock.now() - timedelta(days=400)
    sent, document = photo_claim(alex, camera_photo(taken), "old.jpg")
    drain(system)
    journey = alex.journey(sent["id"])
    assert journey["outcome"]["outcome"] == "referred"
    assert journey["outcome"]["reasons"] == [NEUTRAL]
    state = system.system.current(sent["id"]).state
    assert state.outcome["reasons"] == [PHOTO_REASON]
    signal = signals_of(system, alex, sent["id"], document)["taken_before_policy"]
    assert (signal["status"], signal["severity"]) == ("fired", "high")
    assert signal["evidence"] == "taken 130 days before the policy started"
    assert_never_told_of_fraud(
        alex, sandbox, sent, "alex@example.com", "+44 7700 900001", document=document
    )


def test_the_same_photo_from_another_customer_is_caught_as_reused(system, customer, clock):
    from PIL import Image

    original = camera_photo(clock.now() - timedelta(days=2), seed=7)
    alex, sam = customer("alex"), customer("sam")
    photo_claim(alex, original, "front.jpg")
    drain(system)
    import io

    smaller = io.BytesIO()
    Image.open(io.BytesIO(original)).resize((640, 480)).save(smaller, "JPEG", quality=60)
    sent, document = photo_claim(sam, smaller.getvalue(), "mine.jpg")
    drain(system)
    journey = sam.journey(sent["id"])
    assert journey["outcome"]["outcome"] == "referred"
    signal = signals_of(system, sam, sent["id"], document)["reused_photo"]
    assert (signal["status"], signal["severity"]) == ("fired", "high")
    assert "another customer's claim" in signal["evidence"]


def plain_photo(colour: tuple[int, int, int], size: tuple[int, int], fmt: str) -> bytes:
    """A featureless photo: one colour all over (a flat panel close up, a black night shot)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def test_different_featureless_photos_from_two_customers_are_not_taken_for_reuse(
    system, customer, clock
):
    # Both hash to pHash 8000000000000000 and dHash 0: before, Sam's claim was referred for
    # reusing Alex's photo. Neither has the detail to be compared, so neither is.
    alex, sam = customer("alex"), customer("sam")
    first, alex_document = photo_claim(
        alex, plain_photo((220, 20, 20), (640, 480), "JPEG"), "red.jpg"
    )
    drain(system)
    sent, document = photo_claim(sam, plain_photo((20, 20, 220), (1024, 768), "PNG"), "blue.png")
    drain(system)
    assert sam.journey(sent["id"])["outcome"]["outcome"] == "approved"
    assert alex.journey(first["id"])["outcome"]["outcome"] == "approved"
    for api, journey_id, photo in ((alex, first["id"], alex_document), (sam, sent["id"], document)):
        signals = signals_of(system, api, journey_id, photo)
        for code in ("reused_photo", "reused_own_photo"):
            assert signals[code]["status"] == "unknown"
            assert signals[code]["evidence"] == "the photo has too little detail to compare"
    with system.store.engine.connect() as connection:  # neither is in the reuse index
        indexed = connection.execute(select(tables.photo_hashes.c.document_id)).scalars().all()
    assert alex_document not in indexed and document not in indexed

    # A real photo, reused by another customer, is still caught alongside them.
    original = camera_photo(clock.now() - timedelta(days=2), seed=5)
    photo_claim(alex, original, "front.jpg")
    drain(system)
    sent, reused = photo_claim(sam, original, "mine.jpg")
    drain(system)
    assert sam.journey(sent["id"])["outcome"]["outcome"] == "referred"
    signal = signals_of(system, sam, sent["id"], reused)["reused_photo"]
    assert (signal["status"], signal["severity"]) == ("fired", "high")


# --- what the customer is told -------------------------------------------------------------------


def page(api: Api, path: str) -> str:
    response = api.http.get(path, headers={"accept": "text/html"})
    assert response.status_code == 200, (path, response.status_code)
    return response.text


def assert_never_told_of_fraud(
    api: Api,
    sandbox: Sandbox,
    sent: dict[str, Any],
    email: str,
    mobile: str,
    document: str | None = None,
) -> None:
    """Everything the customer can receive about the claim: the API (the journey, the list,
    a document), the pages (status, confirmation, list of claims) and every email and text
    the notification provider holds for them. None names fraud, risk or a photo signal."""
    journey_id = sent["id"]
    received = {
        "api journey": json.dumps(api.journey(journey_id)),
        "api list": api.http.get("/api/v1/journeys").text,
        "status page": page(api, f"/journeys/{journey_id}/status"),
        "confirmation page": page(api, f"/journeys/{journey_id}/confirmation"),
        "claims page": page(api, "/journeys"),
    }
    if document is not None:
        received["api document"] = api.http.get(
            f"/api/v1/journeys/{journey_id}/documents/{document}"
        ).text
    sent_to_them = [
        m
        for m in httpx.get(f"{sandbox.urls()['notification_provider']}/messages").json()
        if m["to"] in (email, mobile)
    ]
    assert {m["channel"] for m in sent_to_them} == {"email", "sms"}
    for number, message in enumerate(sent_to_them):
        received[f"message {number}"] = f"{message.get('subject') or ''} {message['body']}"
    told = {where: TIPPING_OFF.findall(text) for where, text in received.items()}
    assert {where: found for where, found in told.items() if found} == {}
    assert NEUTRAL in received["status page"]
    assert any(NEUTRAL in text for where, text in received.items() if "message" in where)


def sams_claim_to_payment(sam: Api) -> dict[str, Any]:
    journey = sam.start()
    journey = sam.step(journey, "policy", {"policy_number": "MTR-100002"})
    journey = sam.step(journey, "incident", incident("glass"))
    journey = sam.step(journey, "photos", {"damage_photos": [sam.upload(journey, "damage_photos")]})
    estimate = sam.upload(journey, "estimate_document")
    return sam.step(
        journey,
        "settlement",
        {"settlement": "cash", "estimate_amount": "400", "estimate_document": [estimate]},
    )


SAMS_ACCOUNT = {
    "account_holder": "Sam Patel",
    "sort_code": "40-47-84",
    "account_number": "70872490",
}


def test_with_the_payee_check_down_sam_is_told_so_and_checked_again_before_being_paid(
    system, customer, sandbox, clock
):
    sam = customer("sam", "one_time_code")  # new payee details
    journey = sams_claim_to_payment(sam)
    faults(sandbox, "payment_provider", outage_seconds=600)
    journey = sam.step(journey, "payment-details", SAMS_ACCOUNT)
    assert journey["current_step"]["name"] == "check-answers"  # the journey goes on
    check = journey["checks"]["confirmation_of_payee"]
    assert (check["status"], check["passed"], check["reason"]) == ("unavailable", None, PAYEE_DOWN)
    answers_page = page(sam, f"/journeys/{journey['id']}/check-answers")
    assert PAYEE_DOWN in answers_page
    assert "does not match" not in answers_page

    sent = sam.submit(journey)
    drain(system)  # the checks run, the provider is still down: tried again later, no verdict
    waiting = sam.journey(sent["id"])
    assert (waiting["status"], waiting["outcome"]) == ("submitted", None)
    status_page = page(sam, f"/journeys/{sent['id']}/status")
    assert PAYEE_DOWN in status_page and "does not match" not in status_page
    assert payouts_for(sandbox, sent["reference"]) == []

    faults(sandbox, "payment_provider")
    time.sleep(BREAKER_RESET)  # the provider's breaker opened: let a trial through
    clock.advance(timedelta(minutes=5))
    drain(system)
    decided = sam.journey(sent["id"])
    assert decided["checks"]["confirmation_of_payee"]["status"] == "passed"
    assert decided["outcome"]["outcome"] == "approved"
    assert [p["amount_pence"] for p in payouts_for(sandbox, sent["reference"])] == [40000]


def test_with_the_payee_check_down_for_good_the_claim_is_referred_not_called_a_mismatch(
    system, customer, sandbox, clock
):
    sam = customer("sam", "one_time_code")  # new payee details
    journey = sams_claim_to_payment(sam)
    faults(sandbox, "payment_provider", outage_seconds=3600)
    sent = sam.submit(sam.step(journey, "payment-details", SAMS_ACCOUNT))
    for _ in range(10):  # every attempt of the checks, the last one decides without it
        clock.advance(timedelta(minutes=30))
        drain(system)
    sam = customer("sam")  # hours later: signed in again
    decided = sam.journey(sent["id"])
    assert (decided["status"], decided["outcome"]["outcome"]) == ("in_review", "referred")
    assert decided["outcome"]["reasons"] == [PAYEE_REFERRED]
    assert decided["checks"]["confirmation_of_payee"]["status"] == "unavailable"
    told = json.dumps(decided) + page(sam, f"/journeys/{sent['id']}/status")
    assert "did not match" not in told and "does not match" not in told
    assert payouts_for(sandbox, sent["reference"]) == []


def test_with_core_banking_down_when_the_claim_starts_the_customer_is_still_told(
    system, customer, sandbox
):
    faults(sandbox, "core_banking", outage_seconds=60)
    alex = customer("alex", "one_time_code")  # no accounts shown: any payee is new
    sent = claim(
        alex,
        payment={
            "account_holder": "Alex Morgan",
            "sort_code": "20-00-00",
            "account_number": "55779911",
        },
    )
    faults(sandbox, "core_banking")
    drain(system)  # the messages fetch the customer's email and mobile again
    messages = messages_for(sandbox, sent["reference"])
    assert {(m["channel"], m["to"]) for m in messages} == {
        ("email", "alex@example.com"),
        ("sms", "+44 7700 900001"),
    }
    assert alex.journey(sent["id"])["outcome"]["outcome"] == "approved"


# --- effects that cannot run ---------------------------------------------------------------------


def effect_of(system: Components, journey_id: str, kind: str) -> dict[str, Any]:
    e = tables.effects.c
    with system.store.read() as connection:
        row = connection.execute(
            select(e.id, e.status, e.attempts, e.last_error).where(
                e.journey_id == journey_id, e.kind == kind
            )
        ).one()
    return row._asdict()


def test_a_payout_whose_provider_stays_down_is_dead_lettered_at_the_max_age_and_listed(
    system, customer, sandbox, clock, database_url, tmp_path
):
    faults(sandbox, "payment_provider", outage_seconds=3600)
    alex = customer("alex")
    sent = claim(alex)
    for _ in range(6):  # hours of outage: the open breaker postpones the payout, unspent
        clock.advance(timedelta(minutes=30))
        drain(system)
    payout = effect_of(system, sent["id"], "call")
    assert payout["status"] == "pending"
    assert payout["attempts"] < system.settings.effect_max_attempts
    assert "circuit_open" in payout["last_error"]

    clock.advance(system.settings.effect_max_age)
    drain(system)
    payout = effect_of(system, sent["id"], "call")
    assert payout["status"] == "dead"
    assert payout["last_error"].startswith("still failing after the maximum age of 24 h;")
    assert "payment_provider" in payout["last_error"]

    env = server_env(tmp_path / "home", database_url, COLUMNS="250")
    listed = subprocess.run(
        [str(WAYLINE), "effects", "list"], env=env, capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == 0, listed.stderr
    assert payout["id"] in listed.stdout and "maximum age" in listed.stdout

    # Queued again by the operator, it gets a new maximum age: not dead at its next failure.
    assert retry_dead(system.store, clock, payout["id"]) == 1
    drain(system)
    assert effect_of(system, sent["id"], "call")["status"] == "pending"
