"""A message read back from the bus becomes the record the database feed would make, and a
message that is not one of Wayline's events is skipped rather than stopping the ingest."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from wayline.events.envelope import CloudEvent
from wayline.events.insights_feed import record_of
from wayline.insights.warehouse import open_warehouse

AT = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


def published(event_id: str = "41", cloud_type: str = "com.wayline.journey.step.completed"):
    data = {
        "journey_id": "j1",
        "journey_type": "motor-claim",
        "at": "2026-12-03T09:30:00Z",
        "step": "incident",
        "fields": ["what_happened"],
        "next": "photos",
    }
    event = CloudEvent(
        id=event_id, source="/wayline/local/journeys/motor-claim", type=cloud_type,
        subject="j1", time=AT, dataschema="https://x/s.json", definitionversion="v7",
        traceparent=None, data=data, journey_type="motor-claim",
    )  # fmt: skip
    return SimpleNamespace(headers=event.binary_headers(), data=event.body())


def test_a_step_event_reads_back_with_its_stored_type_and_next_step() -> None:
    record = record_of(published())
    assert record is not None
    assert (record.event_id, record.journey_id, record.journey, record.version, record.type) == (
        41, "j1", "motor-claim", "v7", "step.completed",
    )  # fmt: skip
    assert record.at == AT
    assert record.body["step"] == "incident" and record.body["data"]["next"] == "photos"


@pytest.mark.parametrize(
    "message",
    [
        published(cloud_type="com.example.other"),  # not a type Wayline publishes
        published(event_id="not-a-number"),
        SimpleNamespace(headers=None, data=b"{}"),  # no CloudEvent headers at all
        SimpleNamespace(headers=published().headers, data=b"not json"),
        SimpleNamespace(headers=published().headers, data=json.dumps([1, 2]).encode()),
    ],
)
def test_anything_else_is_skipped(message) -> None:
    assert record_of(message) is None


def test_an_event_twice_in_one_batch_is_kept_once() -> None:
    record = record_of(published())
    assert record is not None
    with open_warehouse(":memory:") as warehouse:
        assert warehouse.add("bus", [record, record]) == 1
        assert warehouse.add("bus", [record]) == 0
