"""An event the relay cannot publish (a type not in the catalogue, a stored body its model
refuses) is logged and passed over: it never holds up its journey or the relay."""

from __future__ import annotations

from collections.abc import Sequence

from events_kit import T0, new_journey, record

from wayline.events.buses import Bus
from wayline.events.envelope import CloudEvent, Naming
from wayline.events.relay import Relay
from wayline.journeys.engine import Event
from wayline.runtime.clock import SystemClock
from wayline.store import event_outbox


class Recording(Bus):
    def __init__(self) -> None:
        self.events: list[CloudEvent] = []

    def publish(self, events: Sequence[CloudEvent], replay: str | None = None) -> list[str]:
        self.events.extend(events)
        return [event.id for event in events]

    def close(self) -> None:
        pass


def test_events_that_cannot_be_published_are_passed_over(store, jid):
    journey = jid("j1")
    new_journey(store, journey)
    record(
        store,
        journey,
        (
            Event("journey.started", T0),
            Event("journey.teleported", T0),  # no such type in the catalogue
            Event("journey.submitted", T0),  # its model requires a reference
            Event("journey.submitted", T0, data={"reference": "MC-ABC123"}),
        ),
    )
    bus = Recording()

    assert Relay(store, bus, SystemClock(), Naming()).run_once() == 4

    assert [(e.type, e.data.get("reference")) for e in bus.events] == [
        ("com.wayline.journey.started", None),
        ("com.wayline.journey.submitted", "MC-ABC123"),
    ]
    with store.read() as connection:
        assert event_outbox.unpublished_count(connection) == 0
