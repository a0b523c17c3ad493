"""The system's own commands: a decision applied to a journey by the effect worker (what a
partner said), by a deadline's timer, or by the sweep that abandons stale drafts. They act on
the journey as it is now, for whoever owns it.

A system command reads the journey, fetches what its decision needs (outside any
transaction), decides and writes. When the journey was written meanwhile it starts again from
a fresh read (a few times), since what it needs may have changed too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog

from wayline.errors import Conflict
from wayline.journeys import engine, personalise
from wayline.journeys.engine import DataNeed, JourneyState, Refused, Transition
from wayline.journeys.loader import Journey
from wayline.runtime import partner_data
from wayline.runtime.commands.common import commit
from wayline.runtime.dependencies import Dependencies
from wayline.runtime.results import Changed
from wayline.runtime.unit_of_work import Moved, Snapshot
from wayline.store import journeys as journey_rows

log = structlog.get_logger("wayline.commands")

# What a system command decides: the engine's (or the follow-up's) transition for the journey
# as read, with the partner data it needed recorded.
Decide = Callable[[Journey, JourneyState, datetime], Transition]
Needs = Callable[[Journey, JourneyState, datetime], list[DataNeed]]
READS = 4  # fresh reads when the journey keeps changing under a system command


def current(deps: Dependencies, journey_id: str) -> Snapshot:
    """A journey as it is now, for the system's own work (no owner check)."""
    return deps.uow.read(journey_id, None)


def apply(
    deps: Dependencies,
    journey_id: str,
    decide: Decide,
    needs: Needs | None = None,
    *,
    strict: bool = False,
    revision: int | None = None,
) -> Changed:
    """Apply `decide` to the journey as it is now. `needs` names the partner data it reads
    (fetched first; with `strict` a partner that cannot answer raises PartnerUnavailable).
    With `revision`, only if the journey is still at it (Conflict otherwise)."""
    for _read in range(READS):
        now = deps.clock.now()
        before = current(deps, journey_id)
        if revision is not None and before.revision != revision:
            raise Conflict(f"The journey is no longer at revision {revision}")
        owner = before.state.customer_id
        wanted = needs(before.journey, before.state, now) if needs else []
        fetched = deps.partners.fetch_all(owner, wanted, now, strict=strict)
        state = partner_data.record(before.journey, before.state, fetched)
        # Whatever a partner said may be what ends the journey (fulfilment's conditions).
        transition = engine.then_fulfilled(before.journey, decide(before.journey, state, now), now)
        try:
            return commit(deps, owner, before.journey, before, transition, now)
        except Moved:
            if revision is not None:
                raise Conflict(f"The journey is no longer at revision {revision}") from None
    raise Conflict("The journey's data kept changing; try again")


def abandon_stale(deps: Dependencies, limit: int = 100, pages: int = 10) -> int:
    """Drafts left longer than their definition's abandon_after (or their variant's) expire;
    how many. Candidates are those untouched for the shortest limit any variant of the type
    gives; each is judged by its own version and variants, and one given longer is passed
    over (the next page starts after it), so such journeys never crowd out the rest. At most
    `pages` pages of `limit` a type per sweep."""
    now = deps.clock.now()
    abandoned = 0
    for journey in deps.catalog.current.values():
        # The shortest limit any variant gives: each candidate is judged by its own.
        cutoff = now - min(map(engine.parse_duration, personalise.abandon_limits(journey)))
        after = None
        for _ in range(pages):
            with deps.uow.reading() as connection:
                stale = journey_rows.stale(connection, journey.name, cutoff, limit, after)
            for row in stale:
                try:
                    apply(deps, row.id, engine.abandon, revision=row.revision)
                except (Conflict, Refused):
                    continue  # touched meanwhile, or its version or variant allows longer
                abandoned += 1
                log.info("journey.expired", journey_id=row.id, journey=journey.name)
            if len(stale) < limit:
                break
            after = stale[-1]
    return abandoned
