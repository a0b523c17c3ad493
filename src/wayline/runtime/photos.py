"""Assessing a submitted claim's photos: the fraud signals of each, kept with the document,
and their summary for the checks and the decision.

The shell around the pure `documents.signals`: it locates the postcode where it happened with
the geocoder first (a partner: outside any transaction), then, in one transaction, reads the
photos' evidence and the similar photos in the reuse index and keeps each photo's signals.

What the signals are judged against comes from the check's `params` in the definition (this
module knows no journey's fields): `event_date` (when it happened), `event_postcode` (where)
and `cover_start` (when the cover began), each a CEL expression over answers and data.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import structlog

from wayline.connectors.http import PartnerError
from wayline.connectors.partners import Partners
from wayline.documents import signals as photo_signals
from wayline.documents import similarity
from wayline.journeys.engine import JourneyState
from wayline.runtime.unit_of_work import UnitOfWork
from wayline.store import Connection, photo_index
from wayline.store import documents as document_rows

log = structlog.get_logger("wayline.photos")
SOURCE = "photo_signals"


EVENT_DATE, EVENT_POSTCODE, COVER_START = "event_date", "event_postcode", "cover_start"
PARAMS = frozenset({EVENT_DATE, EVENT_POSTCODE, COVER_START})  # what the check may give


def assess(
    uow: UnitOfWork, partners: Partners | None, state: JourneyState, params: dict[str, Any]
) -> dict[str, Any]:
    """Signals for every accepted image the journey's answers name; stored on each document.
    The summary is what the `photo_signals` check reads as data.photo_signals. `params` are
    the check's parameters, worked out (a missing one makes its signal unknown, never a pass)."""
    facts = photo_signals.ClaimFacts(
        customer_id=state.customer_id,
        journey_id=state.id,
        policy_start=_date(params.get(COVER_START)),
        incident_date=_date(params.get(EVENT_DATE)),
        incident_point=_locate(partners, params.get(EVENT_POSTCODE)),
    )
    named = {d for value in state.answers.values() if isinstance(value, list) for d in value}
    found: dict[str, list[dict[str, str]]] = {}
    with uow.writing() as connection:
        for document_id, evidence in document_rows.accepted_evidence(connection, state.id).items():
            if document_id not in named or evidence.get("kind") != "image":
                continue
            matches = (
                _similar(connection, evidence.get("phash"), document_id)
                if similarity.comparable(evidence)
                else []  # too little detail: never compared (the reuse signal says so)
            )
            found[document_id] = photo_signals.photo_signals(evidence, facts, matches)
        document_rows.set_signals(connection, found)
    result = photo_signals.summary(found)
    log.info(
        "photos.assessed",
        journey_id=state.id,
        photos=result["photos"],
        high=result["high"],
        medium=result["medium"],
    )
    return result


def _similar(connection: Connection, phash: str | None, document_id: str) -> list[dict[str, Any]]:
    if not phash:
        return []
    found = photo_index.near(connection, phash, exclude_document_id=document_id)
    # A featureless photo is never a candidate either. None is indexed now; this keeps out any
    # indexed before that was decided (their evidence or hash says so).
    evidence = document_rows.evidence_of(connection, [m.document_id for m in found])
    return [
        {
            "document_id": m.document_id,
            "journey_id": m.journey_id,
            "customer_id": m.customer_id,
            "distance": m.distance,
        }
        for m in found
        if similarity.comparable(evidence.get(m.document_id) or {})
    ]


def _locate(partners: Partners | None, postcode: Any) -> tuple[float, float] | None:
    if partners is None or not postcode:
        return None
    try:
        point = partners.geocode(str(postcode))
    except PartnerError:
        return None  # the distance signal is then "unknown", never a pass
    return point.lat, point.lon


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
