"""The workbench's tables: cases, their notes, the tasks handlers set customers, and staff's
saved views. Functions take the Connection of the caller's transaction, so that a case's
change, its journey event and its audit entry commit together (runtime/cases)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from wayline.store import tables
from wayline.store.codec import open_text, seal_text
from wayline.store.database import aware

OPEN = "open"  # in its queue, claimed or not
AWAITING_CUSTOMER = "awaiting_customer"  # the customer was asked for more information
AWAITING_APPROVAL = "awaiting_approval"  # a four-eyes proposal waits for its second person
CLOSED = "closed"
STATUSES = (OPEN, AWAITING_CUSTOMER, AWAITING_APPROVAL, CLOSED)
TASK_OPEN = "open"
TASK_ANSWERED = "answered"

_c = tables.cases.c
_n = tables.case_notes.c
_t = tables.case_tasks.c
_v = tables.case_views.c


@dataclass(frozen=True)
class CaseRow:
    id: str
    journey_id: str
    journey: str
    customer_id: str
    reference: str | None
    queue: str
    status: str
    priority: str
    assignee: str | None
    rule: str
    reasons: list[str]
    opened_at: datetime
    due_at: datetime
    updated_at: datetime
    proposal: dict[str, Any] | None = None
    decision: dict[str, Any] | None = None
    closed_at: datetime | None = None

    def values(self) -> dict[str, Any]:
        """The row's columns, for an insert."""
        return {
            "id": self.id,
            "journey_id": self.journey_id,
            "journey": self.journey,
            "customer_id": self.customer_id,
            "reference": self.reference,
            "open_journey": None if self.status == CLOSED else self.journey_id,
            "queue": self.queue,
            "status": self.status,
            "priority": self.priority,
            "assignee": self.assignee,
            "rule": self.rule,
            "reasons": list(self.reasons),
            "proposal": self.proposal,
            "decision": self.decision,
            "opened_at": self.opened_at,
            "due_at": self.due_at,
            "updated_at": self.updated_at,
            "closed_at": self.closed_at,
        }


@dataclass(frozen=True)
class Filters:
    """What a queue listing is narrowed to; None: not narrowed by it."""

    queues: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    assignee: str | None = None
    unassigned: bool = False
    priorities: tuple[str, ...] = ()
    due_before: datetime | None = None  # overdue: due before now
    journey_types: tuple[str, ...] = ()
    limit: int = 200


@dataclass(frozen=True)
class TaskRow:
    id: str
    case_id: str
    journey_id: str
    kind: str
    prompt: str
    accept: list[str]
    status: str
    requested_by: str
    requested_at: datetime
    answered_at: datetime | None = None
    answer: str | None = None
    documents: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NoteRow:
    id: str
    case_id: str
    at: datetime
    author: str
    text: str


@dataclass(frozen=True)
class ViewRow:
    id: str
    owner: str
    name: str
    filters: dict[str, Any]
    created_at: datetime


# --- cases -----------------------------------------------------------------------------------


def insert_case(connection: Connection, case: CaseRow) -> None:
    """DuplicateKey (from the store's transaction) when the journey already has an open case."""
    connection.execute(insert(tables.cases), case.values())


def get(connection: Connection, case_id: str, lock: bool = False) -> CaseRow | None:
    """One case; with `lock`, its row locked until the transaction ends (PostgreSQL: SELECT
    … FOR UPDATE; SQLite's write transaction holds the whole database already)."""
    if "\x00" in case_id:
        return None
    query = select(tables.cases).where(_c.id == case_id)
    if lock:
        query = query.with_for_update()
    row = connection.execute(query).first()
    return _case(row) if row else None


def open_case_of(connection: Connection, journey_id: str) -> CaseRow | None:
    row = connection.execute(select(tables.cases).where(_c.open_journey == journey_id)).first()
    return _case(row) if row else None


def cases_of(connection: Connection, journey_ids: list[str]) -> list[CaseRow]:
    """Every case of these journeys, oldest first."""
    if not journey_ids:
        return []
    rows = connection.execute(
        select(tables.cases)
        .where(_c.journey_id.in_(sorted(set(journey_ids))))
        .order_by(_c.opened_at, _c.id)
    ).all()
    return [_case(row) for row in rows]


def change(connection: Connection, case_id: str, values: dict[str, Any]) -> None:
    """Update a case the caller holds locked; closing it frees its journey for another."""
    if values.get("status") == CLOSED:
        values = {**values, "open_journey": None}
    connection.execute(update(tables.cases).where(_c.id == case_id).values(values))


def listed(connection: Connection, filters: Filters) -> list[CaseRow]:
    """Cases matching every filter, most pressing first: the soonest due, then the oldest."""
    query = select(tables.cases)
    if filters.queues:
        query = query.where(_c.queue.in_(filters.queues))
    if filters.statuses:
        query = query.where(_c.status.in_(filters.statuses))
    if filters.assignee is not None:
        query = query.where(_c.assignee == filters.assignee)
    if filters.unassigned:
        query = query.where(_c.assignee.is_(None))
    if filters.priorities:
        query = query.where(_c.priority.in_(filters.priorities))
    if filters.due_before is not None:
        query = query.where(_c.due_at < filters.due_before)
    if filters.journey_types:
        query = query.where(_c.journey.in_(filters.journey_types))
    query = query.order_by(_c.due_at, _c.opened_at, _c.id).limit(filters.limit)
    return [_case(row) for row in connection.execute(query).all()]


def _case(row: Any) -> CaseRow:
    return CaseRow(
        id=row.id,
        journey_id=row.journey_id,
        journey=row.journey,
        customer_id=row.customer_id,
        reference=row.reference,
        queue=row.queue,
        status=row.status,
        priority=row.priority,
        assignee=row.assignee,
        rule=row.rule,
        reasons=list(row.reasons or []),
        opened_at=aware(row.opened_at),
        due_at=aware(row.due_at),
        updated_at=aware(row.updated_at),
        proposal=row.proposal,
        decision=row.decision,
        closed_at=aware(row.closed_at),
    )


# --- notes -----------------------------------------------------------------------------------


def _note_field(note_id: str) -> str:
    return f"case_notes.text:{note_id}"


def _journey_of_case(connection: Connection, case_id: str) -> tuple[str, str] | None:
    row = connection.execute(select(_c.journey_id, _c.customer_id).where(_c.id == case_id)).first()
    return (row.journey_id, row.customer_id) if row else None


def add_note(connection: Connection, note: NoteRow) -> None:
    """A note is free text about the customer: sealed as personal, for the journey's owner
    when the case is found (store/codec.py)."""
    text = note.text
    found = _journey_of_case(connection, note.case_id)
    if found is not None:
        journey_id, subject = found
        text = seal_text(connection, subject, journey_id, _note_field(note.id), "personal", text)
    connection.execute(
        insert(tables.case_notes),
        {
            "id": note.id,
            "case_id": note.case_id,
            "at": note.at,
            "author": note.author,
            "text": text,
        },
    )


def notes_of(connection: Connection, case_ids: list[str]) -> list[NoteRow]:
    """The notes on these cases, oldest first."""
    rows = connection.execute(
        select(tables.case_notes, _c.journey_id)
        .join(tables.cases, _c.id == _n.case_id)
        .where(_n.case_id.in_(case_ids))
        .order_by(_n.at, _n.id)
    ).all()
    return [
        NoteRow(
            r.id,
            r.case_id,
            aware(r.at),
            r.author,
            open_text(connection, r.journey_id, _note_field(r.id), r.text),
        )
        for r in rows
    ]


# --- tasks -----------------------------------------------------------------------------------


def add_task(connection: Connection, task: TaskRow) -> None:
    connection.execute(
        insert(tables.case_tasks),
        {
            "id": task.id,
            "case_id": task.case_id,
            "journey_id": task.journey_id,
            "kind": task.kind,
            "prompt": task.prompt,
            "accept": list(task.accept),
            "status": task.status,
            "requested_by": task.requested_by,
            "requested_at": task.requested_at,
        },
    )


def task(connection: Connection, journey_id: str, task_id: str) -> TaskRow | None:
    if "\x00" in task_id or "\x00" in journey_id:
        return None
    row = connection.execute(
        select(tables.case_tasks).where(_t.id == task_id, _t.journey_id == journey_id)
    ).first()
    return _task(connection, row) if row else None


def tasks_of_case(connection: Connection, case_ids: list[str]) -> list[TaskRow]:
    rows = connection.execute(
        select(tables.case_tasks).where(_t.case_id.in_(case_ids)).order_by(_t.requested_at, _t.id)
    ).all()
    return [_task(connection, row) for row in rows]


def tasks_of_journey(connection: Connection, journey_id: str) -> list[TaskRow]:
    rows = connection.execute(
        select(tables.case_tasks)
        .where(_t.journey_id == journey_id)
        .order_by(_t.requested_at, _t.id)
    ).all()
    return [_task(connection, row) for row in rows]


def answer_task(
    connection: Connection, task_id: str, answer: str | None, documents: list[str], at: datetime
) -> bool:
    """Record the answer of an open task; False when it was answered meanwhile. The answer is
    the customer's own words: sealed as personal (store/codec.py)."""
    if answer is not None:
        found = connection.execute(
            select(_t.journey_id, _c.customer_id)
            .join(tables.cases, _c.id == _t.case_id)
            .where(_t.id == task_id)
        ).first()
        if found is not None:
            answer = seal_text(
                connection,
                found.customer_id,
                found.journey_id,
                _task_field(task_id),
                "personal",
                answer,
            )
    done = connection.execute(
        update(tables.case_tasks)
        .where(_t.id == task_id, _t.status == TASK_OPEN)
        .values(status=TASK_ANSWERED, answer=answer, documents=list(documents), answered_at=at)
    )
    return done.rowcount == 1


def _task_field(task_id: str) -> str:
    return f"case_tasks.answer:{task_id}"


def _task(connection: Connection, row: Any) -> TaskRow:
    return TaskRow(
        id=row.id,
        case_id=row.case_id,
        journey_id=row.journey_id,
        kind=row.kind,
        prompt=row.prompt,
        accept=list(row.accept or []),
        status=row.status,
        requested_by=row.requested_by,
        requested_at=aware(row.requested_at),
        answered_at=aware(row.answered_at),
        answer=(
            open_text(connection, row.journey_id, _task_field(row.id), row.answer)
            if row.answer is not None
            else None
        ),
        documents=list(row.documents or []),
    )


# --- saved views -----------------------------------------------------------------------------


def save_view(connection: Connection, view: ViewRow) -> None:
    """DuplicateKey when the owner already has a view of that name."""
    connection.execute(
        insert(tables.case_views),
        {
            "id": view.id,
            "owner": view.owner,
            "name": view.name,
            "filters": view.filters,
            "created_at": view.created_at,
        },
    )


def views_of(connection: Connection, owner: str) -> list[ViewRow]:
    rows = connection.execute(
        select(tables.case_views).where(_v.owner == owner).order_by(_v.name)
    ).all()
    return [ViewRow(r.id, r.owner, r.name, dict(r.filters), aware(r.created_at)) for r in rows]


def delete_view(connection: Connection, owner: str, view_id: str) -> bool:
    done = connection.execute(delete(tables.case_views).where(_v.owner == owner, _v.id == view_id))
    return done.rowcount == 1


def change_owner(connection: Connection, journey_id: str, owner: str) -> int:
    """The journey's cases now belong to its new owner (a visitor's journey passed to the
    customer it created: runtime/ownership.py); how many."""
    result = connection.execute(
        update(tables.cases).where(_c.journey_id == journey_id).values(customer_id=owner)
    )
    return result.rowcount
