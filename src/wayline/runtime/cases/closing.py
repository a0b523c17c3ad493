"""Closing a journey by hand: "close as" completed, declined or withdrawn, with a reason.

For a journey whose end came some other way than the definition foresees (the partner
confirmed by phone; the customer asked by letter to withdraw). The journey ends as an
automatic end would (journeys/engine.close_as: its `journey.<end>` event, the effects
declared `at: <end>`, what it held cancelled), written through the unit of work in the same
transaction as the case's close, its `case.closed_as` event and its audit entry. The reason
is kept as a case note and in the journey's record for staff; the customer is told how it
ended, never staff's words.
"""

from __future__ import annotations

from wayline.errors import Conflict
from wayline.ids import new_id
from wayline.journeys import engine
from wayline.journeys.engine import FieldError, InvalidAnswers, NotAvailable, Status
from wayline.runtime.cases.access import Staff
from wayline.runtime.cases.records import Origin
from wayline.runtime.cases.working import CaseDeps, change, held_by, text, working
from wayline.runtime.results import Position
from wayline.runtime.unit_of_work import Change, Moved, count_end
from wayline.store import cases as case_rows
from wayline.store.cases import CaseRow, NoteRow
from wayline.store.outbox import HoldGone

CLOSED_AS = "case.closed_as"
ENDS = {"completed": Status.COMPLETED, "declined": Status.DECLINED, "withdrawn": Status.WITHDRAWN}


def close_as(
    cd: CaseDeps,
    staff: Staff,
    case_id: str,
    end: str,
    reason: str,
    origin: Origin | None = None,
) -> CaseRow:
    """End the case's journey as `end` (completed, declined or withdrawn) and close the case
    the caller holds. Refusals: InvalidAnswers (an unknown end, no reason), Conflict (the
    case is not the caller's, waits for a second approval, or its journey has ended)."""
    to = ENDS.get(end)
    if to is None:
        message = "Choose completed, declined or withdrawn"
        raise InvalidAnswers(message, [FieldError("as", message)])
    body = text(reason, "reason", "Say why the journey is closed")
    with working(cd, staff, case_id, origin) as at:
        held_by(at.case, staff)
        if at.case.status == case_rows.AWAITING_APPROVAL:
            raise Conflict("This case is waiting for a second approval: decide it first")
        snapshot = at.snapshot
        try:
            transition = engine.close_as(snapshot.journey, snapshot.state, to, body, at.now)
        except NotAvailable as refused:
            raise Conflict(refused.detail) from None
        position = Position.of(snapshot.journey, transition.state, at.now)
        customer = snapshot.state.customer_id
        written = Change(customer, snapshot, transition, snapshot.journey, position.current, at.now)
        try:
            at.uow.write(at.connection, written)
        except (Moved, HoldGone):  # the journey is locked by `working`: only a bug gets here
            raise Conflict("The journey was changed by another request. Reload it.") from None
        note = NoteRow(new_id(), at.case.id, at.now, staff.subject, body)
        case_rows.add_note(at.connection, note)
        decision = {
            "verdict": "closed_as",
            "outcome": to.value,
            "by": staff.subject,
            "at": at.now.isoformat(),
            "note": note.id,
        }
        values = {"status": case_rows.CLOSED, "decision": decision, "closed_at": at.now}
        closed = change(at, CLOSED_AS, staff.subject, values, {"as": to.value, "note": note.id})
    count_end(written)  # after the commit: a rolled-back close is not an end
    return closed
