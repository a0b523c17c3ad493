"""Partners that fail: half their calls, all of them for a while, or with answers of the wrong
shape. Claims still complete, each paid exactly once; a partner that is down opens its circuit
breaker, which lets a trial call through after its reset; nothing crashes.

All over real HTTP on loopback: the customer files claims through the API served by uvicorn,
and Wayline calls the partner simulators, whose faults the tests set through
`PUT /_sandbox/faults`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Response
from prometheus_client import REGISTRY
from reliability_kit import (
    AMOUNT_PENCE,
    PAYMENTS,
    TEMPLATES,
    calm,
    customer_api,
    drain,
    effect_rows,
    events_of,
    fault_counts,
    file_cash_claim,
    is_payout,
    messages_about,
    paid_so_far,
    payouts,
    set_faults,
    settled,
    spy_on_payouts,
    threaded_server,
)

from wayline.connectors.http import PartnerClient, PartnerConfig, PartnerError, PartnerRejected
from wayline.connectors.partners import Partners, Policies
from wayline.web.app import create_app

CLAIMS = 5


def calls(partner: str, outcome: str) -> float:
    labels = {"partner": partner, "outcome": outcome}
    return REGISTRY.get_sample_value("wayline_partner_calls_total", labels) or 0.0


def breaker_gauge(partner: str) -> float | None:
    return REGISTRY.get_sample_value("wayline_partner_breaker_open", {"partner": partner})


def assert_paid_once_and_told(alex: Any, sandbox: Any, claims: list[dict[str, Any]]) -> None:
    """Each claim: approved, one payout at the provider, one payment.sent, and every message
    sent once by email and once by SMS, each recorded once on the journey."""
    made = payouts(sandbox)
    by_reference = Counter(p["reference"] for p in made)
    assert by_reference == Counter({c["reference"]: 1 for c in claims}), made
    assert {p["amount_pence"] for p in made} == {AMOUNT_PENCE}
    assert {p["account_ending"] for p in made} == {"9911"}
    for claim in claims:
        journey = alex.journey(claim["id"])
        assert journey["outcome"]["outcome"] == "approved", journey["outcome"]
        sent = [e for e in journey["events"] if e["type"] == "payment.sent"]
        assert len(sent) == 1, journey["events"]
        paid = next(p for p in made if p["reference"] == claim["reference"])
        assert sent[0]["data"]["payout_id"] == paid["payout_id"]
        notified = Counter(
            (e["data"]["template"], e["data"]["channel"])
            for e in journey["events"]
            if e["type"] == "notification.sent"
        )
        expected = Counter({(t, c): 1 for t in TEMPLATES for c in ("email", "sms")})
        assert notified == expected, notified
        at_provider = messages_about(sandbox, claim["reference"])
        assert at_provider == Counter({(c, t): 1 for t in TEMPLATES for c in ("email", "sms")})


def test_every_claim_is_paid_once_with_partners_failing_half_their_calls(
    sandbox, make_components, database_url
) -> None:
    components = make_components(database_url)
    # Half the calls to the payment provider, the notification provider and the fraud bureau
    # fail: half of those before the partner does anything (503), half after it has done the
    # work and lost the answer (502).
    for seed, partner in enumerate((PAYMENTS, "notification_provider", "fraud_bureau")):
        set_faults(sandbox, partner, error_rate=0.5, after_effect_share=0.5)
        # Draws in a fixed order, so the run is repeatable. With this seed, the payment
        # provider's calls go: ok 502 503 ok ok 502 503 ok 503 503 503 502 503 ok: both kinds
        # of failure, and five in a row, which open its breaker.
        sandbox.partners[partner].faults._random.seed(12 + seed)
    spy = spy_on_payouts(sandbox)
    before = {o: calls(PAYMENTS, o) for o in ("unavailable (502)", "unavailable (503)")}

    with customer_api(create_app(components)) as alex:
        claims = [file_cash_claim(alex) for _ in range(CLAIMS)]
        ids = [claim["id"] for claim in claims]
        worker = components.worker(max_attempts=15, base_delay=0.05)
        drain(worker, lambda: settled(components.store, ids), timeout=60)
        failures = fault_counts(sandbox, PAYMENTS)["failures"]
        calm(sandbox)

        assert_paid_once_and_told(alex, sandbox, claims)

    # The faults really happened, of both kinds, and answers were lost after the money moved.
    assert failures > 0
    after = {o: calls(PAYMENTS, o) for o in before}
    assert after["unavailable (502)"] > before["unavailable (502)"]
    assert after["unavailable (503)"] > before["unavailable (503)"]
    assert any(count > 1 for count in spy.calls.values()), spy.calls
    assert len(spy.calls) == CLAIMS
    assert not [r for r in effect_rows(components.store) if r["status"] == "dead"]


def test_an_outage_opens_the_breaker_and_the_claims_catch_up(
    sandbox, make_components, sqlite_url
) -> None:
    components = make_components(sqlite_url)
    client = components.partners.client(PAYMENTS)
    assert client.breaker.state == "closed"

    with customer_api(create_app(components)) as alex:
        claims = [file_cash_claim(alex) for _ in range(3)]
        ids = [claim["id"] for claim in claims]
        outage = 2.0
        set_faults(sandbox, PAYMENTS, outage_seconds=outage)
        down_until = time.monotonic() + outage
        fast_fails = calls(PAYMENTS, "circuit_open")

        seen: list[tuple[str, float | None, int]] = []

        def watch() -> None:
            seen.append((client.breaker.state, breaker_gauge(PAYMENTS), paid_so_far(sandbox)))

        worker = components.worker(max_attempts=30, base_delay=0.05)
        drain(worker, lambda: settled(components.store, ids), timeout=30, each=watch)
        caught_up = time.monotonic()

        # While the provider was down its breaker opened (the metric says so too), calls then
        # failed fast without reaching it, and nothing was paid.
        opened = [s for s in seen if s[0] == "open"]
        assert opened, seen
        assert all(gauge == 1 and paid == 0 for _, gauge, paid in opened), opened
        assert calls(PAYMENTS, "circuit_open") > fast_fails
        # After it came back, a trial call closed the breaker and every claim was paid once.
        assert caught_up >= down_until
        assert client.breaker.state == "closed"
        assert breaker_gauge(PAYMENTS) == 0
        assert_paid_once_and_told(alex, sandbox, claims)
    assert not [r for r in effect_rows(components.store) if r["status"] == "dead"]


RESET = 1.5  # seconds


def test_the_breaker_half_opens_after_its_reset(sandbox) -> None:
    url = sandbox.urls()["fraud_bureau"]
    # A reset long enough that a loaded machine's slow call and check still fall within it.
    config = PartnerConfig(
        name="fraud_bureau", base_url=url, retries=0, breaker_failures=2, breaker_reset=RESET
    )
    client = PartnerClient(config)
    try:
        set_faults(sandbox, "fraud_bureau", outage_seconds=30)
        for _ in range(2):
            with pytest.raises(PartnerError, match="unavailable"):
                client.get("/subjects/alex/history", dict)
        assert client.breaker.state == "open"

        # Open: calls fail fast and never reach the partner.
        reached = fault_counts(sandbox, "fraud_bureau")["calls"]
        with pytest.raises(PartnerError) as failure:
            client.get("/subjects/alex/history", dict)
        assert failure.value.reason == "circuit_open"
        assert fault_counts(sandbox, "fraud_bureau")["calls"] == reached

        # After the reset: half-open, one trial call goes through; it fails, so it opens again.
        time.sleep(RESET + 0.05)
        assert client.breaker.state == "half_open"
        with pytest.raises(PartnerError, match="unavailable"):
            client.get("/subjects/alex/history", dict)
        assert fault_counts(sandbox, "fraud_bureau")["calls"] == reached + 1
        assert client.breaker.state == "open"

        # The partner comes back; after the next reset the trial call succeeds and closes it.
        set_faults(sandbox, "fraud_bureau")
        time.sleep(RESET + 0.05)
        assert client.breaker.state == "half_open"
        assert client.get("/subjects/alex/history", dict)["risk_marker"] is None
        assert client.breaker.state == "closed"
        assert breaker_gauge("fraud_bureau") == 0
    finally:
        client.close()


# --- answers of the wrong shape ---------------------------------------------------------------


def _odd_partner() -> FastAPI:
    """A partner that answers 200 with what nobody asked for."""
    odd = FastAPI()

    @odd.get("/customers/{customer}/policies")
    def policies(customer: str, shape: str = "wrong_type") -> Response:
        bodies = {
            "wrong_type": '{"policies": "none"}',
            "missing_field": '{"policies": [{"policy_number": "MTR-1"}]}',
            "a_list": "[1, 2, 3]",
            "not_json": "<html><body>Service page</body></html>",
            "empty": "",
        }
        return Response(bodies[shape], media_type="application/json")

    @odd.post("/payouts")
    def payout() -> dict[str, Any]:
        return {"paid": True}  # no payout id, no status, no amount

    @odd.post("/accounts/check")
    def check(body: dict[str, Any]) -> Response:
        # As many services do with a validation error: the value refused, echoed back.
        echoed = f'{{"detail": "account {body.get("account_number")} is not valid"}}'
        return Response(echoed, status_code=422, media_type="application/json")

    @odd.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return odd


@pytest.fixture
def odd_partner() -> Iterator[str]:
    with threaded_server(_odd_partner()) as base_url:
        yield base_url


@pytest.mark.parametrize("shape", ["wrong_type", "missing_field", "a_list", "not_json", "empty"])
def test_an_unexpected_answer_is_a_handled_partner_error(odd_partner: str, shape: str) -> None:
    partners = Partners(
        {"policy_administration": PartnerConfig("policy_administration", odd_partner, retries=1)}
    )
    try:
        client = partners.client("policy_administration")
        with pytest.raises(PartnerError) as failure:
            client.get("/customers/alex/policies", Policies, params={"shape": shape})
        assert failure.value.reason == "bad_response"
        assert failure.value.partner == "policy_administration"
        assert client.breaker.failures == 2  # counted against the partner, and retried once
    finally:
        partners.close()


def test_a_refusal_s_answer_is_kept_out_of_the_error_s_message(odd_partner: str) -> None:
    """The message is stored as an effect's last error and logged: a partner that echoes the
    account number it refused must not put it there."""
    partners = Partners({"bank": PartnerConfig("bank", odd_partner, retries=1)})
    try:
        with pytest.raises(PartnerRejected) as refused:
            partners.client("bank").call(
                "POST",
                "/accounts/check",
                dict,
                repeatable=True,
                json={"account_number": "91827364"},
            )
        assert refused.value.status == 422
        assert str(refused.value) == "bank: rejected (422)"
        assert "91827364" in refused.value.body  # kept for whoever debugs, not in the message
    finally:
        partners.close()


def test_a_payout_answer_of_the_wrong_shape_is_retried_not_a_crash(
    sandbox, odd_partner, make_components, sqlite_url
) -> None:
    components = make_components(sqlite_url)
    # The payment provider's URL now leads to a partner answering in a shape we do not know.
    odd = Partners(
        {PAYMENTS: PartnerConfig(PAYMENTS, odd_partner, retries=0, breaker_failures=100)}
    )
    components.partners.clients[PAYMENTS] = odd.client(PAYMENTS)
    try:
        with customer_api(create_app(components)) as alex:
            claim = file_cash_claim(alex)
            worker = components.worker(max_attempts=3, base_delay=0.01)

            def payout_dead() -> bool:
                rows = effect_rows(components.store)
                return any(is_payout(r) and r["status"] == "dead" for r in rows)

            drain(worker, payout_dead, timeout=20)
            rows = {r["kind"]: r for r in effect_rows(components.store) if r["kind"] != "notify"}
            assert rows["call"]["attempts"] == 3
            assert "PartnerError" in rows["call"]["last_error"]
            assert "bad_response" in rows["call"]["last_error"]
            # Its last run recorded it as failed: what the customer's journey says of it.
            assert alex.journey(claim["id"])["effects"]["payout"]["status"] == "failed"
            assert rows["run_checks"]["status"] == "done"
            assert events_of(alex, claim["id"], "payment.sent") == []
            assert alex.journey(claim["id"])["outcome"]["outcome"] == "approved"
    finally:
        odd.close()
    # Nothing was paid by the real provider, and the journey still reads normally over HTTP.
    assert payouts(sandbox) == []
    assert httpx.get(f"{sandbox.urls()[PAYMENTS]}/healthz").status_code == 200
