"""The staff API of the workbench (/api/v1/staff), through HTTP on SQLite and PostgreSQL: queues
and filters by role, saved views, the case view with fraud evidence for fraud investigators and
senior handlers only, documents of the case, every action, 20 handlers claiming at once through
a real server (one winner), four-eyes refusals with RFC 9470's step-up and the customer paid
once by the real worker, who may call the staff API at all, bad input refused without a
change, and the audit entries (with address and user agent) an auditor reads for one case."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cases_kit import FRAUD_REASON, case_of, referred, sent_claim
from fastapi.testclient import TestClient
from journey_api import CSRF_COOKIE, CSRF_HEADER, PROBLEM, Api, threaded_server

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.identity.principal import Kind, Principal
from wayline.identity.roles import Role
from wayline.runtime.clock import FixedClock
from wayline.sandbox.server import Sandbox
from wayline.sandbox.wiring import demo_options
from wayline.store import tables
from wayline.web.app import create_app

BASE = "/api/v1/staff"
USER_AGENT = "StaffApiTests/1.0"
CHALLENGE = 'Bearer error="insufficient_user_authentication"'


class Staff:
    """A member of staff signed in through the demo sign-in, with their CSRF header."""

    def __init__(self, app: Any, who: str, method: str = "password"):
        self.who = who
        self.http = TestClient(app, headers={"user-agent": USER_AGENT})
        self.sign_in(method)

    def sign_in(self, method: str = "password") -> Staff:
        response = self.http.post("/auth/demo", json={"staff": self.who, "method": method})
        assert response.status_code == 204, response.text
        self.http.headers[CSRF_HEADER] = self.http.cookies[CSRF_COOKIE]
        return self

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(f"{BASE}{path}", params=params)

    def post(self, path: str, body: Any = None) -> httpx.Response:
        return self.http.post(f"{BASE}{path}", json=body)

    def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = self.http.request(method, f"{BASE}{path}", json=body)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        return response.json() if response.content else None


def refused(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    """The problem details of a refusal with `status` (naming `field`, when given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    if field is not None:
        assert field in [e["field"] for e in problem.get("errors", [])], problem
    return problem


@pytest.fixture
def staff(app: Any) -> Iterator[Callable[..., Staff]]:
    opened: list[Staff] = []

    def make(who: str, method: str = "password") -> Staff:
        opened.append(Staff(app, who, method))
        return opened[-1]

    yield make
    for member in opened:
        member.http.close()


def _case(components: Components, journey_id: str) -> str:
    return str(case_of(components, journey_id)["id"])


def _audit(components: Components, case_id: str) -> list[dict[str, Any]]:
    with components.store.read() as connection:
        rows = connection.execute(
            tables.audit_log.select()
            .where(
                tables.audit_log.c.target_type == "case", tables.audit_log.c.target_id == case_id
            )
            .order_by(tables.audit_log.c.at, tables.audit_log.c.id)
        ).all()
    return [dict(row._mapping) for row in rows]


def _everything(components: Components) -> dict[str, list[tuple]]:
    """The workbench's tables and the journeys, to prove a refusal changed nothing."""
    found = {}
    with components.store.read() as connection:
        for table in (tables.cases, tables.case_notes, tables.case_tasks, tables.journeys):
            found[table.name] = sorted(
                tuple(map(str, row)) for row in connection.execute(table.select())
            )
    return found


# --- who may call the staff API ----------------------------------------------------------------


def test_customers_analysts_and_auditors_are_refused_and_nobody_must_sign_in(
    components, app, alex, staff
):
    journey_id = referred(components, alex, settlement="cash", amount="4000")
    case_id = _case(components, journey_id)
    for path in ("/queues", "/cases", f"/cases/{case_id}"):
        refused(alex.http.get(f"{BASE}{path}"), 403)
        for who in ("avery", "harper", "sasha"):
            refused(staff(who).get(path), 403)
    refused(alex.http.post(f"{BASE}/cases/{case_id}/claim"), 403)
    with TestClient(app) as nobody:
        refused(nobody.get(f"{BASE}/cases/{case_id}"), 401)
    assert case_of(components, journey_id)["assignee"] is None
    assert [e["action"] for e in _audit(components, case_id)] == ["case.opened"]


# --- queues, filters and saved views -------------------------------------------------------------


def test_each_role_sees_its_queues_and_only_their_cases(components, alex, jordan, staff):
    alexs = _case(components, referred(components, alex, settlement="cash", amount="4000"))
    jordans = _case(components, referred(components, jordan))
    casey, riley = staff("casey"), staff("riley")
    claims = lambda who: [q for q in who.ok("GET", "/queues") if q["journey"] == "motor-claim"]  # noqa: E731
    assert [q["queue"] for q in claims(casey)] == ["claims"]
    # Other journeys' queues are worked by the same roles (account opening's onboarding).
    assert "onboarding" in {q["queue"] for q in casey.ok("GET", "/queues")}
    queues = {q["queue"]: q for q in claims(riley)}
    assert set(queues) == {"fraud", "claims"}
    assert queues["fraud"]["counts"]["open"] == 1 and queues["fraud"]["unassigned"] == 1
    assert [c["id"] for c in casey.ok("GET", "/cases")] == [alexs]
    assert {c["id"] for c in riley.ok("GET", "/cases")} == {alexs, jordans}
    [listed] = riley.ok("GET", "/cases?queue=fraud")
    assert listed["id"] == jordans
    assert listed["priority"] == "high" and listed["assignee"] is None
    assert listed["due_at"] > listed["opened_at"] and listed["age_seconds"] >= 0
    assert FRAUD_REASON in listed["reasons"]
    refused(casey.get(f"/cases/{jordans}"), 404)  # not in a queue Casey works
    refused(casey.post(f"/cases/{jordans}/claim"), 404)
    riley.ok("POST", f"/cases/{jordans}/claim")
    assert [c["id"] for c in riley.ok("GET", "/cases?assignee=me")] == [jordans]
    assert [c["id"] for c in riley.ok("GET", "/cases?assignee=nobody")] == [alexs]
    assert riley.ok("GET", "/cases?priority=low") == []
    assert riley.ok("GET", "/cases?overdue=true") == []
    assert riley.ok("GET", "/cases?status=closed") == []
    refused(riley.get("/cases", status="finished"), 422, "status")
    refused(riley.get("/cases", overdue="maybe"), 422, "overdue")
    refused(riley.get("/cases", assignee="a\x00b"), 422, "assignee")
    refused(riley.get("/cases", queue="x" * 101), 422, "queue")


def test_saved_views_are_each_persons_own(components, alex, jordan, staff):
    jordans = _case(components, referred(components, jordan))
    _case(components, referred(components, alex, settlement="cash", amount="4000"))
    riley, morgan = staff("riley"), staff("morgan")
    body = {"name": "Fraud, unclaimed", "filters": {"queue": "fraud", "assignee": "nobody"}}
    view = riley.ok("POST", "/views", body, status=201)
    assert view["filters"] == {"queue": "fraud", "assignee": "nobody"}
    assert [v["id"] for v in riley.ok("GET", "/views")] == [view["id"]]
    assert [c["id"] for c in riley.ok("GET", f"/cases?view={view['id']}")] == [jordans]
    refused(riley.get("/cases", view=view["id"], queue="claims"), 422, "queue")
    refused(riley.post("/views", body), 409)  # the same name again
    refused(
        riley.post("/views", {"name": "x", "filters": {"status": "done"}}), 422, "filters.status"
    )
    refused(
        riley.post("/views", {"name": "x", "filters": {"colour": "red"}}), 422, "filters.colour"
    )
    refused(riley.post("/views", {"name": " ", "filters": {}}), 422, "name")
    assert morgan.ok("GET", "/views") == []
    refused(morgan.get("/cases", view=view["id"]), 404)
    refused(morgan.http.delete(f"{BASE}/views/{view['id']}"), 404)
    assert riley.http.delete(f"{BASE}/views/{view['id']}").status_code == 204
    assert riley.ok("GET", "/views") == []
    refused(riley.http.delete(f"{BASE}/views/{view['id']}"), 404)


# --- the case view and its documents -------------------------------------------------------------


def test_the_case_view_has_everything_and_fraud_evidence_only_for_fraud_roles(
    components, jordan, staff
):
    journey_id = referred(components, jordan)
    case_id = _case(components, journey_id)
    riley, morgan = staff("riley"), staff("morgan")
    page = riley.ok("GET", f"/cases/{case_id}")
    assert page["case"]["id"] == case_id and page["case"]["queue_title"] == "Fraud"
    assert page["journey"]["id"] == journey_id and page["journey"]["status"] == "in_review"
    steps = [group["step"] for group in page["answers"]]
    assert steps[:3] == ["policy", "incident", "photos"]
    policy = page["answers"][0]["answers"][0]
    assert policy["field"] == "policy_number" and "source" in policy
    assert any(check["name"] == "fraud_bureau" for check in page["checks"])
    # The fraud bureau's marker, and the reason the referral gave staff.
    assert page["fraud_evidence"]["sources"]["fraud_history"]["risk_marker"]
    assert FRAUD_REASON in page["case"]["reasons"]
    assert page["fraud_evidence"]["reuse_matches"] == []
    assert page["events"] and page["events"][0]["type"] == "journey.started"
    assert [r["code"] for r in page["actions"]["approve_reasons"]] == [
        "verified",
        "evidence_received",
    ]
    assert morgan.ok("GET", f"/cases/{case_id}")["fraud_evidence"] is not None
    # Casey works the claims queue: a case there shows no fraud evidence.
    riley.ok("POST", f"/cases/{case_id}/claim")
    casey = staff("casey")
    refused(casey.get(f"/cases/{case_id}"), 404)
    viewed = [e for e in _audit(components, case_id) if e["action"] == "case.viewed"]
    assert [e["actor"] for e in viewed] == ["riley", "morgan"]
    assert all(e["user_agent"] == USER_AGENT and e["ip"] for e in viewed)


def test_a_handler_sees_no_fraud_evidence(components, alex, staff):
    case_id = _case(components, referred(components, alex, settlement="cash", amount="4000"))
    assert staff("casey").ok("GET", f"/cases/{case_id}")["fraud_evidence"] is None
    evidence = staff("riley").ok("GET", f"/cases/{case_id}")["fraud_evidence"]
    assert evidence is not None and "reuse_matches" in evidence
    for document in staff("casey").ok("GET", f"/cases/{case_id}")["documents"]:
        assert not {"reused_photo", "reused_own_photo"} & {s["code"] for s in document["signals"]}


def test_documents_of_the_case_only_display_copy_inline_and_original_as_attachment(
    components, alex, sam, staff
):
    journey_id = referred(components, alex, settlement="cash", amount="4000")
    case_id = _case(components, journey_id)
    casey = staff("casey")
    documents = casey.ok("GET", f"/cases/{case_id}")["documents"]
    photo = next(d for d in documents if d["field"] == "damage_photos")
    assert photo["has_display_copy"]
    shown = casey.http.get(f"{BASE}/cases/{case_id}/documents/{photo['id']}/content")
    assert shown.status_code == 200, shown.text
    assert shown.headers["content-type"] == photo["display_content_type"]
    assert shown.headers["content-disposition"].startswith("inline;")
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert shown.headers["content-security-policy"] == "sandbox; default-src 'none'"
    original = casey.http.get(
        f"{BASE}/cases/{case_id}/documents/{photo['id']}/content", params={"copy": "original"}
    )
    assert original.status_code == 200
    assert original.headers["content-disposition"].startswith("attachment;")
    assert original.headers["content-type"] == photo["content_type"]
    estimate = next(d for d in documents if d["field"] == "estimate_document")
    if not estimate["has_display_copy"]:
        path = f"/cases/{case_id}/documents/{estimate['id']}/content"
        refused(casey.get(path), 404)
    # Another journey's document, through this case: it does not exist here.
    other = sam.start()
    sams = sam.upload(other, "damage_photos")
    refused(casey.get(f"/cases/{case_id}/documents/{sams}/content"), 404)
    refused(casey.get(f"/cases/{case_id}/documents/{photo['id']}/content", copy="raw"), 422)
    opened = [e for e in _audit(components, case_id) if e["action"] == "case.document_viewed"]
    assert [(e["details"]["document"], e["details"]["copy"]) for e in opened] == [
        (photo["id"], "display"),
        (photo["id"], "original"),
    ]


# --- actions -------------------------------------------------------------------------------------


def test_claim_release_reassign_and_notes_say_who_did_what(components, alex, staff):
    journey_id = referred(components, alex, settlement="cash", amount="4000")
    case_id = _case(components, journey_id)
    casey, riley, morgan = staff("casey"), staff("riley"), staff("morgan")
    assert casey.ok("POST", f"/cases/{case_id}/claim")["assignee"] == "casey"
    assert casey.ok("POST", f"/cases/{case_id}/claim")["assignee"] == "casey"  # no change
    lost = refused(riley.post(f"/cases/{case_id}/claim"), 409)
    assert lost["holder"] == "casey" and "casey" in lost["detail"]
    refused(riley.post(f"/cases/{case_id}/release"), 403)
    refused(riley.post(f"/cases/{case_id}/reassign", {"to": "riley"}), 403)
    refused(casey.post(f"/cases/{case_id}/reassign", {"to": ""}), 422, "to")
    refused(casey.post(f"/cases/{case_id}/reassign", {"to": "a\u202eb"}), 422, "to")
    refused(casey.post(f"/cases/{case_id}/reassign", {}), 422, "to")
    assert casey.ok("POST", f"/cases/{case_id}/reassign", {"to": "riley"})["assignee"] == "riley"
    assert morgan.ok("POST", f"/cases/{case_id}/release")["assignee"] is None
    refused(morgan.post(f"/cases/{case_id}/release"), 409)
    note = casey.ok("POST", f"/cases/{case_id}/notes", {"note": "Garage confirms"}, status=201)
    assert (note["author"], note["text"]) == ("casey", "Garage confirms")
    refused(casey.post(f"/cases/{case_id}/notes", {"note": "   "}), 422, "note")
    refused(casey.post(f"/cases/{case_id}/notes", {"note": "a\x07b"}), 422, "note")
    refused(casey.post(f"/cases/{case_id}/notes", {"note": "x" * 5001}), 422, "note")
    refused(casey.post(f"/cases/{case_id}/notes", {"note": "x", "extra": 1}), 422, "extra")
    refused(casey.post("/cases/no-such-case/claim"), 404)
    entries = [
        (e["action"], e["actor"], e["details"].get("after.assignee"))
        for e in _audit(components, case_id)
        if e["action"] not in ("case.opened", "case.viewed")
    ]
    assert entries == [
        ("case.claimed", "casey", "casey"),
        ("case.reassigned", "casey", "riley"),
        ("case.released", "morgan", None),
        ("case.note_added", "casey", None),
    ]
    assert "Garage" not in str(_audit(components, case_id))


def test_refer_to_fraud_moves_the_case_out_of_the_handlers_sight(components, alex, staff):
    case_id = _case(components, referred(components, alex, settlement="cash", amount="4000"))
    casey, riley = staff("casey"), staff("riley")
    refused(casey.post(f"/cases/{case_id}/refer-to-fraud"), 409)  # claim it first
    casey.ok("POST", f"/cases/{case_id}/claim")
    moved = casey.ok("POST", f"/cases/{case_id}/refer-to-fraud")
    assert (moved["queue"], moved["assignee"], moved["priority"]) == ("fraud", None, "high")
    refused(casey.get(f"/cases/{case_id}"), 404)
    assert [c["id"] for c in riley.ok("GET", "/cases?queue=fraud")] == [case_id]


def test_riley_clears_a_fraud_case_back_to_the_claims_queue(components, jordan, staff):
    case_id = _case(components, referred(components, jordan))
    casey, riley, morgan = staff("casey"), staff("riley"), staff("morgan")
    back = f"/cases/{case_id}/return"
    body = {"queue": "claims", "note": "The marker is for another car"}
    refused(casey.post(back, body), 404)  # the fraud queue is not Casey's
    refused(riley.post(back, body), 409)  # claim it first
    riley.ok("POST", f"/cases/{case_id}/claim")
    before = _everything(components)
    refused(morgan.post(back, body), 409)  # Riley holds it
    refused(riley.post(back, {"queue": "nowhere", "note": "x"}), 422, "queue")
    refused(riley.post(back, {"queue": "claims\u202e", "note": "x"}), 422, "queue")
    refused(riley.post(back, {"queue": "fraud", "note": "x"}), 409)  # already there
    refused(riley.post(back, {"queue": "claims", "note": ""}), 422, "note")
    refused(riley.post(back, {"queue": "claims", "note": "   "}), 422, "note")
    refused(riley.post(back, {"queue": "claims"}), 422, "note")
    refused(riley.post(back, {**body, "assignee": "casey"}), 422)
    assert _everything(components) == before
    assert [q["name"] for q in riley.ok("GET", f"/cases/{case_id}")["actions"]["queues"]] == [
        "fraud",
        "claims",
    ]
    moved = riley.ok("POST", back, body)
    assert (moved["queue"], moved["assignee"], moved["status"], moved["priority"]) == (
        "claims",
        None,
        "open",
        "normal",
    )
    assert [c["id"] for c in casey.ok("GET", "/cases?queue=claims")] == [case_id]
    page = casey.ok("GET", f"/cases/{case_id}")
    assert [n["text"] for n in page["notes"]] == ["The marker is for another car"]
    assert [q["name"] for q in page["actions"]["queues"]] == ["claims"]
    [entry] = [e for e in _audit(components, case_id) if e["action"] == "case.returned"]
    assert entry["actor"] == "riley" and entry["user_agent"] == USER_AGENT
    assert entry["details"]["before.queue"] == "fraud"
    assert entry["details"]["after.queue"] == "claims"
    assert "another car" not in str(entry)
    casey.ok("POST", f"/cases/{case_id}/claim")
    decided = casey.ok(
        "POST", f"/cases/{case_id}/decide", {"verdict": "approve", "reason": "verified"}
    )
    assert decided["status"] == "closed"


def test_a_handler_cannot_send_a_claims_case_to_the_fraud_queue_by_return(components, alex, staff):
    case_id = _case(components, referred(components, alex, settlement="cash", amount="4000"))
    casey = staff("casey")
    casey.ok("POST", f"/cases/{case_id}/claim")
    before = _everything(components)
    refused(casey.post(f"/cases/{case_id}/return", {"queue": "fraud", "note": "x"}), 422, "queue")
    refused(casey.post(f"/cases/{case_id}/return", {"queue": "claims", "note": "x"}), 409)
    assert _everything(components) == before


def test_decline_with_a_declared_reason_and_bad_decisions_change_nothing(components, alex, staff):
    journey_id = referred(components, alex, settlement="cash", amount="4000")
    case_id = _case(components, journey_id)
    casey = staff("casey")
    casey.ok("POST", f"/cases/{case_id}/claim")
    before = _everything(components)
    decide = f"/cases/{case_id}/decide"
    refused(casey.post(decide, {"verdict": "maybe", "reason": "verified"}), 422, "verdict")
    refused(casey.post(decide, {"verdict": "decline", "reason": "verified"}), 422, "reason")
    refused(casey.post(decide, {"verdict": "decline"}), 422, "reason")
    refused(casey.post(decide, {"verdict": "decline", "reason": "not_covered", "note": 5}), 422)
    body = {"verdict": "decline", "reason": "not_covered", "note": "x\x00"}
    refused(casey.post(decide, body), 422, "note")
    assert _everything(components) == before
    decided = casey.ok("POST", decide, {"verdict": "decline", "reason": "not_covered"})
    assert decided["status"] == "closed" and decided["decision"]["outcome"] == "declined"
    journey = alex.journey(journey_id)
    assert journey["status"] == "decided" and journey["outcome"]["outcome"] == "declined"
    refused(casey.post(decide, {"verdict": "approve", "reason": "verified"}), 409)
    refused(casey.post(f"/cases/{case_id}/resolve", {"note": "done"}), 409)


def test_resolve_is_refused_while_the_journey_waits_for_a_decision(components, alex, staff):
    case_id = _case(components, referred(components, alex, settlement="cash", amount="4000"))
    casey = staff("casey")
    casey.ok("POST", f"/cases/{case_id}/claim")
    refused(casey.post(f"/cases/{case_id}/resolve", {"note": ""}), 422, "note")
    problem = refused(casey.post(f"/cases/{case_id}/resolve", {"note": "Looked"}), 409)
    assert "waiting for a decision" in problem["detail"]


def test_more_information_round_trip(components, jordan, staff):
    journey_id = referred(components, jordan)
    case_id = _case(components, journey_id)
    riley = staff("riley")
    ask = f"/cases/{case_id}/request-information"
    refused(riley.post(ask, {"code": "parked_where"}), 409)  # claim it first
    riley.ok("POST", f"/cases/{case_id}/claim")
    refused(riley.post(ask, {"code": "nope"}), 422, "code")
    refused(riley.post(ask, {"code": "parked_where", "kind": "question"}), 422, "code")
    refused(riley.post(ask, {"kind": "upload", "prompt": "Plate", "accept": ["png"]}), 422)
    refused(riley.post(ask, {"kind": "question", "prompt": "\x1b[31m"}), 422, "prompt")
    refused(riley.post(ask, {"prompt": "Where?"}), 422, "kind")
    task = riley.ok("POST", ask, {"code": "parked_where"}, status=201)
    assert (task["kind"], task["prompt"]) == ("question", "Where was the car parked?")
    own = {"kind": "upload", "prompt": "A photo of the plate", "accept": ["image/png"]}
    second = riley.ok("POST", ask, own, status=201)
    assert second["accept"] == ["image/png"]
    assert riley.ok("GET", f"/cases/{case_id}")["case"]["status"] == "awaiting_customer"
    components.cases.answer_task("jordan", journey_id, task["id"], "In the supermarket car park")
    assert riley.ok("GET", f"/cases/{case_id}")["case"]["status"] == "awaiting_customer"
    page = riley.ok("GET", f"/cases/{case_id}")
    answered = next(t for t in page["tasks"] if t["id"] == task["id"])
    assert answered["answer"] == "In the supermarket car park"
    decided = riley.ok(
        "POST", f"/cases/{case_id}/decide", {"verdict": "approve", "reason": "evidence_received"}
    )
    assert decided["status"] == "closed"
    actions = [e["action"] for e in _audit(components, case_id)]
    assert actions.count("case.information_requested") == 2
    assert "case.information_received" in actions and actions[-1] == "case.decided"


def test_a_senior_handler_who_proposed_may_not_give_the_second_approval(components, alex, staff):
    case_id = _case(components, referred(components, alex, settlement="cash", amount="6000"))
    morgan = staff("morgan", "one_time_code")
    morgan.ok("POST", f"/cases/{case_id}/claim")
    decide = f"/cases/{case_id}/decide"
    approve = {"verdict": "approve", "reason": "verified"}
    assert morgan.ok("POST", decide, approve)["status"] == "awaiting_approval"
    assert "You proposed" in refused(morgan.post(decide, approve), 403)["detail"]
    assert case_of(components, alex.list()[0]["id"])["status"] == "awaiting_approval"


# --- 20 handlers at once, through a real server --------------------------------------------------


def test_twenty_handlers_claim_at_once_through_the_api_and_one_wins(components, app, alex):
    journey_id = referred(components, alex, settlement="cash", amount="4000")
    case_id = _case(components, journey_id)
    sessions, csrf = app.state.sessions, app.state.csrf
    now = sessions.service.now()
    handlers = []
    for n in range(20):
        who = Principal(f"handler-{n}", Kind.STAFF, frozenset({Role.HANDLER}), 1, now, "demo")
        started = sessions.service.start(who)
        token = csrf.issue(started.session.id)
        cookie = f"{sessions.cookies.session}={started.token}; {csrf.cookie}={token}"
        handlers.append({"cookie": cookie, "x-csrf-token": token, "user-agent": USER_AGENT})
    answers: list[httpx.Response] = []
    start = threading.Barrier(len(handlers))
    with threaded_server(app) as base_url:

        def claim(headers: dict[str, str]) -> None:
            with httpx.Client(base_url=base_url, timeout=30) as http:
                start.wait()
                answers.append(http.post(f"{BASE}/cases/{case_id}/claim", headers=headers))

        threads = [threading.Thread(target=claim, args=(h,)) for h in handlers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * 19, [a.text for a in answers if a.status_code >= 500]
    [won] = [a.json()["assignee"] for a in answers if a.status_code == 200]
    assert {a.json()["holder"] for a in answers if a.status_code == 409} == {won}
    assert case_of(components, journey_id)["assignee"] == won
    claims = [e for e in _audit(components, case_id) if e["action"] == "case.claimed"]
    assert [(e["actor"], e["user_agent"]) for e in claims] == [(won, USER_AGENT)]


# --- four eyes, and the customer paid once -------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    running = Sandbox().start()
    yield running
    running.stop()


@pytest.fixture
def system(
    make_settings: Callable[..., Settings], sandbox: Sandbox, tmp_path: Path
) -> Iterator[Components]:
    """The application with the partners as HTTP services on loopback, and a real worker."""
    connectors = tmp_path / "connectors.yaml"
    partners = {name: {"base_url": url} for name, url in sandbox.urls().items()}
    defaults = {"retries": 2, "backoff_base": 0.001, "backoff_max": 0.005}
    connectors.write_text(yaml.safe_dump({"defaults": defaults, "partners": partners}))
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    settings = make_settings(operations_email="ops@example.com", connectors=connectors)
    built = build(settings, migrate=True, clock=clock, **demo_options(in_process_sources=False))
    yield built
    built.store.engine.dispose()
    if built.partners:
        built.partners.close()


def _drain(system: Components) -> None:
    worker = system.worker(base_delay=0.001)
    for _ in range(30):
        if worker.run_due() == 0:
            return


def test_four_eyes_through_the_api_and_the_customer_is_paid_once(system, sandbox):
    app = create_app(system)
    with TestClient(app) as http:
        alex = Api(http).sign_in("alex")
        sent = sent_claim(alex, settlement="cash", amount="6000")
        _drain(system)
        assert alex.journey(sent["id"])["status"] == "in_review"
    case_id = _case(system, sent["id"])
    casey, morgan = Staff(app, "casey"), Staff(app, "morgan")
    decide = f"/cases/{case_id}/decide"
    approve = {"verdict": "approve", "reason": "verified"}
    casey.ok("POST", f"/cases/{case_id}/claim")
    proposed = casey.ok("POST", decide, {**approve, "note": "Estimate checked"})
    assert proposed["status"] == "awaiting_approval"
    assert proposed["proposal"]["amount"] == "6000.00" and proposed["proposal"]["by"] == "casey"
    assert "senior handler" in refused(casey.post(decide, approve), 403)["detail"]
    riley = Staff(app, "riley")  # not a senior handler: may not give the second approval
    assert "senior handler" in refused(riley.post(decide, approve), 403)["detail"]
    before = _everything(system)
    weak = morgan.post(decide, approve)
    refused(weak, 401)
    assert weak.headers["www-authenticate"].startswith(CHALLENGE)
    assert 'acr_values="urn:wayline:loa:2"' in weak.headers["www-authenticate"]
    assert weak.json()["max_age"] == 300
    assert _everything(system) == before
    _drain(system)
    paid = httpx.get(f"{sandbox.urls()['payment_provider']}/payouts").json()
    assert [p for p in paid if p["reference"] == sent["reference"]] == []  # a proposal pays nothing
    morgan.sign_in("one_time_code")
    approved = morgan.ok("POST", decide, approve)
    assert approved["status"] == "closed"
    assert approved["decision"]["by"] == "morgan"
    assert approved["decision"]["proposed_by"] == "casey"
    refused(morgan.post(decide, approve), 409)  # decided: nothing to approve twice
    _drain(system)
    _drain(system)
    paid = httpx.get(f"{sandbox.urls()['payment_provider']}/payouts").json()
    assert [p["amount_pence"] for p in paid if p["reference"] == sent["reference"]] == [600000]
    sent_messages = httpx.get(f"{sandbox.urls()['notification_provider']}/messages").json()
    subjects = [m.get("subject") for m in sent_messages if sent["reference"] in m["body"]]
    assert f"We have paid your claim {sent['reference']}" in subjects
    for member in (casey, riley, morgan):
        member.http.close()
    # The auditor reads the case's log: every step, by whom, from where.
    harper = Staff(app, "harper")
    answer = harper.http.get(
        "/api/v1/audit", params={"target_type": "case", "target_id": case_id, "limit": 100}
    )
    assert answer.status_code == 200, answer.text
    entries = list(reversed(answer.json()["entries"]))
    steps = [(e["action"], e["actor"]) for e in entries]
    assert steps == [
        ("case.opened", "system"),
        ("case.claimed", "casey"),
        ("case.proposed", "casey"),
        ("case.decided", "morgan"),
    ], steps
    for entry in entries[1:]:
        assert entry["user_agent"] == USER_AGENT and entry["ip"], entry
    decided = entries[-1]
    assert decided["details"]["before.status"] == "awaiting_approval"
    assert decided["details"]["after.status"] == "closed"
    harper.http.close()
