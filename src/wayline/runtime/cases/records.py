"""What every workbench action leaves behind, in the transaction of the action itself: an
event in the journey's log (`case.claimed`, …: ids and codes, never an answer or a note's
text) and an entry in the append-only audit log (who, what, when, which case, and the
before and after of what changed).

Audit rows are built here rather than through identity.audit.AuditLog, which the runtime
cannot import (identity/ uses the runtime); they are the same rows, in the same table.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from wayline.ids import new_id
from wayline.journeys.engine import Event
from wayline.store import Connection
from wayline.store import audit as audit_store
from wayline.store import events as event_log
from wayline.store.audit import AuditRow
from wayline.store.audit import Detail as Detail  # callers name it from here
from wayline.store.cases import CaseRow

TARGET = "case"
STAFF = "staff"
CUSTOMER = "customer"
SUCCESS = "success"
# The fields of a case whose before and after an audit entry records.
TRACKED = ("queue", "status", "assignee", "priority")


class Origin(Protocol):
    """Where the request behind an action came from (identity.audit.Origin fits it): the
    client address and user agent the audit entry records. None: not known (a worker)."""

    @property
    def ip(self) -> str | None: ...

    @property
    def user_agent(self) -> str | None: ...


def record(
    connection: Connection,
    action: str,
    case: CaseRow,
    actor: str,
    now: datetime,
    *,
    after: CaseRow | None = None,
    data: Mapping[str, Detail] | None = None,
    actor_kind: str = STAFF,
    origin: Origin | None = None,
) -> None:
    """Append the case event to the journey's log and the audit entry, both for `action`
    (the entry with `origin`'s address and user agent, when given)."""
    details: dict[str, Detail] = {"journey_id": case.journey_id, **(data or {})}
    if after is not None:
        details.update(changed(case, after))
    event = Event(action, now, data={"case": case.id, "by": actor, **_event_data(details)})
    event_log.append(connection, case.journey_id, (event,))
    audit(connection, action, case.id, actor, now, details, actor_kind, origin)


def audit(
    connection: Connection,
    action: str,
    case_id: str,
    actor: str,
    now: datetime,
    details: dict[str, Detail],
    actor_kind: str = STAFF,
    origin: Origin | None = None,
) -> None:
    """Only the audit entry (a view of a case is not an event of the journey)."""
    row = AuditRow(
        id=new_id(),
        at=now,
        actor=actor,
        actor_kind=actor_kind,
        action=action,
        outcome=SUCCESS,
        ip=origin.ip if origin else None,
        user_agent=audit_store.short_user_agent(origin.user_agent if origin else None),
        target_type=TARGET,
        target_id=case_id,
        details=audit_store.short_details(details),
    )
    audit_store.append(connection, row)


def changed(before: CaseRow, after: CaseRow) -> dict[str, Detail]:
    """`before.FIELD` and `after.FIELD` for each tracked field that changed."""
    found: dict[str, Detail] = {}
    for name in TRACKED:
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            found[f"before.{name}"] = old
            found[f"after.{name}"] = new
    return found


def _event_data(details: dict[str, Detail]) -> dict[str, Any]:
    return {key: value for key, value in details.items() if key != "journey_id"}
