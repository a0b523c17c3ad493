"""How a journey ends: completed or declined by its effects' results, withdrawn by the
customer, closed by staff, expired by time; and effects held until a time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wayline.journeys import engine
from wayline.journeys.engine import ENDED, JourneyState, NotAvailable, Refused, Status
from wayline.journeys.expressions import evaluate
from wayline.journeys.loader import Journey, check_path

NOW = datetime(2026, 3, 27, 10, 30, tzinfo=UTC)

DEFINITION = """\
journey: transfer
title: Send money
reference_prefix: PAY
abandon_after: P7D
fulfilment:
  completed_when: data.payment.status == "sent"
  declined_when: data.payment.status == "rejected"
  withdrawn_when: data.payment.status == "recalled"
  withdraw_while: [in_progress, submitted]
steps:
  - name: payment
    title: The payment
    fields:
      - name: amount
        type: money
        currency: GBP
        label: Amount
        classification: internal
        required: Enter an amount
      - name: pay_on
        type: date
        label: Pay on
        classification: internal
declaration:
  text: It is all true
checks:  # the payment's standing, as the fulfilment conditions read it
  - name: payment_known
    title: The payment is known
    source: payment
    passes: "true"
    reason: We could not find the payment
effects:
  - kind: send_payment
    after: PT30M
    when: answers.pay_on == null
  - kind: send_payment
    not_before: answers.pay_on
    when: answers.pay_on != null
  - kind: receipt
    at: completed
  - kind: standing_order
    at: submitted
    when: answers.pay_on != null
    not_before: dealing_day(now, "15:00") + "T15:00:00+00:00"
    schedule:
      first: answers.pay_on
      every: month
  - kind: sorry
    at: withdrawn
"""


@pytest.fixture(scope="module")
def transfer(tmp_path_factory) -> Journey:
    folder: Path = tmp_path_factory.mktemp("fulfil")
    (folder / "journeys" / "fragments").mkdir(parents=True)
    path = folder / "journeys" / "transfer.yaml"
    path.write_text(DEFINITION, encoding="utf-8")
    journeys, errors = check_path(path)
    assert not errors, errors
    return journeys["transfer"]


def answered(journey: Journey, answers: dict) -> JourneyState:
    state = engine.start(journey, journey_id="j1", customer_id="c1", data={}, now=NOW).state
    return engine.submit_step(journey, state, "payment", answers, NOW).state


def sent(journey: Journey, answers: dict | None = None) -> engine.Transition:
    state = answered(journey, answers or {"amount": "250"})
    return engine.submit(journey, state, declaration=True, reference="PAY-1", now=NOW)


def with_payment(state: JourneyState, status: str) -> JourneyState:
    return engine.record_data(state, "payment", {}, {"status": status}, NOW)


def test_an_effect_held_after_its_trigger(transfer):
    effects = sent(transfer).effects
    assert [(e.kind, e.not_before) for e in effects] == [
        ("send_payment", NOW + timedelta(minutes=30))
    ]


def test_a_future_dated_effect_waits_for_its_date(transfer):
    effects = sent(transfer, {"amount": "250", "pay_on": "2026-04-02"}).effects
    assert [(e.kind, e.not_before) for e in effects] == [
        ("send_payment", datetime(2026, 4, 2, tzinfo=UTC)),
        # Friday 10:30 is before the 15:00 cut-off: dealt that day, at the cut-off
        ("standing_order", datetime(2026, 3, 27, 15, tzinfo=UTC)),
    ]


def test_a_standing_order_hands_its_recurrence_to_the_partner(transfer):
    effects = sent(transfer, {"amount": "250", "pay_on": "2026-04-02"}).effects
    [order] = [e for e in effects if e.kind == "standing_order"]
    assert order.params == {"schedule": {"first": "2026-04-02", "every": "month", "until": None}}


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        ("2026-03-27T14:59:59+00:00", "2026-03-27"),  # Friday, before the cut-off
        ("2026-03-27T15:00:00+00:00", "2026-03-30"),  # Friday at the cut-off: Monday
        ("2026-03-28T09:00:00+00:00", "2026-03-30"),  # Saturday: Monday
        ("2026-03-29T16:00:00+00:00", "2026-03-30"),  # Sunday after hours: Monday
        ("2026-03-30T15:30:00+00:00", "2026-03-31"),  # Monday after: Tuesday
    ],
)
def test_the_dealing_day_follows_the_cut_off_and_skips_weekends(moment, day):
    assert evaluate(f'dealing_day("{moment}", "15:00")', {}) == day


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_the_dealing_day_is_the_first_weekday_not_before_the_cut_off(moment):
    day = datetime.fromisoformat(evaluate(f'dealing_day("{moment.isoformat()}", "12:00")', {}))
    assert day.weekday() < 5
    assert day.date() >= moment.date()
    assert (day.date() == moment.date()) == (moment.weekday() < 5 and moment.hour < 12)
    assert (day.date() - moment.date()).days <= 3


def test_a_date_already_past_holds_nothing():
    assert engine.moment_of("2026-03-27T10:00:00+00:00", NOW) < NOW
    assert engine.moment_of(12, NOW) is None
    assert engine.moment_of("2026-03-27T12:00:00", NOW) == NOW.replace(hour=12, minute=0)


def test_the_partners_answer_completes_the_journey(transfer):
    state = sent(transfer).state
    assert engine.fulfil(transfer, state, NOW).state == state  # nothing known yet
    later = NOW + timedelta(minutes=31)
    done = engine.fulfil(transfer, with_payment(state, "sent"), later)
    assert done.state.status == Status.COMPLETED
    assert done.state.ended == {"status": "completed", "at": later.isoformat(), "by": "effect"}
    assert [e.type for e in done.events] == ["journey.completed"]
    assert [e.kind for e in done.effects] == ["receipt"]
    assert engine.fulfil(transfer, done.state, later).state == done.state  # once


def test_a_rejected_payment_declines_it(transfer):
    state = with_payment(sent(transfer).state, "rejected")
    declined = engine.fulfil(transfer, state, NOW)
    assert declined.state.status == Status.DECLINED and declined.effects == ()


def test_a_result_the_definition_names_withdraws_it_and_undoes_what_it_held(transfer):
    state = with_payment(sent(transfer).state, "recalled")
    withdrawn = engine.fulfil(transfer, state, NOW)
    assert withdrawn.state.status == Status.WITHDRAWN
    assert withdrawn.state.ended == {"status": "withdrawn", "at": NOW.isoformat(), "by": "effect"}
    assert [e.kind for e in withdrawn.effects] == ["sorry"]
    assert withdrawn.cancel == (engine.ALL_HELD,)


def test_a_draft_is_not_fulfilled(transfer):
    draft = with_payment(answered(transfer, {"amount": "1"}), "sent")
    assert engine.fulfil(transfer, draft, NOW).state.status == Status.IN_PROGRESS


def test_the_customer_withdraws_where_the_definition_allows(transfer):
    state = sent(transfer).state
    withdrawn = engine.withdraw(transfer, state, NOW)
    assert withdrawn.state.status == Status.WITHDRAWN
    assert withdrawn.state.ended["by"] == "customer"
    assert [e.kind for e in withdrawn.effects] == ["sorry"]
    in_review = replace(state, status=Status.IN_REVIEW)
    with pytest.raises(NotAvailable, match="can no longer be withdrawn"):
        engine.withdraw(transfer, in_review, NOW)


def test_staff_close_with_a_reason(transfer):
    state = sent(transfer).state
    with pytest.raises(Refused):
        engine.close_as(transfer, state, Status.DECLINED, "  ", NOW)
    with pytest.raises(Refused):
        engine.close_as(transfer, state, Status.EXPIRED, "late", NOW)
    closed = engine.close_as(transfer, state, Status.DECLINED, "Payee account closed", NOW)
    assert closed.state.ended == {
        "status": "declined",
        "at": NOW.isoformat(),
        "by": "staff",
        "reason": "Payee account closed",
    }
    draft = answered(transfer, {"amount": "1"})
    with pytest.raises(NotAvailable):
        engine.close_as(transfer, draft, Status.COMPLETED, "done", NOW)


def test_a_draft_left_too_long_expires(transfer):
    draft = answered(transfer, {"amount": "1"})
    with pytest.raises(NotAvailable):
        engine.abandon(transfer, draft, NOW + timedelta(days=6))
    expired = engine.abandon(transfer, draft, NOW + timedelta(days=7))
    assert expired.state.status == Status.EXPIRED and expired.state.ended["by"] == "time"


COMMANDS = {
    "fulfil": lambda j, s, now: engine.fulfil(j, with_payment(s, "sent"), now),
    "decline": lambda j, s, now: engine.fulfil(j, with_payment(s, "rejected"), now),
    "withdraw": lambda j, s, now: engine.withdraw(j, s, now),
    "close": lambda j, s, now: engine.close_as(j, s, Status.COMPLETED, "done", now),
    "expire": lambda j, s, now: engine.abandon(j, s, now + timedelta(days=8)),
    "review": lambda j, s, now: engine.begin_review(j, s, now),
    "decide": lambda j, s, now: engine.decide(j, s, "approved", [], now),
    "submit": lambda j, s, now: engine.submit(j, s, declaration=True, reference="R", now=now),
}


@given(st.lists(st.sampled_from(sorted(COMMANDS)), max_size=8))
def test_a_journey_ends_once_and_stays_ended(transfer, commands):
    state = answered(transfer, {"amount": "10"})
    ended_as = None
    for step, name in enumerate(commands):
        now = NOW + timedelta(minutes=step)
        try:
            transition = COMMANDS[name](transfer, state, now)
        except Refused:
            continue
        assert ended_as is None or transition.state.status == ended_as
        if transition.state.status in ENDED and ended_as is None:
            ended_as = transition.state.status
            assert transition.state.ended["status"] == ended_as.value
            ends = [e for e in transition.events if e.type.startswith("journey.")]
            assert [e.type for e in ends] == [f"journey.{ended_as.value}"]
        state = transition.state
    if ended_as is not None:
        assert state.status == ended_as
        for command in COMMANDS.values():  # nothing moves an ended journey
            try:
                after = command(transfer, state, NOW + timedelta(days=30))
            except Refused:
                continue
            assert after.state.status == ended_as and not after.events
