"""Deciding a case: approve or decline with a declared reason, and four-eyes approval.

A decision carries on exactly as an automatic one (journeys/review.decided): the journey's
outcome and reasons, its decision.made event and the effects declared `at: decided` (payout,
the decision's notification, the payout's deadline timer) are written through the unit of
work, in the same transaction as the case's close, its `case.decided` event and its audit
entry. The customer is told the reason's `tell`; its label and the handler's note stay with
staff.

Four eyes: approving a journey whose amount is over the definition's limit records a proposal
(`case.proposed`; the case awaits approval). A second person who approves over the limit (a
senior handler), who is not the proposer, and whose sign-in meets the permission's step-up,
then approves it, or declines it.
"""

from __future__ import annotations

from typing import Any, Literal

from wayline.errors import Conflict, Forbidden
from wayline.ids import new_id
from wayline.journeys import review
from wayline.journeys.engine import FieldError, InvalidAnswers, Status
from wayline.journeys.schema import ReviewReason
from wayline.runtime.cases.access import Staff
from wayline.runtime.cases.records import Origin
from wayline.runtime.cases.working import CaseDeps, Working, change, held_by, text, working
from wayline.runtime.proof import Proof
from wayline.runtime.results import Position
from wayline.runtime.unit_of_work import Change, Moved
from wayline.store import cases as case_rows
from wayline.store.cases import CaseRow, NoteRow

PROPOSED = "case.proposed"
DECIDED = "case.decided"
MAX_NOTE = 2000
VERDICTS = ("approve", "decline")


def decide(
    cd: CaseDeps,
    staff: Staff,
    case_id: str,
    verdict: str,
    code: str,
    note: str | None = None,
    origin: Origin | None = None,
) -> CaseRow:
    """Approve or decline the case's journey with the reason `code` declares (a list in the
    definition's review block) and an optional note for staff. Returns the case as left:
    closed, or awaiting approval when this was a four-eyes proposal. Refusals: InvalidAnswers
    (an unknown verdict or reason), Conflict (the case is not the caller's, or not waiting for
    a decision), Forbidden (the proposer or someone who may not approve over the limit giving
    the second approval), StepUpRequired (the second approval's sign-in is too weak or old)."""
    chosen = _verdict(verdict)
    with working(cd, staff, case_id, origin) as at:
        reason = _reason(at, chosen, code)
        if at.snapshot.state.status != Status.IN_REVIEW:
            raise Conflict("This journey is not waiting for a decision")
        note_id = _note(at, staff, note)
        if at.case.status == case_rows.AWAITING_APPROVAL:
            return _second(cd, at, staff, chosen, reason, note_id)
        held_by(at.case, staff)
        if chosen == "approve":
            four_eyes = review.four_eyes(at.snapshot.journey, at.snapshot.state, at.now)
            if four_eyes.needed:
                return _propose(at, staff, reason, four_eyes, note_id)
        return _decide(at, staff, chosen, reason, note_id)


def _verdict(verdict: str) -> Literal["approve", "decline"]:
    if verdict == "approve":
        return "approve"
    if verdict == "decline":
        return "decline"
    message = "Choose approve or decline"
    raise InvalidAnswers(message, [FieldError("verdict", message)])


def _reason(at: Working, verdict: Literal["approve", "decline"], code: str) -> ReviewReason:
    found = review.reason(at.review, verdict, code)
    if found is None:
        message = f"Choose a reason to {verdict} from the list"
        raise InvalidAnswers(message, [FieldError("reason", message)])
    return found


def _note(at: Working, staff: Staff, note: str | None) -> str | None:
    if note is None or not note.strip():
        return None
    row = NoteRow(new_id(), at.case.id, at.now, staff.subject, text(note, "note", "", MAX_NOTE))
    case_rows.add_note(at.connection, row)
    return row.id


def _propose(
    at: Working,
    staff: Staff,
    reason: ReviewReason,
    four_eyes: review.FourEyes,
    note_id: str | None,
) -> CaseRow:
    # In pounds and pence, as money is shown (the rule's CEL may give a double: 6000.0).
    amount = f"{four_eyes.amount:.2f}" if four_eyes.amount is not None else None
    proposal = {
        "verdict": "approve",
        "code": reason.code,
        "by": staff.subject,
        "at": at.now.isoformat(),
        "amount": amount,
        "note": note_id,
    }
    values = {"status": case_rows.AWAITING_APPROVAL, "proposal": proposal}
    data = {"code": reason.code, "amount": amount, "note": note_id}
    return change(at, PROPOSED, staff.subject, values, data)


def _second(
    cd: CaseDeps,
    at: Working,
    staff: Staff,
    verdict: Literal["approve", "decline"],
    reason: ReviewReason,
    note_id: str | None,
) -> CaseRow:
    """The second person on a four-eyes proposal: approves it, or declines the journey."""
    proposal = at.case.proposal or {}
    if not cd.access.approves_over_limit(staff):
        if verdict == "approve":
            raise Forbidden("Only a senior handler can approve a payout over the limit")
        raise Forbidden(
            "This case is waiting for a second approval: only a senior handler can decide it"
        )
    if proposal.get("by") == staff.subject:
        raise Forbidden("You proposed this approval: someone else must give the second one")
    Proof(staff.assurance, staff.authenticated_at).require(cd.access.approve_step_up, at.now)
    return _decide(at, staff, verdict, reason, note_id, proposed_by=proposal.get("by"))


def _decide(
    at: Working,
    staff: Staff,
    verdict: Literal["approve", "decline"],
    reason: ReviewReason,
    note_id: str | None,
    proposed_by: str | None = None,
) -> CaseRow:
    """Write the journey's decision as an automatic one would be, then close the case."""
    snapshot, outcome = at.snapshot, review.outcome_of(at.review, verdict)
    transition = review.decided(
        snapshot.journey, snapshot.state, outcome, [reason.tell], at.now, f"case:{at.case.id}"
    )
    position = Position.of(snapshot.journey, transition.state, at.now)
    customer = snapshot.state.customer_id
    change_ = Change(customer, snapshot, transition, snapshot.journey, position.current, at.now)
    try:
        at.uow.write(at.connection, change_)
    except Moved:  # the journey is locked by `working`: only a bug gets here
        raise Conflict("The journey was changed by another request. Reload it.") from None
    decision: dict[str, Any] = {
        "verdict": verdict,
        "outcome": outcome,
        "code": reason.code,
        "by": staff.subject,
        "proposed_by": proposed_by,
        "at": at.now.isoformat(),
        "note": note_id,
    }
    values = {"status": case_rows.CLOSED, "decision": decision, "closed_at": at.now}
    data = {"verdict": verdict, "outcome": outcome, "code": reason.code}
    if proposed_by:
        data["proposed_by"] = proposed_by
    if note_id:
        data["note"] = note_id
    return change(at, DECIDED, staff.subject, values, data)
