"""Points a review of the workbench found, each held here: a case is given only to a member of
staff Wayline knows who works its queue (never `me` or `nobody`); a document is recorded as
viewed only when the copy asked for can be served; a case the caller may not see is refused
before its journey is locked or loaded; the staff API refuses a missing principal with a
sign-in, not an assert."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from cases_kit import audit_of, case_of, casey, morgan, referred, riley, signed_in
from test_staff_cases_api import Staff, refused

from wayline.errors import Conflict, NotFound
from wayline.journeys.engine import InvalidAnswers
from wayline.runtime.cases import working
from wayline.store import cases as case_rows
from wayline.store import documents as document_rows
from wayline.store import tables
from wayline.web.access import SignInNeeded
from wayline.web.api.staff_cases import Acting


def _case_id(components, journey_id: str) -> str:
    with components.store.read() as connection:
        case = case_rows.open_case_of(connection, journey_id)
    assert case is not None
    return case.id


def _refused_to(error: pytest.ExceptionInfo[InvalidAnswers]) -> str:
    [field] = error.value.errors
    assert field.field == "to"
    return field.message


# --- reassigning --------------------------------------------------------------------------------


def test_a_case_is_given_only_to_staff_known_to_work_its_queue(components, alex, jordan):
    case_id = _case_id(components, referred(components, alex, settlement="cash", amount="4000"))
    fraud_case = _case_id(components, referred(components, jordan))
    cases = components.cases
    cases.claim(casey(), case_id)
    for word in ("nobody", "me", "Nobody", "ME"):
        with pytest.raises(InvalidAnswers) as error:
            cases.reassign(casey(), case_id, word)
        assert "is not a member of staff" in _refused_to(error)
    # Never signed in as staff: "drew", and a customer's id (alex has a customer session).
    signed_in(components, "alex", "customer", kind="customer")
    for who in ("drew", "alex"):
        with pytest.raises(InvalidAnswers) as error:
            cases.reassign(casey(), case_id, who)
        assert _refused_to(error) == f"{who} is not a member of staff who works this queue"
    # Signed in as staff, but with no role on the queue (an analyst), then with one.
    signed_in(components, "drew", "analyst", minutes_ago=60)
    with pytest.raises(InvalidAnswers):
        cases.reassign(casey(), case_id, "drew")
    signed_in(components, "drew", "handler", minutes_ago=5)
    assert cases.reassign(casey(), case_id, "drew").assignee == "drew"
    # The latest sign-in's roles count: a handler on the fraud queue is refused.
    signed_in(components, "hana", "fraud_investigator", minutes_ago=60)
    signed_in(components, "hana", "handler", minutes_ago=1)
    morgan_ = morgan()
    with pytest.raises(InvalidAnswers) as error:
        cases.reassign(morgan_, fraud_case, "hana")
    assert _refused_to(error) == "hana is not a member of staff who works this queue"
    signed_in(components, "riley", "fraud_investigator")
    assert cases.reassign(morgan_, fraud_case, "riley").assignee == "riley"
    reassigned = [e for e in audit_of(components, case_id) if e["action"] == "case.reassigned"]
    assert [e["details"]["after.assignee"] for e in reassigned] == ["drew"]


def test_the_staff_api_refuses_nobody_naming_to(components, app, alex):
    case_id = _case_id(components, referred(components, alex, settlement="cash", amount="4000"))
    casey_ = Staff(app, "casey")
    assert casey_.ok("POST", f"/cases/{case_id}/claim")["assignee"] == "casey"
    for to in ("nobody", "me", "zz-never-signed-in"):
        refused(casey_.post(f"/cases/{case_id}/reassign", {"to": to}), 422, "to")
    assert case_of(components, _journey_of(components, case_id))["assignee"] == "casey"
    Staff(app, "riley")  # signs in: a fraud investigator works the claims queue
    assert casey_.ok("POST", f"/cases/{case_id}/reassign", {"to": "riley"})["assignee"] == "riley"


def _journey_of(components, case_id: str) -> str:
    with components.store.read() as connection:
        case = case_rows.get(connection, case_id)
    assert case is not None
    return case.journey_id


# --- documents ----------------------------------------------------------------------------------


def _viewed(components, case_id: str) -> list[str]:
    return [
        e["details"]["copy"]
        for e in audit_of(components, case_id)
        if e["action"] == "case.document_viewed"
    ]


def test_a_document_is_recorded_as_viewed_only_when_its_copy_can_be_served(components, alex):
    case_id = _case_id(components, referred(components, alex, settlement="cash", amount="4000"))
    page = components.cases.case(casey(), case_id)
    document_id = page["documents"][0]["id"]
    docs = tables.documents

    def set_(**values):
        with components.store.write() as connection:
            connection.execute(docs.update().where(docs.c.id == document_id).values(**values))

    set_(display_key=None)
    with pytest.raises(NotFound, match="no display copy"):
        components.cases.document(casey(), case_id, document_id, "display")
    assert components.cases.document(casey(), case_id, document_id, "original")
    assert _viewed(components, case_id) == ["original"]
    set_(status=document_rows.HELD)
    with pytest.raises(Conflict, match="virus"):
        components.cases.document(casey(), case_id, document_id, "original")
    set_(status=document_rows.REMOVED)
    with pytest.raises(NotFound, match="replaced"):
        components.cases.document(casey(), case_id, document_id, "original")
    assert _viewed(components, case_id) == ["original"]


# --- working ------------------------------------------------------------------------------------


def test_a_case_the_caller_may_not_see_is_refused_before_its_journey_is_touched(
    components, jordan, monkeypatch
):
    fraud_case = _case_id(components, referred(components, jordan))
    touched: list[str] = []
    monkeypatch.setattr(working.journey_rows, "lock", lambda c, j: touched.append(j))
    with pytest.raises(NotFound):
        components.cases.claim(casey(), fraud_case)
    assert touched == []
    assert components.cases.claim(riley(), fraud_case).assignee == "riley"
    assert len(touched) == 1


# --- the staff API ------------------------------------------------------------------------------


def test_the_staff_api_refuses_a_request_without_a_principal_with_a_sign_in():
    sessions = SimpleNamespace(principal=lambda request: None)
    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(sessions=sessions)))
    with pytest.raises(SignInNeeded):
        Acting(request)  # type: ignore[arg-type]
