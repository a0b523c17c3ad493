"""Several workers on PostgreSQL never run the same effect at once.

First with workers in threads of this process, each with its own connection pool and its own
pool of effect threads, on a probe handler that notices any overlap; then with two
`wayline worker` processes and the real handlers, where the partners count every call by
idempotency key: with no failures, each effect must reach its partner exactly once.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from reliability_kit import (
    PAYMENTS,
    WorkerProcess,
    customer_api,
    effect_rows,
    events_of,
    file_cash_claim,
    payouts,
    set_faults,
    settled,
    spy_on_messages,
    spy_on_payouts,
    wait_for,
    worker_env,
)

from wayline.journeys.engine import EffectRequest
from wayline.runtime.clock import SystemClock
from wayline.runtime.worker import Effect, Wakeup, Worker
from wayline.store import Store, outbox
from wayline.store.database import make_engine
from wayline.web.app import create_app

pytestmark = pytest.mark.postgres

PROBES = 240
WORKERS = 3


def test_workers_in_threads_never_run_an_effect_at_once(postgres_url, make_components) -> None:
    make_components(postgres_url)  # the schema
    setup = Store(make_engine(postgres_url))
    now = datetime.now(UTC)
    with setup.write() as connection:
        for journey in range(PROBES // 20):
            effects = tuple(
                EffectRequest("probe", f"probe:{journey}:{n}", {"n": n}) for n in range(20)
            )
            outbox.enqueue(connection, f"journey{journey:04d}", effects, now)
    ids = [row["id"] for row in effect_rows(setup)]
    assert len(ids) == PROBES

    lock = threading.Lock()
    running: dict[str, str] = {}  # effect id → the worker running it now
    overlaps: list[tuple[str, str, str]] = []
    runs: Counter[str] = Counter()
    ran_by: dict[str, set[str]] = defaultdict(set)
    chooser = random.Random(9)

    def probe(name: str):  # type: ignore[no-untyped-def]
        def handler(effect: Effect) -> None:
            with lock:
                if effect.id in running:
                    overlaps.append((effect.id, running[effect.id], name))
                running[effect.id] = name
                runs[effect.id] += 1
                ran_by[name].add(effect.id)
                fail = effect.attempts == 1 and chooser.random() < 0.25
                pause = chooser.uniform(0, 0.004)
            try:
                time.sleep(pause)
                if fail:
                    raise RuntimeError("a first attempt that fails, to be retried")
            finally:
                with lock:
                    running.pop(effect.id, None)

        return handler

    stop = threading.Event()
    stores = [Store(make_engine(postgres_url)) for _ in range(WORKERS)]
    workers = [
        Worker(s, SystemClock(), {"probe": probe(f"w{i}")}, base_delay=0.0, batch=5, concurrency=4)
        for i, s in enumerate(stores)
    ]
    wakeups = [Wakeup(s) for s in stores]
    threads = [
        threading.Thread(target=w.run_forever, args=(wake, stop), kwargs={"poll": 0.02})
        for w, wake in zip(workers, wakeups, strict=True)
    ]
    for thread in threads:
        thread.start()
    try:
        wait_for(
            lambda: all(r["status"] == "done" for r in effect_rows(setup)),
            timeout=60,
            what="every probe done",
            step=0.05,
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        for wake in wakeups:
            wake.close()
        for s in [setup, *stores]:
            s.engine.dispose()

    assert overlaps == []
    assert set(runs) == set(ids)
    rows = {row["id"]: row for row in effect_rows(Store(make_engine(postgres_url)))}
    assert all(runs[i] == rows[i]["attempts"] for i in ids)  # every run was counted: no extras
    assert sum(runs.values()) > PROBES  # failed first attempts were retried
    assert sum(1 for done in ran_by.values() if done) >= 2  # the work really was shared


def listening(database_url: str) -> int:
    """Connections to this database waiting for NOTIFY: workers idle, waiting for work."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query LIKE 'LISTEN %'"
        ).fetchone()
    return int(row[0]) if row else 0


def test_two_worker_processes_reach_each_partner_once_per_effect(
    sandbox, make_components, postgres_url, connectors: Path, home: Path, tmp_path: Path
) -> None:
    components = make_components(postgres_url)
    env = worker_env(home, postgres_url, connectors)
    # Partners that take a little time, so the two workers are busy at once.
    set_faults(sandbox, PAYMENTS, latency_ms=40, jitter_ms=40)
    set_faults(sandbox, "notification_provider", latency_ms=20, jitter_ms=20)
    paid, told = spy_on_payouts(sandbox), spy_on_messages(sandbox)

    workers = [WorkerProcess(env, tmp_path, tmp_path / f"worker-{n}.log") for n in (1, 2)]
    try:
        for worker in workers:
            worker.start()
        # File the claims once both are up and waiting for work, so that both race for it.
        ready = time.monotonic() + 30
        while listening(postgres_url) < 2 and time.monotonic() < ready:
            time.sleep(0.05)
        with customer_api(create_app(components)) as alex:
            claims = [file_cash_claim(alex) for _ in range(4)]
            ids = [claim["id"] for claim in claims]
            for worker in workers:
                assert worker.alive(), worker.log()[-3000:]
            wait_for(lambda: settled(components.store, ids), 90, "all claims settled", 0.1)
            for claim in claims:
                assert len(events_of(alex, claim["id"], "payment.sent")) == 1
    finally:
        for worker in workers:
            worker.stop()

    # No failures anywhere, so every effect ran once: one claim of it (attempts 1), one call
    # per idempotency key at the partner, one "effect.done" across both workers' logs.
    rows = [r for r in effect_rows(components.store) if r["kind"] != "deadline"]
    assert {(r["status"], r["attempts"]) for r in rows} == {("done", 1)}
    assert set(paid.calls.values()) == {1} and len(paid.calls) == len(claims)
    assert set(told.calls.values()) == {1} and len(told.calls) == 6 * len(claims)
    assert len(payouts(sandbox)) == len(claims)
    done = [len(re.findall(r'"event": "effect.done"', w.log())) for w in workers]
    assert sum(done) == len(rows), done  # (and usually both have a share)
    # The workers' logs are JSON lines only: no plain request lines from the HTTP library,
    # whose URLs may carry what a customer typed (partner.call says what is needed).
    for worker in workers:
        for line in worker.log().splitlines():
            assert json.loads(line)["event"], line
