"""The relay to Amazon EventBridge, against moto's server on loopback: each event a PutEvents
entry whose Detail is the structured CloudEvent, delivered by a rule to an SQS queue; a bus
that refuses leaves the events waiting, in order."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from events_kit import new_journey, record, step_events
from moto.server import ThreadedMotoServer

from wayline.events.buses import open_bus
from wayline.events.envelope import Naming
from wayline.events.relay import Relay
from wayline.runtime.clock import SystemClock
from wayline.store import Store, event_outbox

REGION = "eu-west-2"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def client(name: str, endpoint: str) -> Any:
    return boto3.client(name, region_name=REGION, endpoint_url=endpoint)


def bus_to_queue(endpoint: str, bus: str) -> str:
    """An event bus whose rule sends every Wayline event to a new SQS queue; its URL."""
    events, sqs = client("events", endpoint), client("sqs", endpoint)
    events.create_event_bus(Name=bus)
    queue = sqs.create_queue(QueueName=f"{bus}-q")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="all", EventBusName=bus, EventPattern=json.dumps({"source": [{"prefix": "/wayline/"}]})
    )
    events.put_targets(Rule="all", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return str(queue)


def received(endpoint: str, queue: str) -> list[dict[str, Any]]:
    sqs = client("sqs", endpoint)
    found: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages"):
        found.extend(json.loads(message["Body"]) for message in batch)
        for message in batch:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return found


def relay(store: Store, url: str) -> Relay:
    bus = open_bus(url)
    assert bus is not None
    return Relay(store, bus, SystemClock(), Naming(deployment="test"), bus_name="eventbridge")


def waiting(store: Store) -> int:
    with store.read() as connection:
        return event_outbox.unpublished_count(connection)


def test_events_reach_eventbridge_as_structured_cloudevents(store, moto_endpoint, jid):
    bus = f"wayline-{jid('b')}"
    queue = bus_to_queue(moto_endpoint, bus)
    j1, j2 = jid("j1"), jid("j2")
    for journey in (j1, j2):
        new_journey(store, journey, "card-replacement")
        record(store, journey, step_events(journey, 3))
    runner = relay(store, f"eventbridge://{bus}?region={REGION}&endpoint={moto_endpoint}")

    assert runner.run_once() == 6
    assert waiting(store) == 0
    delivered = received(moto_endpoint, queue)
    assert len(delivered) == 6
    first = delivered[0]
    assert first["source"] == "/wayline/test/journeys/card-replacement"
    assert first["detail-type"] == "com.wayline.journey.step.completed"
    cloud_event = first["detail"]
    assert cloud_event["specversion"] == "1.0"
    assert cloud_event["type"] == first["detail-type"]
    assert cloud_event["subject"] in (j1, j2)
    assert cloud_event["data"]["journey_type"] == "card-replacement"
    ids = [int(message["detail"]["id"]) for message in delivered]
    assert sorted(ids) == sorted(set(ids))  # one each
    runner.bus.close()


def test_a_bus_that_refuses_leaves_the_events_waiting(store, moto_endpoint, jid):
    new_journey(store, jid("j1"))
    record(store, jid("j1"), step_events(jid("j1"), 2))
    missing = relay(store, f"eventbridge://no-such-bus?region={REGION}&endpoint={moto_endpoint}")

    assert missing.step() == 2
    missing.bus.close()
    assert waiting(store) == 2
    bus = f"wayline-{jid('b')}"
    queue = bus_to_queue(moto_endpoint, bus)
    url = f"eventbridge://{bus}?region={REGION}&endpoint={moto_endpoint}"
    assert relay(store, url).run_once() == 2
    assert [m["detail"]["data"]["step"] for m in received(moto_endpoint, queue)] == ["s0", "s1"]
    assert waiting(store) == 0
