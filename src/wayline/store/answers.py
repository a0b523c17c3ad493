"""The answers table: one row per answered field, with its step, classification and source
(the customer, or a prefill source), mirrored from the journey's state by each command."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select

from wayline.journeys.engine import JourneyState
from wayline.journeys.loader import Journey
from wayline.store import tables
from wayline.store.codec import codec_of
from wayline.store.prepared import Prepared

_answer = tables.answers.c
_DELETE = delete(tables.answers).where(
    _answer.journey_id == bindparam("journey_id"),
    _answer.field.in_(bindparam("fields", expanding=True)),
)
_INSERT = Prepared(insert(tables.answers))  # on the driver directly: store/prepared.py


def sync(
    connection: Connection, journey: Journey, before: JourneyState, after: JourneyState
) -> None:
    """Mirror what changed between two states: one DELETE for the fields gone or changed, one
    INSERT for the changed ones (none when nothing changed)."""
    changed = [
        name
        for name, value in after.answers.items()
        if name not in before.answers or before.answers[name] != value
    ]
    gone = [name for name in before.answers if name not in after.answers]
    replaced = [name for name in changed if name in before.answers]
    if gone or replaced:
        connection.execute(_DELETE, {"journey_id": after.id, "fields": gone + replaced})
    if not changed:
        return
    codec = codec_of(connection)
    rows = []
    for name in changed:
        classification = journey.classification_of(name).value
        value = codec.seal_value(
            connection,
            after.customer_id,
            after.id,
            field_of(name),
            classification,
            after.answers[name],
        )
        rows.append(
            {
                "journey_id": after.id,
                "field": name,
                "step": journey.step_of_field[name],
                "classification": classification,
                "value": value,
                "source": after.answer_sources.get(name, {}).get("source", "customer"),
                "updated_at": after.updated_at,
            }
        )
    _INSERT.execute_many(connection, rows)


def field_of(name: str) -> str:
    """Where an answer's row value is sealed: bound into its envelope (store/codec.py)."""
    return f"answers.{name}"


def values_of(connection: Connection, journey_id: str) -> dict[str, Any]:
    """The journey's answers as their rows hold them, opened: by field name."""
    codec = codec_of(connection)
    rows = connection.execute(
        select(_answer.field, _answer.value).where(_answer.journey_id == journey_id)
    ).all()
    return {
        row.field: codec.open_value(connection, journey_id, field_of(row.field), row.value)
        for row in rows
    }
