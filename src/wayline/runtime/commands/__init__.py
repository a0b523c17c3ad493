"""Commands: what changes a journey. Each module holds one command (or one family) as small
functions taking their dependencies explicitly; the classes here bind them to the
dependencies bootstrap.py injects, for the entry points (API, pages, worker, CLI).

Commands return domain results (runtime/results.py) and raise Wayline's errors
(wayline.errors), the engine's refusals (`Refused` and its kinds, re-exported here for the
entry points) or a refused file (`Rejected`); web/ turns each into HTTP.

Each entry point runs in a span of its own, `command <name>` (observability/tracing.py
`command_span`), carrying the journey's id, its type and the step, never the answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wayline.documents.intake import Rejected
from wayline.journeys.engine import FieldError, InvalidAnswers, Refused
from wayline.journeys.schema import FieldSpec
from wayline.observability.tracing import command_span
from wayline.runtime.catalog import Catalog
from wayline.runtime.commands import (
    documents,
    ending,
    group_items,
    save_draft,
    start,
    submit,
    submit_step,
    system,
)
from wayline.runtime.commands.system import Decide, Needs
from wayline.runtime.dependencies import Dependencies
from wayline.runtime.proof import NONE, Proof
from wayline.runtime.results import Changed
from wayline.runtime.unit_of_work import Idempotency, Snapshot, UnitOfWork

__all__ = [
    "Commands",
    "DocumentCommands",
    "FieldError",
    "Idempotency",
    "InvalidAnswers",
    "Proof",
    "Refused",
    "SystemCommands",
]


class Commands:
    """The customer's commands on journeys."""

    def __init__(self, deps: Dependencies):
        self._deps = deps

    @command_span("start")
    def start(
        self,
        customer_id: str,
        journey_type: str,
        idempotency: Idempotency | None = None,
        preview_segments: list[str] | None = None,
    ) -> Changed:
        return start.start(self._deps, customer_id, journey_type, idempotency, preview_segments)

    @command_span("save_draft")
    def save_draft(
        self, customer_id: str, journey_id: str, step: str, answers: dict[str, Any], revision: int
    ) -> Changed:
        return save_draft.save_draft(self._deps, customer_id, journey_id, step, answers, revision)

    @command_span("submit_step")
    def submit_step(
        self,
        customer_id: str,
        journey_id: str,
        step: str,
        answers: dict[str, Any],
        revision: int,
        idempotency: Idempotency | None = None,
        proof: Proof = NONE,
    ) -> Changed:
        """`proof`: the caller's sign-in, for steps that ask for a step-up (StepUpRequired
        when it falls short; nothing is written)."""
        return submit_step.submit_step(
            self._deps, customer_id, journey_id, step, answers, revision, idempotency, proof
        )

    @command_span("add_item")
    def add_item(
        self,
        customer_id: str,
        journey_id: str,
        step: str,
        answers: dict[str, Any],
        revision: int,
        idempotency: Idempotency | None = None,
        proof: Proof = NONE,
    ) -> Changed:
        """Add an item to a repeating group's step (`proof` as for submit_step)."""
        return group_items.add_item(
            self._deps, customer_id, journey_id, step, answers, revision, idempotency, proof
        )

    @command_span("change_item")
    def change_item(
        self,
        customer_id: str,
        journey_id: str,
        step: str,
        number: int,
        answers: dict[str, Any],
        revision: int,
        idempotency: Idempotency | None = None,
        proof: Proof = NONE,
    ) -> Changed:
        """Change item `number` (from 1) of a repeating group's step."""
        return group_items.change_item(
            self._deps,
            customer_id,
            journey_id,
            step,
            number,
            answers,
            revision,
            idempotency,
            proof,
        )

    @command_span("remove_item")
    def remove_item(
        self,
        customer_id: str,
        journey_id: str,
        step: str,
        number: int,
        revision: int,
        idempotency: Idempotency | None = None,
        proof: Proof = NONE,
    ) -> Changed:
        """Remove item `number` (from 1) of a repeating group's step."""
        return group_items.remove_item(
            self._deps, customer_id, journey_id, step, number, revision, idempotency, proof
        )

    @command_span("submit")
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

    @command_span("withdraw")
    def withdraw(self, customer_id: str, journey_id: str, revision: int) -> Changed:
        return ending.withdraw(self._deps, customer_id, journey_id, revision)

    @command_span("cancel_hold")
    def cancel_hold(self, customer_id: str, journey_id: str, key: str, revision: int) -> Changed:
        return ending.cancel_hold(self._deps, customer_id, journey_id, key, revision)


class DocumentCommands:
    """Uploads recorded, held or refused; superseded files removed."""

    def __init__(self, deps: Dependencies):
        self._deps = deps

    def file_field(self, customer_id: str, journey_id: str, field: str) -> FieldSpec | None:
        return documents.file_field(self._deps, customer_id, journey_id, field)

    @command_span("record_document")
    def record(self, customer_id: str, journey_id: str, document: dict[str, Any]) -> None:
        documents.record_document(self._deps, customer_id, journey_id, document)

    @command_span("reject_document")
    def reject(self, customer_id: str, journey_id: str, field: str, rejected: Rejected) -> None:
        documents.reject_document(self._deps, customer_id, journey_id, field, rejected)

    @command_span("remove_superseded")
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

    def now(self) -> datetime:
        return self._deps.clock.now()

    def current(self, journey_id: str) -> Snapshot:
        return system.current(self._deps, journey_id)

    @command_span("system")
    def apply(
        self, journey_id: str, decide: Decide, needs: Needs | None = None, strict: bool = False
    ) -> Changed:
        return system.apply(self._deps, journey_id, decide, needs, strict=strict)

    @command_span("abandon_stale")
    def abandon_stale(self, limit: int = 100) -> int:
        return system.abandon_stale(self._deps, limit)
