"""The journeys a decision's models scored, as the drift check reads them (docs/models.md).

A model's scores, with the feature values they were computed from, are kept in the journey's
state, sealed with the rest of its classified parts: the column shows an empty `scores`, so
the journeys scored are found by their `model.scored` event, and their states are opened
through the transaction's codec.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, exists, select

from wayline.journeys.engine import EventType, JourneyState
from wayline.store import tables
from wayline.store.codec import codec_of

MODEL_SCORED = EventType.MODEL_SCORED.value
BATCH = 200  # states read and opened at a time

_journey = tables.journeys.c
_event = tables.events.c
_SCORED = (
    select(_journey.state)
    .where(
        exists().where(_event.journey_id == _journey.id, _event.type == MODEL_SCORED),
    )
    .order_by(_journey.updated_at.desc(), _journey.id.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)


def recent_scored(connection: Connection, limit: int) -> list[JourneyState]:
    """The `limit` most recently updated journeys whose state holds model scores, newest
    first, opened (their features readable). A state that cannot be opened (its owner's data
    key erased) or holds no scores any more is passed over, and the next one read instead."""
    found: list[JourneyState] = []
    offset = 0
    while len(found) < limit:
        rows = connection.execute(_SCORED, {"limit": BATCH, "offset": offset}).all()
        for row in rows:
            state = _opened(connection, row.state)
            if state is not None and state.scores:
                found.append(state)
                if len(found) == limit:
                    break
        if len(rows) < BATCH:
            break
        offset += BATCH
    return found


def _opened(connection: Connection, stored: dict[str, object]) -> JourneyState | None:
    """The state opened through the codec; None when it cannot be (no key to open it, or an
    envelope that does not open here: ValueError covers the envelope's errors)."""
    try:
        return JourneyState.from_dict(codec_of(connection).open_state(connection, stored))
    except (LookupError, ValueError):
        return None
