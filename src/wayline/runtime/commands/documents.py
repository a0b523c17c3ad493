"""The documents of a journey: an upload recorded (or held, or refused, with the reason), and
the files a sent journey's answers no longer name removed.

Recording an upload reads and writes in one transaction, with the journey's row locked: the
room check (how many files the field may still take) and the record must agree even when
uploads race. The journey's row does not change, so its revision stays: pages and API clients
that uploaded a file go on with the revision they hold.
"""

from __future__ import annotations

from typing import Any

from wayline.documents import similarity
from wayline.documents.intake import Rejected
from wayline.errors import Conflict
from wayline.journeys import engine
from wayline.journeys.engine import Event, JourneyState
from wayline.journeys.expressions import holds
from wayline.journeys.field_types import field_type
from wayline.journeys.loader import Journey
from wayline.journeys.schema import FieldSpec, Rule
from wayline.runtime import file_room
from wayline.runtime.dependencies import Dependencies
from wayline.store import Connection, photo_index
from wayline.store import documents as document_rows
from wayline.store import events as event_log
from wayline.store import journeys as journey_rows

DOCUMENT_RECEIVED = "document.received"
DOCUMENT_HELD = "document.held"
DOCUMENT_REJECTED = "document.rejected"
DOCUMENTS_REMOVED = "documents.removed"


def file_field(
    deps: Dependencies, customer_id: str, journey_id: str, field: str
) -> FieldSpec | None:
    """The file field an upload is for (None when `field` is not one), on a journey that still
    takes files (Conflict otherwise); Rejected when the field already holds as many as it
    takes. Checked before the upload is processed; checked again when it is recorded."""
    with deps.uow.reading() as connection:
        snapshot = deps.uow.load(connection, journey_id, customer_id)
        _still_open(snapshot.state)
        spec = snapshot.journey.fields.get(field)
        if spec is None or not field_type(spec).holds_files:
            return None
        _check_room(deps, connection, snapshot.journey, snapshot.state, spec)
        return spec


def record_document(
    deps: Dependencies, customer_id: str, journey_id: str, document: dict[str, Any]
) -> None:
    """Keep an uploaded document's record, with a document.received event (document.held
    when the scanner could not look at it) in the same transaction. An accepted photo goes
    into the reuse index at once, so a later claim anywhere finds it."""
    with deps.uow.writing() as connection:
        journey_rows.lock(connection, journey_id)
        snapshot = deps.uow.load(connection, journey_id, customer_id)
        _still_open(snapshot.state)
        journey, field = snapshot.journey, document["field"]
        held = document.get("status") == document_rows.HELD
        _check_room(deps, connection, journey, snapshot.state, journey.fields[field], held)
        now = deps.clock.now()
        document_rows.insert_document(connection, journey_id, document, now)
        evidence = document.get("evidence") or {}
        phash = evidence.get("phash")
        # A photo without the detail for its hash to identify it stays out of the index, so
        # no other featureless photo is ever matched with it (similarity.comparable).
        if phash and not held and similarity.comparable(evidence):
            photo_index.add(connection, document["id"], journey_id, customer_id, phash)
        data: dict[str, Any] = {"document": document["id"], "field": field}
        if held:
            data["reason"] = document.get("reason")
        kind = DOCUMENT_HELD if held else DOCUMENT_RECEIVED
        event = Event(kind, now, journey.step_of_field.get(field), (field,), data)
        event_log.append(connection, journey_id, (event,))


def reject_document(
    deps: Dependencies, customer_id: str, journey_id: str, field: str, rejected: Rejected
) -> None:
    """A document.rejected event with the reason; nothing else changes."""
    with deps.uow.writing() as connection:
        journey = deps.uow.load(connection, journey_id, customer_id).journey
        data = {"field": field, "reason": rejected.reason, "code": rejected.code}
        event = Event(
            DOCUMENT_REJECTED,
            deps.clock.now(),
            journey.step_of_field.get(field),
            (field,),
            {**data, **rejected.data},
        )
        event_log.append(connection, journey_id, (event,))


def remove_superseded(deps: Dependencies, journey_id: str) -> list[str]:
    """On a sent journey, mark the documents no answer names as removed (their rows stay,
    with a documents.removed event, and leave the photo reuse index), in one transaction.
    Returns where every removed document of the journey was stored, for the caller to delete
    after this commits (again if it is run again: deleting is idempotent)."""
    with deps.uow.writing() as connection:
        journey_rows.lock(connection, journey_id)
        snapshot = deps.uow.load(connection, journey_id, None)
        state = snapshot.state
        if state.status == engine.Status.IN_PROGRESS:
            return []  # files may still be put back into answers
        named = {
            document
            for name, spec in snapshot.journey.fields.items()
            if field_type(spec).holds_files
            for document in state.answers.get(name) or []
        }
        stored = document_rows.stored(connection, journey_id)
        unnamed = sorted(d for d in stored if d not in named)
        if unnamed:
            document_rows.mark_removed(connection, unnamed)
            photo_index.remove(connection, unnamed)
            fields = tuple(sorted({stored[d] for d in unnamed}))
            data = {"documents": unnamed, "reason": "not in the answers when it was sent"}
            event = Event(DOCUMENTS_REMOVED, deps.clock.now(), None, fields, data)
            event_log.append(connection, journey_id, (event,))
        return document_rows.removed_keys(connection, journey_id)


def _still_open(state: JourneyState) -> None:
    if state.status != engine.Status.IN_PROGRESS:
        raise Conflict("Files can no longer be added to this journey")


def _check_room(
    deps: Dependencies,
    connection: Connection,
    journey: Journey,
    state: JourneyState,
    spec: FieldSpec,
    held: bool = False,
) -> None:
    """Refuse another file for a field that holds as many as its max_items rule allows.
    Counted: the field's accepted documents that the step's answer or draft names, and those
    uploaded since the journey was last saved (on their way into the answer). A file taken
    out of the answer no longer counts there, but every file stored for the field does count
    against the storage cap of runtime/file_room.py. A held file (not usable in an answer)
    is checked against that cap only."""
    scope = engine.context(journey, state, state.answers, deps.clock.now())
    rules = [
        rule
        for rule in spec.rules
        if rule.rule == "max_items" and rule.value is not None and holds(rule.when, scope)
    ]
    rule = min(rules, key=lambda r: int(r.value or 0)) if rules else None
    if rule is not None and not held:
        _check_answer_room(connection, journey, state, spec, rule)
    answer_max = int(rule.value or 0) if rule else None
    limit = file_room.stored_limit(answer_max, deps.file_replacements)
    if document_rows.stored_count(connection, state.id, spec.name) >= limit:
        raise file_room.too_many_stored(spec, limit)


def _check_answer_room(
    connection: Connection, journey: Journey, state: JourneyState, spec: FieldSpec, rule: Rule
) -> None:
    step = journey.step(journey.step_of_field.get(spec.name) or "")
    named = engine.step_values(journey, state, step).get(spec.name) if step else None
    listed = set(named) if isinstance(named, list) else set()
    arrived = document_rows.field_arrivals(connection, state.id, spec.name)
    counted = [d for d, at in arrived.items() if d in listed or at >= state.updated_at]
    if len(counted) >= int(rule.value or 0):
        raise Rejected(
            rule.message or f"{spec.label} takes no more than {rule.value} files",
            "too_many_files",
        )
