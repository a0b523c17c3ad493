"""Partner calls' results, kept with the journey (journeys/calls.py), content blocks' words
(journeys/content.py) and pence(): pure, on the motor claim."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_follow_up import glass_cash_claim, sent, with_checks_data

from wayline.journeys import calls, content, engine, follow_up
from wayline.journeys.expressions import evaluate
from wayline.journeys.functions import pence
from wayline.journeys.schema import Content


def approved(shell):
    state = with_checks_data(shell, sent(shell, glass_cash_claim(shell)))
    decided = follow_up.complete_checks(shell.journey, state, shell.now)
    [call] = [e for e in decided.effects if e.kind == calls.CALL]
    return decided.state, call


def test_a_call_s_request_is_worked_out_from_the_journey(shell):
    state, call = approved(shell)
    payout = calls.declared(shell.journey, "payout")
    request = calls.request_for(shell.journey, state, payout, shell.now)
    assert request["amount_pence"] == 123450
    assert request["currency"] == "GBP"
    assert request["reference"] == "CLM-TEST01"
    assert set(request["account"]) == {"name", "sort_code", "account_number"}


def test_a_done_payout_pays_once_and_fires_paid(shell):
    state, call = approved(shell)
    payout = calls.declared(shell.journey, "payout")
    response = {"payout_id": "PO-1", "status": "paid", "amount_pence": 123450}
    done = calls.record_result(
        shell.journey, state, payout, call.key, calls.DONE, shell.now, response
    )
    assert done.state.effects["payout"]["status"] == "done"
    assert done.state.effects["payout"]["response"] == response
    assert done.state.payments[call.key]["amount"] == "1234.50"
    assert [e.type for e in done.events] == ["effect.done", "payment.sent"]
    assert [e.params["template"] for e in done.effects] == ["payment_sent"]
    # A retry after a crash between the call and its record records nothing new.
    again = calls.record_result(
        shell.journey, done.state, payout, call.key, calls.DONE, shell.now, response
    )
    assert again.events == () and again.state == done.state
    # Nor does the deadline's timer count a breach for it.
    late = follow_up.deadline_passed(done.state, "t", call.key, "payout", shell.now)
    assert late.events == ()


def test_a_refusal_is_final_and_pays_nothing(shell):
    state, call = approved(shell)
    payout = calls.declared(shell.journey, "payout")
    refused = calls.record_result(
        shell.journey, state, payout, call.key, calls.REFUSED, shell.now, outcome="no"
    )
    assert refused.state.effects["payout"] == {
        "status": "refused",
        "at": shell.now.isoformat(),
        "outcome": "no",
    }
    assert refused.state.payments == {} and refused.effects == ()
    assert calls.already(refused.state, call.key)
    # Queued again (a second decision), it stays refused: the outbox keeps its key.
    _, effects = engine.queue(shell.journey, refused.state, "decided", shell.now)
    assert refused.state.effects["payout"]["status"] == "refused"


def test_a_request_value_that_cannot_be_worked_out_is_refused(shell):
    state, _ = approved(shell)
    payout = calls.declared(shell.journey, "payout")
    broken = payout.model_copy(update={"request": {"amount_pence": "pence(answers.nothing)"}})
    with pytest.raises(calls.RequestUnavailable, match="amount_pence"):
        calls.request_for(shell.journey, state, broken, shell.now)


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False))
def test_pence_is_exact_for_any_amount_in_pounds(amount: Decimal):
    assert pence(str(amount)) == int(amount * 100)
    assert evaluate("pence(answers.amount)", {"answers": {"amount": str(amount)}}) == int(
        amount * 100
    )


@pytest.mark.parametrize("amount", [0.1, "1.005", "NaN", "lots"])
def test_pence_refuses_floats_fractions_of_a_penny_and_words(amount):
    with pytest.raises(ValueError):
        pence(amount)


def test_content_shows_the_blocks_that_apply_with_their_placeholders_filled():
    blocks = [
        Content(type="panel", title="Frozen", text="At {effects.freeze.response.at}", when=None),
        Content(type="warning", text="Not yet", when="effects.freeze.status != 'done'"),
        Content(type="text", text="{answers.missing}{effects.freeze}{journey.id}"),
    ]
    scope = {
        "answers": {},
        "effects": {"freeze": {"status": "done", "response": {"at": "10:00"}}},
        "journey": {"id": "j1"},
    }
    assert content.shown(blocks, scope) == [
        {"type": "panel", "title": "Frozen", "text": "At 10:00"},
        {"type": "text", "text": "j1"},  # nothing for a path to nothing or to a whole map
    ]
    assert content.unknown_roots("{data.customer.name} {answers.x}") == ["data.customer.name"]


def test_a_computed_placeholder_reads_the_value_in_words_never_the_kept_value():
    blocks = [Content(type="text", text="Pay {computed.total} ({computed.missing}{computed})")]
    scope = {"computed": {"total": "1250.00"}}
    assert content.shown(blocks, scope, {"total": "£1,250.00"}) == [
        {"type": "text", "text": "Pay £1,250.00 ()"}
    ]
    assert content.shown(blocks, scope) == [{"type": "text", "text": "Pay  ()"}]
    assert content.computed_names("{computed.a} {answers.b} {computed.c.d}") == ["a", "c"]
