"""The workbench's "done when", tried as a new user would, over HTTP on an app configured as
`wayline demo` configures it (demo sign-in, the partner simulators on loopback, the real
worker) after the demo's cases were made (sandbox/demo_cases.py), on SQLite and PostgreSQL:

Riley opens Jordan's referred claim in the fraud queue, sees the fraud bureau's reason and the
photo evidence, and asks Jordan where the car was parked; Jordan answers on his pages; Riley
clears it of fraud and sends it back to the claims queue with a note; Casey, a handler, who
could not see it in the fraud queue, claims and approves it; Morgan, stepped up with a
one-time code, approves the £6,000 payout Casey proposed; the worker runs; Alex is paid once
and told; Harper, the auditor, reads every step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cases_kit import FRAUD_REASON, case_of
from fastapi.testclient import TestClient
from journey_api import CSRF_COOKIE, CSRF_HEADER

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.sandbox import demo_cases
from wayline.sandbox.server import Sandbox
from wayline.sandbox.wiring import demo_options
from wayline.store import tables
from wayline.web.app import create_app

STAFF_API = "/api/v1/staff/cases"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    running = Sandbox().start()
    yield running
    running.stop()


@pytest.fixture
def demo(make_settings: Callable[..., Settings], sandbox: Sandbox, tmp_path: Path):
    """The demo's parts, as `wayline demo` builds them (partners at the simulators)."""
    connectors = tmp_path / "connectors.yaml"
    connectors.write_text(
        yaml.safe_dump(
            {
                "defaults": {"retries": 2, "backoff_base": 0.001, "backoff_max": 0.005},
                "partners": {name: {"base_url": url} for name, url in sandbox.urls().items()},
            }
        )
    )
    settings = make_settings(operations_email="ops@example.com", connectors=connectors)
    components = build(settings, migrate=True, **demo_options(in_process_sources=False))
    yield components
    components.store.engine.dispose()
    if components.partners:
        components.partners.close()


@pytest.fixture
def people(demo: Components) -> Iterator[Callable[..., TestClient]]:
    """people(customer="jordan") or people(staff="riley", method=...): a signed-in client."""
    app = create_app(demo)
    opened: list[TestClient] = []

    def sign_in(**who: str) -> TestClient:
        http = TestClient(app)
        opened.append(http)
        response = http.post("/auth/demo", json=who)
        assert response.status_code == 204, response.text
        http.headers[CSRF_HEADER] = http.cookies[CSRF_COOKIE]
        return http

    yield sign_in
    for http in opened:
        http.close()


def drain(components: Components) -> None:
    worker = components.worker(base_delay=0.001)
    for _ in range(30):
        if worker.run_due() == 0:
            return


def payouts_for(sandbox: Sandbox, reference: str) -> list[dict[str, Any]]:
    paid = httpx.get(f"{sandbox.urls()['payment_provider']}/payouts").json()
    return [p for p in paid if p["reference"] == reference]


def subjects_for(sandbox: Sandbox, reference: str) -> list[str]:
    sent = httpx.get(f"{sandbox.urls()['notification_provider']}/messages").json()
    return [m.get("subject") for m in sent if m["channel"] == "email" and reference in m["body"]]


def journeys_in(components: Components) -> int:
    with components.store.read() as connection:
        return len(connection.execute(tables.journeys.select()).all())


def audited(harper: TestClient, case_id: str) -> list[dict[str, Any]]:
    response = harper.get("/api/v1/audit", params={"target_type": "case", "target_id": case_id})
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["entries"]))  # oldest first


def test_the_demo_starts_with_a_fraud_referral_and_a_proposal_once(demo):
    alex_claim, jordan_claim, scored_claim = demo_cases.seed(demo)
    assert case_of(demo, jordan_claim)["queue"] == "fraud"
    assert case_of(demo, jordan_claim)["assignee"] is None
    proposal = case_of(demo, alex_claim)
    assert (proposal["status"], proposal["assignee"]) == ("awaiting_approval", "casey")
    assert proposal["proposal"]["amount"] in ("6000", "6000.00", 6000)
    made = journeys_in(demo)
    assert demo_cases.seed(demo) == []  # a restart makes nothing again
    assert journeys_in(demo) == made


def test_alex_can_still_make_a_fresh_claim_after_the_demo_s_cases(demo, people):
    demo_cases.seed(demo)
    alex = people(customer="alex")
    started = alex.post("/api/v1/journeys", json={"type": "motor-claim"})
    assert started.status_code == 201, started.text
    assert len(alex.get("/api/v1/journeys").json()) == 3  # the demo's two, and this one


def test_the_demo_has_a_claim_the_model_referred_with_its_score_on_the_workbench(demo, people):
    *_, scored_claim = demo_cases.seed(demo)
    case = case_of(demo, scored_claim)
    assert (case["queue"], case["assignee"]) == ("claims", None)
    page = people(staff="casey").get(f"/workbench/cases/{case['id']}").text
    scores = page[page.index('id="model-scores"') :]
    assert "claim-triage version 1" in scores[: scores.index("</table>")]
    assert "estimate amount much higher than similar claims (+" in scores
    alex_view = people(customer="alex").get(f"/api/v1/journeys/{scored_claim}").json()
    assert alex_view["outcome"]["reasons"] == ["We need to look at your claim more closely"]
    assert "triage" not in str(alex_view).lower()


def test_the_workbench_done_when_scenario(demo, people, sandbox):
    alex_claim, jordan_claim, _ = demo_cases.seed(demo)
    drain(demo)  # the messages the demo's claims queued
    riley, jordan = people(staff="riley"), people(customer="jordan")

    # Riley finds Jordan's claim in the fraud queue and opens it.
    listed = riley.get(STAFF_API, params={"queue": "fraud"})
    assert listed.status_code == 200, listed.text
    [case] = [c for c in listed.json() if c["journey_id"] == jordan_claim]
    case_id = case["id"]
    view = riley.get(f"{STAFF_API}/{case_id}").json()
    assert FRAUD_REASON in view["case"]["reasons"]
    assert view["fraud_evidence"]["sources"]["fraud_history"]  # the bureau's marker itself
    photos = [d for d in view["documents"] if d["field"] == "damage_photos"]
    assert len(photos) == 2 and all(d["has_display_copy"] for d in photos)
    assert any(d["signals"] for d in photos)  # the worker assessed the photos
    [match] = [m for m in view["fraud_evidence"]["reuse_matches"] if "other_journey_id" in m]
    assert match["other_journey_id"] == alex_claim  # side by side with Alex's photo

    # She takes it and asks Jordan where the car was parked.
    assert riley.post(f"{STAFF_API}/{case_id}/claim").status_code == 200
    asked = riley.post(f"{STAFF_API}/{case_id}/request-information", json={"code": "parked_where"})
    assert asked.status_code in (200, 201), asked.text
    drain(demo)
    reference = view["journey"]["reference"]
    told = subjects_for(sandbox, reference)
    assert told.count(f"We need more information about your claim {reference}") == 1

    # Jordan sees the request on his claim's page and answers it there.
    status = jordan.get(f"/journeys/{jordan_claim}/status")
    assert "We need more information" in status.text and "Where was the car parked?" in status.text
    [task] = jordan.get(f"/api/v1/journeys/{jordan_claim}/tasks").json()
    answered = jordan.post(
        f"/journeys/{jordan_claim}/tasks/{task['id']}",
        data={"csrf_token": jordan.headers[CSRF_HEADER], "answer": "In the supermarket car park"},
        follow_redirects=False,
    )
    assert answered.status_code == 303
    assert "Thank you" in jordan.get(answered.headers["location"]).text
    assert case_of(demo, jordan_claim)["status"] == "open"

    # Casey cannot see the fraud queue. Riley, satisfied, clears the case of fraud and sends it
    # back to the claims queue, saying what she found.
    casey = people(staff="casey")
    assert casey.get(f"{STAFF_API}/{case_id}").status_code == 404
    cleared = "Parking checked with the supermarket: the bureau's marker is not this claim's"
    returned = riley.post(
        f"{STAFF_API}/{case_id}/return", json={"queue": "claims", "note": cleared}
    )
    assert returned.status_code == 200, returned.text
    assert (returned.json()["queue"], returned.json()["assignee"]) == ("claims", None)

    # Casey finds it in the claims queue, reads Riley's note, claims it and approves it.
    [found] = [
        c for c in casey.get(STAFF_API, params={"queue": "claims"}).json() if c["id"] == case_id
    ]
    assert found["assignee"] is None
    page = casey.get(f"{STAFF_API}/{case_id}").json()
    assert cleared in [n["text"] for n in page["notes"]]
    assert page["fraud_evidence"] is None  # a handler does not see the bureau's data
    assert casey.post(f"{STAFF_API}/{case_id}/claim").status_code == 200
    approved = casey.post(
        f"{STAFF_API}/{case_id}/decide",
        json={"verdict": "approve", "reason": "evidence_received", "note": "Parking checked"},
    )
    assert approved.status_code == 200, approved.text

    # Morgan approves the £6,000 payout Casey proposed: first asked to step up, then done.
    alex_case = case_of(demo, alex_claim)["id"]
    decide = {"verdict": "approve", "reason": "verified"}
    weak = people(staff="morgan").post(f"{STAFF_API}/{alex_case}/decide", json=decide)
    assert weak.status_code == 401
    assert "insufficient_user_authentication" in weak.headers["www-authenticate"]
    assert casey.post(f"{STAFF_API}/{alex_case}/decide", json=decide).status_code == 403
    morgan = people(staff="morgan", method="one_time_code")
    second = morgan.post(f"{STAFF_API}/{alex_case}/decide", json=decide)
    assert second.status_code == 200, second.text

    # The worker carries both decisions on: Alex is paid once and told, Jordan's repair booked.
    drain(demo)
    drain(demo)
    alex = people(customer="alex")
    alex_journey = alex.get(f"/api/v1/journeys/{alex_claim}").json()
    alex_reference = alex_journey["reference"]
    assert [p["amount_pence"] for p in payouts_for(sandbox, alex_reference)] == [600000]
    assert alex_journey["outcome"]["outcome"] == "approved"
    assert (
        subjects_for(sandbox, alex_reference).count(f"We have paid your claim {alex_reference}")
        == 1
    )
    jordan_journey = jordan.get(f"/api/v1/journeys/{jordan_claim}").json()
    assert jordan_journey["outcome"]["outcome"] == "approved"
    assert "effect.done" in [e["type"] for e in jordan_journey["events"]]
    assert payouts_for(sandbox, reference) == []  # a repair, not a payout

    # Harper reads every step of both cases, with who did it.
    harper = people(staff="harper")
    steps = [(e["action"], e["actor"]) for e in audited(harper, case_id)]
    for step in [
        ("case.opened", "system"),
        ("case.viewed", "riley"),
        ("case.claimed", "riley"),
        ("case.information_requested", "riley"),
        ("case.information_received", "jordan"),
        ("case.returned", "riley"),
        ("case.viewed", "casey"),
        ("case.claimed", "casey"),
        ("case.decided", "casey"),
    ]:
        assert step in steps, (step, steps)
    assert steps.index(("case.returned", "riley")) < steps.index(("case.claimed", "casey"))
    payout_steps = [(e["action"], e["actor"]) for e in audited(harper, alex_case)]
    for step in [
        ("case.claimed", "casey"),
        ("case.proposed", "casey"),
        ("case.decided", "morgan"),
    ]:
        assert step in payout_steps, (step, payout_steps)
    assert riley.get("/api/v1/audit").status_code == 403  # only the auditor reads the log
