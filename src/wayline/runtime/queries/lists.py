"""Lists: the journey types that can be started, a customer's journeys, a journey's
documents."""

from __future__ import annotations

from typing import Any

from wayline.errors import NotFound
from wayline.journeys.loader import Journey
from wayline.runtime.dependencies import Dependencies
from wayline.store import documents as document_rows
from wayline.store import journeys as journey_rows


def journey_types(deps: Dependencies) -> list[dict[str, Any]]:
    """Each type's current definition: name, title, description, version and who it is for."""
    return [
        {
            "type": j.name,
            "title": j.title,
            "description": j.definition.description,
            "version": j.version,
            "who": j.definition.who.value,
        }
        for j in (deps.catalog.current[name] for name in deps.catalog.names())
    ]


def journey_type(deps: Dependencies, name: str) -> Journey | None:
    """A type's current definition, None when there is no such type."""
    return deps.catalog.get(name)


def journeys_of(deps: Dependencies, customer_id: str) -> list[dict[str, Any]]:
    """The customer's journeys, newest first, with their type's title."""
    with deps.uow.reading() as connection:
        rows = journey_rows.list_for(connection, customer_id)
    for row in rows:
        journey = deps.catalog.get(row["journey"])
        row["type"] = row.pop("journey")
        row["title"] = journey.title if journey else row["type"]
        for key in ("created_at", "updated_at", "submitted_at"):
            row[key] = row[key].isoformat() if row[key] else None
    return rows


def documents_of(
    deps: Dependencies, customer_id: str, journey_id: str
) -> dict[str, dict[str, Any]]:
    """The journey's uploads (id, field, file name, type, size, status), oldest first."""
    with deps.uow.reading() as connection:
        deps.uow.load(connection, journey_id, customer_id)
        return document_rows.listed(connection, journey_id)


def document(
    deps: Dependencies, customer_id: str, journey_id: str, document_id: str
) -> dict[str, Any]:
    """One of the journey's documents, with its storage keys, evidence and signals."""
    with deps.uow.reading() as connection:
        deps.uow.load(connection, journey_id, customer_id)
        found = document_rows.record(connection, journey_id, document_id)
    if found is None:
        raise NotFound(f"There is no document '{document_id}' in this journey")
    return found
