"""Start a journey: the customer's known data fetched first (outside any transaction), then
the new journey written with its first event."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import structlog

from wayline.errors import Forbidden, NotFound
from wayline.ids import new_id
from wayline.journeys import engine, personalise
from wayline.journeys.engine import DataNeed
from wayline.journeys.loader import Journey
from wayline.journeys.personalise import Personalised
from wayline.journeys.schema import Audience
from wayline.observability import metrics
from wayline.runtime.commands.common import commit, replay
from wayline.runtime.dependencies import Dependencies
from wayline.runtime.ownership import is_visitor
from wayline.runtime.partner_data import start_needs
from wayline.runtime.results import Changed
from wayline.runtime.unit_of_work import Idempotency
from wayline.store import DuplicateKey

log = structlog.get_logger("wayline.commands")


def start(
    deps: Dependencies,
    customer_id: str,
    journey_type: str,
    idempotency: Idempotency | None = None,
    preview_segments: Sequence[str] | None = None,
) -> Changed:
    """A new journey of `journey_type` for the customer, on the type's current definition
    (or, while the type is being released, the version the release assigns the customer).
    A visitor (not signed in) may start only a journey anyone may start (Forbidden
    otherwise), and nothing is fetched for them: partners know no visitor.

    The journey is personalised as it starts: its segments decided from the governed
    sources they read (fetched here, used, and not kept), or taken from `preview_segments`
    (the demo's preview switch; the edge allows it only in the demo), its experiments' arms
    assigned, and the variants these give applied (personalise.py)."""
    journey = deps.catalog.get(journey_type)
    if journey is None:
        known = ", ".join(deps.catalog.names())
        raise NotFound(f"There is no journey type '{journey_type}' (known: {known})")
    visitor = is_visitor(customer_id)
    if visitor and journey.definition.who is not Audience.ANYONE:
        raise Forbidden("Sign in to start this journey: it is for customers")
    record = deps.uow.recorded(customer_id, idempotency)
    if record is not None:
        return replay(deps, customer_id, record)
    # While the type is being released, the customer's bucket picks stable or the canary.
    journey = deps.versions.choose(journey, customer_id)
    now = deps.clock.now()
    data = {} if visitor else deps.partners.fetch_all(customer_id, start_needs(journey), now)
    journey_id = new_id()
    personalised = _personalised(
        deps, journey, customer_id, journey_id, now, data, preview_segments
    )
    journey = personalise.apply(journey, personalised.variants)  # as this customer sees it
    transition = engine.start(
        journey,
        journey_id=journey_id,
        customer_id=customer_id,
        data=data,
        now=now,
        personalised=personalised,
    )
    try:
        changed = commit(deps, customer_id, journey, None, transition, now, idempotency)
    except DuplicateKey:
        # A concurrent request with the same key committed first: answer as it did.
        record = deps.uow.recorded(customer_id, idempotency)
        if record is None:
            raise
        return replay(deps, customer_id, record)
    metrics.JOURNEYS_STARTED.labels(journey.name, journey.version).inc()
    log.info("journey.started", journey_id=changed.journey_id, journey=journey.name)
    return changed


def _personalised(
    deps: Dependencies,
    journey: Journey,
    customer_id: str,
    journey_id: str,
    now: datetime,
    fetched: Mapping[str, Any],
    preview_segments: Sequence[str] | None,
) -> Personalised:
    """Segments from the governed sources (nothing for a visitor: no data is held on them),
    arms, variants. A source the journey already fetched at start is not asked again. The
    sources' data is dropped here: only the segments' names go on."""
    sources = personalise.segment_sources(journey)
    profile: dict[str, Any] = {}
    if sources and preview_segments is None and not is_visitor(customer_id):
        profile = {source: fetched[source] for source in sources if source in fetched}
        needs = [DataNeed(source, {}) for source in sources if source not in fetched]
        profile |= deps.partners.fetch_all(customer_id, needs, now)
    return personalise.choose(
        journey,
        profile,
        customer_id=customer_id,
        journey_id=journey_id,
        preview_segments=preview_segments,
    )
