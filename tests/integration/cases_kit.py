"""Helpers for the workbench tests: claims driven to a decision through the API and the
system's own check-and-decide command (with the demo's in-process partners), and staff
principals as the identity layer makes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from journey_api import ACTIVE_POLICY, Api, field_of, incident, png_bytes

from wayline.bootstrap import Components
from wayline.identity.principal import Kind, Principal
from wayline.identity.roles import Role
from wayline.journeys import follow_up
from wayline.journeys.engine import DataNeed, JourneyState
from wayline.journeys.loader import Journey
from wayline.runtime import photos
from wayline.store import sessions as session_rows
from wayline.store import tables

FRAUD_REASON = "The fraud bureau holds a risk marker that a claims handler needs to review"
OVER_3000 = "The repair estimate is over £3,000"
NEUTRAL = "We need to look at your claim more closely"


def staff(
    subject: str, *roles: Role, level: int = 1, signed_in: datetime | None = None
) -> Principal:
    """A member of staff as a session would carry them (level 2: a second factor)."""
    return Principal(
        subject,
        Kind.STAFF,
        frozenset(roles),
        level,
        signed_in or datetime.now(UTC),
        "demo",
    )


def signed_in(
    components: Components, subject: str, *roles: str, kind: str = "staff", minutes_ago: int = 0
) -> None:
    """A session row for `subject`, as a sign-in leaves it (a case is given only to staff
    Wayline knows: their latest staff session's roles must work its queue)."""
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    row = session_rows.SessionRow(
        id=f"{subject}-{kind}-{minutes_ago}-{'-'.join(roles)}",
        subject=subject,
        created_at=at,
        last_seen_at=at,
        expires_at=at + timedelta(hours=8),
        revoked_at=None,
        kind=kind,
        roles=roles,
    )
    with components.store.write() as connection:
        session_rows.insert_session(connection, row)


def casey() -> Principal:
    return staff("casey", Role.HANDLER)


def riley() -> Principal:
    return staff("riley", Role.FRAUD_INVESTIGATOR)


def morgan(level: int = 2, minutes_ago: int = 0) -> Principal:
    signed_in = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return staff("morgan", Role.SENIOR_HANDLER, level=level, signed_in=signed_in)


def sent_claim(
    api: Api, *, settlement: str = "repairer", amount: str = "850", incident_type: str = "glass"
) -> dict[str, Any]:
    """A claim answered and sent through the API."""
    journey = api.start()
    journey = api.step(journey, "policy", {"policy_number": ACTIVE_POLICY[api.customer or ""]})
    journey = api.step(journey, "incident", incident(incident_type))
    journey = api.step(journey, "photos", {"damage_photos": [api.upload(journey, "damage_photos")]})
    if settlement == "cash":
        estimate = api.upload(journey, "estimate_document", png_bytes())
        journey = api.step(
            journey,
            "settlement",
            {"settlement": "cash", "estimate_amount": amount, "estimate_document": [estimate]},
        )
        choice = field_of(journey, "payout_account")["value"]
        journey = api.step(journey, "payment-details", {"payout_account": choice})
    else:
        repairer = field_of(journey, "repairer_id")["options"][0]["value"]
        journey = api.step(
            journey, "settlement", {"settlement": "repairer", "repairer_id": repairer}
        )
    return api.submit(journey)


def check_and_decide(components: Components, journey_id: str) -> JourneyState:
    """What the worker's run_checks does, with the in-process partners: fetch what the
    checks need, check, decide (the photo assessment, which needs the geocoder, is left
    out: its check is then unavailable, which passes)."""

    def needs(journey: Journey, state: JourneyState, now: datetime) -> list[DataNeed]:
        wanted = follow_up.check_needs(journey, state, "submitted", {}, now, refetch_failed=True)
        return [need for need in wanted if need.source != photos.SOURCE]

    return components.system.apply(journey_id, follow_up.complete_checks, needs).state


def referred(components: Components, api: Api, **claim: Any) -> str:
    """A claim sent and referred; its journey id."""
    sent = sent_claim(api, **claim)
    state = check_and_decide(components, sent["id"])
    assert state.status.value == "in_review", state.outcome
    return str(sent["id"])


def case_of(components: Components, journey_id: str) -> dict[str, Any]:
    """The journey's case as stored (the one there is)."""
    with components.store.read() as connection:
        rows = connection.execute(
            tables.cases.select().where(tables.cases.c.journey_id == journey_id)
        ).all()
    assert len(rows) == 1, rows
    return dict(rows[0]._mapping)


def effects_of(components: Components, journey_id: str) -> list[tuple[str, str]]:
    """The journey's queued effects: (kind, key), in the order queued."""
    with components.store.read() as connection:
        rows = connection.execute(
            tables.effects.select()
            .where(tables.effects.c.journey_id == journey_id)
            .order_by(tables.effects.c.created_at, tables.effects.c.key)
        ).all()
    return [(row.kind, row.key) for row in rows]


def audit_of(components: Components, case_id: str) -> list[dict[str, Any]]:
    """The audit entries of one case, oldest first."""
    with components.store.read() as connection:
        rows = connection.execute(
            tables.audit_log.select()
            .where(
                tables.audit_log.c.target_type == "case", tables.audit_log.c.target_id == case_id
            )
            .order_by(tables.audit_log.c.id)
        ).all()
    return [dict(row._mapping) for row in rows]


def journey_events(components: Components, journey_id: str) -> list[dict[str, Any]]:
    with components.store.read() as connection:
        rows = connection.execute(
            tables.events.select()
            .where(tables.events.c.journey_id == journey_id)
            .order_by(tables.events.c.id)
        ).all()
    return [row.body for row in rows]
