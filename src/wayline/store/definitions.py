"""The journey_definitions table: every deployed version (content hash) of every definition,
so that a journey in flight finishes on the version it started on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from wayline.journeys.loader import Journey
from wayline.store import tables

_definition = tables.journey_definitions.c
_SAVED = select(_definition.version).where(
    _definition.journey == bindparam("journey"), _definition.version == bindparam("version")
)
_DOCUMENT = select(_definition.document).where(
    _definition.journey == bindparam("journey"), _definition.version == bindparam("version")
)


def save(connection: Connection, journey: Journey, now: datetime) -> None:
    """Keep a version, once."""
    found = connection.execute(
        _SAVED, {"journey": journey.name, "version": journey.version}
    ).first()
    if found is None:
        connection.execute(
            insert(tables.journey_definitions).values(
                journey=journey.name,
                version=journey.version,
                document=journey.to_document(),
                created_at=now,
            )
        )


def load(connection: Connection, name: str, version: str) -> dict[str, Any] | None:
    """A version's document, as saved; None when it never was."""
    row = connection.execute(_DOCUMENT, {"journey": name, "version": version}).first()
    return row.document if row else None
