"""The worker's queue gauges, read from the outbox on SQLite and PostgreSQL with a moved clock:
the queue's age is the wait of the oldest due effect (held effects and future timers are not
waiting), and a deadline is at risk while its time is near or past and its effect not done."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wayline.journeys.engine import EffectRequest
from wayline.observability import metrics
from wayline.runtime.clock import FixedClock
from wayline.runtime.queue_watch import QueueWatch
from wayline.store import outbox

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
JOURNEY = "01jqueuegaugesjourney00000"


def queue(components, *effects: EffectRequest, at: datetime = T0) -> None:
    with components.store.write() as connection:
        outbox.enqueue(connection, JOURNEY, effects, at)


def timer(owed: str, due: datetime, kind: str = "payout") -> EffectRequest:
    params = {"for": owed, "kind": kind, "due": due.isoformat()}
    return EffectRequest("deadline", f"{owed}:deadline", params, not_before=due)


def at_risk(kind: str) -> float:
    return metrics.DEADLINES_AT_RISK.labels(kind)._value.get()


def test_queue_age_and_deadlines_at_risk(components) -> None:
    clock = FixedClock(T0)
    watch = QueueWatch(components.store, clock, risk=timedelta(minutes=5), every=60)

    watch.refresh()
    assert metrics.EFFECT_QUEUE_AGE._value.get() == 0  # an empty queue has waited for nothing

    queue(components, EffectRequest("notify", "k:first", {}))
    queue(components, EffectRequest("notify", "k:second", {}), at=T0 + timedelta(seconds=30))
    held = EffectRequest("notify", "k:held", {}, not_before=T0 + timedelta(hours=1))
    queue(components, held, timer("k:payout", due=T0 + timedelta(minutes=15)))
    queue(components, timer("k:refund", due=T0 + timedelta(minutes=2), kind="refund"))
    clock.advance(timedelta(seconds=90))
    watch.refresh()
    # The oldest due effect, not the held one nor the timers still to come.
    assert metrics.EFFECT_QUEUE_AGE._value.get() == 90
    assert at_risk("refund") == 1  # two minutes away, its effect not done
    assert at_risk("payout") == 0  # fifteen minutes away: not yet

    clock.advance(timedelta(minutes=11))  # the payout's deadline is now four minutes away
    watch.refresh()
    assert at_risk("payout") == 1

    queue(components, EffectRequest("call", "k:payout", {}), at=clock.now())
    with components.store.write() as connection:
        (claimed,) = outbox.claim(
            connection, ["call"], clock.now(), clock.now() + timedelta(minutes=1), limit=1
        )
        outbox.finish(connection, claimed.id, "done", None, clock.now())
    watch.refresh()
    assert at_risk("payout") == 0  # paid: no longer at risk, and still reported (as 0)
    assert at_risk("refund") == 1  # past due and still not done: at risk until it fires


def test_a_refresh_is_at_most_every_few_seconds(components) -> None:
    ticks = [100.0]
    watch = QueueWatch(
        components.store, FixedClock(T0), timedelta(minutes=5), every=5, monotonic=lambda: ticks[0]
    )
    watch.maybe_refresh()
    queue(components, EffectRequest("notify", "k:late", {}))
    watch.clock = FixedClock(T0 + timedelta(seconds=40))
    ticks[0] = 103.0
    watch.maybe_refresh()  # too soon: the gauge keeps the last reading
    assert metrics.EFFECT_QUEUE_AGE._value.get() == 0
    ticks[0] = 105.0
    watch.maybe_refresh()
    assert metrics.EFFECT_QUEUE_AGE._value.get() == 40
