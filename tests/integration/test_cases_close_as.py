"""Closing a journey by hand from the workbench ("close as"), through the staff API on
SQLite and PostgreSQL: permission-checked, held by the caller, audited, and the customer is
told how it ended but never staff's words."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cases_kit import audit_of, case_of, journey_events, referred
from fastapi.testclient import TestClient

BASE = "/api/v1/staff"


class Member:
    """A member of staff signed in through the demo sign-in, with their CSRF header."""

    def __init__(self, app: Any, who: str):
        self.http = TestClient(app)
        response = self.http.post("/auth/demo", json={"staff": who, "method": "password"})
        assert response.status_code == 204, response.text
        self.http.headers["X-CSRF-Token"] = self.http.cookies["wayline_csrf"]

    def post(self, path: str, body: Any = None) -> Any:
        return self.http.post(f"{BASE}{path}", json=body)


@pytest.fixture
def casey(app: Any) -> Iterator[Member]:
    member = Member(app, "casey")
    yield member
    member.http.close()


@pytest.fixture
def case(components, alex) -> tuple[str, str]:
    journey_id = referred(components, alex, settlement="cash", amount="4000")
    return journey_id, str(case_of(components, journey_id)["id"])


def test_a_handler_closes_a_journey_as_withdrawn_with_a_reason(components, alex, casey, case):
    journey_id, case_id = case
    reason = "The customer wrote to withdraw the claim"
    url = f"/cases/{case_id}/close-as"
    assert casey.post(url, {"as": "withdrawn", "reason": reason}).status_code == 409  # not held
    assert casey.post(f"/cases/{case_id}/claim").status_code == 200

    response = casey.post(url, {"as": "withdrawn", "reason": reason})
    assert response.status_code == 200, response.text
    assert case_of(components, journey_id)["status"] == "closed"

    seen = alex.journey(journey_id)
    assert seen["status"] == "withdrawn"
    assert seen["ended"] == {"status": "withdrawn", "at": seen["ended"]["at"], "by": "staff"}
    assert reason not in str(seen)  # staff's words stay with staff

    seen_by_staff = casey.http.get(f"{BASE}/cases/{case_id}").json()
    assert seen_by_staff["ended"]["reason"] == reason and seen_by_staff["ended"]["by"] == "staff"
    assert seen_by_staff["holds"] == []
    assert seen_by_staff["actions"]["close_as"] == ["completed", "declined", "withdrawn"]

    [entry] = [e for e in audit_of(components, case_id) if e["action"] == "case.closed_as"]
    assert entry["actor"] == "casey" and entry["outcome"] == "success"
    types = [event["type"] for event in journey_events(components, journey_id)]
    assert "journey.withdrawn" in types and "case.closed_as" in types

    again = casey.post(url, {"as": "completed", "reason": "again"})
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"as": "expired", "reason": "late"}, "as"),
        ({"as": "completed"}, "reason"),
        ({"as": "completed", "reason": "   "}, "reason"),
        ({"as": "completed", "reason": "x", "extra": 1}, "extra"),
    ],
)
def test_bad_closes_are_refused_and_change_nothing(components, alex, casey, case, body, field):
    journey_id, case_id = case
    assert casey.post(f"/cases/{case_id}/claim").status_code == 200
    response = casey.post(f"/cases/{case_id}/close-as", body)
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
    assert alex.journey(journey_id)["status"] == "in_review"
    assert case_of(components, journey_id)["status"] != "closed"


def test_customers_may_not_close(alex, case):
    _, case_id = case
    response = alex.http.post(
        f"{BASE}/cases/{case_id}/close-as", json={"as": "completed", "reason": "mine"}
    )
    assert response.status_code == 403


def test_the_workbench_page_closes_as_chosen_and_says_what_is_missing(
    components, alex, casey, case
):
    journey_id, case_id = case
    assert casey.post(f"/cases/{case_id}/claim").status_code == 200
    page = casey.http.get(f"/workbench/cases/{case_id}").text
    assert "Close the journey by hand" in page
    token = casey.http.headers["X-CSRF-Token"]
    url = f"/workbench/cases/{case_id}/close-as"
    missing = casey.http.post(url, data={"csrf_token": token, "as": "", "reason": ""})
    assert missing.status_code == 422
    assert "Choose completed, declined or withdrawn" in missing.text
    assert alex.journey(journey_id)["status"] == "in_review"
    done = casey.http.post(
        url,
        data={"csrf_token": token, "as": "completed", "reason": "Confirmed by phone"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert alex.journey(journey_id)["status"] == "completed"
    assert "Close the journey by hand" not in casey.http.get(f"/workbench/cases/{case_id}").text
