"""SIGKILL the effect worker at many points, restart it, and every approved claim is still
paid exactly once.

`wayline worker` runs as its own process against a database file or PostgreSQL, with the
partner simulators in this process. It is killed with SIGKILL (nothing graceful) again and
again:
- right after the payment provider has made a payout and before it answers, so the worker
  never hears of it and has committed nothing: the worst moment, made certain by a hook on
  the provider's ledger;
- while a payout call is in flight (the provider answers slowly): whether the money moves
  then depends on whether the provider finishes the call for a caller that is gone;
- at a random moment once the worker is at work: calling partners, committing, claiming.
After each kill the dead worker's leases are expired (what waiting out the lease would do) and
a new worker starts. At the end the provider holds one payout per claim and each journey has
one payment.sent.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections import Counter
from pathlib import Path

from reliability_kit import (
    AMOUNT_PENCE,
    PAYMENTS,
    WorkerProcess,
    customer_api,
    effect_rows,
    events_of,
    expire_leases,
    fault_counts,
    file_cash_claim,
    messages_about,
    payouts,
    set_faults,
    settled,
    spy_on_payouts,
    wait_for,
    worker_env,
)

from wayline.web.app import create_app

CLAIMS = 4
# The kill points, in order. Until the random one, no payout can be recorded, so there is
# always a payout call to kill the worker at.
KILLS = ["after_pay", "in_flight", "after_pay", "random"]

BUSY = (PAYMENTS, "notification_provider")


def test_sigkill_between_payout_and_commit_pays_each_claim_once(
    sandbox, make_components, database_url, connectors: Path, home: Path, tmp_path: Path
) -> None:
    components = make_components(database_url)
    store = components.store
    env = worker_env(home, database_url, connectors, WAYLINE_EFFECT_MAX_ATTEMPTS="50")
    # Slow answers, so kills land in the middle of calls.
    set_faults(sandbox, PAYMENTS, latency_ms=250, jitter_ms=150)
    set_faults(sandbox, "notification_provider", latency_ms=30, jitter_ms=30)
    spy = spy_on_payouts(sandbox)
    chooser = random.Random(4)

    with customer_api(create_app(components)) as alex:
        claims = [file_cash_claim(alex) for _ in range(CLAIMS)]
    ids = [claim["id"] for claim in claims]
    journey_of = {claim["reference"]: claim["id"] for claim in claims}

    def unrecorded_payouts() -> int:
        """Payouts the provider made that the journey does not know of (yet)."""
        count = 0
        for payout in payouts(sandbox):
            state = components.system.current(journey_of[payout["reference"]]).state
            count += state.effects.get("payout", {}).get("status") != "done"
        return count

    started: list[WorkerProcess] = []

    def start_worker(name: str) -> WorkerProcess:
        worker = WorkerProcess(env, tmp_path, tmp_path / f"worker-{name}.log").start()
        started.append(worker)
        return worker

    def calls_to(*partners: str) -> int:
        return sum(fault_counts(sandbox, p)["calls"] for p in partners)

    kills: Counter[str] = Counter()
    lost_answers = 0  # kills that left money paid out and the journey unaware
    try:
        for number, how in enumerate(KILLS, start=1):
            worker = start_worker(str(number))
            if how == "after_pay":
                fired = threading.Event()

                def kill_now(key: str, pid: int = worker.pid, fired=fired) -> None:
                    if not fired.is_set():
                        fired.set()
                        os.kill(pid, signal.SIGKILL)  # paid; the answer never leaves

                spy.after = kill_now
                wait_for(fired.is_set, timeout=60, what="a payout", worker=worker)
                spy.after = None
            elif how == "in_flight":
                # A payout call reached the provider, which takes at least 0.25 s to answer.
                reached = calls_to(PAYMENTS)
                wait_for(lambda r=reached: calls_to(PAYMENTS) > r, 60, "a payout", worker=worker)
                time.sleep(chooser.uniform(0, 0.1))
            else:
                # Anywhere, once the worker is at work: calling, committing, claiming.
                reached = calls_to(*BUSY)
                wait_for(lambda r=reached: calls_to(*BUSY) > r, 60, "a call", worker=worker)
                time.sleep(chooser.uniform(0, 0.5))
            worker.kill()
            kills[how] += 1
            lost_answers += unrecorded_payouts() > 0
            expire_leases(store)

        # A last worker, left to finish.
        final = start_worker("final")
        wait_for(lambda: settled(store, ids), 90, "all claims settled", 0.1, worker=final)
        final.stop()
    finally:
        spy.after = None
        for worker in started:
            worker.kill()

    # The kills happened where they were meant to, and the worst one left money paid out with
    # the journey unaware, more than once.
    assert kills == Counter(KILLS)
    assert lost_answers >= 2, (kills, lost_answers)
    assert sum(spy.calls.values()) > CLAIMS, spy.calls  # payouts were asked for again

    # Exactly one payout per claim at the provider, and one payment.sent on each journey.
    made = payouts(sandbox)
    assert Counter(p["reference"] for p in made) == Counter({c["reference"]: 1 for c in claims})
    assert {p["amount_pence"] for p in made} == {AMOUNT_PENCE}
    with customer_api(create_app(components)) as alex:
        for claim in claims:
            sent = events_of(alex, claim["id"], "payment.sent")
            assert len(sent) == 1, sent
            paid = next(p for p in made if p["reference"] == claim["reference"])
            assert sent[0]["data"]["payout_id"] == paid["payout_id"]
            # The customer heard once of each thing, whatever the worker went through.
            told = messages_about(sandbox, claim["reference"])
            assert set(told.values()) == {1} and len(told) == 6, told
    assert not [r for r in effect_rows(store) if r["status"] == "dead"]
