"""Amazon EventBridge: PutEvents with each CloudEvent, structured, as the entry's Detail
(DetailType is the CloudEvents type, Source its source). EventBridge keeps no order and no
message ids, so order is kept by sending a journey's next event only after its previous one
was accepted (round k sends the k-th event of each journey, ten entries a call), and
consumers deduplicate by the CloudEvent id (events/consumer.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import zip_longest
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import structlog

from wayline.events.buses.base import Bus, by_journey
from wayline.events.envelope import CloudEvent

log = structlog.get_logger("wayline.events")

ENTRIES_PER_CALL = 10  # PutEvents' limit


class EventBridgeBus(Bus):
    """eventbridge://bus-name[?region=eu-west-2&endpoint=http://host:port]: credentials and,
    without the options, region and endpoint come from the usual AWS settings."""

    def __init__(self, url: str, timeout: float = 5.0):
        parts = urlsplit(url)
        options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        self.bus_name = parts.netloc or "default"
        from botocore.config import Config

        self._client: Any = boto3.client(
            "events",
            region_name=options.get("region"),
            endpoint_url=options.get("endpoint"),
            config=Config(
                connect_timeout=timeout, read_timeout=timeout, retries={"mode": "standard"}
            ),
        )

    def publish(self, events: Sequence[CloudEvent], replay: str | None = None) -> list[str]:
        accepted: list[str] = []
        stopped: set[str] = set()  # journeys with a refused event: nothing after it goes
        for round_ in zip_longest(*by_journey(events)):
            due = [event for event in round_ if event is not None and event.subject not in stopped]
            for start in range(0, len(due), ENTRIES_PER_CALL):
                chunk = due[start : start + ENTRIES_PER_CALL]
                for event, ok in zip(chunk, self._put(chunk), strict=True):
                    if ok:
                        accepted.append(event.id)
                    else:
                        stopped.add(event.subject)
        return accepted

    def _put(self, chunk: list[CloudEvent]) -> list[bool]:
        entries = [
            {
                "Time": event.time,
                "Source": event.source,
                "DetailType": event.type,
                "Detail": json.dumps(event.structured(), separators=(",", ":")),
                "EventBusName": self.bus_name,
            }
            for event in chunk
        ]
        try:
            answer = self._client.put_events(Entries=entries)
        except Exception as error:  # the whole call failed: none of these went
            log.warning("events.publish_failed", bus="eventbridge", error=type(error).__name__)
            return [False] * len(chunk)
        results = answer.get("Entries", [])
        return [bool(result.get("EventId")) and not result.get("ErrorCode") for result in results]

    def close(self) -> None:
        self._client.close()
