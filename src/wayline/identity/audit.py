"""The audit log of identity and staff actions: sign-in, sign-out, a failed callback, step-up,
a role denied, a session revoked (and, for the workbench, every view of a case and every action
on one). Append-only: entries are written and read, never changed (the store refuses).

An entry says who (the subject and whether customer or staff), when, from where (client address
and user agent), what (the action and its target) and the outcome, with small details. It never
holds a token, a cookie, a password or a customer's answer: `details` takes only short strings,
numbers and booleans, and callers put nothing personal in them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from wayline.identity.principal import Principal
from wayline.ids import new_id
from wayline.runtime.clock import Clock
from wayline.store import Store
from wayline.store import audit as audit_store
from wayline.store.audit import AuditRow
from wayline.store.audit import Detail as Detail  # callers name it from here


class Action(StrEnum):
    SIGN_IN = "sign_in"
    SIGN_OUT = "sign_out"
    SIGN_IN_FAILED = "sign_in_failed"  # a callback refused: bad state, token, or no role
    STEP_UP = "step_up"
    ROLE_DENIED = "role_denied"
    SESSION_REVOKED = "session_revoked"
    AUDIT_READ = "audit_read"  # someone read this log (an auditor's reads are on record too)
    SUBJECT_EXPORTED = "subject_exported"  # a person's data handed out (GDPR access request)


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


@dataclass(frozen=True)
class Origin:
    """Where a request came from: the client address (after trusted proxies) and user agent."""

    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Entry:
    action: str
    outcome: Outcome
    actor: Principal | None = None
    origin: Origin = Origin()
    target_type: str | None = None
    target_id: str | None = None
    details: dict[str, Detail] = field(default_factory=dict)


class AuditLog:
    """Writes entries (each in its own transaction, or in the caller's) and reads them."""

    def __init__(self, store: Store, clock: Clock):
        self._store = store
        self._clock = clock

    def record(self, entry: Entry) -> AuditRow:
        row = self.row(entry)
        with self._store.write() as connection:
            audit_store.append(connection, row)
        return row

    def row(self, entry: Entry) -> AuditRow:
        """The row an entry becomes, for a caller that appends it in its own transaction."""
        return AuditRow(
            id=new_id(),
            at=self._clock.now(),
            actor=entry.actor.subject if entry.actor else None,
            actor_kind=entry.actor.kind.value if entry.actor else None,
            action=str(entry.action),
            outcome=entry.outcome.value,
            ip=entry.origin.ip,
            user_agent=audit_store.short_user_agent(entry.origin.user_agent),
            target_type=entry.target_type,
            target_id=entry.target_id,
            details=audit_store.short_details(entry.details),
        )

    def entries(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        target: tuple[str | None, str | None] | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditRow]:
        with self._store.read() as connection:
            return audit_store.entries(
                connection, actor=actor, action=action, target=target, since=since, limit=limit
            )
