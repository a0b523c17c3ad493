"""The audit log on SQLite and PostgreSQL: append-only in the database itself (UPDATE, DELETE
and on PostgreSQL TRUNCATE are refused, whatever sends them) and in every interface (no route
or command changes or deletes an entry); sign-in, sign-out and refusals are recorded with where
they came from; and no entry holds a cookie, a CSRF token, a password or an answer."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
import typer
from fastapi.testclient import TestClient
from journey_api import ACTIVE_POLICY, CSRF_COOKIE, incident

from wayline.bootstrap import Components
from wayline.cli import app as cli
from wayline.identity.audit import Action, AuditLog, Entry, Origin, Outcome
from wayline.identity.principal import Principal
from wayline.store import tables
from wayline.store.audit import AuditRow
from wayline.web import access

USER_AGENT = "AuditTests/2.0 (X11)"
ANSWER = "Reversed into a bollard marked UNIQUE-ANSWER-93731 at the car park."
PASSWORD = "hunter2-SECRET-44"


def _audit(components: Components) -> AuditLog:
    return AuditLog(components.store, components.clock)


@pytest.fixture
def entry(components: Components) -> AuditRow:
    alex = Principal.customer("alex", 1, components.clock.now(), "demo")
    origin = Origin("192.0.2.1", "UA")
    return _audit(components).record(Entry(Action.SIGN_IN, Outcome.SUCCESS, alex, origin))


def _rows(components: Components) -> list[dict[str, Any]]:
    with components.store.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(sa.select(tables.audit_log))]


# --- append-only in the database -------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        sa.update(tables.audit_log).values(outcome="failure"),
        sa.update(tables.audit_log)
        .values(actor=None)
        .where(tables.audit_log.c.action == "sign_in"),
        sa.delete(tables.audit_log),
        sa.delete(tables.audit_log).where(tables.audit_log.c.action == "sign_in"),
    ],
    ids=["update-all", "update-one", "delete-all", "delete-one"],
)
def test_entries_cannot_be_changed_or_deleted(
    components: Components, entry: AuditRow, statement: Any
) -> None:
    before = _rows(components)
    refused = pytest.raises(sa.exc.DatabaseError, match="append-only")
    with refused, components.store.engine.begin() as connection:
        connection.execute(statement)
    assert _rows(components) == before and len(before) == 1


def test_postgresql_refuses_truncate_too(
    components: Components, entry: AuditRow, is_postgres: bool
) -> None:
    if not is_postgres:
        # SQLite has no TRUNCATE: its DELETE without WHERE is refused above.
        assert components.store.engine.dialect.name == "sqlite"
        return
    refused = pytest.raises(sa.exc.DatabaseError, match="append-only")
    with refused, components.store.engine.begin() as connection:
        connection.execute(sa.text("TRUNCATE audit_log"))
    assert len(_rows(components)) == 1


def test_appending_still_works_after_a_refused_change(
    components: Components, entry: AuditRow
) -> None:
    with pytest.raises(sa.exc.DatabaseError), components.store.engine.begin() as connection:
        connection.execute(sa.delete(tables.audit_log))
    _audit(components).record(Entry(Action.SIGN_OUT, Outcome.SUCCESS))
    assert sorted(row["action"] for row in _rows(components)) == ["sign_in", "sign_out"]


# --- append-only in every interface ----------------------------------------------------------


def test_no_route_changes_or_deletes_audit_entries(app: Any) -> None:
    audit_routes = [route for route in access.served(app) if "audit" in (route.path or "")]
    assert {route.path for route in audit_routes} == {"/api/v1/audit", "/staff/audit"}
    for route in audit_routes:
        assert set(route.methods or ()) <= {"GET", "HEAD"}, route.path
    with TestClient(app) as http:
        for path in ("/api/v1/audit", "/staff/audit"):
            for method in ("DELETE", "PUT", "PATCH", "POST"):
                assert http.request(method, path).status_code == 405, f"{method} {path}"


def test_the_audit_command_only_lists() -> None:
    # Typer's groups are click groups of its own (not click.Group subclasses): read `commands`.
    group: Any = typer.main.get_command(cli)
    audit: Any = group.commands["audit"]
    assert set(audit.commands) == {"list"}


# --- what is recorded, and what never is -----------------------------------------------------


def _signed_in_alex(app: Any) -> TestClient:
    http = TestClient(app, headers={"user-agent": USER_AGENT})
    response = http.post("/auth/demo", json={"customer": "alex"})
    assert response.status_code == 204, response.text
    http.headers["x-csrf-token"] = http.cookies[CSRF_COOKIE]
    return http


def test_sign_in_refusal_and_sign_out_are_recorded_with_where_from(
    app: Any, components: Components
) -> None:
    with _signed_in_alex(app) as http:
        assert http.get("/staff").status_code == 403
        assert http.get("/api/v1/audit").status_code == 403
        assert http.post("/auth/sign-out").status_code == 204

    rows = sorted(_rows(components), key=lambda row: row["id"])
    assert [row["action"] for row in rows] == ["sign_in", "role_denied", "role_denied", "sign_out"]
    for row in rows:
        assert (row["actor"], row["actor_kind"]) == ("alex", "customer")
        assert row["user_agent"] == USER_AGENT
        assert row["ip"]  # the test client's address
    assert [row["outcome"] for row in rows] == ["success", "denied", "denied", "success"]
    assert rows[1]["details"] == {"permission": "staff_area", "method": "GET", "route": "/staff"}
    assert rows[2]["details"]["route"] == "/api/v1/audit"


def test_the_page_sign_out_is_recorded_too(app: Any, components: Components) -> None:
    with _signed_in_alex(app) as http:
        response = http.post(
            "/sign-out", data={"csrf_token": http.cookies[CSRF_COOKIE]}, follow_redirects=False
        )
        assert response.status_code == 303
    actions = [row["action"] for row in sorted(_rows(components), key=lambda row: row["id"])]
    assert actions == ["sign_in", "sign_out"]


def test_no_entry_holds_a_cookie_a_token_a_password_or_an_answer(
    app: Any, components: Components
) -> None:
    with _signed_in_alex(app) as http:
        secrets = {
            "session cookie": http.cookies["wayline_session"],
            "csrf token": http.cookies[CSRF_COOKIE],
            "password": PASSWORD,
            "answer": "UNIQUE-ANSWER-93731",
            "policy number": ACTIVE_POLICY["alex"],
        }
        journey = http.post("/api/v1/journeys", json={"type": "motor-claim"}).json()
        for step, answers in (
            ("policy", {"policy_number": ACTIVE_POLICY["alex"]}),
            ("incident", incident("glass", description=ANSWER)),
        ):
            body = {"answers": answers, "revision": journey["revision"]}
            journey = http.post(f"/api/v1/journeys/{journey['id']}/steps/{step}", json=body).json()
        assert journey["answers"]["description"] == ANSWER
        # Refused with a password in the query and the body: neither is written down.
        assert http.get(f"/staff/audit?password={PASSWORD}").status_code == 403
        revoke = http.post("/api/v1/admin/sessions/revoke", json={"subject": PASSWORD})
        assert revoke.status_code == 403
        assert http.post("/auth/sign-out").status_code == 204

    rows = _rows(components)
    assert {row["action"] for row in rows} == {"sign_in", "role_denied", "sign_out"}
    for row in rows:
        for column, value in row.items():
            for what, secret in secrets.items():
                assert secret not in str(value), f"{what} in audit_log.{column}"
