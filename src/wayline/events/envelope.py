"""A stored journey event as a CloudEvent 1.0 (https://cloudevents.io), and its two wire
forms: binary (attributes as `ce-` headers, the data as the body: NATS) and structured (one
JSON object: EventBridge's detail, replay files).

The envelope is built here rather than with the CloudEvents SDK: the SDK binds HTTP and
Kafka, not NATS, and the attributes are a dozen strings (decision 0015).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wayline.events.catalogue import data_of, kind_of
from wayline.store.event_outbox import OutboxEvent

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class Naming:
    """What a deployment puts in every envelope (settings event_deployment and
    event_schema_base)."""

    deployment: str = "local"
    schema_base: str = "https://schemas.wayline.dev/events"

    def source(self, journey_type: str) -> str:
        return f"/wayline/{self.deployment}/journeys/{journey_type}"

    def dataschema(self, schema_name: str) -> str:
        return f"{self.schema_base.rstrip('/')}/{schema_name}.json"


@dataclass(frozen=True)
class CloudEvent:
    """One event as published. `id` is the stored event's id: stable across retries and
    replays, so consumers deduplicate by it (with `source`)."""

    id: str
    source: str
    type: str
    subject: str
    time: datetime
    dataschema: str
    definitionversion: str
    traceparent: str | None
    data: dict[str, Any]
    journey_type: str  # for routing (the NATS subject); not an attribute

    def attributes(self) -> dict[str, str]:
        """The context attributes (extensions included), as strings."""
        found = {
            "specversion": SPEC_VERSION,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "datacontenttype": CONTENT_TYPE,
            "dataschema": self.dataschema,
            "definitionversion": self.definitionversion,
        }
        if self.traceparent:
            found["traceparent"] = self.traceparent
        return found

    def body(self) -> bytes:
        return json.dumps(self.data, separators=(",", ":"), sort_keys=True).encode()

    def binary_headers(self) -> dict[str, str]:
        """Binary content mode: `ce-` headers, with datacontenttype as Content-Type."""
        headers = {
            f"ce-{name}": value
            for name, value in self.attributes().items()
            if name != "datacontenttype"
        }
        headers["content-type"] = CONTENT_TYPE
        return headers

    def structured(self) -> dict[str, Any]:
        """Structured content mode: the attributes and `data` in one JSON object."""
        return {**self.attributes(), "data": self.data}

    @property
    def topic(self) -> str:
        """The event type without its `com.wayline.` prefix, e.g. journey.step.completed."""
        return self.type.removeprefix("com.wayline.")


def envelope(record: OutboxEvent, naming: Naming) -> CloudEvent:
    """The CloudEvent of a stored event; UnknownEventType for a type not in the catalogue."""
    kind = kind_of(record.type)
    data = data_of(kind, record.journey_id, record.journey_type, record.body)
    return CloudEvent(
        id=str(record.event_id),
        source=naming.source(record.journey_type),
        type=kind.cloud_type,
        subject=record.journey_id,
        time=record.at,
        dataschema=naming.dataschema(kind.schema_name),
        definitionversion=record.definition_version,
        traceparent=record.traceparent,
        data=data.model_dump(mode="json"),
        journey_type=record.journey_type,
    )


def from_binary(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """A binary-mode message read back as a structured event (for consumers and tests)."""
    event: dict[str, Any] = {
        name.removeprefix("ce-"): value for name, value in headers.items() if name.startswith("ce-")
    }
    event["datacontenttype"] = headers.get("content-type", CONTENT_TYPE)
    event["data"] = json.loads(body)
    return event
