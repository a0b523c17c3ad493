"""Reading the audit log from the web, on the record: every read by the API or the staff page
is itself an entry (`audit_read`), so an auditor's reads can be audited too. The entry names the
filters used, not their values (a filter may hold a customer's id)."""

from __future__ import annotations

from fastapi import Request

from wayline.identity.audit import Action, AuditLog, Entry, Outcome
from wayline.identity.audit_query import AuditQuery
from wayline.store.audit import AuditRow
from wayline.web.access import origin


def read_on_record(request: Request, query: AuditQuery) -> list[AuditRow]:
    """The entries `query` asks for, newest first; the read is recorded after it is made (so
    the answer shows the log as it was). Synchronous: call it from the thread pool."""
    audit: AuditLog = request.app.state.audit
    rows = audit.entries(
        actor=query.actor,
        action=query.action,
        target=query.target,
        since=query.since,
        limit=query.limit,
    )
    audit.record(
        Entry(
            action=Action.AUDIT_READ,
            outcome=Outcome.SUCCESS,
            actor=request.app.state.sessions.principal(request),
            origin=origin(request),
            details={"filters": ",".join(query.given) or "none", "count": len(rows)},
        )
    )
    return rows
