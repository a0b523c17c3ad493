"""Saved views: a member of staff's named filters over the queues they may see."""

from __future__ import annotations

from typing import Any

from wayline.errors import Conflict, NotFound
from wayline.ids import new_id
from wayline.runtime.cases import queries
from wayline.runtime.cases.access import Staff
from wayline.runtime.cases.queries import CaseFilters
from wayline.runtime.cases.working import CaseDeps, text
from wayline.store import DuplicateKey
from wayline.store import cases as case_rows
from wayline.store.cases import ViewRow

MAX_NAME = 100


def views_of(cd: CaseDeps, staff: Staff) -> list[ViewRow]:
    with cd.deps.uow.reading() as connection:
        return case_rows.views_of(connection, staff.subject)


def save_view(cd: CaseDeps, staff: Staff, name: str, filters: dict[str, Any]) -> ViewRow:
    """Keep `filters` under `name` for `staff` (InvalidAnswers for filters that are not
    valid; Conflict when they already have a view of that name)."""
    title = text(name, "name", "Enter a name for the view", MAX_NAME)
    kept = CaseFilters.of(filters).to_dict()
    view = ViewRow(new_id(), staff.subject, title, kept, cd.deps.clock.now())
    try:
        with cd.deps.uow.writing() as connection:
            case_rows.save_view(connection, view)
    except DuplicateKey:
        raise Conflict(f"You already have a view called '{title}'") from None
    return view


def delete_view(cd: CaseDeps, staff: Staff, view_id: str) -> None:
    with cd.deps.uow.writing() as connection:
        if not case_rows.delete_view(connection, staff.subject, view_id):
            raise NotFound(f"There is no view '{view_id}'")


def view_cases(cd: CaseDeps, staff: Staff, view_id: str) -> list[dict[str, Any]]:
    """The cases a saved view shows now."""
    found = next((v for v in views_of(cd, staff) if v.id == view_id), None)
    if found is None:
        raise NotFound(f"There is no view '{view_id}'")
    return queries.cases(cd, staff, CaseFilters.of(found.filters))
