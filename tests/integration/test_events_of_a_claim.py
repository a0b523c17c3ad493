"""Every event of a motor claim driven through the API (on SQLite), published by the relay,
is a CloudEvent whose data validates against the checked-in schema its dataschema names, and
carries no answer."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from cases_kit import referred
from journey_api import ACTIVE_POLICY, DESCRIPTION
from jsonschema import Draft202012Validator

from wayline.events.buses import Bus
from wayline.events.envelope import CloudEvent, Naming
from wayline.events.relay import Relay
from wayline.runtime.clock import SystemClock
from wayline.store import events as event_log

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "events"
BASE = "https://schemas.wayline.dev/events/"


class Recording(Bus):
    def __init__(self) -> None:
        self.events: list[CloudEvent] = []

    def publish(self, events: Sequence[CloudEvent], replay: str | None = None) -> list[str]:
        self.events.extend(events)
        return [event.id for event in events]

    def close(self) -> None:
        pass


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite alone: the relay's PostgreSQL behaviour is tested in tests/events."""
    folder = tmp_path / "db"
    folder.mkdir()
    return f"sqlite:///{folder / 'wayline.db'}"


def test_every_event_of_a_referred_claim_validates_against_its_schema(components, jordan):
    journey_id = referred(components, jordan)
    bus = Recording()
    relay = Relay(components.store, bus, SystemClock(), Naming())

    published = relay.run_once()

    with components.store.read() as connection:
        stored = event_log.of(connection, journey_id)
    ours = [event for event in bus.events if event.subject == journey_id]
    assert published == len(bus.events) and len(ours) == len(stored)
    types = {event.type for event in ours}
    assert {
        "com.wayline.journey.started",
        "com.wayline.journey.step.completed",
        "com.wayline.document.received",
        "com.wayline.journey.submitted",
        "com.wayline.check.completed",
        "com.wayline.decision.made",
        "com.wayline.case.opened",
    } <= types
    for event in ours:
        schema_file = SCHEMAS / event.dataschema.removeprefix(BASE)
        validator = Draft202012Validator(json.loads(schema_file.read_text()))
        errors = [error.message for error in validator.iter_errors(event.data)]
        assert errors == [], (event.type, errors)
        assert event.attributes()["definitionversion"]
        assert event.source == "/wayline/local/journeys/motor-claim"
    text = json.dumps([event.structured() for event in ours])
    for answer in (ACTIVE_POLICY["jordan"], DESCRIPTION, "sw1a1aa", "SW1A 1AA"):
        assert answer not in text
    assert relay.run_once() == 0
