"""Ownership of a journey started without signing in (`who: anyone`) passes to the customer
it created.

A visitor's journey is owned by their random subject (`visitor-…`). Its definition's `owner`
is a CEL expression over the journey (answers, data, decision) that yields the customer's id
once there is one (for example once core banking has created the customer). It is evaluated
whenever the journey is sent, decided or completed: with every journey write not in progress.

`transfer` runs in the write transaction of the change it follows (a UnitOfWork after-write),
so the journey's new owner, the audit entry `owner_changed`, the end of its resume links and
the visitor's remaining access (its status page only) commit with that change, or none do. It
runs after the case opening (runtime/cases/opening.py), so a case the same change opened passes
to the customer too.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import structlog

from wayline.ids import new_id
from wayline.journeys import engine
from wayline.journeys.engine import JourneyState, Status
from wayline.journeys.expressions import evaluate
from wayline.journeys.loader import Journey
from wayline.runtime.unit_of_work import Change
from wayline.store import Connection
from wayline.store import audit as audit_store
from wayline.store import cases as case_rows
from wayline.store import journeys as journey_rows
from wayline.store import visitors as visitor_rows
from wayline.store.audit import AuditRow

log = structlog.get_logger("wayline.ownership")
VISITOR_PREFIX = "visitor-"
OWNER_CHANGED = "owner_changed"
MAX_OWNER = 100  # the journeys.customer_id column


def is_visitor(subject: str) -> bool:
    """A visitor's subject (identity/visitors.py makes them)."""
    return subject.startswith(VISITOR_PREFIX)


def new_owner(journey: Journey, state: JourneyState, now: datetime) -> str | None:
    """The customer id the definition's `owner` yields for the journey now, or None: no
    `owner`, the journey still in progress or not a visitor's, or no id yet (null, an error
    from a value not there yet, or not a usable id)."""
    source = journey.definition.owner
    if source is None or state.status is Status.IN_PROGRESS or not is_visitor(state.customer_id):
        return None
    try:
        found: Any = evaluate(source, engine.context(journey, state, state.answers, now))
    except (LookupError, TypeError, ValueError, RuntimeError):
        return None
    if not isinstance(found, str):
        return None
    owner = found.strip()
    if not owner or len(owner) > MAX_OWNER or not owner.isprintable() or is_visitor(owner):
        return None
    return owner


def transfer(
    connection: Connection, journey: Journey, state: JourneyState, now: datetime
) -> str | None:
    """Give the visitor's journey to the customer `owner` names, inside the caller's write
    transaction: the owner changes, the audit log records it, the journey's resume links and
    verified email end, and the visitor keeps its status page. Returns the new owner, or None
    when nothing changed."""
    owner = new_owner(journey, state, now)
    if owner is None:
        return None
    visitor = state.customer_id
    if not journey_rows.change_owner(
        connection, state.id, visitor, owner, replace(state, customer_id=owner)
    ):
        return None
    case_rows.change_owner(connection, state.id, owner)  # a case opened by this same change too
    visitor_rows.add_viewer(connection, state.id, visitor, now)
    visitor_rows.end_links(connection, state.id, now)
    visitor_rows.forget_email(connection, state.id)
    audit_store.append(
        connection,
        AuditRow(
            id=new_id(),
            at=now,
            actor=None,  # the system, by the definition's rule
            actor_kind="system",
            action=OWNER_CHANGED,
            outcome="success",
            ip=None,
            user_agent=None,
            target_type="journey",
            target_id=state.id,
            details={"from": visitor, "to": owner, "journey": journey.name},
        ),
    )
    log.info("journey.owner_changed", journey_id=state.id, journey=journey.name)
    return owner


def after_write(connection: Connection, change: Change) -> str | None:
    """`transfer` for a UnitOfWork change (runtime/unit_of_work.AfterWrite)."""
    return transfer(connection, change.journey, change.transition.state, change.now)


def owner_for_status(connection: Connection, subject: str, journey_id: str) -> str:
    """The owner whose journey `subject` may read the status page of: `subject` itself, or
    the current owner when `subject` is a former owner of it. `subject` otherwise."""
    if visitor_rows.is_viewer(connection, journey_id, subject):
        return journey_rows.owner_of(connection, journey_id) or subject
    return subject
