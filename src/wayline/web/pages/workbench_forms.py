"""Between the workbench's HTML forms and the `Cases` service: the queue's filters read from a
query string, the action forms read into plain values, and the service's field errors turned
into what a page shows (each message beside its field, the summary linking to it).

A form with fields its page never had, or a value that is not text (a file where text is
expected), is TamperedForm (400). Values are checked only as far as the service cannot: the
service names what is wrong with a reason, a note or a filter itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from wayline.journeys import text
from wayline.journeys.engine import FieldError, InvalidAnswers
from wayline.runtime.cases import CaseFilters
from wayline.web.pages.forms import TamperedForm

FILTER_FIELDS = ("journey", "queue", "status", "assignee", "priority", "overdue")
FILTER_LABELS = {
    "journey": "Journey type",
    "queue": "Queue",
    "status": "Status",
    "assignee": "Assigned to",
    "priority": "Priority",
    "overdue": "Overdue",
    "view": "Saved view",
    "name": "Name of the view",
}
OVERDUE = "yes"
MAX_FILTER = 100


@dataclass(frozen=True)
class PageError:
    """One error as a page shows it: `field` is the id of the input it is beside."""

    field: str
    message: str


def asked_filters(query: Mapping[str, str]) -> dict[str, str]:
    """The filter fields of a query string (or form), as typed: what the form shows again."""
    return {name: str(query.get(name, "")) for name in FILTER_FIELDS}


def filters_of(asked: Mapping[str, str]) -> CaseFilters:
    """The filters asked for: InvalidAnswers naming each field that is not valid (characters
    no one-line text may hold included)."""
    errors = [error for name, value in asked.items() if (error := _bad_character(name, value))]
    values: dict[str, Any] = {
        name: value.strip() for name, value in asked.items() if value.strip() and name != "overdue"
    }
    overdue = asked.get("overdue", "").strip()
    if overdue not in ("", OVERDUE):
        errors.append(FieldError("overdue", "Tick overdue cases only, or leave it empty"))
    values["overdue"] = overdue == OVERDUE
    if errors:
        raise InvalidAnswers("Some filters are not valid", errors)
    return CaseFilters.of(values)


def _bad_character(name: str, value: str) -> FieldError | None:
    """A filter is one line of text (journeys/text.py: no control, line-break or direction
    characters, which the database cannot always hold or which read another way)."""
    try:
        text.clean(value)
    except text.BadCharacter as bad:
        return FieldError(name, f"{FILTER_LABELS[name]}: {bad.describe()}")
    return None


def filter_query(filters: Mapping[str, Any]) -> dict[str, str]:
    """Saved filters (a view's) as the query string that asks for them."""
    found = {name: str(filters[name]) for name in FILTER_FIELDS if filters.get(name)}
    if filters.get("overdue") is True:
        found["overdue"] = OVERDUE
    return found


def values(form: FormData, allowed: set[str]) -> dict[str, str]:
    """The form's text values by name (each name once); TamperedForm for a field the form
    does not have, a name given twice or a value that is not text."""
    unknown = set(form.keys()) - allowed - {"csrf_token"}
    if unknown:
        raise TamperedForm("The form has fields this page does not have: " + ", ".join(unknown))
    found: dict[str, str] = {}
    for name in allowed:
        given = form.getlist(name)
        if len(given) > 1:
            raise TamperedForm(f"The form gives {name} more than once")
        if given and not isinstance(given[0], str):
            raise TamperedForm(f"{name} must be text, not a file")
        found[name] = str(given[0]) if given else ""
    return found


def page_errors(
    error: InvalidAnswers, targets: Mapping[str, str], default: str | None = None
) -> list[PageError]:
    """The service's field errors for a page: each beside the input `targets` names for its
    field, else beside `default` (the form's own place), else beside the field's namesake."""
    found = [PageError(targets.get(e.field) or default or e.field, e.message) for e in error.errors]
    return found or [PageError(default or "main", str(error))]
