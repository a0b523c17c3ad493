"""The tables of a journey's end of life: legal holds, the retention log, and removing every
row a journey left (runtime/lifecycle.py decides what and when). Functions take the caller's
Connection, so that a removal and its log entry commit together, or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select, update

from wayline.ids import new_id
from wayline.store import answers, cases, documents, events, journeys, tables
from wayline.store.database import aware

CUSTOMER, JOURNEY = "customer", "journey"
_h = tables.legal_holds.c
_j = tables.journeys.c


@dataclass(frozen=True)
class Hold:
    id: str
    scope: str
    target: str
    reason: str
    placed_by: str
    placed_at: datetime


@dataclass(frozen=True)
class JourneyFacts:
    """What retention needs to know of a journey: never an answer."""

    id: str
    journey: str
    version: str
    customer_id: str
    status: str
    outcome: str | None
    updated_at: datetime
    submitted_at: datetime | None


def place_hold(
    connection: Connection, scope: str, target: str, reason: str, by: str, at: datetime
) -> str:
    """A new hold on a customer or a journey; returns its id."""
    hold_id = new_id()
    connection.execute(
        insert(tables.legal_holds).values(
            id=hold_id, scope=scope, target=target, reason=reason, placed_by=by, placed_at=at
        )
    )
    return hold_id


def release_holds(connection: Connection, scope: str, target: str, by: str, at: datetime) -> int:
    """Release every active hold on the target; returns how many there were."""
    result = connection.execute(
        update(tables.legal_holds)
        .where(_h.scope == scope, _h.target == target, _h.released_at.is_(None))
        .values(released_at=at, released_by=by)
    )
    return int(result.rowcount or 0)


def active_holds(connection: Connection) -> list[Hold]:
    """Every hold not released, oldest first."""
    rows = connection.execute(
        select(tables.legal_holds).where(_h.released_at.is_(None)).order_by(_h.placed_at)
    ).all()
    return [Hold(r.id, r.scope, r.target, r.reason, r.placed_by, aware(r.placed_at)) for r in rows]


def is_held(connection: Connection, journey_id: str, customer_id: str) -> bool:
    """Whether a hold names the journey or its customer."""
    found = connection.execute(
        select(_h.id)
        .where(
            _h.released_at.is_(None),
            or_(
                (_h.scope == JOURNEY) & (_h.target == journey_id),
                (_h.scope == CUSTOMER) & (_h.target == customer_id),
            ),
        )
        .limit(1)
    ).first()
    return found is not None


def _facts(row: Any) -> JourneyFacts:
    state = row.state if isinstance(row.state, dict) else {}
    outcome = state.get("outcome")
    return JourneyFacts(
        row.id,
        row.journey,
        row.version,
        row.customer_id,
        row.status,
        outcome if isinstance(outcome, str) else None,
        aware(row.updated_at),
        aware(row.submitted_at) if row.submitted_at is not None else None,
    )


_FACTS = (_j.id, _j.journey, _j.version, _j.customer_id, _j.status, _j.state)
_FACTS_AT = (*_FACTS, _j.updated_at, _j.submitted_at)


def journeys_changed_before(
    connection: Connection, before: datetime, in_flight: frozenset[str]
) -> list[JourneyFacts]:
    """Journeys not changed since `before` (no retention is shorter than what a caller asks
    for, so only these can have expired), but those whose status is `in_flight` (they never
    expire). The state's frame is read raw: its outcome is in clear."""
    rows = connection.execute(
        select(*_FACTS_AT)
        .where(_j.updated_at < before, _j.status.not_in(sorted(in_flight)))
        .order_by(_j.updated_at)
    ).all()
    return [_facts(row) for row in rows]


def journeys_of_customer(connection: Connection, customer_id: str) -> list[JourneyFacts]:
    """Every journey the customer owns, oldest first."""
    rows = connection.execute(
        select(*_FACTS_AT).where(_j.customer_id == customer_id).order_by(_j.created_at)
    ).all()
    return [_facts(row) for row in rows]


def definition_retention(connection: Connection) -> dict[tuple[str, str], Any]:
    """Each registered definition version's `retention` as written (a duration or a mapping)."""
    rows = connection.execute(select(tables.journey_definitions)).all()
    return {
        (row.journey, row.version): (row.document or {}).get("retention", "P7Y") for row in rows
    }


def former_owners(connection: Connection, journey_ids: list[str]) -> set[str]:
    """Subjects who owned these journeys before (visitors whose journeys passed to a
    customer): rows written then are sealed under their keys."""
    c = tables.journey_viewers.c
    rows = connection.execute(select(c.subject).where(c.journey_id.in_(journey_ids))).all()
    return {row.subject for row in rows}


def files_of(connection: Connection, journey_id: str) -> list[str]:
    """Every storage key the journey's documents name (originals and display copies)."""
    c = tables.documents.c
    rows = connection.execute(
        select(c.storage_key, c.display_key).where(c.journey_id == journey_id)
    ).all()
    return [key for row in rows for key in (row.storage_key, row.display_key) if key]


def _by_journey(connection: Connection, table: Any, journey_id: str) -> int:
    result = connection.execute(delete(table).where(table.c.journey_id == journey_id))
    return int(result.rowcount or 0)


# Every table with a journey_id column whose rows go with the journey. `events` and
# `event_outbox` stay: they hold names and ids, no answer, and the event history must stay whole
# for those who replay it. `audit_log` is append-only by triggers.
_JOURNEY_TABLES = (
    tables.answers,
    tables.documents,
    tables.photo_hashes,
    tables.effects,
    tables.idempotency_keys,
    tables.case_tasks,
    tables.email_codes,
    tables.journey_emails,
    tables.resume_links,
    tables.journey_viewers,
)


def remove_journey(connection: Connection, journey_id: str) -> dict[str, int]:
    """Delete every row the journey left but its events and the audit log; returns how many
    rows of each table went (tables with none left out). Files are the caller's: read
    `files_of` first."""
    removed: dict[str, int] = {}
    case_ids = [
        row.id
        for row in connection.execute(
            select(tables.cases.c.id).where(tables.cases.c.journey_id == journey_id)
        ).all()
    ]
    if case_ids:
        notes = connection.execute(
            delete(tables.case_notes).where(tables.case_notes.c.case_id.in_(case_ids))
        )
        removed["case_notes"] = int(notes.rowcount or 0)
    for table in (*_JOURNEY_TABLES, tables.cases):
        removed[table.name] = _by_journey(connection, table, journey_id)
    locks = tables.verification_locks.c
    removed["verification_locks"] = int(
        connection.execute(
            delete(tables.verification_locks).where(locks.scope == f"journey:{journey_id}")
        ).rowcount
        or 0
    )
    removed["journeys"] = int(
        connection.execute(delete(tables.journeys).where(_j.id == journey_id)).rowcount or 0
    )
    return {name: count for name, count in removed.items() if count}


def remove_sessions(connection: Connection, subject: str) -> int:
    """Sign the subject out everywhere (their sessions name them)."""
    c = tables.sessions.c
    return int(
        connection.execute(delete(tables.sessions).where(c.subject == subject)).rowcount or 0
    )


def log(
    connection: Connection,
    at: datetime,
    action: str,
    rule: str,
    removed: dict[str, int],
    journey: JourneyFacts | None = None,
    subject: str | None = None,
) -> None:
    """Record what was removed: kinds and counts, never the data."""
    connection.execute(
        insert(tables.retention_log).values(
            at=at,
            action=action,
            journey_id=journey.id if journey else None,
            journey=journey.journey if journey else None,
            subject=subject,
            rule=rule,
            removed=removed,
        )
    )


def logged(connection: Connection) -> list[dict[str, Any]]:
    """The retention log, oldest first."""
    c = tables.retention_log.c
    rows = connection.execute(select(tables.retention_log).order_by(c.id)).all()
    return [
        {
            "at": aware(r.at).isoformat(),
            "action": r.action,
            "journey_id": r.journey_id,
            "journey": r.journey,
            "subject": r.subject,
            "rule": r.rule,
            "removed": r.removed,
        }
        for r in rows
    ]


def journey_record(connection: Connection, facts: JourneyFacts) -> dict[str, Any]:
    """Everything kept of one journey, opened: for the customer's export."""
    stored = journeys.load(connection, facts.id, facts.customer_id)
    case_rows = cases.cases_of(connection, [facts.id])
    case_ids = [case.id for case in case_rows]
    notes = cases.notes_of(connection, case_ids)
    return {
        "id": facts.id,
        "journey": facts.journey,
        "version": facts.version,
        "status": facts.status,
        "state": stored.state.to_dict() if stored else None,
        "answers": answers.values_of(connection, facts.id),
        "events": events.of(connection, facts.id),
        "cases": [vars(case) for case in case_rows],
        "case_notes": [vars(note) for note in notes],
        "case_tasks": [vars(task) for task in cases.tasks_of_case(connection, case_ids)],
        "documents": list(documents.listed(connection, facts.id).values()),
    }
