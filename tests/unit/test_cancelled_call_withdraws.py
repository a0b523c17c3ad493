"""A held call the customer cancels reads as cancelled (effects.NAME.status), and the
definition's `withdrawn_when` can end the journey on it: a sale waiting out its pause,
cancelled, withdraws the request, and nothing else it holds is sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wayline.journeys import engine
from wayline.journeys.engine import ALL_HELD, JourneyState, Status
from wayline.journeys.loader import Journey, check_path

NOW = datetime(2026, 3, 27, 10, 30, tzinfo=UTC)

DEFINITION = """\
journey: sale
title: Sell
reference_prefix: SAL
fulfilment:
  withdrawn_when: effects.order.status == "cancelled"
steps:
  - name: amount
    title: Amount
    fields:
      - {name: amount, type: money, currency: GBP, label: Amount, classification: internal,
         required: Enter an amount}
declaration:
  text: It is all true
effects:
  - call: broker.place_order
    name: order
    at: submitted
    after: PT24H
    title: Your order
    key: "journey.id + ':order'"
    request:
      amount: answers.amount
  - kind: sorry
    at: withdrawn
"""


@pytest.fixture(scope="module")
def sale(tmp_path_factory) -> Journey:
    folder: Path = tmp_path_factory.mktemp("sale")
    (folder / "journeys" / "fragments").mkdir(parents=True)
    path = folder / "journeys" / "sale.yaml"
    path.write_text(DEFINITION, encoding="utf-8")
    journeys, errors = check_path(path)
    assert not errors, errors
    return journeys["sale"]


def sent(journey: Journey) -> tuple[JourneyState, str]:
    state = engine.start(journey, journey_id="j1", customer_id="c1", data={}, now=NOW).state
    state = engine.submit_step(journey, state, "amount", {"amount": "250"}, NOW).state
    submitted = engine.submit(journey, state, declaration=True, reference="SAL-1", now=NOW)
    [order] = [e for e in submitted.effects if e.not_before is not None]
    assert order.not_before == NOW + timedelta(hours=24)
    return submitted.state, order.key


def test_cancelling_the_held_call_withdraws_the_journey(sale):
    state, key = sent(sale)
    assert state.status == Status.SUBMITTED
    later = NOW + timedelta(hours=1)
    cancelled = engine.cancel_hold(sale, state, key, later)
    assert cancelled.state.effects["order"] == {"status": "cancelled", "at": later.isoformat()}
    assert cancelled.state.status == Status.WITHDRAWN
    assert cancelled.state.ended == {
        "status": "withdrawn",
        "at": later.isoformat(),
        "by": "customer",
    }
    assert [e.type for e in cancelled.events] == ["effect.cancelled", "journey.withdrawn"]
    assert [e.kind for e in cancelled.effects] == ["sorry"]
    # The key first (refused if it has begun), then everything else still held.
    assert cancelled.cancel == (key, ALL_HELD)


def test_without_withdrawn_when_a_cancelled_hold_changes_nothing_else(sale):
    plain = type(sale.definition.fulfilment)()
    journey = Journey(
        **{**sale.__dict__, "definition": sale.definition.model_copy(update={"fulfilment": plain})}
    )
    state, key = sent(journey)
    cancelled = engine.cancel_hold(journey, state, key, NOW)
    assert cancelled.state.status == Status.SUBMITTED
    assert cancelled.state.effects["order"]["status"] == "cancelled"
    assert cancelled.cancel == (key,)
