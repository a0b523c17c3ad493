"""The customer's commands on how a journey ends: withdraw it, or cancel something it holds
(a payment waiting out its pause) before it runs."""

from __future__ import annotations

from wayline.journeys import engine
from wayline.journeys.engine import NotAvailable
from wayline.runtime.commands.common import commit_for_client, expect_revision
from wayline.runtime.dependencies import Dependencies
from wayline.runtime.results import Changed
from wayline.store.outbox import HoldGone


def withdraw(deps: Dependencies, customer_id: str, journey_id: str, revision: int) -> Changed:
    """Withdraw a draft, or a sent journey where its definition allows; what it held is
    cancelled with it."""
    now = deps.clock.now()
    before = deps.uow.read(journey_id, customer_id)
    expect_revision(before, revision)
    transition = engine.withdraw(before.journey, before.state, now)
    return commit_for_client(deps, customer_id, before, transition, now)


def cancel_hold(
    deps: Dependencies, customer_id: str, journey_id: str, key: str, revision: int
) -> Changed:
    """Cancel one held effect. Exactly once: the outbox row is cancelled only while it is
    waiting and never tried, in the transaction that records the cancellation; when the
    worker took it first, nothing is written and the customer is told it has begun."""
    now = deps.clock.now()
    before = deps.uow.read(journey_id, customer_id)
    expect_revision(before, revision)
    transition = engine.cancel_hold(before.journey, before.state, key, now)
    try:
        return commit_for_client(deps, customer_id, before, transition, now)
    except HoldGone:
        raise NotAvailable("This has already begun, so it can no longer be cancelled") from None
