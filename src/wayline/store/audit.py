"""The SQL for the audit log: append a row, read rows. There is no update and no delete here,
and the table's triggers refuse both (migration 0007), so the log can only grow.

Functions take a Connection, so that an entry commits with the change it records when there is
one (a case decided and its entry: both or neither).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from wayline.store import tables
from wayline.store.database import aware

_audit = tables.audit_log.c
Detail = str | int | float | bool | None
MAX_DETAIL_TEXT = 200
MAX_USER_AGENT = 300


def short_details(details: dict[str, Detail]) -> dict[str, Detail]:
    """Details as an entry keeps them: text cut to MAX_DETAIL_TEXT (ids, codes, names)."""
    return {
        key: value[:MAX_DETAIL_TEXT] if isinstance(value, str) else value
        for key, value in details.items()
    }


def short_user_agent(user_agent: str | None) -> str | None:
    """A user agent as an entry keeps it: cut to the column's length; empty is none."""
    return (user_agent or "")[:MAX_USER_AGENT] or None


@dataclass(frozen=True)
class AuditRow:
    id: str
    at: datetime
    actor: str | None
    actor_kind: str | None
    action: str
    outcome: str
    ip: str | None
    user_agent: str | None
    target_type: str | None
    target_id: str | None
    details: dict[str, Any]


def append(connection: Connection, row: AuditRow) -> None:
    connection.execute(
        insert(tables.audit_log),
        {
            "id": row.id,
            "at": row.at,
            "actor": row.actor,
            "actor_kind": row.actor_kind,
            "action": row.action,
            "outcome": row.outcome,
            "ip": row.ip,
            "user_agent": row.user_agent,
            "target_type": row.target_type,
            "target_id": row.target_id,
            "details": row.details,
        },
    )


def entries(
    connection: Connection,
    *,
    actor: str | None = None,
    action: str | None = None,
    target: tuple[str | None, str | None] | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[AuditRow]:
    """Entries matching every filter given, newest first, at most `limit`."""
    query = select(tables.audit_log)
    if actor is not None:
        query = query.where(_audit.actor == actor)
    if action is not None:
        query = query.where(_audit.action == action)
    if target is not None:
        # A target's type, its id, or both: every entry about cases, or about one id.
        kind, target_id = target
        if kind is not None:
            query = query.where(_audit.target_type == kind)
        if target_id is not None:
            query = query.where(_audit.target_id == target_id)
    if since is not None:
        query = query.where(_audit.at >= since)
    rows = connection.execute(query.order_by(_audit.at.desc(), _audit.id.desc()).limit(limit))
    return [
        AuditRow(
            id=row.id,
            at=aware(row.at),
            actor=row.actor,
            actor_kind=row.actor_kind,
            action=row.action,
            outcome=row.outcome,
            ip=row.ip,
            user_agent=row.user_agent,
            target_type=row.target_type,
            target_id=row.target_id,
            details=dict(row.details or {}),
        )
        for row in rows
    ]
