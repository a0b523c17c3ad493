"""The workbench's pages (/workbench) over HTTP, on SQLite and PostgreSQL, tried as an attacker
would: another queue's case, bad forms (no CSRF token, fields the page does not have, a file for
text, a value twice, control characters, too much text), bad filters and views, and the
four-eyes refusals; every refusal a 4xx that changes nothing (a case page shown again is a view
of the case, audited as one). Also: twenty handlers claiming at once through the page (one
wins, the others are told who), and the audit entries pages leave (with where from)."""

from __future__ import annotations

import re
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cases_kit import FRAUD_REASON, effects_of, referred
from identity_kit import USER_AGENT, signed_in, staff

from wayline.identity.roles import Role
from wayline.store import cases as case_rows
from wayline.store import tables

HTML = {"accept": "text/html"}
WATCHED = ("cases", "case_notes", "case_tasks", "case_views", "journeys", "effects", "events")


def as_staff(app: Any, subject: str, role: Role, level: int = 1):
    return signed_in(app, staff(app, role, subject, level))


def token(http) -> str:
    return http.headers["x-csrf-token"]


def post(http, path: str, **fields: str):
    return http.post(
        path, data={"csrf_token": token(http), **fields}, headers=HTML, follow_redirects=False
    )


def case_id_of(components, journey_id: str) -> str:
    with components.store.read() as connection:
        case = case_rows.open_case_of(connection, journey_id)
    assert case is not None
    return case.id


def snapshot(components) -> dict[str, list[tuple]]:
    """What a refused form must leave as it was (the audit log grows by views only)."""
    found = {}
    with components.store.read() as connection:
        for name in WATCHED:
            table = tables.metadata.tables[name]
            found[name] = sorted(map(tuple, connection.execute(table.select()).all()), key=repr)
    return found


def audit_actions(components, case_id: str) -> list[str]:
    with components.store.read() as connection:
        rows = connection.execute(
            tables.audit_log.select()
            .where(tables.audit_log.c.target_id == case_id)
            .order_by(tables.audit_log.c.id)
        ).all()
    return [row.action for row in rows]


@pytest.fixture
def claims_case(components, alex) -> str:
    """Alex's £4,000 cash claim, referred to the claims queue."""
    return case_id_of(components, referred(components, alex, settlement="cash", amount="4000"))


@pytest.fixture
def fraud_case(components, jordan) -> str:
    """Jordan's claim, referred to the fraud queue for the fraud bureau's marker."""
    return case_id_of(components, referred(components, jordan))


# --- another queue's case, other people's views -------------------------------------------


ACTIONS = {
    "claim": {},
    "release": {},
    "reassign": {"to": "casey"},
    "notes": {"note": "Looked"},
    "refer-to-fraud": {},
    "return": {"queue": "claims", "note": "Cleared"},
    "resolve": {"note": "Done"},
    "decide": {"verdict": "approve", "reason": "verified"},
    "request-information": {"request": "parked_where", "kind": "", "prompt": ""},
}


def test_a_case_in_a_queue_one_does_not_work_does_not_exist(app, components, fraud_case):
    casey = as_staff(app, "casey", Role.HANDLER)
    before = snapshot(components)
    page = casey.get(f"/workbench/cases/{fraud_case}", headers=HTML)
    assert page.status_code == 404 and "Page not found" in page.text
    assert fraud_case not in page.text and FRAUD_REASON not in page.text
    for action, fields in ACTIONS.items():
        answer = post(casey, f"/workbench/cases/{fraud_case}/{action}", **fields)
        assert answer.status_code == 404, (action, answer.status_code)
    listed = casey.get("/workbench/cases", headers=HTML)
    assert listed.status_code == 200 and fraud_case not in listed.text
    assert snapshot(components) == before
    assert audit_actions(components, fraud_case) == ["case.opened"]


def test_no_such_case_and_someone_elses_view_are_not_found(app, components, claims_case):
    casey, morgan = (
        as_staff(app, "casey", Role.HANDLER),
        as_staff(app, "morgan", Role.SENIOR_HANDLER),
    )
    saved = post(morgan, "/workbench/views", name="Morgan's", queue="claims")
    assert saved.status_code == 303
    view_id = parse_qs(urlsplit(saved.headers["location"]).query)["view"][0]
    assert casey.get(f"/workbench/cases?view={view_id}", headers=HTML).status_code == 404
    assert post(casey, f"/workbench/views/{view_id}/delete").status_code == 404
    assert morgan.get(f"/workbench/cases?view={view_id}", headers=HTML).status_code == 200
    for path in ("/workbench/cases/zz-none", "/workbench/cases/zz-none/claim"):
        method = casey.get if path.endswith("none") else None
        answer = method(path, headers=HTML) if method else post(casey, path)
        assert answer.status_code == 404


# --- bad forms -----------------------------------------------------------------------------


def test_bad_forms_are_refused_and_change_nothing(app, components, claims_case):
    casey = as_staff(app, "casey", Role.HANDLER)
    assert post(casey, f"/workbench/cases/{claims_case}/claim").status_code == 303
    base = f"/workbench/cases/{claims_case}"
    before = snapshot(components)

    no_token = casey.post(f"{base}/notes", data={"note": "x"}, headers=HTML)
    assert no_token.status_code == 403
    wrong_token = casey.post(f"{base}/notes", data={"csrf_token": "x.y", "note": "x"}, headers=HTML)
    assert wrong_token.status_code == 403
    assert post(casey, f"{base}/notes", note="x", extra="y").status_code == 400
    twice = casey.post(
        f"{base}/notes",
        content=f"csrf_token={token(casey)}&note=a&note=b",
        headers={**HTML, "content-type": "application/x-www-form-urlencoded"},
    )
    assert twice.status_code == 400
    as_file = casey.post(
        f"{base}/notes",
        data={"csrf_token": token(casey)},
        files={"note": ("note.txt", b"hello", "text/plain")},
        headers=HTML,
    )
    assert as_file.status_code == 400

    refused = [
        ("notes", {"note": ""}, "note", "Enter the note"),
        ("notes", {"note": "x" * 5001}, "note", "Use 5,000 characters or fewer"),
        ("notes", {"note": "bell\x07"}, "note", "Remove the control character"),
        ("notes", {"note": "nul\x00"}, "note", "Remove the control character"),
        ("reassign", {"to": "a\x00b"}, "reassign-to", "Remove the control character"),
        ("reassign", {"to": "x" * 101}, "reassign-to", "Use 100 characters or fewer"),
        ("decide", {"verdict": "maybe", "reason": "verified", "note": ""}, "approve-reason", ""),
        ("decide", {"verdict": "approve", "reason": "", "note": ""}, "approve-reason", ""),
        ("decide", {"verdict": "decline", "reason": "verified", "note": ""}, "decline-reason", ""),
        (
            "decide",
            {"verdict": "approve", "reason": "verified", "note": "n" * 2001},
            "approve-note",
            "",
        ),
        ("request-information", {"request": "", "kind": "", "prompt": ""}, "request", ""),
        ("request-information", {"request": "nope", "kind": "", "prompt": ""}, "request", ""),
        ("request-information", {"request": "own", "kind": "", "prompt": "Where?"}, "kind", ""),
        ("request-information", {"request": "own", "kind": "question", "prompt": ""}, "prompt", ""),
        ("resolve", {"note": "Nothing"}, "resolve-note", "waiting for a decision"),
    ]
    for action, fields, field_id, message in refused:
        answer = post(casey, f"{base}/{action}", **fields)
        said = f"{action} {fields}: {answer.status_code}"
        assert answer.status_code in (409, 422), said
        assert "<title>Error: " in answer.text, said
        assert f'id="{field_id}-error"' in answer.text, said
        assert f'href="#{field_id}"' in answer.text, said
        assert message in answer.text, said
    assert snapshot(components) == before
    # What was typed comes back (escaped), beside its error.
    answer = post(casey, f"{base}/notes", note="<b>" + "x" * 5000)
    assert "&lt;b&gt;xxx" in answer.text and "<b>xxx" not in answer.text


def test_bad_filters_are_named_and_list_nothing(app, components, fraud_case):
    riley = as_staff(app, "riley", Role.FRAUD_INVESTIGATOR)
    for query, field in [
        ("status=sleeping", "status"),
        ("priority=whenever", "priority"),
        ("overdue=maybe", "overdue"),
        ("assignee=a%00b", "assignee"),
        ("queue=fr%07aud", "queue"),
        ("assignee=%E2%80%AEyesac", "assignee"),
        ("journey=" + "j" * 101, "journey"),
    ]:
        answer = riley.get(f"/workbench/cases?{query}", headers=HTML)
        assert answer.status_code == 422, (query, answer.status_code)
        assert f'id="{field}-error"' in answer.text, query
        assert fraud_case not in answer.text
    listed = riley.get("/workbench/cases?queue=fraud&overdue=", headers=HTML)
    assert listed.status_code == 200 and fraud_case in listed.text
    before = snapshot(components)
    for fields in ({"name": ""}, {"name": "x" * 101}, {"name": "V", "status": "sleeping"}):
        answer = post(riley, "/workbench/views", **fields)
        assert answer.status_code == 422 and "<title>Error: " in answer.text, fields
    assert post(riley, "/workbench/views", name="V", queue="fraud").status_code == 303
    taken = post(riley, "/workbench/views", name="V")
    assert taken.status_code == 409 and "You already have a view called" in taken.text
    after = snapshot(components)
    assert len(after["case_views"]) == len(before["case_views"]) + 1


# --- four eyes -----------------------------------------------------------------------------


@pytest.fixture
def proposed(app, components, alex) -> str:
    """Alex's £6,000 cash claim, proposed for approval by Casey."""
    case_id = case_id_of(components, referred(components, alex, settlement="cash", amount="6000"))
    casey = as_staff(app, "casey", Role.HANDLER)
    assert post(casey, f"/workbench/cases/{case_id}/claim").status_code == 303
    answer = post(
        casey, f"/workbench/cases/{case_id}/decide", verdict="approve", reason="verified", note=""
    )
    assert answer.headers["location"].endswith("done=proposed")
    return case_id


def test_four_eyes_refusals_and_the_second_approval(app, components, proposed):
    path = f"/workbench/cases/{proposed}/decide"
    approve = {"verdict": "approve", "reason": "verified", "note": ""}
    before = snapshot(components)
    casey = as_staff(app, "casey", Role.HANDLER)
    refused = post(casey, path, **approve)
    assert refused.status_code == 403
    assert "Only a senior handler can approve a payout over the limit" in refused.text
    weak = as_staff(app, "morgan", Role.SENIOR_HANDLER, level=1)
    answer = post(weak, path, **approve)
    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert location.path == "/staff/sign-in"
    query = parse_qs(location.query)
    assert query["level"] == ["2"] and query["max_age"] == ["300"]
    back = urlsplit(query["next"][0])
    assert back.path == f"/workbench/cases/{proposed}"
    assert parse_qs(back.query) == {
        "verdict": ["approve"],
        "reason": ["verified"],
        "confirmed": ["1"],
    }
    assert snapshot(components) == before

    strong = as_staff(app, "morgan", Role.SENIOR_HANDLER, level=2)
    page = strong.get(query["next"][0], headers=HTML)
    assert "You have confirmed it&#39;s you" in page.text
    assert re.search(r'<option value="verified" selected>', page.text)
    done = post(strong, path, **approve)
    assert done.status_code == 303 and done.headers["location"].endswith("done=decided")
    with components.store.read() as connection:
        journey_id = case_rows.get(connection, proposed).journey_id
    # The payout is a partner call (`call: payment_provider.payout`), queued once.
    payouts = [key for kind, key in effects_of(components, journey_id) if kind == "call"]
    assert len(payouts) == 1 and payouts[0].startswith(f"{journey_id}:call:payout:")
    # Decided once: a second post (a double click, a replay) is refused.
    again = post(strong, path, **approve)
    assert again.status_code == 409


def test_the_proposer_may_not_give_the_second_approval(app, components, alex):
    case_id = case_id_of(components, referred(components, alex, settlement="cash", amount="6000"))
    morgan = as_staff(app, "morgan", Role.SENIOR_HANDLER, level=2)
    assert post(morgan, f"/workbench/cases/{case_id}/claim").status_code == 303
    approve = {"verdict": "approve", "reason": "verified", "note": ""}
    first = post(morgan, f"/workbench/cases/{case_id}/decide", **approve)
    assert first.headers["location"].endswith("done=proposed")
    before = snapshot(components)
    second = post(morgan, f"/workbench/cases/{case_id}/decide", **approve)
    assert second.status_code == 403
    assert "You proposed this approval" in second.text
    assert snapshot(components) == before


# --- claiming at once, and the audit log --------------------------------------------------


def test_twenty_handlers_claim_through_the_page_and_one_wins(app, components, claims_case):
    handlers = [as_staff(app, f"handler-{n}", Role.HANDLER) for n in range(20)]
    start = threading.Barrier(len(handlers))
    answers: list[Any] = []

    def claim(http) -> None:
        start.wait()
        answers.append(post(http, f"/workbench/cases/{claims_case}/claim"))

    threads = [threading.Thread(target=claim, args=(http,)) for http in handlers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [a for a in answers if a.status_code == 303]
    lost = [a for a in answers if a.status_code == 409]
    assert len(won) == 1 and len(lost) == 19
    with components.store.read() as connection:
        holder = case_rows.get(connection, claims_case).assignee
    assert all(f"{holder} is working on this case" in a.text for a in lost)


def test_views_and_actions_leave_audit_entries_the_auditor_reads(app, components, fraud_case):
    riley = as_staff(app, "riley", Role.FRAUD_INVESTIGATOR)
    assert riley.get(f"/workbench/cases/{fraud_case}", headers=HTML).status_code == 200
    assert post(riley, f"/workbench/cases/{fraud_case}/claim").status_code == 303
    assert post(riley, f"/workbench/cases/{fraud_case}/notes", note="Checked").status_code == 303
    asked = post(
        riley,
        f"/workbench/cases/{fraud_case}/request-information",
        request="own",
        kind="question",
        prompt="Where was the car parked?",
    )
    assert asked.status_code == 303
    with components.store.read() as connection:
        rows = connection.execute(
            tables.audit_log.select()
            .where(tables.audit_log.c.target_id == fraud_case)
            .order_by(tables.audit_log.c.id)
        ).all()
    mine = [row for row in rows if row.actor == "riley"]
    assert [row.action for row in mine] == [
        "case.viewed",
        "case.claimed",
        "case.note_added",
        "case.information_requested",
    ]
    assert all(row.user_agent == USER_AGENT for row in mine)
    assert all(row.ip for row in mine)
    claimed = next(row for row in mine if row.action == "case.claimed")
    assert claimed.details["before.assignee"] is None
    assert claimed.details["after.assignee"] == "riley"
    # No note's or prompt's text in the log.
    assert "Checked" not in repr([row.details for row in rows])
    assert "parked" not in repr([row.details for row in rows])
    harper = as_staff(app, "harper", Role.AUDITOR)
    log = harper.get(f"/staff/audit?target_type=case&target_id={fraud_case}", headers=HTML)
    assert log.status_code == 200
    for action in ("case.viewed", "case.claimed", "case.note_added", "case.information_requested"):
        assert action in log.text
