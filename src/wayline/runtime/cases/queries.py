"""Reads of the workbench: the queues a member of staff may see with their cases, filtered
or by a saved view; one case with everything a handler needs; and, for the customer's pages,
the tasks a handler set them.

Staff see only the queues their roles allow (the definition's `roles` on each queue); the
fraud-only evidence (the fraud bureau's data, the photo reuse matches) only with the
`see_fraud_evidence` permission. Every view of a case is in the audit log (`case.viewed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wayline.errors import NotFound
from wayline.journeys.engine import FieldError, InvalidAnswers
from wayline.journeys.loader import Journey
from wayline.journeys.review import PRIORITIES, queues_for
from wayline.runtime.cases import closing, evidence, records
from wayline.runtime.cases.access import Staff
from wayline.runtime.cases.records import Origin
from wayline.runtime.cases.working import CaseDeps, may_see, queue_of
from wayline.runtime.presenter import present_holds
from wayline.store import cases as case_rows
from wayline.store import events as event_log
from wayline.store import outbox
from wayline.store.cases import CaseRow, Filters

VIEWED = "case.viewed"
WAITING = (case_rows.OPEN, case_rows.AWAITING_CUSTOMER, case_rows.AWAITING_APPROVAL)
ME, NOBODY = "me", "nobody"
FILTER_KEYS = ("journey", "queue", "status", "assignee", "priority", "overdue")


@dataclass(frozen=True)
class CaseFilters:
    """What a member of staff narrows the queues to. `assignee` is a staff id, `me` or
    `nobody`; `status` one of store.cases.STATUSES; `overdue` only cases past their due time.
    Without `status`, closed cases are left out."""

    journey: str | None = None
    queue: str | None = None
    status: str | None = None
    assignee: str | None = None
    priority: str | None = None
    overdue: bool = False

    @classmethod
    def of(cls, values: dict[str, Any]) -> CaseFilters:
        """Filters from plain values (a saved view, a query string): InvalidAnswers naming
        each key that is unknown or holds what it cannot."""
        errors = [
            FieldError(key, f"No filter called '{key}'") for key in values if key not in FILTER_KEYS
        ]
        chosen = {key: values[key] for key in FILTER_KEYS if values.get(key) not in (None, "")}
        if "status" in chosen and chosen["status"] not in case_rows.STATUSES:
            errors.append(FieldError("status", f"Choose a status: {', '.join(case_rows.STATUSES)}"))
        if "priority" in chosen and chosen["priority"] not in PRIORITIES:
            errors.append(FieldError("priority", f"Choose a priority: {', '.join(PRIORITIES)}"))
        if "overdue" in chosen and not isinstance(chosen["overdue"], bool):
            errors.append(FieldError("overdue", "Overdue is true or false"))
        for key in ("journey", "queue", "assignee"):
            if key in chosen and (not isinstance(chosen[key], str) or len(chosen[key]) > 100):
                errors.append(
                    FieldError(key, f"{key.capitalize()} is a name of 100 characters or fewer")
                )
        if errors:
            raise InvalidAnswers("Some filters are not valid", errors)
        return cls(**chosen)

    def to_dict(self) -> dict[str, Any]:
        return {
            key: getattr(self, key)
            for key in FILTER_KEYS
            if getattr(self, key) not in (None, False)
        }


def queues(cd: CaseDeps, staff: Staff) -> list[dict[str, Any]]:
    """Every queue `staff` may see, in the order definitions declare them, with how many of
    its cases wait in each status and how many are overdue."""
    now = cd.deps.clock.now()
    visible = _visible(cd, staff)
    with cd.deps.uow.reading() as connection:
        waiting = case_rows.listed(
            connection,
            Filters(queues=tuple({q for _, q in visible}), statuses=WAITING, limit=100_000),
        )
    found = []
    for (journey, name), (title, priority) in visible.items():
        mine = [c for c in waiting if (c.journey, c.queue) == (journey, name)]
        found.append(
            {
                "journey": journey,
                "queue": name,
                "title": title,
                "priority": priority,
                "counts": {
                    status: sum(1 for c in mine if c.status == status) for status in WAITING
                },
                "unassigned": sum(1 for c in mine if c.assignee is None),
                "overdue": sum(1 for c in mine if c.due_at < now),
            }
        )
    return found


def cases(cd: CaseDeps, staff: Staff, filters: CaseFilters | None = None) -> list[dict[str, Any]]:
    """The cases in the queues `staff` may see that match `filters`, most pressing first
    (soonest due), each with its age, due time, priority, assignee and status."""
    filters = filters or CaseFilters()
    now = cd.deps.clock.now()
    visible = {
        pair
        for pair in _visible(cd, staff)
        if filters.journey in (None, pair[0]) and filters.queue in (None, pair[1])
    }
    if not visible:
        return []
    assignee = staff.subject if filters.assignee == ME else filters.assignee
    query = Filters(
        queues=tuple({q for _, q in visible}),
        statuses=(filters.status,) if filters.status else WAITING,
        assignee=None if assignee == NOBODY else assignee,
        unassigned=assignee == NOBODY,
        priorities=(filters.priority,) if filters.priority else (),
        due_before=now if filters.overdue else None,
        journey_types=tuple({j for j, _ in visible}),
    )
    with cd.deps.uow.reading() as connection:
        found = case_rows.listed(connection, query)
    return [summary(case, now) for case in found if (case.journey, case.queue) in visible]


def summary(case: CaseRow, now: datetime) -> dict[str, Any]:
    """A case as a queue lists it."""
    return {
        "id": case.id,
        "journey_id": case.journey_id,
        "journey": case.journey,
        "reference": case.reference,
        "queue": case.queue,
        "status": case.status,
        "priority": case.priority,
        "assignee": case.assignee,
        "opened_at": case.opened_at.isoformat(),
        "age_seconds": int((now - case.opened_at).total_seconds()),
        "due_at": case.due_at.isoformat(),
        "overdue": case.status != case_rows.CLOSED and case.due_at < now,
        "reasons": list(case.reasons),
        "proposal": case.proposal,
        "decision": case.decision,
    }


def case_view(
    cd: CaseDeps, staff: Staff, case_id: str, origin: Origin | None = None
) -> dict[str, Any]:
    """One case with everything a handler needs (see `evidence.case_page`); NotFound for
    staff who may not see its queue. The view is recorded in the audit log (from `origin`)."""
    now = cd.deps.clock.now()
    with cd.deps.uow.reading() as connection:
        case = case_rows.get(connection, case_id)
        if case is None or not may_see(cd, staff, case):
            raise NotFound(f"There is no case '{case_id}'")
        snapshot = cd.deps.uow.load(connection, case.journey_id, None)
        page = evidence.case_page(
            connection,
            snapshot.journey,
            snapshot.state,
            case,
            now,
            fraud=cd.access.sees_fraud_evidence(staff),
            may_see_other=lambda other: may_see(cd, staff, other),
        )
        page["events"] = event_log.of(connection, case.journey_id)
        held = outbox.held(connection, case.journey_id, now)
    # What the journey holds (a payment's pause) and how it ended, staff's reason included.
    page["holds"] = present_holds(snapshot.journey, snapshot.state, held)
    page["ended"] = snapshot.state.ended
    page["case"] = summary(case, now)
    queue = queue_of(cd, case)
    page["case"]["queue_title"] = queue.title if queue else case.queue
    page["actions"] = _actions(snapshot.journey, staff)
    with cd.deps.uow.writing() as connection:
        details: dict[str, records.Detail] = {"journey_id": case.journey_id}
        records.audit(connection, VIEWED, case.id, staff.subject, now, details, origin=origin)
    return page


def _actions(journey: Journey, staff: Staff) -> dict[str, Any]:
    """What the definition lets a handler choose from: reasons, information requests, and
    the queues this person works (where they may send a case they hold)."""
    rules = journey.definition.review
    if rules is None:
        return {}
    return {
        "approve_reasons": [{"code": r.code, "label": r.label} for r in rules.approve_reasons],
        "decline_reasons": [{"code": r.code, "label": r.label} for r in rules.decline_reasons],
        "information_requests": [
            {"code": r.code, "kind": r.kind, "prompt": r.prompt} for r in rules.information_requests
        ],
        "fraud_queue": rules.fraud_queue,
        "close_as": sorted(closing.ENDS),
        "queues": [{"name": q.name, "title": q.title} for q in queues_for(rules, staff.roles)],
    }


def tasks_for(cd: CaseDeps, customer_id: str, journey_id: str) -> list[dict[str, Any]]:
    """The customer's open tasks on their journey (NotFound when it is not theirs): what a
    handler asked, never who or why."""
    with cd.deps.uow.reading() as connection:
        cd.deps.uow.load(connection, journey_id, customer_id)
        case = case_rows.open_case_of(connection, journey_id)
        if case is None:
            return []
        tasks = case_rows.tasks_of_case(connection, [case.id])
    return [
        {
            "id": task.id,
            "kind": task.kind,
            "prompt": task.prompt,
            "accept": list(task.accept),
            "requested_at": task.requested_at.isoformat(),
        }
        for task in tasks
        if task.status == case_rows.TASK_OPEN
    ]


def _visible(cd: CaseDeps, staff: Staff) -> dict[tuple[str, str], tuple[str, str]]:
    """(journey type, queue) → (title, priority) for every queue `staff` may work."""
    if not cd.access.works_cases(staff):
        return {}
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for journey in cd.deps.catalog.current.values():
        rules = journey.definition.review
        for queue in queues_for(rules, staff.roles) if rules else []:
            found[(journey.name, queue.name)] = (queue.title, queue.priority)
    return found
