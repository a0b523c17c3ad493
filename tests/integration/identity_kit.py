"""Signing people in for the identity tests without any sign-in route: a session started in the
session store, its cookie, and a CSRF token bound to it (cookie and header), as a browser or API
client holds them after signing in."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from wayline.identity.principal import Kind, Principal
from wayline.identity.roles import Role

USER_AGENT = "IdentityTests/1.0"


def customer(app: Any, subject: str, level: int = 1) -> Principal:
    return Principal.customer(subject, level, app.state.sessions.service.now(), "demo")


def staff(app: Any, role: Role, subject: str | None = None, level: int = 1) -> Principal:
    now = app.state.sessions.service.now()
    return Principal(subject or f"staff-{role}", Kind.STAFF, frozenset({role}), level, now, "demo")


def signed_in(app: Any, principal: Principal | None) -> TestClient:
    """A client signed in as `principal` (None: nobody), its CSRF token in cookie and header.
    Close it when done."""
    sessions, csrf = app.state.sessions, app.state.csrf
    http = TestClient(app, headers={"user-agent": USER_AGENT})
    session_id = "anonymous"
    if principal is not None:
        started = sessions.service.start(principal)
        http.cookies.set(sessions.cookies.session, started.token)
        session_id = started.session.id
    token = csrf.issue(session_id)
    http.cookies.set(csrf.cookie, token)
    http.headers["x-csrf-token"] = token
    return http
