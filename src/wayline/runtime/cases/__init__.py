"""The handlers' workbench: cases opened when a journey is referred (or by a definition's
`open_when` rules), worked in queues by staff, decided with a declared reason, four-eyes
approval over a limit, more information asked of the customer, and everything on the audit
log. See docs/workbench.md.

`Cases` binds the commands and queries to the dependencies bootstrap.py injects; the web
layer calls it with the signed-in principal (identity.principal.Principal fits `Staff`).
Errors: NotFound (no such case, or not in a queue the caller may see), Conflict (HeldBy when
someone else holds the case; a case closed or not in the state the action needs),
Forbidden (four-eyes refusals), StepUpRequired (the second approval's sign-in falls short),
InvalidAnswers (a reason, request or text that is not valid, naming its field).
"""

from __future__ import annotations

from typing import Any

from wayline.runtime.cases import (
    case_documents,
    closing,
    commands,
    deciding,
    information,
    queries,
    views,
)
from wayline.runtime.cases.access import Access, Staff
from wayline.runtime.cases.opening import open_case
from wayline.runtime.cases.queries import CaseFilters
from wayline.runtime.cases.records import Origin
from wayline.runtime.cases.working import CaseDeps, HeldBy
from wayline.runtime.dependencies import Dependencies
from wayline.store.cases import CaseRow, NoteRow, TaskRow, ViewRow

__all__ = [
    "Access",
    "CaseFilters",
    "CaseRow",
    "Cases",
    "HeldBy",
    "NoteRow",
    "Origin",
    "Staff",
    "TaskRow",
    "ViewRow",
    "open_case",
]


class Cases:
    """The workbench's commands and queries, for the staff API, the /workbench pages and the
    customer's task pages. `origin` (optional on every audited call): where the request came
    from, recorded with the audit entry (its client address and user agent)."""

    def __init__(self, deps: Dependencies, access: Access):
        self._cd = CaseDeps(deps, access)

    # --- queues and cases -----------------------------------------------------------------

    def queues(self, staff: Staff) -> list[dict[str, Any]]:
        return queries.queues(self._cd, staff)

    def cases(self, staff: Staff, filters: CaseFilters | None = None) -> list[dict[str, Any]]:
        return queries.cases(self._cd, staff, filters)

    def case(self, staff: Staff, case_id: str, origin: Origin | None = None) -> dict[str, Any]:
        """One case with everything a handler needs; the view is audited (case.viewed)."""
        return queries.case_view(self._cd, staff, case_id, origin)

    def document(
        self,
        staff: Staff,
        case_id: str,
        document_id: str,
        copy: str,
        origin: Origin | None = None,
    ) -> dict[str, Any]:
        """A document of the case's journey to serve (`copy`: which, for the audit entry,
        case.document_viewed)."""
        return case_documents.document(self._cd, staff, case_id, document_id, copy, origin)

    # --- saved views ----------------------------------------------------------------------

    def views(self, staff: Staff) -> list[ViewRow]:
        return views.views_of(self._cd, staff)

    def save_view(self, staff: Staff, name: str, filters: dict[str, Any]) -> ViewRow:
        return views.save_view(self._cd, staff, name, filters)

    def delete_view(self, staff: Staff, view_id: str) -> None:
        views.delete_view(self._cd, staff, view_id)

    def view_cases(self, staff: Staff, view_id: str) -> list[dict[str, Any]]:
        return views.view_cases(self._cd, staff, view_id)

    # --- working a case -------------------------------------------------------------------

    def claim(self, staff: Staff, case_id: str, origin: Origin | None = None) -> CaseRow:
        return commands.claim(self._cd, staff, case_id, origin)

    def release(self, staff: Staff, case_id: str, origin: Origin | None = None) -> CaseRow:
        return commands.release(self._cd, staff, case_id, origin)

    def reassign(
        self, staff: Staff, case_id: str, to: str, origin: Origin | None = None
    ) -> CaseRow:
        return commands.reassign(self._cd, staff, case_id, to, origin)

    def add_note(
        self, staff: Staff, case_id: str, note: str, origin: Origin | None = None
    ) -> NoteRow:
        return commands.add_note(self._cd, staff, case_id, note, origin)

    def refer_to_fraud(self, staff: Staff, case_id: str, origin: Origin | None = None) -> CaseRow:
        return commands.refer_to_fraud(self._cd, staff, case_id, origin)

    def return_to_queue(
        self,
        staff: Staff,
        case_id: str,
        queue: str,
        note: str,
        origin: Origin | None = None,
    ) -> CaseRow:
        """Send the held case to another queue the caller works (`queue`, a declared name),
        unassigned, with a note saying what was found: cleared of fraud, back to claims."""
        return commands.return_to_queue(self._cd, staff, case_id, queue, note, origin)

    def resolve(
        self, staff: Staff, case_id: str, note: str, origin: Origin | None = None
    ) -> CaseRow:
        return commands.resolve(self._cd, staff, case_id, note, origin)

    def close_as(
        self, staff: Staff, case_id: str, end: str, reason: str, origin: Origin | None = None
    ) -> CaseRow:
        """end: completed, declined or withdrawn; reason: why, for staff."""
        return closing.close_as(self._cd, staff, case_id, end, reason, origin)

    def decide(
        self,
        staff: Staff,
        case_id: str,
        verdict: str,
        reason: str,
        note: str | None = None,
        origin: Origin | None = None,
    ) -> CaseRow:
        """verdict: approve or decline; reason: a code the definition declares for it."""
        return deciding.decide(self._cd, staff, case_id, verdict, reason, note, origin)

    def request_information(
        self,
        staff: Staff,
        case_id: str,
        *,
        code: str | None = None,
        kind: str | None = None,
        prompt: str | None = None,
        accept: list[str] | None = None,
        origin: Origin | None = None,
    ) -> TaskRow:
        return information.request_information(
            self._cd,
            staff,
            case_id,
            code=code,
            kind=kind,
            prompt=prompt,
            accept=accept,
            origin=origin,
        )

    # --- the customer's side --------------------------------------------------------------

    def tasks_for(self, customer_id: str, journey_id: str) -> list[dict[str, Any]]:
        return queries.tasks_for(self._cd, customer_id, journey_id)

    def open_task(self, customer_id: str, journey_id: str, task_id: str) -> TaskRow:
        return information.open_task(self._cd, customer_id, journey_id, task_id)

    def record_task_upload(
        self, customer_id: str, journey_id: str, task_id: str, document: dict[str, Any]
    ) -> None:
        information.record_upload(self._cd, customer_id, journey_id, task_id, document)

    def answer_task(
        self,
        customer_id: str,
        journey_id: str,
        task_id: str,
        answer: str | None = None,
        documents: list[str] | None = None,
        origin: Origin | None = None,
    ) -> TaskRow:
        return information.answer_task(
            self._cd, customer_id, journey_id, task_id, answer, documents, origin
        )
