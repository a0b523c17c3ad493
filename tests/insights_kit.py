"""Event records for the insights' tests, in the engine's shapes, numbered as written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from wayline.insights.records import EventRecord

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
AS_OF = datetime(2026, 9, 1, tzinfo=UTC)  # every unsent journey long past its window
JOURNEY = "motor-claim"


class History:
    """Event records in the engine's shapes, numbered as written."""

    def __init__(self) -> None:
        self.records: list[EventRecord] = []

    def add(
        self, journey_id: str, type_: str, at: datetime, journey: str = JOURNEY, **body: Any
    ) -> EventRecord:
        number = len(self.records) + 1
        event = {"type": type_, "at": at.isoformat(), **body}
        self.records.append(EventRecord(number, journey_id, journey, "v1", type_, at, event))
        return self.records[-1]
