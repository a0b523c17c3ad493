"""Opening cases: in the same transaction as the journey change that calls for one.

`UnitOfWork` runs `open_case` after writing every journey change (its `after_write`): when
the change refers the journey (its status becomes in_review) or makes one of the definition's
`open_when` conditions true, and the journey has no open case, a case opens in the queue the
rules choose, with its priority, SLA due time and the reasons staff read. The case, its
`case.opened` event and its audit entry commit with the journey change, or none of them do.
"""

from __future__ import annotations

from datetime import datetime

from wayline.ids import new_id
from wayline.journeys import review
from wayline.journeys.engine import JourneyState
from wayline.journeys.loader import Journey
from wayline.runtime.cases import records
from wayline.runtime.unit_of_work import Change
from wayline.store import Connection
from wayline.store import cases as case_rows
from wayline.store.cases import CaseRow

SYSTEM = "system"  # the actor of a case opened by the rules
OPENED = "case.opened"


def open_case(connection: Connection, change: Change) -> CaseRow | None:
    """Open the case `change` calls for, if any (the case opened, or None)."""
    journey, after = change.journey, change.transition.state
    before = change.before.state if change.before else None
    wanted = _wanted(journey, before, after, change.now)
    if wanted is None or case_rows.open_case_of(connection, after.id) is not None:
        return None
    fired = {case.rule for case in case_rows.cases_of(connection, [after.id])}
    wanted = _wanted(journey, before, after, change.now, fired)
    if wanted is None:
        return None
    case = CaseRow(
        id=new_id(),
        journey_id=after.id,
        journey=journey.name,
        customer_id=after.customer_id,
        reference=after.reference,
        queue=wanted.queue,
        status=case_rows.OPEN,
        priority=wanted.priority,
        assignee=None,
        rule=wanted.rule,
        reasons=list(wanted.reasons),
        opened_at=change.now,
        due_at=wanted.due_at,
        updated_at=change.now,
    )
    case_rows.insert_case(connection, case)
    data: dict[str, records.Detail] = {
        "queue": case.queue,
        "priority": case.priority,
        "rule": case.rule,
        "due_at": case.due_at.isoformat(),
    }
    records.record(connection, OPENED, case, SYSTEM, change.now, data=data)
    return case


def _wanted(
    journey: Journey,
    before: JourneyState | None,
    after: JourneyState,
    now: datetime,
    fired: set[str] | None = None,
) -> review.Opening | None:
    if journey.definition.review is None:
        return None
    return review.opening(journey, before, after, now, fired or ())
