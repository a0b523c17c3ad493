"""The outbox: effects are queued in the same transaction as the change that causes them, and the
worker runs them at least once, with retries, backoff and a dead-letter state."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from journey_api import Api, through_incident
from sqlalchemy import select

from wayline.journeys.engine import EffectRequest
from wayline.runtime import superseded
from wayline.runtime.clock import FixedClock
from wayline.runtime.worker import Effect, Worker, retry_dead
from wayline.store import outbox, tables
from wayline.store.database import Store, aware


def effect_rows(store: Store, journey_id: str | None = None) -> list[dict[str, Any]]:
    e = tables.effects.c
    query = select(tables.effects).order_by(e.key)
    if journey_id is not None:
        query = query.where(e.journey_id == journey_id)
    with store.read() as connection:
        rows = [row._asdict() for row in connection.execute(query)]
    for row in rows:
        for key in ("available_at", "created_at", "updated_at", "locked_until"):
            row[key] = aware(row[key])
    return rows


def ready_to_send(api: Api) -> dict[str, Any]:
    journey = through_incident(api, "theft")
    journey = api.step(journey, "police", {"crime_reference": "ABC123"})
    journey = api.step(journey, "photos", {})
    assert journey["current_step"]["name"] == "check-answers"
    return journey


def test_sending_queues_its_effects_with_it(alex: Api, components) -> None:
    # What the definition says sending causes (those without a condition: a theft is sent).
    definition = components.catalog.get("motor-claim").definition
    declared = [
        (effect.kind, effect.params)
        for effect in definition.effects
        if effect.at == "submitted" and effect.when is None
    ]
    # And the platform's own: removing the files no answer names (runtime/superseded.py).
    expected = sorted([*declared, (superseded.KIND, {})])
    assert declared, "the motor claim queues work when it is sent"
    journey = ready_to_send(alex)
    queued_before = {row["key"] for row in effect_rows(components.store)}

    sent = alex.submit(journey)
    submitted_at = datetime.fromisoformat(sent["submitted_at"])
    rows = [
        row
        for row in effect_rows(components.store, journey["id"])
        if row["key"] not in queued_before
    ]
    assert sorted((row["kind"], row["params"]) for row in rows) == expected
    for row in rows:
        assert (row["status"], row["attempts"], row["last_error"]) == ("pending", 0, None)
        # Queued by the same command as the submission: the same moment, due at once.
        assert row["created_at"] == submitted_at == row["available_at"]
        assert journey["id"] in row["key"]

    # Another journey's effects have keys of their own.
    other = alex.submit(ready_to_send(alex))
    rows = effect_rows(components.store)
    keys = [row["key"] for row in rows]
    assert len(keys) == len(set(keys))
    assert {row["journey_id"] for row in rows} == {sent["id"], other["id"]}
    assert len([r for r in rows if r["journey_id"] == other["id"]]) == len(
        [r for r in rows if r["journey_id"] == sent["id"]]
    )


def test_a_failure_to_queue_rolls_the_submission_back(
    sign_in, components, monkeypatch: pytest.MonkeyPatch
) -> None:
    alex = sign_in("alex", raise_server_exceptions=False)
    journey = ready_to_send(alex)
    queued_before = effect_rows(components.store)

    def outbox_down(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the outbox is down")

    monkeypatch.setattr(outbox, "enqueue", outbox_down)
    response = alex.post_submit(journey["id"], journey["revision"], True)
    assert response.status_code == 500
    monkeypatch.undo()

    after = alex.journey(journey["id"])
    assert (after["status"], after["revision"], after["reference"]) == (
        "in_progress",
        journey["revision"],
        None,
    )
    assert "journey.submitted" not in [e["type"] for e in after["events"]]
    assert effect_rows(components.store) == queued_before

    sent = alex.submit(after)
    assert sent["status"] == "submitted"
    assert len(effect_rows(components.store)) > len(queued_before)


def _enqueue(store: Store, clock: FixedClock, *effects: tuple[str, str]) -> None:
    with store.write() as connection:
        outbox.enqueue(
            connection,
            "journey-1",
            tuple(EffectRequest(kind, key, {"key": key}) for kind, key in effects),
            clock.now(),
        )


def _by_key(store: Store) -> dict[str, dict[str, Any]]:
    return {row["key"]: row for row in effect_rows(store)}


def test_worker_retries_with_backoff_and_dead_letters(components) -> None:
    store = components.store
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    _enqueue(
        store,
        clock,
        ("notify", "ok-1"),
        ("pay", "flaky-1"),
        ("pay", "broken-1"),
        ("unknown", "waits-1"),
    )
    # Enqueueing the same key again queues nothing more.
    _enqueue(store, clock, ("notify", "ok-1"))
    assert len(effect_rows(store)) == 4

    calls: list[tuple[str, int]] = []
    broken = {"yes": True}

    def notify(effect: Effect) -> None:
        assert effect.params == {"key": effect.key}
        calls.append((effect.key, effect.attempts))

    def pay(effect: Effect) -> None:
        calls.append((effect.key, effect.attempts))
        if effect.key == "flaky-1" and effect.attempts < 3:
            raise ConnectionError("partner timed out")
        if effect.key == "broken-1" and broken["yes"]:
            raise ValueError("partner said no")

    worker = Worker(store, clock, {"notify": notify, "pay": pay}, max_attempts=3, base_delay=10)
    start = clock.now()

    assert worker.run_due() == 3
    rows = _by_key(store)
    assert rows["ok-1"]["status"] == "done"
    for key in ("flaky-1", "broken-1"):
        assert (rows[key]["status"], rows[key]["attempts"]) == ("pending", 1)
        # First retry after base_delay, with jitter of ±50%.
        assert (
            start + timedelta(seconds=5)
            <= rows[key]["available_at"]
            <= start + timedelta(seconds=15)
        )
    assert rows["flaky-1"]["last_error"] == "ConnectionError: partner timed out"
    assert (rows["waits-1"]["status"], rows["waits-1"]["attempts"]) == ("pending", 0)

    assert worker.run_due() == 0  # nothing is due yet
    clock.advance(timedelta(seconds=16))
    assert worker.run_due() == 2
    rows = _by_key(store)
    for key in ("flaky-1", "broken-1"):
        assert (rows[key]["status"], rows[key]["attempts"]) == ("pending", 2)
        # The second retry waits twice as long.
        assert clock.now() + timedelta(seconds=10) <= rows[key]["available_at"]
        assert rows[key]["available_at"] <= clock.now() + timedelta(seconds=30)

    clock.advance(timedelta(seconds=31))
    assert worker.run_due() == 2
    rows = _by_key(store)
    assert (rows["flaky-1"]["status"], rows["flaky-1"]["attempts"]) == ("done", 3)
    # Out of attempts: dead-lettered, and the others went on regardless.
    assert (rows["broken-1"]["status"], rows["broken-1"]["attempts"]) == ("dead", 3)
    assert rows["broken-1"]["last_error"] == "ValueError: partner said no"

    clock.advance(timedelta(hours=1))
    assert worker.run_due() == 0  # the dead are left alone
    assert _by_key(store)["waits-1"]["status"] == "pending"  # no handler: untouched

    # An operator requeues the dead one once the partner is fixed.
    broken["yes"] = False
    assert retry_dead(store, clock) == 1
    rows = _by_key(store)
    assert (rows["broken-1"]["status"], rows["broken-1"]["attempts"]) == ("pending", 0)
    assert worker.run_due() == 1
    assert _by_key(store)["broken-1"]["status"] == "done"
    assert retry_dead(store, clock) == 0
    assert calls.count(("ok-1", 1)) == 1
    assert [c for c in calls if c[0] == "flaky-1"] == [
        ("flaky-1", 1),
        ("flaky-1", 2),
        ("flaky-1", 3),
    ]


def test_a_claim_is_a_lease(components) -> None:
    store = components.store
    clock = FixedClock(datetime.now(UTC))
    _enqueue(store, clock, ("notify", "lease-1"))
    first = Worker(store, clock, {"notify": lambda e: None}, lease=30)
    second = Worker(store, clock, {"notify": lambda e: None}, lease=30)
    claimed = first.claim()  # ...and then the first worker dies before running it
    assert [e.key for e in claimed] == ["lease-1"]
    assert _by_key(store)["lease-1"]["status"] == "running"
    assert second.claim() == []
    clock.advance(timedelta(seconds=31))
    again = second.claim()
    assert [(e.key, e.attempts) for e in again] == [("lease-1", 2)]


def test_concurrent_workers_never_claim_the_same_effect(components) -> None:
    store = components.store
    clock = FixedClock(datetime.now(UTC))
    keys = [f"effect-{n:03d}" for n in range(150)]
    _enqueue(store, clock, *(("notify", key) for key in keys))
    workers = [Worker(store, clock, {"notify": lambda e: None}, batch=7) for _ in range(2)]
    claimed: list[list[str]] = [[], []]
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def drain(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            while batch := workers[index].claim():
                claimed[index].extend(effect.key for effect in batch)
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    first, second = claimed
    assert set(first).isdisjoint(second)
    assert sorted(first + second) == keys
    assert len(first) + len(second) == len(keys)  # and nobody claimed one twice
    assert {row["status"] for row in effect_rows(store)} == {"running"}
