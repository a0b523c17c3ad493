"""After the answers: checks at a step and after submission, the decision, payments,
notifications and deadlines, in the pure `journeys.outcomes`."""

from dataclasses import replace
from datetime import timedelta

from wayline.journeys import engine, follow_up
from wayline.journeys.engine import Status
from wayline.runtime import presenter


def checked_at_policy(shell, state):
    submitted = engine.submit_step(
        shell.journey,
        state,
        "policy",
        {"policy_number": state.prefill.get("policy_number", {}).get("value", "MTR-100001")},
        shell.now,
    )
    return follow_up.after_step(shell.journey, submitted, "policy", shell.now)


def test_a_customer_with_a_policy_passes_the_status_check(shell):
    outcome = checked_at_policy(shell, shell.start("alex"))
    assert outcome.state.status == Status.IN_PROGRESS
    assert outcome.state.checks["customer_status"]["passed"] is True
    assert [e.type for e in outcome.events] == ["step.completed", "check.completed"]


def test_a_typed_policy_number_that_is_not_theirs_ends_the_claim_with_the_reason(shell):
    state = shell.start("alex")
    down = engine.record_data(state, "policies", {}, None, shell.now, error="unavailable")
    submitted = engine.submit_step(
        shell.journey, down, "policy", {"policy_number": "MTR-999999"}, shell.now
    )
    assert submitted.state.answers["policy_number"] == "MTR-999999"  # typed in
    back = engine.record_data(
        submitted.state,
        "policies",
        {},
        shell.sources["policies"].fetch("alex", {}, shell.now.date()),
        shell.now,
    )
    outcome = follow_up.after_step(
        shell.journey, replace(submitted, state=back), "policy", shell.now
    )
    assert outcome.state.status == Status.DECIDED
    assert outcome.state.outcome["outcome"] == "no_policy"
    assert "could not find that policy number" in outcome.state.outcome["reasons"][0]
    assert [e.type for e in outcome.events][-2:] == ["check.completed", "decision.made"]


def test_with_the_policy_system_still_down_the_typed_number_goes_on(shell):
    down = engine.record_data(
        shell.start("alex"), "policies", {}, None, shell.now, error="unavailable"
    )
    submitted = engine.submit_step(
        shell.journey, down, "policy", {"policy_number": "MTR-100001"}, shell.now
    )
    outcome = follow_up.after_step(shell.journey, submitted, "policy", shell.now)
    assert outcome.state.status == Status.IN_PROGRESS
    assert outcome.state.checks["customer_status"]["unavailable"] is True


def sent(shell, state, reference="CLM-TEST01"):
    return engine.submit(
        shell.journey, state, declaration=True, reference=reference, now=shell.now
    ).state


def with_checks_data(shell, state, fraud=None, photos=None):
    state = engine.record_data(
        state,
        "fraud_history",
        {},
        fraud or {"claims_last_two_years": 0, "risk_marker": None},
        shell.now,
    )
    return engine.record_data(state, "photo_signals", {}, photos or {"high": 0}, shell.now)


def glass_cash_claim(shell, customer="alex", amount="850"):
    from test_engine import glass_cash  # the engine tests' builder of a complete claim

    return (
        glass_cash(shell, customer, amount=amount)
        if amount != "850"
        else glass_cash(shell, customer)
    )


def test_a_clean_small_cash_claim_is_approved_and_paid_with_a_deadline(shell):
    state = with_checks_data(shell, sent(shell, glass_cash_claim(shell)))
    decided = follow_up.complete_checks(shell.journey, state, shell.now)
    assert decided.state.status == Status.DECIDED
    assert decided.state.outcome["outcome"] == "approved"
    kinds = [effect.kind for effect in decided.effects]
    assert kinds == ["notify", "call", "deadline"]
    assert decided.effects[1].params == {
        "effect": "payout",
        "idempotency_key": f"claim-payout:{state.id}",
    }
    assert decided.state.effects["payout"]["status"] == "pending"
    timer = decided.effects[-1]
    assert timer.not_before == shell.now + timedelta(minutes=15)
    assert timer.params["for"] == decided.effects[1].key


def test_a_fraud_marker_or_a_high_photo_signal_refers_the_claim(shell):
    base = sent(shell, glass_cash_claim(shell))
    marked = with_checks_data(
        shell, base, fraud={"claims_last_two_years": 3, "risk_marker": "high"}
    )
    referred = follow_up.complete_checks(shell.journey, marked, shell.now).state
    assert (referred.status, referred.outcome["outcome"]) == (Status.IN_REVIEW, "referred")
    assert referred.outcome["reasons"] == [
        "The fraud bureau holds a risk marker that a claims handler needs to review"
    ]
    signalled = with_checks_data(shell, base, photos={"high": 1})
    referred = follow_up.complete_checks(shell.journey, signalled, shell.now).state
    assert referred.outcome["reasons"] == [
        "A photo shows a sign of fraud that a claims handler needs to review"
    ]


def test_a_payment_and_a_message_are_recorded_once(shell):
    state = with_checks_data(shell, sent(shell, glass_cash_claim(shell)))
    state = follow_up.complete_checks(shell.journey, state, shell.now).state
    paid = follow_up.record_payment(shell.journey, state, "k1", "PO-1", "850.00", shell.now)
    assert [e.type for e in paid.events] == ["payment.sent"]
    assert [effect.kind for effect in paid.effects] == ["notify"]
    again = follow_up.record_payment(shell.journey, paid.state, "k1", "PO-1", "850.00", shell.now)
    assert again.events == () and again.effects == ()
    told = follow_up.record_notification(
        paid.state, "k2:email", "decision", "email", "M1", shell.now
    )
    assert len(told.events) == 1
    assert (
        follow_up.record_notification(
            told.state, "k2:email", "decision", "email", "M1", shell.now
        ).events
        == ()
    )


def test_a_deadline_breach_is_recorded_once_and_not_when_paid(shell):
    state = with_checks_data(shell, sent(shell, glass_cash_claim(shell)))
    state = follow_up.complete_checks(shell.journey, state, shell.now).state
    late = follow_up.deadline_passed(state, "t1", "pay1", "payout", shell.now)
    assert [e.type for e in late.events] == ["deadline.breached"]
    assert follow_up.breached(late.state, "t1")
    assert follow_up.deadline_passed(late.state, "t1", "pay1", "payout", shell.now).events == ()
    paid = follow_up.record_payment(shell.journey, state, "pay1", "PO-1", "1.00", shell.now).state
    assert follow_up.deadline_passed(paid, "t1", "pay1", "payout", shell.now).events == ()


def test_notifications_fill_only_their_placeholders(shell):
    state = sent(shell, glass_cash_claim(shell), reference="CLM-ABC234")
    messages = follow_up.render_notification(
        shell.journey, state, "claim_received", "https://example.test/status", shell.now
    )
    email = next(m for m in messages if m["channel"] == "email")
    assert email["to"] == "alex@example.com"
    assert email["subject"] == "We have received your claim CLM-ABC234"
    assert "Dear Alex Morgan" in email["body"] and "https://example.test/status" in email["body"]
    sms = next(m for m in messages if m["channel"] == "sms")
    assert sms["to"] == "+44 7700 900001"


def test_notifications_go_where_the_definition_s_recipient_says(shell):
    state = sent(shell, glass_cash_claim(shell), reference="CLM-ABC234")
    recipient = shell.journey.definition.recipient
    only_email = recipient.model_copy(update={"sms": None, "email": "'claims@example.test'"})
    definition = shell.journey.definition.model_copy(update={"recipient": only_email})
    journey = replace(shell.journey, definition=definition)
    messages = follow_up.render_notification(journey, state, "claim_received", "u", shell.now)
    assert [(m["channel"], m["to"]) for m in messages] == [("email", "claims@example.test")]
    # The recipient's source could not answer: asked again before anything is sent.
    down = replace(state, data={**state.data, "customer": {"error": "unavailable"}})
    assert follow_up.recipient_unknown(shell.journey, down)
    assert [n.source for n in follow_up.recipient_needs(shell.journey, down, shell.now)] == [
        "customer"
    ]
    assert follow_up.recipient_needs(shell.journey, state, shell.now) == []
    # No step reads the recipient's source: it is asked for the first message.
    never = replace(state, data={k: v for k, v in state.data.items() if k != "customer"})
    assert [n.source for n in follow_up.recipient_needs(shell.journey, never, shell.now)] == [
        "customer"
    ]


# --- a partner that could not answer is never a verdict ------------------------------------------

PAYEE_DOWN = "We could not check the account name just now. We will check it before we pay you."
MISMATCH = "does not match the name on that account"


def payee_answered(shell, state, value=None, error=None):
    """The step check's data as the runtime records it: the provider's answer, or a failure."""
    params = {
        "name": state.answers["account_holder"],
        "sort_code": state.answers["sort_code"],
        "account_number": state.answers["account_number"],
    }
    return engine.record_data(state, "confirm_payee", params, value, shell.now, error=error)


def sams_claim_with_the_payee_check(shell, value=None, error=None):
    state = payee_answered(shell, glass_cash_claim(shell, "sam"), value, error)
    state, events = follow_up.run_checks(shell.journey, state, "step:payment-details", shell.now)
    return state, events


def test_a_payee_check_the_provider_could_not_make_is_unavailable_not_a_mismatch(shell):
    state, events = sams_claim_with_the_payee_check(shell, error="unavailable")
    result = state.checks["confirmation_of_payee"]
    assert (result["status"], result["passed"], result["unavailable"]) == (
        "unavailable",
        None,
        True,
    )
    assert result["reason"] == PAYEE_DOWN
    assert MISMATCH not in str(state.checks)
    assert events[-1].data == {
        "check": "confirmation_of_payee",
        "status": "unavailable",
        "passed": None,
    }
    assert presenter.step_warnings(shell.journey, state, "payment-details") == [PAYEE_DOWN]


def test_a_real_mismatch_is_still_a_warning_with_its_reason(shell):
    state, _ = sams_claim_with_the_payee_check(shell, value={"result": "no_match"})
    assert state.checks["confirmation_of_payee"]["status"] == "failed"
    [warning] = presenter.step_warnings(shell.journey, state, "payment-details")
    assert MISMATCH in warning


def test_the_payee_is_checked_again_after_sending_and_only_then_paid(shell):
    state, _ = sams_claim_with_the_payee_check(shell, error="unavailable")
    state = with_checks_data(shell, sent(shell, state))
    # The run_checks effect asks for the payee check again: it is owed.
    needs = follow_up.check_needs(shell.journey, state, "submitted", {}, shell.now, True)
    assert "confirm_payee" in {need.source for need in needs}

    back = payee_answered(shell, state, {"result": "match"})
    decided = follow_up.complete_checks(shell.journey, back, shell.now)
    assert decided.state.checks["confirmation_of_payee"]["status"] == "passed"
    assert decided.state.outcome["outcome"] == "approved"
    assert "payout" in [effect.params.get("effect") for effect in decided.effects]


def test_a_payee_still_unchecked_at_the_end_refers_the_claim_without_a_false_mismatch(shell):
    state, _ = sams_claim_with_the_payee_check(shell, error="unavailable")
    state = with_checks_data(shell, sent(shell, state))
    decided = follow_up.complete_checks(shell.journey, state, shell.now).state
    assert (decided.status, decided.outcome["outcome"]) == (Status.IN_REVIEW, "referred")
    assert decided.outcome["reasons"] == [
        "We could not check the name on the payment account, so a claims handler will check "
        "it before we pay you"
    ]
    assert "did not match" not in str(decided.outcome)


def test_a_check_that_ends_the_journey_never_ends_it_when_its_partner_is_down(shell):
    # customer_status ends the claim when it fails; declared `unknown` when unavailable, a
    # policy system that is down must still not end it with "we could not find your policy".
    checks = [
        check.model_copy(update={"unavailable": "unknown"})
        if check.name == "customer_status"
        else check
        for check in shell.journey.definition.checks
    ]
    journey = replace(
        shell.journey,
        definition=shell.journey.definition.model_copy(update={"checks": checks}),
    )
    down = engine.record_data(
        shell.start("alex"), "policies", {}, None, shell.now, error="unavailable"
    )
    typed = {"policy_number": "MTR-999999"}
    submitted = engine.submit_step(journey, down, "policy", typed, shell.now)
    outcome = follow_up.after_step(journey, submitted, "policy", shell.now)
    assert outcome.state.status == Status.IN_PROGRESS
    assert outcome.state.outcome is None
    assert outcome.state.checks["customer_status"]["status"] == "unavailable"
    assert "could not find that policy" not in str(outcome.state.checks)


def test_a_result_stored_before_statuses_reads_as_before():
    assert follow_up.failed({"passed": False, "reason": "x"}) is True
    assert follow_up.failed({"passed": False, "unavailable": True}) is False  # partner down
    assert follow_up.failed({"passed": True}) is False
    assert follow_up.failed(None) is False


# --- what the customer is told about fraud and risk ---------------------------------------------

FRAUD_WORDS = ("fraud", "risk", "marker", "photo shows", "sign of")


def jordan_referred(shell, **checks_data):
    base = sent(shell, glass_cash_claim(shell, "jordan"), reference="CLM-JRD001")
    marked = with_checks_data(shell, base, **checks_data)
    return follow_up.complete_checks(shell.journey, marked, shell.now)


def test_a_fraud_referral_tells_the_customer_only_the_neutral_reason_by_email_and_sms(shell):
    outcome = jordan_referred(shell, fraud={"claims_last_two_years": 3, "risk_marker": "high"})
    # Staff keep the reason in the state and the event.
    assert outcome.state.outcome["reasons"] == [
        "The fraud bureau holds a risk marker that a claims handler needs to review"
    ]
    decision = next(e for e in outcome.events if e.type == "decision.made")
    assert "fraud bureau" in decision.data["reasons"][0]
    messages = follow_up.render_notification(
        shell.journey, outcome.state, "decision", "https://example.test/status", shell.now
    )
    assert {m["channel"] for m in messages} == {"email", "sms"}
    email = next(m for m in messages if m["channel"] == "email")
    assert "We need to look at your claim more closely" in email["body"]
    for message in messages:
        text = f"{message.get('subject') or ''} {message['body']}".lower()
        assert not [word for word in FRAUD_WORDS if word in text], text


def test_a_photo_signal_referral_tells_the_customer_only_the_neutral_reason(shell):
    outcome = jordan_referred(shell, photos={"high": 1})
    assert "A photo shows a sign of fraud" in outcome.state.outcome["reasons"][0]
    view = presenter.present(shell.journey, outcome.state, 3, [], shell.now)
    assert view["outcome"]["reasons"] == ["We need to look at your claim more closely"]
    assert "photo_signals" not in view["checks"] and "fraud_bureau" not in view["checks"]


def test_a_policy_that_could_not_be_checked_at_its_step_is_checked_after_sending(shell):
    # The policy system was down at the policy step: the customer typed a number that is not
    # theirs, and the claim went on. Once the system answers, the check is made again.
    down = engine.record_data(
        shell.start("alex"), "policies", {}, None, shell.now, error="unavailable"
    )
    typed = engine.submit_step(
        shell.journey, down, "policy", {"policy_number": "MTR-999999"}, shell.now
    )
    at_step = follow_up.after_step(shell.journey, typed, "policy", shell.now).state
    assert at_step.checks["customer_status"]["status"] == "unavailable"
    claim = glass_cash_claim(shell)
    claim = replace(
        claim,
        answers={**claim.answers, "policy_number": "MTR-999999"},
        data={**claim.data, "policies": at_step.data["policies"]},
        checks=at_step.checks,
    )
    state = with_checks_data(shell, sent(shell, claim))
    needs = follow_up.check_needs(shell.journey, state, "submitted", {}, shell.now, True)
    assert [need.source for need in needs].count("policies") == 1  # asked once, for two checks
    policies = shell.sources["policies"].fetch("alex", {}, shell.now.date())
    back = engine.record_data(state, "policies", {}, policies, shell.now)
    decided = follow_up.complete_checks(shell.journey, back, shell.now).state
    assert decided.checks["customer_status"]["status"] == "failed"
    assert decided.outcome["outcome"] == "no_policy"
