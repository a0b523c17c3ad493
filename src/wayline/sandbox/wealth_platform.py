"""Wealth platform simulator: investors, their holdings valued at today's 12pm valuation point,
sell orders (dealt in full or rejected in full, then settled), payment of the proceeds to the
nominated account, and the records a withdrawal leaves (guidance taken, support needs).

A sell order sells cash first, then funds pro rata to their value (units rounded up to three
decimals; any excess stays as cash), deducts exit charges (the property fund's 2% on units
held under a year) and, for a pension lump sum (`ufpls`), pays a quarter tax-free and takes
PAYE on the rest on the emergency month-1 basis. Tax-free cash only (`pcls`) pays the cash and
moves three times it into drawdown. Money is exact: `Decimal`, amounts in pence.

By gross amount: £1,111.11 fails twice (503) before it is placed, once; £2,222.22 is placed
and then rejected (`dealing_suspended`), nothing sold; £3,333.33's first payment is returned,
the second paid. Every write takes an `Idempotency-Key`. The demo deals a minute after an
order and settles two minutes after dealing (`/_sandbox/settings`)."""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Literal

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from wayline.sandbox import dataset
from wayline.sandbox.app import partner_app
from wayline.sandbox.faults import Faults
from wayline.sandbox.idempotency import IdempotencyKey, KeyedAnswers
from wayline.sandbox.partners_common import Today
from wayline.sandbox.working_days import add_working_days, is_working_day

PENNY = Decimal("0.01")
FUNDS = {
    "GEQ": ("Wayline Global Equity Index Fund (Acc)", Decimal("2.3100")),
    "GILT": ("Wayline UK Gilt Fund (Inc)", Decimal("1.4600")),
    "PROP": ("Wayline UK Property Fund (Acc)", Decimal("1.2500")),
    "BAL": ("Wayline Balanced Managed Fund (Acc)", Decimal("2.0000")),
    "CASHF": ("Wayline Cash Fund", Decimal("1.0000")),
}
EXIT_CHARGES = {"PROP": (Decimal("0.02"), 365)}  # fund → (share of value sold, days held under)
CUT_OFF = time(12, 0)
PAYE_FREE_PAY = Decimal("1048.25")  # 1257L, month 1
PAYE_BANDS = ((Decimal("3142"), Decimal("0.20")), (Decimal("10429"), Decimal("0.40")))
PAYE_TOP_RATE = Decimal("0.45")
LUMP_SUM_ALLOWANCE = Decimal("268275")
WITHDRAWAL_TYPES = {"isa": {"isa"}, "gia": {"gia"}, "pension": {"ufpls", "pcls"}}

# holding, owner, type, label, flexible, subscribed (pence), cash (pence),
# positions: fund, units, book cost (pence) or None, bought days ago or None
_HOLDINGS: list[tuple[Any, ...]] = [
    (
        "ISA-200001",
        "alex",
        "isa",
        "Stocks and Shares ISA",
        True,
        400_000,
        40_200,
        [("GEQ", "5200.000", None, None), ("GILT", "4100.000", None, None)],
    ),
    (
        "GIA-200002",
        "alex",
        "gia",
        "General investment account",
        None,
        None,
        400,
        [("GEQ", "1600.000", 288_000, None), ("PROP", "2000.000", 260_000, 200)],
    ),
    (
        "PEN-300001",
        "sam",
        "pension",
        "Personal pension",
        None,
        None,
        0,
        [("BAL", "25000.000", None, None), ("CASHF", "14000.000", None, None)],
    ),
    (
        "ISA-300002",
        "sam",
        "isa",
        "Stocks and Shares ISA",
        False,
        0,
        9_700,
        [("GEQ", "1300.000", None, None)],
    ),
]

# customer → (bank, sort code, account number, years since set), vulnerability flags
_NOMINATED = {
    "alex": ("Wayline Bank", "20-00-00", "55779911", 6),
    "sam": ("Nationwide", "07-00-93", "40017781", 3),
}
_FLAGS = {"sam": [("bereavement", 40)]}


class WealthSettings(BaseModel):
    price_move_percent: float = Field(0, ge=-50, le=50, description="Moves every price.")
    deal_seconds: float = Field(60, ge=0, description="From an order to its dealing.")
    settle_seconds: float = Field(120, ge=0, description="From dealing to settlement.")


class SellOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")
    holding_id: str = Field(max_length=20)
    withdrawal_type: Literal["isa", "gia", "ufpls", "pcls"]
    amount_pence: int | None = Field(None, ge=1, le=1_000_000_000)
    all_units: bool = False
    quote_value_pence: int = Field(ge=0, le=1_000_000_000)

    @model_validator(mode="after")
    def amount_or_all(self) -> SellOrder:
        if (self.amount_pence is None) == (not self.all_units):
            raise ValueError("give amount_pence, or all_units true, not both")
        return self


class GuidanceRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    route: Literal["received", "advised", "book", "opt_out"]
    opt_out_wording: str | None = Field(None, max_length=500)
    recorded_at: datetime


class SupportNeed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reasons: list[
        Literal["money_worries", "health", "bereavement", "relationship", "income_loss"]
    ] = Field(min_length=1, max_length=5)
    note: str | None = Field(None, max_length=1000)


def pounds(pence: int) -> Decimal:
    return Decimal(pence) / 100


def pence(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def emergency_tax(taxable: Decimal) -> Decimal:
    """PAYE on a first flexible payment, code 1257L month 1: taxable pay less the month's free
    pay, rounded down to the pound, taxed at 20%, 40% and 45% by the monthly bands."""
    left = max(Decimal(0), (taxable - PAYE_FREE_PAY).to_integral_value(rounding=ROUND_FLOOR))
    tax, floor = Decimal(0), Decimal(0)
    for ceiling, rate in PAYE_BANDS:
        slice_ = min(left, ceiling) - floor
        if slice_ > 0:
            tax += slice_ * rate
        floor = ceiling
    if left > floor:
        tax += (left - floor) * PAYE_TOP_RATE
    return tax.quantize(PENNY)


def valuation_point(now: datetime) -> datetime:
    """The 12pm valuation point an order placed now deals at (UTC stands in for London)."""
    day = now.date()
    if now.time() >= CUT_OFF or not is_working_day(day):
        day = add_working_days(day, 1)
    return datetime.combine(day, CUT_OFF, tzinfo=UTC)


class Platform:
    """Investors, holdings and orders, changed under one lock."""

    def __init__(self, today: Today, settings: Any) -> None:
        self.today = today
        self.settings = settings  # a callable returning the current WealthSettings
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Back to the demo dataset: every holding as it was, no orders, no records (a test
        starts each case from it without starting the simulator again)."""
        today = self.today
        self.orders: dict[str, dict[str, Any]] = {}
        self.records: list[dict[str, Any]] = []
        self.attempts: dict[str, int] = {}
        self.holdings: dict[str, dict[str, Any]] = {}
        for holding_id, owner, kind, label, flexible, subscribed, cash, positions in _HOLDINGS:
            self.holdings[holding_id] = {
                "holding_id": holding_id,
                "customer_id": owner,
                "type": kind,
                "label": f"{label} ({holding_id})",
                "isa_flexible": flexible,
                "subscribed_this_tax_year_pence": subscribed,
                "cash": pounds(cash),
                "positions": [
                    {
                        "fund": fund,
                        "units": Decimal(units),
                        "book_cost_pence": book,
                        "bought_on": None if ago is None else today() - timedelta(days=ago),
                    }
                    for fund, units, book, ago in positions
                ],
                "pension": (
                    {
                        "status": "uncrystallised",
                        "flexibly_accessed": False,
                        "lump_sum_allowance_used_pence": 0,
                        "tax_code": None,
                        "protected_pension_age": None,
                        "drawdown_pence": 0,
                    }
                    if kind == "pension"
                    else None
                ),
                "status": "open",
            }

    def price(self, fund: str) -> Decimal:
        move = Decimal(str(self.settings().price_move_percent)) / 100
        return (FUNDS[fund][1] * (1 + move)).quantize(Decimal("0.0001"))

    def holding(self, holding_id: str) -> dict[str, Any]:
        found = self.holdings.get(holding_id)
        if found is None:
            raise HTTPException(404, "no such holding")
        return found

    def value(self, holding: dict[str, Any]) -> Decimal:
        funds = sum((p["units"] * self.price(p["fund"]) for p in holding["positions"]), Decimal(0))
        total: Decimal = holding["cash"] + funds
        return total.quantize(PENNY)

    def in_progress(self, holding_id: str) -> bool:
        return any(
            o["holding_id"] == holding_id and self.status(o)["status"] not in ("rejected", "paid")
            for o in self.orders.values()
        )

    def view(self, holding: dict[str, Any]) -> dict[str, Any]:
        today = self.today()
        positions = []
        for p in holding["positions"]:
            price = self.price(p["fund"])
            rule = EXIT_CHARGES.get(p["fund"])
            charged = bool(rule and p["bought_on"] and (today - p["bought_on"]).days < rule[1])
            positions.append(
                {
                    "fund": p["fund"],
                    "name": FUNDS[p["fund"]][0],
                    "units": f"{p['units']:.3f}",
                    "price": f"{price:.4f}",
                    "value_pence": pence(p["units"] * price),
                    "book_cost_pence": p["book_cost_pence"],
                    "bought_on": p["bought_on"].isoformat() if p["bought_on"] else None,
                    # What selling these units now costs, as a percentage of the value sold.
                    "exit_charge_percent": f"{rule[0] * 100:.0f}" if rule and charged else "0",
                }
            )
        valued = datetime.combine(today, CUT_OFF, tzinfo=UTC)
        return {
            **{
                k: holding[k]
                for k in (
                    "holding_id",
                    "type",
                    "label",
                    "isa_flexible",
                    "subscribed_this_tax_year_pence",
                    "pension",
                    "status",
                )
            },
            "cash_pence": pence(holding["cash"]),
            "value_pence": pence(self.value(holding)),
            "value_words": f"£{self.value(holding):,.2f}",
            "valued_at": valued.isoformat(),
            "positions": positions,
            "withdrawal_in_progress": self.in_progress(holding["holding_id"]),
        }

    def contract_note(self, holding: dict[str, Any], order: SellOrder) -> dict[str, Any]:
        """What the order sells and pays, at today's prices."""
        value = self.value(holding)
        gross = value if order.all_units else pounds(order.amount_pence or 0)
        cash_used = min(holding["cash"], gross)
        from_funds = gross - cash_used
        invested = value - holding["cash"]
        lines, charges = [], Decimal(0)
        for p in holding["positions"]:
            price = self.price(p["fund"])
            if order.all_units:
                units = p["units"]
            elif invested <= 0:
                units = Decimal(0)
            else:
                share = from_funds * (p["units"] * price) / invested
                units = min(p["units"], (share / price).quantize(Decimal("0.001"), ROUND_CEILING))
            proceeds = (units * price).quantize(PENNY)
            charge = Decimal(0)
            rule = EXIT_CHARGES.get(p["fund"])
            if rule and p["bought_on"] and (self.today() - p["bought_on"]).days < rule[1]:
                charge = (proceeds * rule[0]).quantize(PENNY)
            charges += charge
            lines.append(
                {
                    "fund": p["fund"],
                    "units": f"{units:.3f}",
                    "price": f"{price:.4f}",
                    "proceeds_pence": pence(proceeds),
                    "charge_pence": pence(charge),
                }
            )
        sold = cash_used + sum((pounds(line["proceeds_pence"]) for line in lines), Decimal(0))
        gross = sold if order.all_units else gross  # rounding units up leaves a little cash
        after_charges = gross - charges
        tax_free, tax = Decimal(0), Decimal(0)
        if order.withdrawal_type == "ufpls":
            used = pounds(holding["pension"]["lump_sum_allowance_used_pence"])
            tax_free = min((after_charges / 4).quantize(PENNY), LUMP_SUM_ALLOWANCE - used)
            tax = emergency_tax(after_charges - tax_free)
        elif order.withdrawal_type == "pcls":
            tax_free = after_charges
        return {
            "lines": lines,
            "cash_used_pence": pence(cash_used),
            "gross_pence": pence(gross),
            "charges_pence": pence(charges),
            "tax_free_pence": pence(tax_free),
            "tax_pence": pence(tax),
            "net_pence": pence(after_charges - tax),
            "left_as_cash_pence": pence(sold - gross) if not order.all_units else 0,
        }

    def place(self, order: SellOrder) -> tuple[int, dict[str, Any]]:
        holding = self.holding(order.holding_id)
        if order.withdrawal_type not in WITHDRAWAL_TYPES[holding["type"]]:
            return 422, {"error": "wrong_withdrawal_type"}
        if self.in_progress(order.holding_id):
            return 409, {"error": "withdrawal_in_progress"}
        if order.amount_pence and pounds(order.amount_pence) > self.value(holding):
            return 422, {"error": "amount_over_value"}
        now = datetime.now(UTC)
        order_id = f"SO-{secrets.randbelow(90_000_000) + 10_000_000}"
        while order_id in self.orders:
            order_id = f"SO-{secrets.randbelow(90_000_000) + 10_000_000}"
        self.orders[order_id] = {
            "order_id": order_id,
            "holding_id": order.holding_id,
            "withdrawal_type": order.withdrawal_type,
            "amount_pence": order.amount_pence,
            "all_units": order.all_units,
            "quote_value_pence": order.quote_value_pence,
            "placed_at": now,
            "deals_at_valuation_point": valuation_point(now).isoformat(),
            "contract_note": self.contract_note(holding, order),
            "suspended": order.amount_pence == 222_222,
            "payments": [],
            "applied": False,
        }
        return 201, self.status(self.orders[order_id])

    def status(self, order: dict[str, Any]) -> dict[str, Any]:
        """The order as it stands now: placed, then dealt (or rejected), then settled, paid."""
        settings = self.settings()
        now, placed = datetime.now(UTC), order["placed_at"]
        dealt_at = placed + timedelta(seconds=settings.deal_seconds)
        settled_at = dealt_at + timedelta(seconds=settings.settle_seconds)
        events = [{"event": "placed", "at": placed.isoformat()}]
        status = "placed"
        if now >= dealt_at and order["suspended"]:
            status = "rejected"
            events.append(
                {"event": "rejected", "at": dealt_at.isoformat(), "reason": "dealing_suspended"}
            )
        elif now >= dealt_at:
            status = "dealt"
            self._apply(order)
            events.append({"event": "dealt", "at": dealt_at.isoformat()})
            if now >= settled_at:
                status = "settled"
                events.append({"event": "settled", "at": settled_at.isoformat()})
        for payment in order["payments"]:
            events.append({"event": payment["status"], "at": payment["at"]})
            if payment["status"] == "paid":
                status = "paid"
        public = {
            k: order[k]
            for k in (
                "order_id",
                "holding_id",
                "withdrawal_type",
                "amount_pence",
                "all_units",
                "quote_value_pence",
                "deals_at_valuation_point",
            )
        }
        note = order["contract_note"] if status not in ("placed", "rejected") else None
        return {
            **public,
            "status": status,
            "placed_at": placed.isoformat(),
            # When the proceeds can be paid: settlement after dealing, per the platform's
            # settings (two working days in production, minutes in the demo).
            "settles_at": settled_at.isoformat(),
            "contract_note": note,
            "events": events,
        }

    def _apply(self, order: dict[str, Any]) -> None:
        """Takes the dealt units and cash out of the holding, once."""
        if order["applied"]:
            return
        order["applied"] = True
        holding = self.holdings[order["holding_id"]]
        note = order["contract_note"]
        holding["cash"] -= pounds(note["cash_used_pence"]) - pounds(note["left_as_cash_pence"])
        for line in note["lines"]:
            for p in holding["positions"]:
                if p["fund"] == line["fund"]:
                    p["units"] -= Decimal(line["units"])
        if holding["pension"] and order["withdrawal_type"] in ("ufpls", "pcls"):
            pension = holding["pension"]
            pension["lump_sum_allowance_used_pence"] += note["tax_free_pence"]
            if order["withdrawal_type"] == "ufpls":
                pension["flexibly_accessed"] = True
            else:
                pension["drawdown_pence"] += 3 * note["tax_free_pence"]
                pension["status"] = "partly_crystallised"

    def pay(self, order_id: str) -> tuple[int, dict[str, Any]]:
        order = self.orders.get(order_id)
        if order is None:
            return 404, {"error": "no_such_order"}
        status = self.status(order)["status"]
        if status == "paid":
            return 409, {"error": "already_paid"}
        if status != "settled":
            return 409, {"error": "not_settled"}
        owner = self.holdings[order["holding_id"]]["customer_id"]
        returned = order["amount_pence"] == 333_333 and not order["payments"]
        payment = {
            "payment_id": f"WPY-{len(order['payments']) + 1}-{order_id}",
            "status": "returned" if returned else "paid",
            "fp_id": None if returned else "FP" + secrets.token_hex(8).upper(),
            "reason": "rejected by the receiving bank" if returned else None,
            "amount_pence": order["contract_note"]["net_pence"],
            "account_ending": _NOMINATED[owner][2][-4:],
            "at": datetime.now(UTC).isoformat(),
        }
        order["payments"].append(payment)
        return 201, {k: v for k, v in payment.items() if k != "at"} | {"paid_at": payment["at"]}

    def customer(self, customer_id: str) -> dict[str, Any]:
        if dataset.customer(customer_id) is None:
            raise HTTPException(404, "no such investor")
        today = self.today()
        nominated = _NOMINATED.get(customer_id)
        born = dataset.birth_date(customer_id, today)
        return {
            "customer_id": customer_id,
            "date_of_birth": born.isoformat() if born else None,
            "mobile": dataset.CUSTOMERS[customer_id].mobile,
            "mobile_ending": dataset.CUSTOMERS[customer_id].mobile[-4:],
            "nominated_account": None
            if nominated is None
            else {
                "bank": nominated[0],
                "sort_code": nominated[1],
                "account_number": nominated[2],
                "masked": f"{nominated[0]}, account ending {nominated[2][-4:]}",
                "set_on": _years_ago(today, nominated[3]).isoformat(),
                "verified": True,
            },
            "vulnerability_flags": [
                {"flag": flag, "recorded_on": (today - timedelta(days=ago)).isoformat()}
                for flag, ago in _FLAGS.get(customer_id, [])
            ],
        }


def _years_ago(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def wealth_platform(faults: Faults, today: Today) -> FastAPI:
    app = partner_app("wealth platform", faults, WealthSettings())
    app.state.platform = platform = Platform(today, lambda: app.state.settings)
    keys = KeyedAnswers()

    @app.get("/customers/{customer_id}")
    def customer(customer_id: str) -> dict[str, Any]:
        with platform.lock:
            return platform.customer(customer_id)

    @app.get("/customers/{customer_id}/holdings")
    def holdings(customer_id: str) -> dict[str, Any]:
        with platform.lock:
            platform.customer(customer_id)
            held = [
                platform.view(h)
                for h in platform.holdings.values()
                if h["customer_id"] == customer_id
            ]
        return {"customer_id": customer_id, "holdings": held}

    @app.get("/holdings/{holding_id}")
    def holding(holding_id: str) -> dict[str, Any]:
        with platform.lock:
            return platform.view(platform.holding(holding_id))

    @app.post("/orders")
    def place(order: SellOrder, idempotency_key: IdempotencyKey) -> JSONResponse:
        with platform.lock:
            if order.amount_pence == 111_111:  # two failures before it is placed
                tries = platform.attempts[idempotency_key] = (
                    platform.attempts.get(idempotency_key, 0) + 1
                )
                if tries <= 2:
                    return JSONResponse({"error": "service unavailable"}, status_code=503)
            return keys.answer(
                "sell", idempotency_key, order.model_dump(), lambda: platform.place(order)
            )

    @app.get("/orders/{order_id}")
    def order(order_id: str) -> dict[str, Any]:
        with platform.lock:
            found = platform.orders.get(order_id)
            if found is None:
                raise HTTPException(404, "no such order")
            return platform.status(found)

    @app.post("/orders/{order_id}/payments")
    def pay(order_id: str, idempotency_key: IdempotencyKey) -> JSONResponse:
        with platform.lock:
            return keys.answer(
                "pay_out", idempotency_key, {"order_id": order_id}, lambda: platform.pay(order_id)
            )

    def record(kind: str, customer_id: str, key: str, body: dict[str, Any]) -> JSONResponse:
        def work() -> tuple[int, dict[str, Any]]:
            platform.customer(customer_id)
            entry = {
                "record_id": f"REC-{len(platform.records) + 1:06d}",
                "kind": kind,
                "customer_id": customer_id,
                **body,
            }
            platform.records.append(entry)
            return 201, {"record_id": entry["record_id"], "kind": kind}

        with platform.lock:
            return keys.answer(kind, key, {"customer_id": customer_id, **body}, work)

    @app.post("/customers/{customer_id}/guidance")
    def guidance(
        customer_id: str, request: GuidanceRecord, idempotency_key: IdempotencyKey
    ) -> JSONResponse:
        return record("guidance", customer_id, idempotency_key, request.model_dump(mode="json"))

    @app.post("/customers/{customer_id}/support-needs")
    def support_need(
        customer_id: str, request: SupportNeed, idempotency_key: IdempotencyKey
    ) -> JSONResponse:
        body = request.model_dump(mode="json")
        return record("support_need", customer_id, idempotency_key, body)

    return app
