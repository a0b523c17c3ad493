"""What every journey command does around the engine: check the revision the client named,
commit what the engine decided, and answer a replayed Idempotency-Key."""

from __future__ import annotations

from datetime import datetime

from wayline.errors import Conflict
from wayline.journeys.engine import Transition
from wayline.journeys.loader import Journey
from wayline.runtime.dependencies import Dependencies
from wayline.runtime.results import Changed, Position
from wayline.runtime.unit_of_work import Change, Idempotency, Moved, Snapshot
from wayline.store.idempotency import KeyRecord

CREATED = 201
DONE = 200


def expect_revision(snapshot: Snapshot, revision: int) -> None:
    """Conflict unless the journey is at the revision the client based its request on."""
    if snapshot.revision != revision:
        raise Conflict(
            f"The journey has changed since revision {revision}: it is now at revision "
            f"{snapshot.revision}. Reload it and try again."
        )


def moved() -> Conflict:
    return Conflict("The journey was changed by another request. Reload it.")


def commit(
    deps: Dependencies,
    customer_id: str,
    journey: Journey,
    before: Snapshot | None,
    transition: Transition,
    now: datetime,
    idempotency: Idempotency | None = None,
) -> Changed:
    """Write the transition (Moved when the journey changed since `before` was read) and
    return the journey as written, with its position worked out once."""
    position = Position.of(journey, transition.state, now)
    change = Change(
        customer_id,
        before,
        transition,
        journey,
        position.current,
        now,
        idempotency,
        status_code=CREATED if before is None else DONE,
    )
    revision = deps.uow.commit(change)
    return Changed(journey, transition.state, revision, position, now, created=before is None)


def commit_for_client(
    deps: Dependencies,
    customer_id: str,
    before: Snapshot,
    transition: Transition,
    now: datetime,
    idempotency: Idempotency | None = None,
) -> Changed:
    """`commit` for a client's command: a journey that moved meanwhile is a Conflict."""
    try:
        return commit(deps, customer_id, before.journey, before, transition, now, idempotency)
    except Moved:
        raise moved() from None


def as_it_is_now(deps: Dependencies, customer_id: str, changed: Changed) -> Changed:
    """The journey a command changed, read again: work done just after its commit (a step's
    partner calls) moved it on, and the client must see that revision."""
    now = deps.clock.now()
    snapshot = deps.uow.read(changed.journey_id, customer_id)
    position = Position.of(snapshot.journey, snapshot.state, now)
    return Changed(snapshot.journey, snapshot.state, snapshot.revision, position, now)


def replay(deps: Dependencies, customer_id: str, record: KeyRecord) -> Changed:
    """A key's first request already ran: nothing is done again, and the answer is the journey
    it produced, as it is now."""
    now = deps.clock.now()
    snapshot = deps.uow.read(record.journey_id or "", customer_id)
    return Changed(
        snapshot.journey,
        snapshot.state,
        snapshot.revision,
        Position.of(snapshot.journey, snapshot.state, now),
        now,
        created=record.status_code == CREATED,
        replayed=True,
    )
