"""The identity API on SQLite and PostgreSQL: `GET /api/v1/me` says who is signed in and
nothing more; `GET /api/v1/audit` gives auditors the log, filtered, refuses bad filters by name
and records every read; `POST /api/v1/admin/sessions/revoke` lets admins end every session of
one subject, on the record, and changes nothing when refused."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from identity_kit import USER_AGENT, customer, signed_in, staff
from journey_api import PROBLEM

from wayline.identity.audit import Action, Entry, Origin, Outcome
from wayline.identity.principal import Principal
from wayline.identity.roles import Role
from wayline.store.audit import AuditRow

ClientAs = Callable[[Principal | None], TestClient]


@pytest.fixture
def client_as(app: Any) -> Iterator[ClientAs]:
    opened: list[TestClient] = []

    def make(principal: Principal | None) -> TestClient:
        http = signed_in(app, principal)
        opened.append(http)
        return http

    yield make
    for http in opened:
        http.close()


def entries(app: Any, **filters: Any) -> list[AuditRow]:
    rows: list[AuditRow] = app.state.audit.entries(**filters)
    return rows


# --- /me ------------------------------------------------------------------------------------


def test_me_says_who_is_signed_in_and_nothing_more(app: Any, client_as: ClientAs) -> None:
    alex = customer(app, "alex", level=2)
    response = client_as(alex).get("/api/v1/me")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"subject", "kind", "roles", "assurance", "authenticated_at", "expires_at"}
    assert body["subject"] == "alex" and body["kind"] == "customer"
    assert body["roles"] == ["customer"] and body["assurance"] == 2
    assert body["authenticated_at"] == alex.authenticated_at.isoformat()
    lifetime = app.state.sessions.service.policy.lifetime
    assert (
        body["expires_at"] > (alex.authenticated_at + lifetime - timedelta(minutes=1)).isoformat()
    )


def test_me_names_a_staff_member_s_roles(app: Any, client_as: ClientAs) -> None:
    body = client_as(staff(app, Role.SENIOR_HANDLER, "morgan")).get("/api/v1/me").json()
    assert (body["subject"], body["kind"], body["roles"]) == ("morgan", "staff", ["senior_handler"])


def test_me_is_401_for_nobody(client_as: ClientAs) -> None:
    response = client_as(None).get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM)


# --- /audit ---------------------------------------------------------------------------------


@pytest.fixture
def logged(app: Any) -> list[AuditRow]:
    """Three entries: alex signs in, casey is denied, sam's sessions are revoked."""
    audit, origin = app.state.audit, Origin("198.51.100.4", "Browser")
    return [
        audit.record(Entry(Action.SIGN_IN, Outcome.SUCCESS, customer(app, "alex"), origin)),
        audit.record(
            Entry(Action.ROLE_DENIED, Outcome.DENIED, staff(app, Role.HANDLER, "casey"), origin)
        ),
        audit.record(
            Entry(
                Action.SESSION_REVOKED,
                Outcome.SUCCESS,
                target_type="subject",
                target_id="sam",
                details={"count": 1},
            )
        ),
    ]


def test_auditors_read_the_log_newest_first(
    app: Any, client_as: ClientAs, logged: list[AuditRow]
) -> None:
    response = client_as(staff(app, Role.AUDITOR, "ada")).get("/api/v1/audit")
    assert response.status_code == 200, response.text
    listed = response.json()["entries"]
    assert [e["id"] for e in listed] == [row.id for row in reversed(logged)]
    assert listed[2]["ip"] == "198.51.100.4" and listed[2]["user_agent"] == "Browser"
    assert listed[0]["details"] == {"count": 1}


def test_the_filters_narrow_the_log(app: Any, client_as: ClientAs, logged: list[AuditRow]) -> None:
    http = client_as(staff(app, Role.AUDITOR, "ada"))

    def ids(query: str) -> list[str]:
        response = http.get(f"/api/v1/audit?{query.replace('+', '%2B')}")
        assert response.status_code == 200, response.text
        return [e["id"] for e in response.json()["entries"]]

    # First: each read is recorded after it is made, and the newest entry is a read from then on.
    assert ids("limit=1") == [logged[2].id]
    assert ids("actor=casey") == [logged[1].id]
    assert ids("action=sign_in") == [logged[0].id]
    assert ids("target_type=subject&target_id=sam") == [logged[2].id]
    assert ids("target_type=subject&target_id=alex") == []
    # A target's id alone, or its type alone: everything about one id, or about one kind.
    assert ids("target_id=sam") == [logged[2].id]
    assert ids("target_type=subject&action=session_revoked") == [logged[2].id]
    assert ids(f"since={(logged[2].at + timedelta(seconds=1)).isoformat()}&action=sign_in") == []
    since = (logged[0].at - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    assert ids(f"since={since}&action=sign_in") == [logged[0].id]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=last-tuesday", "since"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("target_id=%01sam", "target_id"),
        ("target_type=" + "t" * 41, "target_type"),
        ("action=sign%20in", "action"),
        ("actor=" + "x" * 101, "actor"),
    ],
)
def test_bad_filters_are_422_naming_the_field_and_read_nothing(
    app: Any, client_as: ClientAs, query: str, field: str
) -> None:
    response = client_as(staff(app, Role.AUDITOR, "ada")).get(f"/api/v1/audit?{query}")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert field in [error["field"] for error in response.json()["errors"]]
    assert entries(app, action="audit_read") == []  # a refused read is not a read


def test_every_read_is_recorded_with_the_filters_used_not_their_values(
    app: Any, client_as: ClientAs, logged: list[AuditRow]
) -> None:
    http = client_as(staff(app, Role.AUDITOR, "ada"))
    assert http.get("/api/v1/audit?actor=casey&action=role_denied").status_code == 200
    [read] = entries(app, action="audit_read")
    assert (read.actor, read.actor_kind, read.outcome) == ("ada", "staff", "success")
    assert read.details == {"filters": "actor,action", "count": 1}
    assert read.user_agent == USER_AGENT and read.ip
    # The next read shows the first.
    newest = http.get("/api/v1/audit?limit=1").json()["entries"][0]
    assert newest["id"] == read.id


@pytest.mark.parametrize("role", [Role.HANDLER, Role.ANALYST, Role.ADMIN, Role.CUSTOMER], ids=str)
def test_only_auditors_read_the_log(app: Any, client_as: ClientAs, role: Role) -> None:
    who = customer(app, "alex") if role is Role.CUSTOMER else staff(app, role)
    response = client_as(who).get("/api/v1/audit")
    assert response.status_code == 403
    assert entries(app, action="audit_read") == []
    assert client_as(None).get("/api/v1/audit").status_code == 401


# --- revoking sessions ----------------------------------------------------------------------


def _works(http: TestClient) -> bool:
    status: int = http.get("/api/v1/me").status_code
    return status == 200


def test_an_admin_ends_every_session_of_one_subject_on_the_record(
    app: Any, client_as: ClientAs
) -> None:
    phone, laptop = client_as(customer(app, "alex")), client_as(customer(app, "alex"))
    sam = client_as(customer(app, "sam"))
    admin = client_as(staff(app, Role.ADMIN, "root"))

    response = admin.post("/api/v1/admin/sessions/revoke", json={"subject": "alex"})

    assert response.status_code == 200, response.text
    assert response.json() == {"subject": "alex", "ended": 2}
    assert not _works(phone) and not _works(laptop)
    assert _works(sam) and _works(admin)
    [entry] = entries(app, action="session_revoked")
    assert (entry.actor, entry.target_type, entry.target_id) == ("root", "subject", "alex")
    assert entry.details == {"count": 2, "source": "api"}
    assert entry.user_agent == USER_AGENT


def test_revoking_needs_the_csrf_header(app: Any, client_as: ClientAs) -> None:
    alex = client_as(customer(app, "alex"))
    admin = client_as(staff(app, Role.ADMIN))
    del admin.headers["x-csrf-token"]
    response = admin.post("/api/v1/admin/sessions/revoke", json={"subject": "alex"})
    assert response.status_code == 403
    assert _works(alex)
    assert entries(app, action="session_revoked") == []


@pytest.mark.parametrize(
    "role", [Role.AUDITOR, Role.SENIOR_HANDLER, Role.HANDLER, Role.CUSTOMER], ids=str
)
def test_only_admins_revoke(app: Any, client_as: ClientAs, role: Role) -> None:
    alex = client_as(customer(app, "alex"))
    who = customer(app, "sam") if role is Role.CUSTOMER else staff(app, role)
    response = client_as(who).post("/api/v1/admin/sessions/revoke", json={"subject": "alex"})
    assert response.status_code == 403
    assert _works(alex)
    assert entries(app, action="session_revoked") == []
    [denied] = entries(app, action="role_denied")
    assert denied.details["permission"] == "revoke_sessions"


@pytest.mark.parametrize(
    "body",
    [{}, {"subject": ""}, {"subject": "   "}, {"subject": "x" * 101}, {"subject": 7},
     {"subject": "alex", "everyone": True}],
    ids=["missing", "empty", "blank", "too-long", "number", "extra-field"],
)  # fmt: skip
def test_a_bad_revoke_is_422_and_ends_nothing(
    app: Any, client_as: ClientAs, body: dict[str, Any]
) -> None:
    alex = client_as(customer(app, "alex"))
    response = client_as(staff(app, Role.ADMIN)).post("/api/v1/admin/sessions/revoke", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] in ("subject", "everyone")
    assert _works(alex)
    assert entries(app, action="session_revoked") == []


def test_a_since_at_the_calendar_s_edge_means_the_first_moment(
    app: Any, client_as: ClientAs
) -> None:
    """0001-01-01T00:00+23:59 is a valid time with no UTC datetime: it lies before every
    entry, so the whole log is shown (it was once a 500, then a 422 the document denied)."""
    harper = client_as(staff(app, Role.AUDITOR, "ada"))
    everything = harper.get("/api/v1/audit").json()["entries"]
    response = harper.get("/api/v1/audit?since=0001-01-01T00:00:00%2B23:59")
    assert response.status_code == 200, response.text
    assert len(response.json()["entries"]) == len(everything) + 1  # the first read, recorded


@pytest.mark.parametrize(
    "query",
    [
        "since=%ff%fe",
        "actor=%00",
        "actor=%ed%a0%80",
        "since=9999-99-99",
        "since=%2B275760-09-13T00:00:00Z",
        "limit=1e3",
        "limit=-1",
        "limit=99999999999999999999999",
        "action=" + "a" * 300,
        "target_type=" + "t" * 41 + "&target_id=x",
        "since=" + "9" * 5000,
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/audit", "/staff/audit"])
def test_hostile_filters_are_refused_without_a_server_error(
    app: Any, client_as: ClientAs, path: str, query: str
) -> None:
    response = client_as(staff(app, Role.AUDITOR, "ada")).get(f"{path}?{query}")
    assert 400 <= response.status_code < 500, f"{path}?{query[:60]}: {response.status_code}"
    assert entries(app, action="audit_read") == []
