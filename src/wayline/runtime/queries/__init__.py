"""Queries: what reads journeys, for the API and the pages alike. Each module holds small
functions taking their dependencies explicitly; `Queries` binds them to the dependencies
bootstrap.py injects. Views are built outside any transaction (partner options included)."""

from __future__ import annotations

from typing import Any

from wayline.journeys.loader import Journey
from wayline.journeys.step_up import Rule
from wayline.runtime import ownership
from wayline.runtime.dependencies import Dependencies
from wayline.runtime.queries import journey_view, lists, step_view
from wayline.runtime.queries.step_view import (
    CHECK_ANSWERS,
    CheckAnswersPage,
    FieldView,
    JourneyPage,
    Redirect,
    StepForm,
    StepPage,
)
from wayline.runtime.results import Changed

__all__ = [
    "CHECK_ANSWERS",
    "CheckAnswersPage",
    "FieldView",
    "JourneyPage",
    "Queries",
    "Redirect",
    "Rule",
    "StepForm",
    "StepPage",
]


class Queries:
    """Reads of journeys for customers: views, pages and lists."""

    def __init__(self, deps: Dependencies):
        self._deps = deps

    # --- the API's view ---------------------------------------------------------------------

    def journey_view(self, customer_id: str, journey_id: str) -> dict[str, Any]:
        return journey_view.journey_view(self._deps, customer_id, journey_id)

    def group_summary(self, customer_id: str, journey_id: str, step: str) -> dict[str, Any]:
        return journey_view.group_summary(self._deps, customer_id, journey_id, step)

    def view_of(self, changed: Changed) -> dict[str, Any]:
        return journey_view.view_of(self._deps, changed)

    # --- lists ------------------------------------------------------------------------------

    def journey_types(self) -> list[dict[str, Any]]:
        return lists.journey_types(self._deps)

    def journey_type(self, name: str) -> Journey | None:
        return lists.journey_type(self._deps, name)

    def journeys_of(self, customer_id: str) -> list[dict[str, Any]]:
        return lists.journeys_of(self._deps, customer_id)

    def documents_of(self, customer_id: str, journey_id: str) -> dict[str, dict[str, Any]]:
        return lists.documents_of(self._deps, customer_id, journey_id)

    def document(self, customer_id: str, journey_id: str, document_id: str) -> dict[str, Any]:
        return lists.document(self._deps, customer_id, journey_id, document_id)

    # --- pages ------------------------------------------------------------------------------

    def step_form(self, customer_id: str, journey_id: str, step: str) -> StepForm | None:
        return step_view.step_form(self._deps, customer_id, journey_id, step)

    def step_page(
        self, customer_id: str, journey_id: str, step: str, follow_position: bool = True
    ) -> StepPage | Redirect | None:
        return step_view.step_page(self._deps, customer_id, journey_id, step, follow_position)

    def check_answers(
        self, customer_id: str, journey_id: str, follow_position: bool = True
    ) -> CheckAnswersPage | Redirect:
        return step_view.check_answers(self._deps, customer_id, journey_id, follow_position)

    def journey_page(self, customer_id: str, journey_id: str) -> JourneyPage:
        return step_view.journey_page(self._deps, customer_id, journey_id)

    def owner_for_status(self, subject: str, journey_id: str) -> str:
        """Whose journey `subject` may see the status page of: their own, or the customer's
        it passed to from them (runtime/ownership.py); `subject` when neither (NotFound
        follows when the page is read)."""
        with self._deps.uow.reading() as connection:
            return ownership.owner_for_status(connection, subject, journey_id)

    def current_step(self, customer_id: str, journey_id: str) -> str | None:
        return step_view.current_step(self._deps, customer_id, journey_id)
