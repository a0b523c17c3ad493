"""The relay on SQLite and PostgreSQL with the real NATS JetStream: one message per event
(also after a relay is SIGKILLed between publishing and marking), each journey's order, the
CloudEvents envelope in binary mode, replay, and a bus that is down."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from events_kit import T0, new_journey, record, step_events, stream_messages
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from wayline.events.buses.nats import NatsBus
from wayline.events.consumer import Deduplicator
from wayline.events.envelope import Naming, from_binary
from wayline.events.relay import Relay, replay
from wayline.runtime.clock import FixedClock, SystemClock
from wayline.store import Store, event_outbox
from wayline.store.database import make_engine
from wayline.store.migrate import upgrade

LEASE = timedelta(seconds=30)
OPEN: list[NatsBus] = []


@pytest.fixture(autouse=True)
def _close_buses(caplog):
    yield
    while OPEN:
        OPEN.pop().close()
    assert "events.not_in_catalogue" not in caplog.text


def nats_bus(url: str, stream: tuple[str, str] = ("WAYLINE", "wayline"), **options) -> NatsBus:
    bus = NatsBus(url, stream=stream[0], prefix=stream[1], **options)
    OPEN.append(bus)
    return bus


def relay(store: Store, url: str, stream: tuple[str, str], clock=None, **options) -> Relay:
    bus = nats_bus(url, stream, timeout=2)
    return Relay(store, bus, clock or SystemClock(), Naming(), lease=LEASE, **options)


def waiting(store: Store) -> int:
    with store.read() as connection:
        return event_outbox.unpublished_count(connection)


def ids_by_journey(messages: list[dict]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for message in messages:
        found.setdefault(message["headers"]["ce-subject"], []).append(
            int(message["headers"]["ce-id"])
        )
    return found


def test_each_event_is_published_once_as_a_binary_cloudevent(store, nats_url, stream, jid):
    j1, j2 = jid("j1"), jid("j2")
    for journey in (j1, j2):
        new_journey(store, journey)
        record(store, journey, step_events(journey, 3))
    record(store, j1, step_events(j1, 2, start=3))
    runner = relay(store, nats_url, stream)

    assert runner.run_once() == 8
    assert runner.run_once() == 0
    assert waiting(store) == 0

    messages = stream_messages(nats_url, stream[0])
    assert len(messages) == 8
    by_journey = ids_by_journey(messages)
    assert len(by_journey[j1]) == 5 and by_journey[j1] == sorted(by_journey[j1])
    first = messages[0]
    headers = first["headers"]
    assert first["subject"] == f"{stream[1]}.motor-claim.journey.step.completed"
    assert headers["Nats-Msg-Id"] == headers["ce-id"]
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-type"] == "com.wayline.journey.step.completed"
    assert headers["ce-source"] == "/wayline/local/journeys/motor-claim"
    assert headers["ce-definitionversion"] == "v-motor-claim"
    assert headers["ce-dataschema"] == (
        "https://schemas.wayline.dev/events/com.wayline.journey.step.completed/v1.json"
    )
    assert headers["content-type"] == "application/json"
    assert datetime.fromisoformat(headers["ce-time"]) == T0
    assert first["data"] == {
        "journey_id": headers["ce-subject"],
        "journey_type": "motor-claim",
        "at": "2026-12-03T09:00:00Z",
        "step": "s0",
        "fields": ["f0"],
        "next": None,  # these events were written without the step they lead to
    }
    assert from_binary(headers, b"{}")["id"] == headers["ce-id"]


RELAY_THAT_DIES = """
import os, signal, sys
from datetime import timedelta
from wayline.events.buses.nats import NatsBus
from wayline.events.envelope import Naming
from wayline.events.relay import Relay
from wayline.runtime.clock import SystemClock
from wayline.store import Store
from wayline.store.database import make_engine

database, nats_url, stream, prefix = sys.argv[1:5]
bus = NatsBus(nats_url, stream=stream, prefix=prefix)
die = lambda ids: os.kill(os.getpid(), signal.SIGKILL)  # published, not yet marked
Relay(Store(make_engine(database)), bus, SystemClock(), Naming(), after_publish=die).run_once()
"""


def test_a_relay_killed_between_publish_and_mark_leaves_one_message_per_event(
    store, module_database_url, nats_url, stream, tmp_path: Path, jid
):
    new_journey(store, jid("j1"))
    record(store, jid("j1"), step_events(jid("j1"), 5))
    script = tmp_path / "relay_that_dies.py"
    script.write_text(RELAY_THAT_DIES)

    died = subprocess.run(
        [sys.executable, str(script), module_database_url, nats_url, *stream],
        capture_output=True,
        timeout=60,
    )

    assert died.returncode == -9, died.stderr.decode()
    assert len(stream_messages(nats_url, stream[0])) == 5  # published ...
    assert waiting(store) == 5  # ... but not marked
    assert relay(store, nats_url, stream).run_once() == 0  # leased to the dead relay
    later = FixedClock(datetime.now(UTC) + LEASE + timedelta(seconds=1))
    assert relay(store, nats_url, stream, clock=later).run_once() == 5  # published again
    assert waiting(store) == 0
    messages = stream_messages(nats_url, stream[0])
    assert [int(m["headers"]["ce-id"]) for m in messages] == ids_by_journey(messages)[jid("j1")]
    assert len(messages) == 5  # JetStream dropped the copies (Nats-Msg-Id)


def test_a_journeys_next_event_waits_while_another_relay_holds_the_one_before(store, jid):
    j1, j2 = jid("j1"), jid("j2")
    new_journey(store, j1)
    new_journey(store, j2)
    record(store, j1, step_events(j1, 3))
    record(store, j2, step_events(j2, 1))
    now = datetime.now(UTC)

    with store.write() as connection:
        held_by_a = event_outbox.claim(connection, "a", now, now + LEASE, limit=1)
    with store.write() as connection:
        taken_by_b = event_outbox.claim(connection, "b", now, now + LEASE, limit=10)

    assert [(e.journey_id, e.body["step"]) for e in held_by_a] == [(j1, "s0")]
    assert [e.journey_id for e in taken_by_b] == [j2]  # j1's s1 and s2 wait for s0
    with store.write() as connection:
        event_outbox.mark_published(connection, [held_by_a[0].event_id], now)
        then_b = event_outbox.claim(connection, "b", now, now + LEASE, limit=10)
    assert [e.body["step"] for e in then_b] == ["s1", "s2"]
    with store.write() as connection:  # leave nothing leased for the module's other tests
        done = [e.event_id for e in (*taken_by_b, *then_b)]
        event_outbox.mark_published(connection, done, now)
    assert waiting(store) == 0


def test_three_relays_on_postgresql_keep_each_journeys_order(postgres_url, nats_url, stream):
    engine = make_engine(postgres_url)
    upgrade(engine)
    store = Store(engine)
    try:
        for n in range(12):
            new_journey(store, f"j{n}")
        for round_ in range(4):  # interleaved writes: a journey's events are not adjacent
            for n in range(12):
                record(store, f"j{n}", step_events(f"j{n}", 2, start=2 * round_))
        relays = [relay(store, nats_url, stream, batch=5) for _ in range(3)]
        claimed: list[int] = []
        threads = [
            threading.Thread(target=lambda r=r: claimed.append(r.run_once())) for r in relays
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        assert len(claimed) == 3 and sum(claimed) == 96  # every relay finished, none failed
        messages = stream_messages(nats_url, stream[0])
        assert len(messages) == 96
        assert waiting(store) == 0
        for ids in ids_by_journey(messages).values():
            assert len(ids) == 8 and ids == sorted(ids)
    finally:
        engine.dispose()


def test_replay_sends_a_range_again_with_the_same_ids(store, nats_url, stream, tmp_path, jid):
    new_journey(store, jid("j1"))
    # At T0+1000s .. T0+1003s: a range no other test of the module writes in.
    record(store, jid("j1"), step_events(jid("j1"), 4, start=1000))
    relay(store, nats_url, stream).run_once()
    bus = nats_bus(nats_url, stream)

    since, until = T0 + timedelta(seconds=1001), T0 + timedelta(seconds=1003)
    count = replay(store, bus, Naming(), since, until)

    assert count == 2
    messages = stream_messages(nats_url, stream[0])
    assert len(messages) == 6  # not dropped as duplicates: a replay has message ids of its own
    replayed = messages[4:]
    assert [m["data"]["step"] for m in replayed] == ["s1001", "s1002"]
    assert [m["headers"]["ce-id"] for m in replayed] == [
        m["headers"]["ce-id"] for m in messages[1:3]
    ]
    consumer = Deduplicator(tmp_path / "consumer.db")
    handled = []
    for message in messages:
        event = from_binary(message["headers"], b"{}")
        with consumer.once(event) as new:
            if new:
                handled.append(event["id"])
    assert len(handled) == 4 == len(set(handled))


def test_a_bus_that_is_down_gives_the_events_back_at_once(store, stream, nats_url, jid):
    new_journey(store, jid("j1"))
    record(store, jid("j1"), step_events(jid("j1"), 2))
    down = Relay(store, nats_bus("nats://127.0.0.1:9", timeout=0.5), SystemClock(), Naming())

    assert down.step() == 2
    assert waiting(store) == 2
    assert down.run_once() == 2  # one batch that went nowhere, then it stops (never spins)
    assert waiting(store) == 2
    assert relay(store, nats_url, stream).run_once() == 2  # released: no lease to wait out
    assert waiting(store) == 0


def test_a_caller_whose_thread_runs_an_event_loop_can_publish(store, nats_url, stream, jid):
    """Async code (an app, a test runner) has a loop running in its thread: the bus keeps its
    own loop in a thread of its own, so the relay publishes from there too."""
    new_journey(store, jid("j1"))
    record(store, jid("j1"), step_events(jid("j1"), 3))

    async def from_async_code() -> int:
        return relay(store, nats_url, stream).run_once()

    assert asyncio.run(from_async_code()) == 3
    assert waiting(store) == 0
    assert len(stream_messages(nats_url, stream[0])) == 3


def test_an_event_recorded_in_a_trace_carries_its_traceparent(store, nats_url, stream, jid):
    context = SpanContext(
        trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736,
        span_id=0x00F067AA0BA902B7,
        is_remote=False,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    new_journey(store, jid("j1"))
    with trace.use_span(NonRecordingSpan(context)):
        record(store, jid("j1"), step_events(jid("j1"), 1))
    record(store, jid("j1"), step_events(jid("j1"), 1, start=1))  # outside any trace

    relay(store, nats_url, stream).run_once()

    traced, untraced = (m["headers"] for m in stream_messages(nats_url, stream[0]))
    assert traced["ce-traceparent"] == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert "ce-traceparent" not in untraced
