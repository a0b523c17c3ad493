"""Statements run on the driver directly (store/prepared.py) write and read what SQLAlchemy's
own execution would, fail as it would (a taken key is DuplicateKey), and go through SQLAlchemy
whenever something listens to the engine's statements."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, insert, select

from wayline.bootstrap import Components
from wayline.store import DuplicateKey, tables
from wayline.store.database import aware
from wayline.store.prepared import Prepared

MOMENT = datetime(2026, 12, 2, 10, 15, 30, 123456, tzinfo=UTC)
BODY: dict[str, Any] = {"text": "Zoë — £850", "nested": [1, 2.5, None, {"ok": True}]}
_EVENT = Prepared(insert(tables.events))
_EVENTS_OF = Prepared(
    select(tables.events.c.type, tables.events.c.at, tables.events.c.body)
    .where(tables.events.c.journey_id == "j-prepared")
    .order_by(tables.events.c.id)
)
_JOURNEY = Prepared(insert(tables.journeys))


def _rows(count: int) -> list[dict[str, Any]]:
    return [
        {"journey_id": "j-prepared", "type": f"kind-{n}", "at": MOMENT, "body": {**BODY, "n": n}}
        for n in range(count)
    ]


def _journey(journey_id: str) -> dict[str, Any]:
    return {
        "id": journey_id,
        "journey": "motor-claim",
        "version": "1",
        "customer_id": "alex",
        "status": "in_progress",
        "revision": 1,
        "current_step": "policy",
        "reference": None,
        "state": {"id": journey_id},
        "created_at": MOMENT,
        "updated_at": MOMENT,
        "submitted_at": None,
    }


def test_rows_written_directly_read_back_through_sqlalchemy_as_written(
    components: Components,
) -> None:
    with components.store.write() as connection:
        _EVENT.execute_many(connection, _rows(3))
    with components.store.read() as connection:
        through_sqlalchemy = connection.execute(
            select(tables.events.c.type, tables.events.c.at, tables.events.c.body)
            .where(tables.events.c.journey_id == "j-prepared")
            .order_by(tables.events.c.id)
        ).all()
        first = _EVENTS_OF.first(connection, {})
    assert [(row.type, aware(row.at), row.body) for row in through_sqlalchemy] == [
        (f"kind-{n}", MOMENT, {**BODY, "n": n}) for n in range(3)
    ]
    assert first is not None
    assert (first[0], aware(first[1]), first[2]) == ("kind-0", MOMENT, {**BODY, "n": 0})


def test_a_taken_key_is_a_duplicate_key_and_nothing_of_the_transaction_stays(
    components: Components,
) -> None:
    with components.store.write() as connection:
        assert _JOURNEY.execute(connection, _journey("j-taken")) == 1
    with pytest.raises(DuplicateKey), components.store.write() as connection:
        _EVENT.execute_many(connection, _rows(1))
        _JOURNEY.execute(connection, _journey("j-taken"))
    with components.store.read() as connection:
        assert _EVENTS_OF.first(connection, {}) is None


def test_statement_listeners_see_every_statement(components: Components) -> None:
    seen: list[str] = []

    def listen(_connection: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(sql.split()[0])

    engine = components.store.engine
    event.listen(engine, "before_cursor_execute", listen)
    try:
        with components.store.write() as connection:
            _EVENT.execute_many(connection, _rows(2))
            _JOURNEY.execute(connection, _journey("j-listened"))
        with components.store.read() as connection:
            assert _EVENTS_OF.first(connection, {}) is not None
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert seen == ["INSERT", "INSERT", "SELECT"]
