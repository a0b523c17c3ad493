"""Partner data, always fetched outside any transaction.

A command works out what partner data it needs (pure: the engine's `data_needs` and the
follow-up's `check_needs`) from a short read of the journey, and fetches it before its write
transaction opens; the transaction then only writes (runtime/unit_of_work.py). A view's
run-time options (the repairers near the incident postcode) are fetched after the commit that
produced the state, for display only: submitting the step records them.

A source that fails, or answers what JSON cannot carry, is recorded as unavailable and
counted, and the journey goes on without its data; a system command that cannot do without
it asks for `strict`, and gets PartnerUnavailable (its effect is retried). Every fetch asks
the guard first (wayline.guards): with a transaction open it raises PartnerCallInTransaction,
never swallowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import structlog

from wayline import guards, strict_json
from wayline.connectors.sources import DataSource
from wayline.errors import PartnerCallInTransaction, PartnerUnavailable
from wayline.journeys import engine, follow_up
from wayline.journeys.engine import DataNeed, JourneyState
from wayline.journeys.loader import Journey
from wayline.observability import metrics

log = structlog.get_logger("wayline.partner_data")

# One source's answer as the state keeps it: params, value, fetched_at, and error on failure.
Entry = dict[str, Any]


class PartnerData:
    """The data sources, asked outside transactions."""

    def __init__(self, sources: Mapping[str, DataSource]):
        self.sources = dict(sources)

    def fetch(self, customer_id: str, need: DataNeed, now: datetime) -> Entry:
        """Ask one source. A failure is recorded in the entry and counted; the journey goes on.
        PartnerCallInTransaction (a bug) is raised, never recorded."""
        guards.refuse_partner_call(need.source)
        entry: Entry = {"params": need.params, "fetched_at": now.isoformat()}
        source = self.sources.get(need.source)
        try:
            if source is None:
                raise LookupError(f"no data source named '{need.source}' is configured")
            value = source.fetch(customer_id, need.params, now.date())
            # What JSON cannot carry (NaN, a lone surrogate) would break every view of the
            # journey, and views are drawn after the commit: refused here like a partner down.
            strict_json.check(value)
            entry["value"] = value
        except PartnerCallInTransaction:
            raise
        except Exception as error:  # any partner failure: the journey must go on without it
            metrics.DATA_SOURCE_FAILURES.labels(need.source).inc()
            log.warning("data_source.failed", source=need.source, error=type(error).__name__)
            entry["value"] = None
            entry["error"] = "unavailable"
        return entry

    def fetch_all(
        self, customer_id: str, needs: Iterable[DataNeed], now: datetime, strict: bool = False
    ) -> dict[str, Entry]:
        """Ask each source once, by name; with `strict`, a source that cannot answer raises
        PartnerUnavailable."""
        fetched: dict[str, Entry] = {}
        for need in needs:
            fetched[need.source] = self.fetch(customer_id, need, now)
            if strict and fetched[need.source].get("error"):
                raise PartnerUnavailable(need.source)
        return fetched


def record(journey: Journey, state: JourneyState, fetched: Mapping[str, Entry]) -> JourneyState:
    """The state with fetched data recorded (with its source, parameters and time of fetch)
    and the prefills it feeds refreshed. Pure."""
    if not fetched:
        return state
    for source, entry in fetched.items():
        state = engine.record_data(
            state,
            source,
            entry["params"],
            entry["value"],
            datetime.fromisoformat(entry["fetched_at"]),
            entry.get("error"),
        )
    return engine.with_data(journey, state)


def start_needs(journey: Journey) -> list[DataNeed]:
    """What a new journey reads: every source bound without parameters (prefills, options)."""
    return [DataNeed(source, {}) for source in sorted(engine.sources_used(journey))]


def step_needs(
    journey: Journey, state: JourneyState, step: str, answers: dict[str, Any], now: datetime
) -> list[DataNeed]:
    """What submitting a step with these answers needs that the state does not hold: its
    options' and prefills' sources for the answers given (repairers near the postcode), and
    its checks' (confirmation of payee for the account given; one that failed is asked
    again)."""
    needs = engine.data_needs(journey, state, step, answers, now)
    for need in follow_up.check_needs(
        journey, state, f"step:{step}", answers, now, refetch_failed=True
    ):
        if need not in needs:
            needs.append(need)
    return needs


def view_needs(
    journey: Journey, state: JourneyState, step: str | None, now: datetime
) -> list[DataNeed]:
    """What showing `step` needs that the state does not hold (its options' source for the
    answers so far). Fetched for display only."""
    return engine.data_needs(journey, state, step, {}, now) if step else []
