"""Each journey type's own times, read from its definition: the abandonment window and the
payment's deadline (the first effect that pays and declares one)."""

from __future__ import annotations

from collections.abc import Iterable

from wayline.insights.queries import Terms
from wayline.journeys.engine import parse_duration
from wayline.journeys.loader import Journey


def terms_of(journeys: Iterable[Journey]) -> dict[str, Terms]:
    """Terms by journey type, from the definitions deployed now."""
    return {journey.name: _terms(journey) for journey in journeys}


def _terms(journey: Journey) -> Terms:
    definition = journey.definition
    deadline = next(
        (e.deadline for e in definition.effects if e.pays is not None and e.deadline), None
    )
    return Terms(
        parse_duration(definition.abandon_after),
        parse_duration(deadline) if deadline else None,
    )
