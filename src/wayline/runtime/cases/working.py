"""What every workbench command shares: the case read and locked in the command's write
transaction, the checks of who may act on it, and the case's change written with its event
and audit entry.

Staff who may not work a case's queue are told it does not exist (NotFound), as a customer
asking for another's journey is; a case someone else holds is a Conflict naming them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from wayline.errors import Conflict, NotFound
from wayline.journeys import review
from wayline.journeys import text as words
from wayline.journeys.engine import FieldError, InvalidAnswers
from wayline.journeys.schema import Queue, Review
from wayline.runtime.cases import records
from wayline.runtime.cases.access import Access, Staff
from wayline.runtime.dependencies import Dependencies
from wayline.runtime.unit_of_work import Snapshot, UnitOfWork
from wayline.store import Connection
from wayline.store import cases as case_rows
from wayline.store import journeys as journey_rows
from wayline.store.cases import CaseRow

MAX_TEXT = 5000  # a note, a prompt, an answer: long enough for anything said in words


class HeldBy(Conflict):
    """Someone else holds the case: `holder` says who (the workbench shows it)."""

    def __init__(self, holder: str):
        super().__init__(f"{holder} is working on this case")
        self.holder = holder


@dataclass(frozen=True)
class CaseDeps:
    deps: Dependencies
    access: Access


@dataclass(frozen=True)
class Working:
    """A case as a command found it, locked, with its journey and where the command is."""

    connection: Connection
    case: CaseRow
    snapshot: Snapshot
    now: datetime
    uow: UnitOfWork  # to write a journey change in this transaction
    origin: records.Origin | None = None  # where the request came from, for the audit entry

    @property
    def review(self) -> Review:
        found = self.snapshot.journey.definition.review
        if found is None:  # only journeys with a review block have cases
            raise Conflict("This journey type has no review rules")
        return found


@contextmanager
def working(
    cd: CaseDeps, staff: Staff, case_id: str, origin: records.Origin | None = None
) -> Iterator[Working]:
    """One write transaction with the case locked, for staff who may work its queue; `origin`
    goes into the audit entries of the changes made through it."""
    with cd.deps.uow.writing() as connection:
        case = case_rows.get(connection, case_id, lock=True)
        if case is None:
            raise NotFound(f"There is no case '{case_id}'")
        # Before the journey is locked and loaded: a case the caller may not see costs no
        # more than one that does not exist.
        if not may_see(cd, staff, case):
            raise NotFound(f"There is no case '{case_id}'")
        journey_rows.lock(connection, case.journey_id)
        snapshot = cd.deps.uow.load(connection, case.journey_id, None)
        yield Working(connection, case, snapshot, cd.deps.clock.now(), cd.deps.uow, origin)


def may_see(cd: CaseDeps, staff: Staff, case: CaseRow) -> bool:
    """Whether `staff` may see and work `case`: a role its queue names (judged by the current
    definition of its journey type; a queue since removed is left to those who approve over
    the limit, so no case is lost)."""
    queue = queue_of(cd, case)
    if queue is None:
        return cd.access.works_cases(staff) and cd.access.approves_over_limit(staff)
    return cd.access.may_work(staff, queue)


def queue_of(cd: CaseDeps, case: CaseRow) -> Queue | None:
    journey = cd.deps.catalog.get(case.journey)
    rules = journey.definition.review if journey else None
    if rules is None:
        return None
    try:
        return review.queue_named(rules, case.queue)
    except KeyError:
        return None


def still_open(case: CaseRow) -> None:
    if case.status == case_rows.CLOSED:
        raise Conflict("This case is closed")


def held_by(case: CaseRow, staff: Staff) -> None:
    """Conflict unless `staff` holds the case (claim it first; someone else has it)."""
    still_open(case)
    if case.assignee is None:
        raise Conflict("Claim this case before working on it")
    if case.assignee != staff.subject:
        raise HeldBy(case.assignee)


def change(
    at: Working,
    action: str,
    actor: str,
    values: dict[str, Any],
    data: Mapping[str, records.Detail] | None = None,
    actor_kind: str = records.STAFF,
) -> CaseRow:
    """Write `values` to the case, with its event and audit entry (before and after)."""
    after = replace(at.case, updated_at=at.now, **values)
    case_rows.change(at.connection, at.case.id, {**values, "updated_at": at.now})
    records.record(
        at.connection,
        action,
        at.case,
        actor,
        at.now,
        after=after,
        data=data,
        actor_kind=actor_kind,
        origin=at.origin,
    )
    return after


def text(value: str | None, field: str, required: str, limit: int = MAX_TEXT) -> str:
    """Free text, trimmed, its line breaks as LF: InvalidAnswers (422, naming the field) when
    empty, too long, or holding a character no typed text may (journeys/text.py: controls,
    C1 controls and DEL included, and the bidirectional overrides and isolates)."""
    try:
        trimmed = words.clean(value or "", multiline=True)
    except words.BadCharacter as bad:
        raise InvalidAnswers(bad.describe(), [FieldError(field, bad.describe())]) from None
    if not trimmed:
        raise InvalidAnswers(required, [FieldError(field, required)])
    if len(trimmed) > limit:
        message = f"Use {limit:,} characters or fewer"
        raise InvalidAnswers(message, [FieldError(field, message)])
    return trimmed
