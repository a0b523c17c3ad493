"""A poison effect ends dead-lettered after its last attempt, without stopping the others; the
operator sees it with `wayline effects list` and puts it back with `wayline effects retry`."""

from __future__ import annotations

from pathlib import Path

from reliability_kit import (
    customer_api,
    drain,
    effect_rows,
    events_of,
    file_cash_claim,
    messages_about,
    payouts,
    run_cli,
    settled,
    worker_env,
)

from wayline.journeys.engine import EffectRequest
from wayline.runtime.clock import SystemClock
from wayline.store import outbox
from wayline.web.app import create_app

ATTEMPTS = 3


def test_a_poison_effect_is_dead_lettered_and_can_be_retried(
    sandbox, make_components, sqlite_url, connectors: Path, home: Path, tmp_path: Path
) -> None:
    components = make_components(sqlite_url)
    with customer_api(create_app(components)) as alex:
        claims = [file_cash_claim(alex) for _ in range(3)]
        ids = [claim["id"] for claim in claims]
        # A message from a template the journey does not have: it can never be sent.
        with components.store.write() as connection:
            poison = EffectRequest("notify", f"{ids[0]}:notify:poison", {"template": "nope"})
            outbox.enqueue(connection, ids[0], (poison,), SystemClock().now())
        poison_id = next(r["id"] for r in effect_rows(components.store) if r["key"] == poison.key)

        def poison_row() -> dict:
            return next(r for r in effect_rows(components.store) if r["id"] == poison_id)

        worker = components.worker(max_attempts=ATTEMPTS, base_delay=0.01)
        drain(
            worker,
            lambda: (
                settled(components.store, ids, unless=(poison_id,))
                and poison_row()["status"] == "dead"
            ),
            timeout=30,
        )

        # Dead after its last attempt, with the reason; every claim went on regardless.
        dead = poison_row()
        assert dead["attempts"] == ATTEMPTS
        assert "no notification template 'nope'" in dead["last_error"]
        assert [r["id"] for r in effect_rows(components.store) if r["status"] == "dead"] == [
            poison_id
        ]
        assert len(payouts(sandbox)) == len(claims)
        for claim in claims:
            assert len(events_of(alex, claim["id"], "payment.sent")) == 1
            assert len(messages_about(sandbox, claim["reference"])) == 6

    # The operator's view, through the command line.
    env = worker_env(home, sqlite_url, connectors)
    listed = run_cli(["effects", "list"], env, tmp_path)
    assert poison_id in listed and "notify" in listed and "LookupError" in listed, listed
    assert ids[1] not in listed

    queued = run_cli(["effects", "retry", poison_id], env, tmp_path)
    assert "1 effect(s) queued again" in queued
    again = poison_row()
    assert (again["status"], again["attempts"]) == ("pending", 0)

    # Retried, it runs again (and, still poison, ends dead again after its attempts).
    drain(worker, lambda: poison_row()["status"] == "dead", timeout=30)
    assert poison_row()["attempts"] == ATTEMPTS
