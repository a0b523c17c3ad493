"""The workbench's commands on cases: claim, release, reassign, note, refer to fraud, return
to another queue (cleared of fraud, back to claims), resolve.
Each is one write transaction with the case locked: the change, its `case.*` event in the
journey's log and its audit entry commit together, or nothing does.

Deciding and asking the customer for more information, which touch the journey too, are in
`deciding.py` and `information.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn

from wayline.errors import Conflict, Forbidden
from wayline.ids import new_id
from wayline.journeys import review
from wayline.journeys.engine import FieldError, InvalidAnswers, Status
from wayline.journeys.schema import Queue, Review
from wayline.runtime.cases.access import Staff
from wayline.runtime.cases.records import Origin
from wayline.runtime.cases.working import (
    CaseDeps,
    HeldBy,
    change,
    held_by,
    may_see,
    still_open,
    text,
    working,
)
from wayline.store import cases as case_rows
from wayline.store import sessions as session_rows
from wayline.store.cases import CaseRow, NoteRow

CLAIMED = "case.claimed"
RELEASED = "case.released"
REASSIGNED = "case.reassigned"
NOTE_ADDED = "case.note_added"
REFERRED_TO_FRAUD = "case.referred_to_fraud"
RETURNED = "case.returned"
RESOLVED = "case.resolved"
MAX_STAFF_ID = 100
# The assignee filter's words for the caller and for no one: never a member of staff's id.
RESERVED_STAFF_IDS = frozenset({"me", "nobody"})


def claim(cd: CaseDeps, staff: Staff, case_id: str, origin: Origin | None = None) -> CaseRow:
    """Take the case. Atomic: of any number of staff claiming at once, one gets it and the
    others a HeldBy conflict naming the holder. Claiming a case one already holds does
    nothing."""
    with working(cd, staff, case_id, origin) as at:
        still_open(at.case)
        if at.case.assignee == staff.subject:
            return at.case
        if at.case.assignee is not None:
            raise HeldBy(at.case.assignee)
        return change(at, CLAIMED, staff.subject, {"assignee": staff.subject})


def release(cd: CaseDeps, staff: Staff, case_id: str, origin: Origin | None = None) -> CaseRow:
    """Put the case back in its queue, unassigned: by its holder, or by someone who approves
    over the limit (a senior handler freeing a colleague's case)."""
    with working(cd, staff, case_id, origin) as at:
        still_open(at.case)
        if at.case.assignee is None:
            raise Conflict("Nobody is working on this case")
        _may_hand_over(cd, staff, at.case)
        return change(at, RELEASED, staff.subject, {"assignee": None})


def reassign(
    cd: CaseDeps, staff: Staff, case_id: str, to: str, origin: Origin | None = None
) -> CaseRow:
    """Give the case to another member of staff (`to`, their id): by its holder, by a senior
    handler, or by anyone on the queue while nobody holds it."""
    to = text(to, "to", "Enter who to give the case to", MAX_STAFF_ID)
    if to.casefold() in RESERVED_STAFF_IDS:
        _refuse_to(f"'{to}' is not a member of staff: enter their id")
    with working(cd, staff, case_id, origin) as at:
        still_open(at.case)
        if at.case.assignee is not None:
            _may_hand_over(cd, staff, at.case)
        if at.case.assignee == to:
            raise Conflict(f"{to} is already working on this case")
        roles = session_rows.staff_roles(at.connection, to)
        if roles is None or not may_see(cd, _Colleague(to, frozenset(roles)), at.case):
            _refuse_to(f"{to} is not a member of staff who works this queue")
        return change(at, REASSIGNED, staff.subject, {"assignee": to})


@dataclass(frozen=True)
class _Colleague:
    """A member of staff a case is given to, with the roles of their latest sign-in (the
    queue's roles are judged on them; they are not acting, so assurance does not matter)."""

    subject: str
    roles: frozenset[str]
    assurance: int = 1
    authenticated_at: datetime = datetime.min.replace(tzinfo=UTC)


def _refuse_to(message: str) -> NoReturn:
    raise InvalidAnswers(message, [FieldError("to", message)])


def add_note(
    cd: CaseDeps, staff: Staff, case_id: str, note: str, origin: Origin | None = None
) -> NoteRow:
    """A note on the case, for staff (its text stays in the notes: events and the audit log
    name only the note's id)."""
    body = text(note, "note", "Enter the note")
    with working(cd, staff, case_id, origin) as at:
        row = NoteRow(new_id(), at.case.id, at.now, staff.subject, body)
        case_rows.add_note(at.connection, row)
        change(at, NOTE_ADDED, staff.subject, {}, {"note": row.id})
        return row


def refer_to_fraud(
    cd: CaseDeps, staff: Staff, case_id: str, origin: Origin | None = None
) -> CaseRow:
    """Move the case the caller holds to the definition's fraud queue, unassigned (the fraud
    team picks it up), at that queue's priority if higher; its due time stays."""
    with working(cd, staff, case_id, origin) as at:
        held_by(at.case, staff)
        _not_waiting(at.case)
        target = at.review.fraud_queue
        if target is None:
            raise Conflict("This journey type has no fraud queue")
        if at.case.queue == target:
            raise Conflict("This case is already in the fraud queue")
        queue = review.queue_named(at.review, target)
        priority = max(at.case.priority, queue.priority, key=review.PRIORITIES.index)
        values = {
            "queue": target,
            "assignee": None,
            "status": case_rows.OPEN,
            "priority": priority,
        }
        return change(at, REFERRED_TO_FRAUD, staff.subject, values)


def return_to_queue(
    cd: CaseDeps,
    staff: Staff,
    case_id: str,
    queue: str,
    note: str,
    origin: Origin | None = None,
) -> CaseRow:
    """Send the case the caller holds to another declared queue the caller also works (a
    fraud investigator clearing a claim of fraud sends it back to the claims queue, where a
    handler decides it), with a note saying what was found. The case leaves it unassigned
    and open, at the target queue's priority; its due time stays. The note is kept as a case
    note; the event and audit entry name its id and the queues."""
    body = text(note, "note", "Say what you found")
    with working(cd, staff, case_id, origin) as at:
        held_by(at.case, staff)
        _not_waiting(at.case)
        target = _queue_to_work(cd, staff, at.review, queue)
        if target.name == at.case.queue:
            raise Conflict(f"This case is already in the {target.title} queue")
        row = NoteRow(new_id(), at.case.id, at.now, staff.subject, body)
        case_rows.add_note(at.connection, row)
        values = {
            "queue": target.name,
            "assignee": None,
            "status": case_rows.OPEN,
            "priority": target.priority,
        }
        return change(at, RETURNED, staff.subject, values, {"note": row.id})


def _queue_to_work(cd: CaseDeps, staff: Staff, rules: Review, name: str) -> Queue:
    """The declared queue `name`, when `staff` works it: InvalidAnswers naming `queue`
    otherwise (a case is sent only where its sender could still see it)."""
    try:
        found = review.queue_named(rules, name)
    except KeyError:
        found = None
    if found is None or not cd.access.may_work(staff, found):
        message = "Choose a queue you work"
        raise InvalidAnswers(message, [FieldError("queue", message)])
    return found


def _not_waiting(case: CaseRow) -> None:
    """A case waiting on someone keeps its queue: moving it would open it again, hiding an
    unanswered request or stranding a proposal that waits for its second approval."""
    if case.status == case_rows.AWAITING_APPROVAL:
        raise Conflict("This case is waiting for a second approval: decide it first")
    if case.status == case_rows.AWAITING_CUSTOMER:
        raise Conflict("The customer has not answered yet: wait for their answer")


def resolve(
    cd: CaseDeps, staff: Staff, case_id: str, note: str, origin: Origin | None = None
) -> CaseRow:
    """Close a case the caller holds on a journey that is not waiting for a decision (one a
    rule opened after the journey was decided), with a note saying what was found."""
    body = text(note, "note", "Say what you found")
    with working(cd, staff, case_id, origin) as at:
        held_by(at.case, staff)
        if at.case.status == case_rows.AWAITING_APPROVAL:
            raise Conflict("This case is waiting for a second approval: decide it first")
        if at.snapshot.state.status == Status.IN_REVIEW:
            raise Conflict("This journey is waiting for a decision: approve or decline it")
        row = NoteRow(new_id(), at.case.id, at.now, staff.subject, body)
        case_rows.add_note(at.connection, row)
        decision = {"verdict": "resolved", "by": staff.subject, "at": at.now.isoformat()}
        values = {"status": case_rows.CLOSED, "decision": decision, "closed_at": at.now}
        return change(at, RESOLVED, staff.subject, values, {"note": row.id})


def _may_hand_over(cd: CaseDeps, staff: Staff, case: CaseRow) -> None:
    if case.assignee != staff.subject and not cd.access.approves_over_limit(staff):
        raise Forbidden(
            f"{case.assignee} is working on this case: only they or a senior handler can "
            "hand it over"
        )
