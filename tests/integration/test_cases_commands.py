"""Working cases through the service layer (components.cases), on SQLite and PostgreSQL:
claiming (20 at once, one winner), releasing and reassigning, notes, referring to fraud,
decisions that carry on exactly as automatic ones (the decided effects, payout once),
four-eyes refusals, the more-information round trip, who sees which queue and evidence, and
the audit entries with before and after."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from cases_kit import (
    FRAUD_REASON,
    audit_of,
    case_of,
    casey,
    effects_of,
    journey_events,
    morgan,
    referred,
    riley,
    signed_in,
    staff,
)

from wayline.errors import Conflict, Forbidden, NotFound, StepUpRequired
from wayline.identity.roles import Role
from wayline.journeys.engine import InvalidAnswers
from wayline.runtime.cases import CaseFilters, HeldBy


def _case_id(components, journey_id: str) -> str:
    with components.store.read() as connection:
        from wayline.store import cases as case_rows

        case = case_rows.open_case_of(connection, journey_id)
    assert case is not None
    return case.id


# --- claiming ---------------------------------------------------------------------------------


def test_twenty_handlers_claim_at_once_and_exactly_one_wins(components, alex):
    case_id = _case_id(components, referred(components, alex, settlement="cash", amount="4000"))
    handlers = [staff(f"handler-{n}", Role.HANDLER) for n in range(20)]
    won: list[str] = []
    refused: list[HeldBy] = []
    other: list[BaseException] = []
    start = threading.Barrier(len(handlers))

    def claim(who):
        start.wait()
        try:
            won.append(components.cases.claim(who, case_id).assignee)
        except HeldBy as error:
            refused.append(error)
        except BaseException as error:  # anything else is a failure of the test
            other.append(error)

    threads = [threading.Thread(target=claim, args=(who,)) for who in handlers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert other == []
    assert len(won) == 1 and len(refused) == 19
    assert {error.holder for error in refused} == {won[0]}
    assert all(won[0] in str(error) for error in refused)
    claims = [e for e in audit_of(components, case_id) if e["action"] == "case.claimed"]
    assert [(e["actor"], e["details"]["after.assignee"]) for e in claims] == [(won[0], won[0])]


def test_release_and_reassign_say_by_whom(components, alex):
    journey_id = referred(components, alex, settlement="cash", amount="4000")
    case_id = _case_id(components, journey_id)
    cases = components.cases
    cases.claim(casey(), case_id)
    with pytest.raises(Forbidden):
        cases.release(staff("drew", Role.HANDLER), case_id)
    signed_in(components, "drew", Role.HANDLER)
    assert cases.reassign(casey(), case_id, "drew").assignee == "drew"
    assert cases.release(morgan(), case_id).assignee is None
    with pytest.raises(Conflict):
        cases.release(casey(), case_id)
    entries = [
        (
            e["action"],
            e["actor"],
            e["details"].get("before.assignee"),
            e["details"].get("after.assignee"),
        )
        for e in audit_of(components, case_id)
        if e["action"] != "case.opened"
    ]
    assert entries == [
        ("case.claimed", "casey", None, "casey"),
        ("case.reassigned", "casey", "casey", "drew"),
        ("case.released", "morgan", "drew", None),
    ]
    types = [e["type"] for e in journey_events(components, journey_id)]
    assert types[-3:] == ["case.claimed", "case.reassigned", "case.released"]


def test_notes_stay_out_of_events_and_the_audit_log(components, alex):
    journey_id = referred(components, alex, settlement="cash", amount="4000")
    case_id = _case_id(components, journey_id)
    note = components.cases.add_note(casey(), case_id, "Spoke to the garage: invoice matches")
    with pytest.raises(InvalidAnswers):
        components.cases.add_note(casey(), case_id, "   ")
    page = components.cases.case(casey(), case_id)
    assert [(n["author"], n["text"]) for n in page["notes"]] == [
        ("casey", "Spoke to the garage: invoice matches")
    ]
    assert "invoice" not in str(journey_events(components, journey_id))
    assert "invoice" not in str(audit_of(components, case_id))
    [added] = [e for e in audit_of(components, case_id) if e["action"] == "case.note_added"]
    assert added["details"]["note"] == note.id


# --- access -----------------------------------------------------------------------------------


def test_staff_see_only_the_queues_their_roles_allow(components, jordan, alex):
    fraud_case = _case_id(components, referred(components, jordan))
    claims_case = _case_id(components, referred(components, alex, settlement="cash", amount="4000"))
    listed = lambda who: {c["id"] for c in components.cases.cases(who)}  # noqa: E731
    assert listed(casey()) == {claims_case}
    assert listed(riley()) == {fraud_case, claims_case}
    assert listed(morgan()) == {fraud_case, claims_case}
    assert listed(staff("avery", Role.ANALYST)) == set()
    queues = lambda who: [(q["journey"], q["queue"]) for q in components.cases.queues(who)]  # noqa: E731
    claims = lambda who: [q for j, q in queues(who) if j == "motor-claim"]  # noqa: E731
    assert claims(casey()) == ["claims"]
    assert claims(riley()) == ["fraud", "claims"]
    # Other journeys' queues are worked by the same roles: a handler works account opening's
    # onboarding and the payments queue too, not the investment cash-out's financial crime.
    assert ("account-opening", "onboarding") in queues(casey())
    assert ("investment-cashout", "financial_crime") not in queues(casey())
    assert ("investment-cashout", "financial_crime") in queues(riley())
    with pytest.raises(NotFound):
        components.cases.case(casey(), fraud_case)
    with pytest.raises(NotFound):
        components.cases.claim(casey(), fraud_case)


def test_fraud_evidence_is_for_fraud_investigators_and_senior_handlers(components, jordan):
    case_id = _case_id(components, referred(components, jordan))
    handler_view = components.cases.case(
        staff("hana", Role.HANDLER, Role.FRAUD_INVESTIGATOR), case_id
    )
    assert handler_view["fraud_evidence"] is not None
    page = components.cases.case(riley(), case_id)
    assert page["case"]["reasons"] == [FRAUD_REASON]
    assert page["fraud_evidence"]["sources"]["fraud_history"]["risk_marker"]
    assert {c["name"] for c in page["checks"]} >= {"fraud_bureau", "cover_dates"}
    steps = [group["step"] for group in page["answers"]]
    assert steps[:3] == ["policy", "incident", "photos"]
    policy = page["answers"][0]["answers"][0]
    assert policy["field"] == "policy_number" and policy["source"]["source"] == "policies"
    assert page["documents"] and page["documents"][0]["id"]
    assert "case.opened" in [e["type"] for e in page["events"]]
    viewed = [e for e in audit_of(components, case_id) if e["action"] == "case.viewed"]
    assert [e["actor"] for e in viewed] == ["hana", "riley"]


def test_a_handler_does_not_see_the_fraud_evidence(components, alex):
    case_id = _case_id(components, referred(components, alex, settlement="cash", amount="4000"))
    page = components.cases.case(casey(), case_id)
    assert page["fraud_evidence"] is None
    assert not [
        s for d in page["documents"] for s in d["signals"] if s["code"].startswith("reused")
    ]


# --- deciding ---------------------------------------------------------------------------------


def test_a_handler_s_approval_queues_exactly_the_automatic_decision_s_effects(components, alex):
    journey_id = referred(components, alex, settlement="cash", amount="4000")
    case_id = _case_id(components, journey_id)
    before = effects_of(components, journey_id)
    with pytest.raises(Conflict):
        components.cases.decide(casey(), case_id, "approve", "verified")  # not claimed yet
    components.cases.claim(casey(), case_id)
    with pytest.raises(InvalidAnswers):
        components.cases.decide(casey(), case_id, "approve", "not_a_reason")
    with pytest.raises(InvalidAnswers):
        components.cases.decide(casey(), case_id, "approve", "fraud_confirmed")  # a decline's
    closed = components.cases.decide(casey(), case_id, "approve", "verified", "All in order")
    assert closed.status == "closed"
    assert closed.decision["outcome"] == "approved"
    added = [effect for effect in effects_of(components, journey_id) if effect not in before]
    suffix = f":case:{case_id}"
    # The payout is a partner call, queued under its own idempotency key (one per journey).
    [payout] = [key for kind, key in added if kind == "call"]
    assert payout.startswith(f"{journey_id}:call:payout:")
    assert sorted(added) == sorted(
        [
            ("notify", f"{journey_id}:notify:decided:2{suffix}"),
            ("call", payout),
            ("deadline", f"{payout}:deadline"),
        ]
    )
    view = components.queries.journey_view("alex", journey_id)
    assert view["status"] == "decided"
    assert view["outcome"]["outcome"] == "approved"
    assert view["outcome"]["reasons"] == ["We have checked your claim and we will settle it"]
    assert "All in order" not in str(view)
    with pytest.raises(Conflict):
        components.cases.decide(casey(), case_id, "approve", "verified")


def test_a_decline_carries_the_reason_the_customer_may_read(components, alex):
    journey_id = referred(components, alex, settlement="cash", amount="4000")
    case_id = _case_id(components, journey_id)
    components.cases.claim(casey(), case_id)
    components.cases.decide(casey(), case_id, "decline", "not_covered")
    view = components.queries.journey_view("alex", journey_id)
    assert view["outcome"] == {
        "outcome": "declined",
        "reasons": ["Your policy does not cover what happened"],
        "at": view["outcome"]["at"],
    }
    assert [kind for kind, _ in effects_of(components, journey_id)].count("call") == 0


def test_four_eyes_over_the_limit(components, alex):
    journey_id = referred(components, alex, settlement="cash", amount="6000")
    case_id = _case_id(components, journey_id)
    cases = components.cases
    cases.claim(casey(), case_id)
    proposed = cases.decide(casey(), case_id, "approve", "verified")
    assert proposed.status == "awaiting_approval"
    assert proposed.proposal["by"] == "casey" and proposed.proposal["amount"] == "6000.00"
    assert not [k for k, _ in effects_of(components, journey_id) if k == "call"]
    awaiting = cases.cases(morgan(), CaseFilters(status="awaiting_approval"))
    assert [c["id"] for c in awaiting] == [case_id]
    # The proposer cannot give the second approval, nor can another handler.
    with pytest.raises(Forbidden):
        cases.decide(casey(), case_id, "approve", "verified")
    with pytest.raises(Forbidden):
        cases.decide(staff("drew", Role.HANDLER), case_id, "approve", "verified")
    # A senior handler who proposed it cannot approve it either.
    senior_case = _case_id(components, referred(components, alex, settlement="cash", amount="7000"))
    cases.claim(morgan(), senior_case)
    assert cases.decide(morgan(), senior_case, "approve", "verified").status == "awaiting_approval"
    with pytest.raises(Forbidden):
        cases.decide(morgan(), senior_case, "approve", "verified")
    # A senior handler without a step-up (a password, or a second factor too long ago).
    with pytest.raises(StepUpRequired):
        cases.decide(morgan(level=1), case_id, "approve", "verified")
    with pytest.raises(StepUpRequired):
        cases.decide(morgan(minutes_ago=10), case_id, "approve", "verified")
    assert not [k for k, _ in effects_of(components, journey_id) if k == "call"]
    # Morgan, stepped up, approves Casey's proposal: paid once.
    approved = cases.decide(morgan(), case_id, "approve", "verified")
    assert approved.status == "closed"
    assert approved.decision["by"] == "morgan" and approved.decision["proposed_by"] == "casey"
    assert [k for k, _ in effects_of(components, journey_id)].count("call") == 1
    actions = [(e["action"], e["actor"]) for e in audit_of(components, case_id)]
    assert actions == [
        ("case.opened", "system"),
        ("case.claimed", "casey"),
        ("case.proposed", "casey"),
        ("case.decided", "morgan"),
    ]
    decided = audit_of(components, case_id)[-1]["details"]
    assert decided["before.status"] == "awaiting_approval"
    assert decided["after.status"] == "closed"
    assert decided["proposed_by"] == "casey"


# --- referring to fraud -----------------------------------------------------------------------


def test_refer_to_fraud_moves_the_case_to_the_fraud_queue(components, alex):
    journey_id = referred(components, alex, settlement="cash", amount="4000")
    case_id = _case_id(components, journey_id)
    components.cases.claim(casey(), case_id)
    moved = components.cases.refer_to_fraud(casey(), case_id)
    assert (moved.queue, moved.assignee, moved.priority) == ("fraud", None, "high")
    with pytest.raises(NotFound):  # Casey cannot see the fraud queue
        components.cases.case(casey(), case_id)
    assert [c["id"] for c in components.cases.cases(riley(), CaseFilters(queue="fraud"))] == [
        case_id
    ]
    [entry] = [e for e in audit_of(components, case_id) if e["action"] == "case.referred_to_fraud"]
    assert entry["details"]["before.queue"] == "claims"
    assert entry["details"]["after.queue"] == "fraud"


def test_a_case_waiting_on_the_customer_is_not_referred_to_fraud(components, alex):
    """Referring it would open it again and hide the question the customer has not answered."""
    journey_id = referred(components, alex, settlement="cash", amount="4000")
    case_id = _case_id(components, journey_id)
    components.cases.claim(casey(), case_id)
    components.cases.request_information(casey(), case_id, code="parked_where")
    with pytest.raises(Conflict):
        components.cases.refer_to_fraud(casey(), case_id)
    assert components.cases.case(casey(), case_id)["case"]["status"] == "awaiting_customer"


# --- clearing of fraud: back to the claims queue ----------------------------------------------


def test_return_to_queue_clears_a_fraud_case_back_to_the_claims_queue(components, jordan):
    journey_id = referred(components, jordan)
    case_id = _case_id(components, journey_id)
    cases = components.cases
    cases.claim(riley(), case_id)
    with pytest.raises(NotFound):  # Casey cannot see the fraud queue
        cases.return_to_queue(casey(), case_id, "claims", "Cleared")
    back = cases.return_to_queue(riley(), case_id, "claims", "  Marker is for another car  ")
    assert (back.queue, back.assignee, back.status, back.priority) == (
        "claims",
        None,
        "open",
        "normal",
    )
    assert [c["id"] for c in cases.cases(casey(), CaseFilters(queue="claims"))] == [case_id]
    view = cases.case(casey(), case_id)
    assert [n["text"] for n in view["notes"]] == ["Marker is for another car"]
    note_id = view["notes"][0]["id"]
    [entry] = [e for e in audit_of(components, case_id) if e["action"] == "case.returned"]
    assert entry["actor"] == "riley"
    assert {k: v for k, v in entry["details"].items() if k != "journey_id"} == {
        "note": note_id,
        "before.queue": "fraud",
        "after.queue": "claims",
        "before.assignee": "riley",
        "after.assignee": None,
        "before.priority": "high",
        "after.priority": "normal",
    }
    [event] = [e for e in journey_events(components, journey_id) if e["type"] == "case.returned"]
    assert event["data"] == {
        "case": case_id,
        "by": "riley",
        "note": note_id,
        "before.queue": "fraud",
        "after.queue": "claims",
        "before.assignee": "riley",
        "after.assignee": None,
        "before.priority": "high",
        "after.priority": "normal",
    }
    assert "another car" not in str(event) + str(entry)
    cases.claim(casey(), case_id)
    decided = cases.decide(casey(), case_id, "approve", "verified")
    assert decided.status == "closed"


def test_return_to_queue_refusals_change_nothing(components, jordan):
    journey_id = referred(components, jordan)
    case_id = _case_id(components, journey_id)
    cases = components.cases

    def state():
        return case_of(components, journey_id), audit_of(components, case_id)

    with pytest.raises(Conflict):  # nobody holds it: claim it first
        cases.return_to_queue(riley(), case_id, "claims", "Cleared")
    cases.claim(riley(), case_id)
    before = state()
    with pytest.raises(HeldBy):  # not the holder
        cases.return_to_queue(morgan(), case_id, "claims", "Cleared")
    for queue in ("nowhere", "", "claims\x00"):
        with pytest.raises(InvalidAnswers) as unknown:
            cases.return_to_queue(riley(), case_id, queue, "Cleared")
        assert [e.field for e in unknown.value.errors] == ["queue"]
    with pytest.raises(Conflict):  # already there
        cases.return_to_queue(riley(), case_id, "fraud", "Cleared")
    for note in ("", "   ", "x" * 5001, "bad\u202e"):
        with pytest.raises(InvalidAnswers) as empty:
            cases.return_to_queue(riley(), case_id, "claims", note)
        assert [e.field for e in empty.value.errors] == ["note"]
    cases.request_information(riley(), case_id, code="parked_where")
    with pytest.raises(Conflict):  # waiting for the customer
        cases.return_to_queue(riley(), case_id, "claims", "Cleared")
    assert state()[0]["status"] == "awaiting_customer"
    assert state()[0]["queue"] == "fraud"
    assert [e["action"] for e in state()[1]][len(before[1]) :] == ["case.information_requested"]


def test_a_handler_cannot_send_a_case_to_a_queue_they_do_not_work(components, alex):
    """Casey holds a claims case: the fraud queue is not Casey's, so it cannot be a target
    (refer to fraud is the way there); a senior handler working both may send it."""
    case_id = _case_id(components, referred(components, alex, settlement="cash", amount="4000"))
    cases = components.cases
    cases.claim(casey(), case_id)
    with pytest.raises(InvalidAnswers) as refused:
        cases.return_to_queue(casey(), case_id, "fraud", "Looks odd")
    assert [e.field for e in refused.value.errors] == ["queue"]
    assert case_of(components, _journey_of(components, case_id))["queue"] == "claims"
    signed_in(components, "morgan", Role.SENIOR_HANDLER)
    cases.reassign(casey(), case_id, "morgan")
    moved = cases.return_to_queue(morgan(), case_id, "fraud", "Looks odd")
    assert (moved.queue, moved.assignee, moved.priority) == ("fraud", None, "high")


def _journey_of(components, case_id: str) -> str:
    with components.store.read() as connection:
        from wayline.store import cases as case_rows

        case = case_rows.get(connection, case_id)
    assert case is not None
    return case.journey_id


# --- more information -------------------------------------------------------------------------


def test_more_information_round_trip(components, jordan):
    journey_id = referred(components, jordan)
    case_id = _case_id(components, journey_id)
    cases = components.cases
    cases.claim(riley(), case_id)
    task = cases.request_information(riley(), case_id, code="parked_where")
    assert task.prompt == "Where was the car parked?"
    notices = [key for kind, key in effects_of(components, journey_id) if kind == "notify"]
    assert f"{journey_id}:notify:information:{task.id}" in notices
    assert [c["status"] for c in cases.cases(riley(), CaseFilters(queue="fraud"))] == [
        "awaiting_customer"
    ]
    assert cases.tasks_for("jordan", journey_id) == [
        {
            "id": task.id,
            "kind": "question",
            "prompt": "Where was the car parked?",
            "accept": [],
            "requested_at": task.requested_at.isoformat(),
        }
    ]
    with pytest.raises(NotFound):
        cases.tasks_for("alex", journey_id)
    with pytest.raises(NotFound):
        cases.answer_task("alex", journey_id, task.id, "On the street")
    with pytest.raises(InvalidAnswers):
        cases.answer_task("jordan", journey_id, task.id, "  ")
    answered = cases.answer_task("jordan", journey_id, task.id, "On the street outside my house")
    assert answered.status == "answered"
    with pytest.raises(Conflict):
        cases.answer_task("jordan", journey_id, task.id, "Again")
    assert cases.tasks_for("jordan", journey_id) == []
    [back] = cases.cases(riley(), CaseFilters(queue="fraud"))
    assert (back["status"], back["assignee"]) == ("open", "riley")
    page = cases.case(riley(), case_id)
    assert page["tasks"][0]["answer"] == "On the street outside my house"
    types = [e["type"] for e in journey_events(components, journey_id)]
    assert "case.information_requested" in types and "case.information_received" in types
    assert "outside my house" not in str(journey_events(components, journey_id))
    received = [
        e for e in audit_of(components, case_id) if e["action"] == "case.information_received"
    ]
    assert [(e["actor"], e["actor_kind"]) for e in received] == [("jordan", "customer")]
    view = jordan.journey(journey_id)
    assert not [e for e in view["events"] if e["type"].startswith("case.")]


def test_an_upload_task_takes_only_files_uploaded_for_it(components, jordan):
    journey_id = referred(components, jordan)
    case_id = _case_id(components, journey_id)
    components.cases.claim(riley(), case_id)
    task = components.cases.request_information(riley(), case_id, code="other_plate")
    document = {
        "id": "doc-plate-1",
        "filename": "plate.jpg",
        "content_type": "image/jpeg",
        "size": 1234,
        "sha256": "0" * 64,
        "storage_key": "k/plate",
    }
    with pytest.raises(InvalidAnswers):
        components.cases.record_task_upload(
            "jordan", journey_id, task.id, {**document, "content_type": "application/pdf"}
        )
    components.cases.record_task_upload("jordan", journey_id, task.id, document)
    with pytest.raises(InvalidAnswers):
        components.cases.answer_task("jordan", journey_id, task.id, documents=["someone-else"])
    done = components.cases.answer_task("jordan", journey_id, task.id, documents=["doc-plate-1"])
    assert done.documents == ["doc-plate-1"]


def test_a_case_view_is_audited_even_with_no_change(components, alex):
    case_id = _case_id(components, referred(components, alex, settlement="cash", amount="4000"))
    components.cases.case(casey(), case_id)
    [viewed] = [e for e in audit_of(components, case_id) if e["action"] == "case.viewed"]
    assert viewed["actor"] == "casey" and viewed["at"].replace(tzinfo=UTC) <= datetime.now(UTC)
