"""The unit of work (runtime/unit_of_work.py): one command's change is written in one
transaction, all of it or none of it, and never over a journey that moved since it was read."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from shell_kit import components

from wayline.bootstrap import Components
from wayline.journeys import engine
from wayline.journeys.engine import EffectRequest, Event
from wayline.runtime.results import Position
from wayline.runtime.unit_of_work import Change, Idempotency, Moved, Snapshot, UnitOfWork
from wayline.sandbox.sources import demo_sources
from wayline.store import DuplicateKey, tables
from wayline.strict_json import UnsafeJson


@pytest.fixture
def built(tmp_path: Path) -> Iterator[Components]:
    parts = components(tmp_path, demo_sources())
    yield parts
    parts.store.dispose()


@pytest.fixture
def uow(built: Components) -> UnitOfWork:
    return built.system.uow


@pytest.fixture
def started(built: Components, uow: UnitOfWork) -> Snapshot:
    journey_id = built.commands.start("alex", "motor-claim").journey_id
    return uow.read(journey_id, "alex")


def _rows(built: Components) -> dict[str, list[Any]]:
    """Every table a command writes, as it stands."""
    with built.store.read() as connection:
        return {
            table.name: sorted(map(tuple, connection.execute(table.select()).all()), key=repr)
            for table in (
                tables.journeys,
                tables.answers,
                tables.events,
                tables.effects,
                tables.idempotency_keys,
            )
        }


def _caused_by(error: BaseException | None, kind: type[BaseException]) -> bool:
    while error is not None:
        if isinstance(error, kind):
            return True
        error = error.__cause__ or error.__context__
    return False


def _policy_change(built: Components, before: Snapshot, **overrides: Any) -> Change:
    """The policy step answered: a change that writes the journey, an answer and an event."""
    now = built.clock.now()
    transition = engine.submit_step(
        before.journey, before.state, "policy", {"policy_number": "MTR-100001"}, now
    )
    transition = replace(
        transition, effects=(EffectRequest("notify", f"{before.state.id}:test", {}),)
    )
    position = Position.of(before.journey, transition.state, now)
    change = Change("alex", before, transition, before.journey, position.current, now)
    return replace(change, **overrides)


def test_a_change_is_written_whole_in_one_transaction(
    built: Components, uow: UnitOfWork, started: Snapshot
) -> None:
    revision = uow.commit(_policy_change(built, started, idempotency=Idempotency("k", "f")))
    assert revision == started.revision + 1
    after = _rows(built)
    assert [row[1] for row in after["answers"]] == ["policy_number"]
    # The motor claim runs an experiment: its arm is recorded with the start.
    assert [row[2] for row in after["events"]] == [
        "journey.started",
        "experiment.assigned",
        "step.completed",
    ]
    assert [row[2] for row in after["effects"]] == ["notify"]
    assert len(after["idempotency_keys"]) == 1
    assert uow.read(started.state.id, "alex").state.answers == {"policy_number": "MTR-100001"}


def test_a_failure_late_in_the_write_rolls_back_everything_before_it(
    built: Components, uow: UnitOfWork, started: Snapshot
) -> None:
    """The events are written after the journey's row and its answers: an event the store
    cannot write (a NaN, refused by the strict serialiser) undoes them too."""
    before = _rows(built)
    change = _policy_change(built, started, idempotency=Idempotency("k", "f"))
    broken = Event("step.completed", change.now, "policy", data={"score": math.nan})
    change = replace(change, transition=replace(change.transition, events=(broken,)))
    with pytest.raises(Exception) as failure:
        uow.commit(change)
    assert _caused_by(failure.value, UnsafeJson), repr(failure.value)
    assert _rows(built) == before
    assert uow.read(started.state.id, "alex").revision == started.revision


def test_a_journey_that_moved_since_the_read_is_not_overwritten(
    built: Components, uow: UnitOfWork, started: Snapshot
) -> None:
    uow.commit(_policy_change(built, started))
    moved = _rows(built)
    with pytest.raises(Moved):
        uow.commit(_policy_change(built, started))  # still based on the first read
    assert _rows(built) == moved


def test_a_key_taken_meanwhile_fails_the_write_before_anything_is_written(
    built: Components, uow: UnitOfWork, started: Snapshot
) -> None:
    """The idempotency record is written first: a concurrent retry with the same key fails
    there (and replays the first answer), not on the journey's revision."""
    key = Idempotency("k", "f")
    uow.commit(_policy_change(built, started, idempotency=key))
    written = _rows(built)
    again = uow.read(started.state.id, "alex")
    with pytest.raises(DuplicateKey):
        uow.commit(_policy_change(built, again, idempotency=key))
    assert _rows(built) == written
    record = uow.recorded("alex", key)
    assert record is not None
    assert (record.journey_id, record.revision, record.status_code) == (started.state.id, 2, 200)
