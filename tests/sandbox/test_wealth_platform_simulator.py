"""The wealth platform simulator over HTTP: investors and holdings, sell orders with their
charges and tax, dealing, settlement and payment, its special amounts, faults and keys."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sandbox_kit import faults, key, post, settings

from wayline.sandbox.wealth_platform import emergency_tax


@pytest.fixture
def platform(partner):
    client = partner("wealth_platform")
    settings(client, deal_seconds=0, settle_seconds=0)
    return client


def sell(holding: str, kind: str, pence: int | None = None, quote: int = 0) -> dict:
    if pence is None:
        return {
            "holding_id": holding,
            "withdrawal_type": kind,
            "all_units": True,
            "quote_value_pence": quote,
        }
    return {
        "holding_id": holding,
        "withdrawal_type": kind,
        "amount_pence": pence,
        "quote_value_pence": quote,
    }


def values(client, customer: str) -> dict[str, int]:
    held = client.get(f"/customers/{customer}/holdings").json()["holdings"]
    return {h["holding_id"]: h["value_pence"] for h in held}


def test_holdings_are_valued_at_todays_prices(platform) -> None:
    assert values(platform, "alex") == {"ISA-200001": 1_840_000, "GIA-200002": 620_000}
    assert values(platform, "sam") == {"PEN-300001": 6_400_000, "ISA-300002": 310_000}
    assert values(platform, "jordan") == {}
    assert platform.get("/customers/nobody/holdings").status_code == 404
    isa = platform.get("/holdings/ISA-200001").json()
    assert isa["isa_flexible"] is True and isa["subscribed_this_tax_year_pence"] == 400_000
    settings(platform, price_move_percent=10)
    assert values(platform, "sam")["ISA-300002"] == 9_700 + 330_330


def test_investors_have_their_nominated_account_and_recorded_needs(platform) -> None:
    sam = platform.get("/customers/sam").json()
    assert sam["nominated_account"]["masked"] == "Nationwide, account ending 7781"
    assert [f["flag"] for f in sam["vulnerability_flags"]] == ["bereavement"]
    assert platform.get("/customers/jordan").json()["nominated_account"] is None


def test_a_pension_lump_sum_pays_a_quarter_tax_free_and_emergency_tax_on_the_rest(
    platform,
) -> None:
    order = post(platform, "/orders", sell("PEN-300001", "ufpls", 2_000_000)).json()
    assert order["order_id"].startswith("SO-") and len(order["order_id"]) == 11
    note = platform.get(f"/orders/{order['order_id']}").json()["contract_note"]
    assert (note["tax_free_pence"], note["tax_pence"], note["net_pence"]) == (
        500_000,
        512_810,
        1_487_190,
    )
    assert [line["units"] for line in note["lines"]] == ["7812.500", "4375.000"]


def test_emergency_tax_on_everything_matches_the_worked_example() -> None:
    assert emergency_tax(Decimal("48000")) == Decimal("19978.10")
    assert emergency_tax(Decimal("1000")) == Decimal("0")


def test_tax_free_cash_pays_the_cash_and_moves_three_times_it_into_drawdown(platform) -> None:
    order = post(platform, "/orders", sell("PEN-300001", "pcls", 1_600_000)).json()
    status = platform.get(f"/orders/{order['order_id']}").json()
    assert status["contract_note"]["net_pence"] == 1_600_000
    assert status["contract_note"]["tax_pence"] == 0
    pension = platform.get("/holdings/PEN-300001").json()["pension"]
    assert pension["drawdown_pence"] == 4_800_000
    assert pension["lump_sum_allowance_used_pence"] == 1_600_000


def test_selling_everything_deducts_the_property_funds_exit_charge(platform) -> None:
    order = post(platform, "/orders", sell("GIA-200002", "gia", quote=620_000)).json()
    note = platform.get(f"/orders/{order['order_id']}").json()["contract_note"]
    assert (note["charges_pence"], note["net_pence"]) == (5_000, 615_000)
    assert platform.get("/holdings/GIA-200002").json()["value_pence"] == 0


def test_an_order_is_dealt_settled_and_paid_once(platform) -> None:
    settings(platform, deal_seconds=600, settle_seconds=0)
    order = post(platform, "/orders", sell("ISA-200001", "isa", 100_000)).json()
    assert order["status"] == "placed" and order["contract_note"] is None
    assert post(platform, f"/orders/{order['order_id']}/payments").status_code == 409
    again = post(platform, "/orders", sell("ISA-200001", "isa", 50_000))
    assert again.status_code == 409 and again.json()["error"] == "withdrawal_in_progress"
    settings(platform, deal_seconds=0, settle_seconds=0)
    assert platform.get(f"/orders/{order['order_id']}").json()["status"] == "settled"
    pay_key = key()
    paid = post(platform, f"/orders/{order['order_id']}/payments", key_=pay_key)
    assert paid.status_code == 201 and paid.json()["status"] == "paid"
    assert paid.json()["account_ending"] == "9911" and paid.json()["amount_pence"] == 100_000
    assert post(platform, f"/orders/{order['order_id']}/payments", key_=pay_key).json() == (
        paid.json()
    )
    assert post(platform, f"/orders/{order['order_id']}/payments").status_code == 409
    events = platform.get(f"/orders/{order['order_id']}").json()["events"]
    assert [e["event"] for e in events] == ["placed", "dealt", "settled", "paid"]


def test_the_special_amounts(platform) -> None:
    flaky = key()
    tries = [post(platform, "/orders", sell("ISA-200001", "isa", 111_111), flaky) for _ in range(4)]
    assert [t.status_code for t in tries] == [503, 503, 201, 200]
    assert tries[2].json()["order_id"] == tries[3].json()["order_id"]
    suspended = post(platform, "/orders", sell("ISA-300002", "isa", 222_222)).json()
    rejected = platform.get(f"/orders/{suspended['order_id']}").json()
    assert rejected["status"] == "rejected" and rejected["events"][-1]["reason"] == (
        "dealing_suspended"
    )
    assert platform.get("/holdings/ISA-300002").json()["value_pence"] == 310_000


def test_a_returned_payment_is_paid_on_the_second_try(platform) -> None:
    order = post(platform, "/orders", sell("ISA-200001", "isa", 333_333)).json()
    first = post(platform, f"/orders/{order['order_id']}/payments").json()
    assert (first["status"], first["reason"]) == ("returned", "rejected by the receiving bank")
    second = post(platform, f"/orders/{order['order_id']}/payments").json()
    assert second["status"] == "paid"


def test_orders_that_do_not_fit_the_holding_are_refused(platform) -> None:
    assert post(platform, "/orders", sell("ISA-200001", "ufpls", 10_000)).status_code == 422
    assert post(platform, "/orders", sell("ISA-300002", "isa", 400_000)).status_code == 422
    both = {**sell("ISA-200001", "isa", 10_000), "all_units": True}
    assert post(platform, "/orders", both).status_code == 422
    assert post(platform, "/orders", sell("NOPE-1", "isa", 10_000)).status_code == 404


def test_a_sell_order_failing_after_the_work_is_placed_once(platform) -> None:
    order_key = key()
    faults(platform, error_rate=1.0, after_effect_share=1.0)
    assert (
        post(platform, "/orders", sell("ISA-300002", "isa", 50_000), order_key).status_code == 502
    )
    faults(platform)
    placed = post(platform, "/orders", sell("ISA-300002", "isa", 50_000), order_key)
    assert placed.status_code == 200
    conflict = post(platform, "/orders", sell("ISA-300002", "isa", 60_000), order_key)
    assert conflict.status_code == 409 and conflict.json()["error"] == "idempotency_key_reused"


def test_guidance_and_support_needs_are_recorded_once(platform) -> None:
    record_key = key()
    body = {
        "route": "opt_out",
        "opt_out_wording": "I do not want guidance",
        "recorded_at": "2026-12-02T10:00:00Z",
    }
    first = post(platform, "/customers/sam/guidance", body, record_key)
    assert first.status_code == 201
    assert post(platform, "/customers/sam/guidance", body, record_key).json() == first.json()
    need = post(platform, "/customers/sam/support-needs", {"reasons": ["bereavement"]})
    assert need.status_code == 201 and need.json()["kind"] == "support_need"
    assert post(platform, "/customers/sam/support-needs", {"reasons": []}).status_code == 422
