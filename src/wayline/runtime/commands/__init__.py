"""Commands: what changes a journey. Each module holds one command (or one family) as small
functions taking their dependencies explicitly; the classes here bind them to the
dependencies bootstrap.py injects, for the entry points (API, pages, worker, CLI).

Commands return domain results (runtime/results.py) and raise Wayline's errors
(wayline.errors), the engine's refusals (`Refused` and its kinds, re-exported here for the
entry points) or a refused file (`Rejected`); web/ turns each into HTTP.
"""

from __future__ import annotations

from typing import Any

from wayline.documents.intake import Rejected
from wayline.journeys.engine import FieldError, InvalidAnswers, Refused
from wayline.journeys.schema import FieldSpec
from wayline.runtime.catalog import Catalog
from wayline.runtime.commands import documents, save_draft, start, submit, submit_step, system
from wayline.runtime.commands.system import Decide, Needs
from wayline.runtime.dependencies import Dependencies
from wayline.runtime.results import Changed
from wayline.runtime.unit_of_work import Idempotency, Snapshot, UnitOfWork

__all__ = [
    "Commands",
    "DocumentCommands",
    "FieldError",
    "Idempotency",
    "InvalidAnswers",
    "Refused",
    "SystemCommands",
]


class Commands:
    """The customer's commands on journeys."""

    def __init__(self, deps: Dependencies):
        self._deps = deps

    def start(
        self, customer_id: str, journey_type: str, idempotency: Idempotency | None = None
    ) -> Changed:
        return start.start(self._deps, customer_id, journey_type, idempotency)

    def save_draft(
        self, customer_id: str, journey_id: str, step: str, answers: dict[str, Any], revision: int
    ) -> Changed:
        return save_draft.save_draft(self._deps, customer_id, journey_id, step, answers, revision)

    def submit_step(
        self,
        customer_id: str,
        journey_id: str,
        step: str,
        answers: dict[str, Any],
        revision: int,
        idempotency: Idempotency | None = None,
    ) -> Changed:
        return submit_step.submit_step(
            self._deps, customer_id, journey_id, step, answers, revision, idempotency
        )

    def submit(
        self,
        customer_id: str,
        journey_id: str,
        revision: int,
        declaration: bool,
        idempotency: Idempotency | None = None,
    ) -> Changed:
        return submit.submit(
            self._deps, customer_id, journey_id, revision, declaration, idempotency
        )


class DocumentCommands:
    """Uploads recorded, held or refused; superseded files removed."""

    def __init__(self, deps: Dependencies):
        self._deps = deps

    def file_field(self, customer_id: str, journey_id: str, field: str) -> FieldSpec | None:
        return documents.file_field(self._deps, customer_id, journey_id, field)

    def record(self, customer_id: str, journey_id: str, document: dict[str, Any]) -> None:
        documents.record_document(self._deps, customer_id, journey_id, document)

    def reject(self, customer_id: str, journey_id: str, field: str, rejected: Rejected) -> None:
        documents.reject_document(self._deps, customer_id, journey_id, field, rejected)

    def remove_superseded(self, journey_id: str) -> list[str]:
        return documents.remove_superseded(self._deps, journey_id)


class SystemCommands:
    """The system's own work on journeys: effects' results, deadlines, abandonment."""

    def __init__(self, deps: Dependencies):
        self._deps = deps

    @property
    def catalog(self) -> Catalog:
        return self._deps.catalog

    @property
    def uow(self) -> UnitOfWork:
        return self._deps.uow

    def current(self, journey_id: str) -> Snapshot:
        return system.current(self._deps, journey_id)

    def apply(
        self, journey_id: str, decide: Decide, needs: Needs | None = None, strict: bool = False
    ) -> Changed:
        return system.apply(self._deps, journey_id, decide, needs, strict=strict)

    def abandon_stale(self, limit: int = 100) -> int:
        return system.abandon_stale(self._deps, limit)
