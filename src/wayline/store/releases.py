"""The SQL of releases: the releases table, its log, and what the release analysis reads of
journeys and their events (ids, statuses, steps and times; never an answer).

Updates of a release are compare-and-set on its revision, so that two workers analysing at
once never both decide: the second finds the revision moved and does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from wayline.store import tables
from wayline.store.codec import codec_of
from wayline.store.database import aware

_release = tables.releases.c
_log = tables.release_log.c
_journey = tables.journeys.c
_event = tables.events.c
_definition = tables.journey_definitions.c

# The events the analysis reads: the rest (answers changed, documents) say nothing it judges.
ANALYSED_EVENTS = ("journey.started", "step.completed", "answers.refused")


@dataclass(frozen=True)
class ReleaseRow:
    id: str
    journey: str
    stable_version: str
    canary_version: str
    strategy: dict[str, Any]
    status: str
    stage: int
    percent: int
    stage_started_at: datetime
    started_at: datetime
    started_by: str
    ended_at: datetime | None
    failing_intervals: int
    last_analysed_at: datetime | None
    revision: int


@dataclass(frozen=True)
class LogRow:
    id: int
    release_id: str
    journey: str
    at: datetime
    kind: str
    actor: str
    body: dict[str, Any]


@dataclass(frozen=True)
class ArmJourney:
    """What the analysis reads of one journey: its place, and the partner data it holds
    (sources and whether each answered; the values are dropped here)."""

    id: str
    status: str
    current_step: str | None
    updated_at: datetime
    submitted_at: datetime | None
    partner_failed: bool


@dataclass(frozen=True)
class ArmEvent:
    journey_id: str
    type: str
    at: datetime
    step: str | None


def _row(row: Any) -> ReleaseRow:
    return ReleaseRow(
        id=row.id,
        journey=row.journey,
        stable_version=row.stable_version,
        canary_version=row.canary_version,
        strategy=row.strategy,
        status=row.status,
        stage=row.stage,
        percent=row.percent,
        stage_started_at=aware(row.stage_started_at),
        started_at=aware(row.started_at),
        started_by=row.started_by,
        ended_at=aware(row.ended_at),
        failing_intervals=row.failing_intervals,
        last_analysed_at=aware(row.last_analysed_at),
        revision=row.revision,
    )


def insert_release(connection: Connection, release: ReleaseRow, is_open: bool = True) -> None:
    """Add a release; DuplicateKey (raised by the store on commit) when the journey already
    has an open one."""
    values = {name: getattr(release, name) for name in ReleaseRow.__dataclass_fields__}
    values["open_journey"] = release.journey if is_open else None
    connection.execute(insert(tables.releases).values(**values))


def get(connection: Connection, release_id: str) -> ReleaseRow | None:
    row = connection.execute(select(tables.releases).where(_release.id == release_id)).first()
    return _row(row) if row else None


def latest(connection: Connection, journey: str) -> ReleaseRow | None:
    """The journey's most recent release, open or not."""
    row = connection.execute(
        select(tables.releases)
        .where(_release.journey == journey)
        .order_by(_release.started_at.desc(), _release.id.desc())
        .limit(1)
    ).first()
    return _row(row) if row else None


def listed(connection: Connection, journey: str | None = None) -> list[ReleaseRow]:
    """Releases, oldest first; of one journey when named."""
    query = select(tables.releases).order_by(_release.started_at, _release.id)
    if journey is not None:
        query = query.where(_release.journey == journey)
    return [_row(row) for row in connection.execute(query).all()]


def open_releases(connection: Connection) -> list[ReleaseRow]:
    query = select(tables.releases).where(_release.open_journey.is_not(None))
    return [_row(row) for row in connection.execute(query.order_by(_release.id)).all()]


def change(connection: Connection, release: ReleaseRow, **values: Any) -> bool:
    """Update the release if it is still at `release.revision`; False when it moved."""
    if values.get("status") in ("rolled_back", "promoted"):
        values["open_journey"] = None
    result = connection.execute(
        update(tables.releases)
        .where(and_(_release.id == release.id, _release.revision == release.revision))
        .values(revision=release.revision + 1, **values)
    )
    return result.rowcount == 1


def log(
    connection: Connection,
    release: ReleaseRow,
    at: datetime,
    kind: str,
    actor: str,
    body: dict[str, Any],
) -> None:
    connection.execute(
        insert(tables.release_log).values(
            release_id=release.id, journey=release.journey, at=at, kind=kind, actor=actor, body=body
        )
    )


def log_of(
    connection: Connection, release_id: str | None = None, journey: str | None = None
) -> list[LogRow]:
    """The log, oldest first: of one release, of one journey's releases, or all."""
    query = select(tables.release_log).order_by(_log.id)
    if release_id is not None:
        query = query.where(_log.release_id == release_id)
    if journey is not None:
        query = query.where(_log.journey == journey)
    return [
        LogRow(row.id, row.release_id, row.journey, aware(row.at), row.kind, row.actor, row.body)
        for row in connection.execute(query).all()
    ]


def versions(connection: Connection, journey: str) -> list[str]:
    """The journey's versions in the store, oldest first."""
    query = (
        select(_definition.version)
        .where(_definition.journey == journey)
        .order_by(_definition.created_at, _definition.version)
    )
    return [row.version for row in connection.execute(query).all()]


def arm_journeys(
    connection: Connection, journey: str, version: str, since: datetime
) -> list[ArmJourney]:
    """The journeys of one version of `journey` started since `since`."""
    query = select(
        _journey.id,
        _journey.status,
        _journey.current_step,
        _journey.updated_at,
        _journey.submitted_at,
        _journey.state,
    ).where(_journey.journey == journey, _journey.version == version, _journey.created_at >= since)
    codec = codec_of(connection)
    return [
        ArmJourney(
            row.id,
            row.status,
            row.current_step,
            aware(row.updated_at),
            aware(row.submitted_at),
            # Partner data is sealed with the state: read it opened, not from the column.
            _partner_failed(codec.open_state(connection, row.state)),
        )
        for row in connection.execute(query).all()
    ]


def _partner_failed(state: dict[str, Any]) -> bool:
    """Whether any partner data the journey asked for was unavailable (the customer then
    typed what a partner would have given, or met a check that could not be made)."""
    return any(isinstance(e, dict) and e.get("error") for e in state.get("data", {}).values())


def arm_events(
    connection: Connection, journey: str, version: str, since: datetime
) -> list[ArmEvent]:
    """The analysed events of those journeys, oldest first."""
    query = (
        select(_event.journey_id, _event.type, _event.at, _event.body)
        .join(tables.journeys, _journey.id == _event.journey_id)
        .where(
            _journey.journey == journey,
            _journey.version == version,
            _journey.created_at >= since,
            _event.type.in_(ANALYSED_EVENTS),
        )
        .order_by(_event.id)
    )
    return [
        ArmEvent(row.journey_id, row.type, aware(row.at), row.body.get("step"))
        for row in connection.execute(query).all()
    ]
