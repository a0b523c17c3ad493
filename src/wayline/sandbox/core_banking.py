"""Core banking simulator: customers (found by id, email or name, birth date and postcode),
new customers, accounts and logins for the account-opening journey, home addresses, balances
and daily limits, saved payees, reservations of money for payments, standing orders, and
refunds.

Every changing call takes an `Idempotency-Key` (see `idempotency.py`)."""

from __future__ import annotations

import re
import secrets
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from wayline.sandbox import dataset
from wayline.sandbox.app import partner_app
from wayline.sandbox.faults import Faults
from wayline.sandbox.idempotency import IdempotencyKey, KeyedAnswers
from wayline.sandbox.partners_common import Today, normal_postcode

SORT_CODE = "20-00-00"
FIRST_CUSTOMER = 10_000_001
FIRST_ACCOUNT = 60_000_001
NAME = r"^[A-Za-z][A-Za-z '\-]{0,49}$"


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line_1: str = Field(min_length=1, max_length=35)
    line_2: str | None = Field(None, max_length=35)
    town: str = Field(min_length=1, max_length=35)
    postcode: str = Field(min_length=5, max_length=8)


class NewCustomer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, max_length=20)
    first_name: str = Field(pattern=NAME)
    last_name: str = Field(pattern=NAME)
    date_of_birth: date
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    mobile: str = Field(pattern=r"^\+[1-9][0-9]{7,14}$")
    address: Address
    identity_check_id: str | None = Field(None, max_length=40)
    screening_id: str | None = Field(None, max_length=40)


class NewAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: str = Field(max_length=20)
    product: Literal["everyday", "student", "premier"]
    overdraft_limit_pence: int = Field(0, ge=0, le=250_000)


class NewLogin(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: str = Field(max_length=20)


class NewPayee(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=40)
    kind: Literal["personal", "business"]
    sort_code: str = Field(pattern=r"^[0-9]{2}-[0-9]{2}-[0-9]{2}$")
    account_number: str = Field(pattern=r"^[0-9]{8}$")


class Reservation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account_id: str = Field(max_length=40)
    amount_pence: int = Field(gt=0, le=100_000_000)


class Payee(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=70)
    sort_code: str = Field(pattern=r"^[0-9]{2}-[0-9]{2}-[0-9]{2}$")
    account_number: str = Field(pattern=r"^[0-9]{8}$")


class NewStandingOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account_id: str = Field(max_length=40)
    payee: Payee
    amount_pence: int = Field(gt=0, le=100_000_000)
    reference: str = Field("", max_length=18, pattern=r"^[A-Za-z0-9 ./\-]*$")
    first_date: date
    frequency: Literal["weekly", "monthly", "yearly"]


class Refund(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account_id: str = Field(max_length=40)
    transaction_id: str = Field(max_length=40)
    amount_pence: int = Field(gt=0, le=10_000_000)
    value_date: date


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z ]", "", text.lower()).split())


class Bank:
    """What core banking holds, changed under one lock."""

    def __init__(self, today: Today) -> None:
        self.today = today
        self.lock = threading.RLock()
        self.customers: dict[str, dict[str, Any]] = {}
        self.accounts: dict[str, dict[str, Any]] = {}
        self.logins: dict[str, dict[str, Any]] = {}
        self.payees: dict[str, list[dict[str, Any]]] = {}
        self.reservations: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.standing_orders: dict[str, dict[str, Any]] = {}
        for person in dataset.CUSTOMERS.values():
            for account in person.accounts:
                available, limit = dataset.BALANCES.get(person.id, (0, 1_000_000))
                self.accounts[account["id"]] = {
                    "account_id": account["id"],
                    "customer_id": person.id,
                    "label": account["label"],
                    "sort_code": account["sort_code"],
                    "account_number": account["account_number"],
                    "available_pence": available,
                    "daily_limit_pence": limit,
                    "paid_today_pence": 0,
                }

    def known(self, customer_id: str) -> dict[str, Any] | None:
        if customer_id in self.customers:
            return self.customers[customer_id]
        found = dataset.customer(customer_id)
        if found is None:
            return None
        born = dataset.birth_date(customer_id, self.today())
        home = dataset.home_address(customer_id, self.today())
        return {
            **found,
            "date_of_birth": born.isoformat() if born else None,
            "home_address": home,
        }

    def everyone(self) -> list[dict[str, Any]]:
        """Who banks with us: the demo customers with an account (alex and jordan; Sam only
        has a policy), and everyone created here."""
        found = [self.known(c.id) for c in dataset.CUSTOMERS.values() if c.accounts]
        return [c for c in found if c] + list(self.customers.values())

    def find(
        self, email: str | None, name: str | None, dob: date | None, postcode: str | None
    ) -> list[dict[str, Any]]:
        if email:
            wanted = email.strip().lower()
            return [c for c in self.everyone() if c["email"].lower() == wanted]
        matches = []
        for person in self.everyone():
            home = person.get("home_address") or {}
            if (
                _words(person["name"]) == _words(name or "")
                and person.get("date_of_birth") == (dob.isoformat() if dob else None)
                and normal_postcode(home.get("postcode", "")) == normal_postcode(postcode or "")
            ):
                matches.append(person)
        return matches

    def create_customer(self, request: NewCustomer) -> tuple[int, dict[str, Any]]:
        customer_id = f"CUS-{FIRST_CUSTOMER + len(self.customers)}"
        self.customers[customer_id] = {
            "id": customer_id,
            "name": f"{request.first_name} {request.last_name}",
            "email": request.email,
            "mobile": request.mobile,
            "accounts": [],
            "date_of_birth": request.date_of_birth.isoformat(),
            "home_address": {**request.address.model_dump(), "since": self.today().isoformat()},
        }
        created = datetime.now(UTC).isoformat()
        return 201, {"customer_id": customer_id, "created_at": created}

    def open_account(self, request: NewAccount) -> tuple[int, dict[str, Any]]:
        if self.known(request.customer_id) is None:
            return 404, {"error": "no_such_customer"}
        number = f"{FIRST_ACCOUNT + len(self.opened()):08d}"
        account: dict[str, Any] = {
            "account_id": f"acc-{request.customer_id.lower()}-{number[-4:]}",
            "customer_id": request.customer_id,
            "label": f"{request.product.title()} account ending {number[-4:]}",
            "sort_code": SORT_CODE,
            "account_number": number,
            "product": request.product,
            "overdraft_limit_pence": request.overdraft_limit_pence,
            "available_pence": request.overdraft_limit_pence,
            "daily_limit_pence": 1_000_000,
            "paid_today_pence": 0,
        }
        self.accounts[account["account_id"]] = account
        if request.customer_id in self.customers:
            self.customers[request.customer_id]["accounts"].append(_public_account(account))
        return 201, {
            k: account[k]
            for k in ("account_id", "customer_id", "sort_code", "account_number", "product")
        }

    def opened(self) -> list[dict[str, Any]]:
        return [a for a in self.accounts.values() if "product" in a]

    def create_login(self, request: NewLogin) -> tuple[int, dict[str, Any]]:
        if self.known(request.customer_id) is None:
            return 404, {"error": "no_such_customer"}
        login = {
            "login_id": f"LGN-{len(self.logins) + 1:06d}",
            "customer_id": request.customer_id,
            "activation_token": secrets.token_urlsafe(24),
            "expires_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
        }
        self.logins[login["login_id"]] = login
        return 201, login

    def reserve(self, request: Reservation) -> tuple[int, dict[str, Any]]:
        account = self.accounts.get(request.account_id)
        if account is None:
            return 404, {"error": "no_such_account"}
        if request.amount_pence > account["available_pence"]:
            return 409, {"error": "insufficient_funds"}
        if account["paid_today_pence"] + request.amount_pence > account["daily_limit_pence"]:
            return 409, {"error": "daily_limit_exceeded"}
        account["available_pence"] -= request.amount_pence
        account["paid_today_pence"] += request.amount_pence
        reservation = {
            "reservation_id": f"RES-{len(self.reservations) + 1:06d}",
            "account_id": request.account_id,
            "amount_pence": request.amount_pence,
            "status": "reserved",
            "available_pence": account["available_pence"],
        }
        self.reservations[reservation["reservation_id"]] = reservation
        return 201, dict(reservation)

    def settle(self, reservation_id: str, outcome: str) -> tuple[int, dict[str, Any]]:
        reservation = self.reservations.get(reservation_id)
        if reservation is None:
            return 404, {"error": "no_such_reservation"}
        if reservation["status"] != "reserved":
            return 409, {"error": f"reservation_{reservation['status']}"}
        account = self.accounts[reservation["account_id"]]
        if outcome == "released":
            account["available_pence"] += reservation["amount_pence"]
            account["paid_today_pence"] -= reservation["amount_pence"]
        reservation["status"] = outcome
        reservation["available_pence"] = account["available_pence"]
        return 200, dict(reservation)

    def create_standing_order(self, request: NewStandingOrder) -> tuple[int, dict[str, Any]]:
        """A standing order the bank keeps and pays itself: each instalment is keyed
        `so:{standing_order_id}:{due_date}` when it falls due, so a day is paid once."""
        account = self.accounts.get(request.account_id)
        if account is None:
            return 404, {"error": "no_such_account"}
        if request.first_date <= self.today():
            return 422, {"error": "first_date_not_in_future"}
        order_id = f"SO-{len(self.standing_orders) + 1:06d}"
        order = {
            "standing_order_id": order_id,
            "account_id": request.account_id,
            "status": "active",
            "first_date": request.first_date.isoformat(),
            "frequency": request.frequency,
            "amount_pence": request.amount_pence,
            "payee_account_ending": request.payee.account_number[-4:],
            "first_instalment_key": f"so:{order_id}:{request.first_date.isoformat()}",
        }
        self.standing_orders[order_id] = order
        return 201, dict(order)

    def refund(self, request: Refund) -> tuple[int, dict[str, Any]]:
        account = self.accounts.get(request.account_id)
        if account is None:
            return 404, {"error": "no_such_account"}
        account["available_pence"] += request.amount_pence
        refund = {
            "refund_id": f"RF-{len(self.refunds) + 1:06d}",
            **request.model_dump(mode="json"),
            "status": "credited",
        }
        self.refunds[refund["refund_id"]] = refund
        return 201, refund


def _public_account(account: dict[str, Any]) -> dict[str, str]:
    return {
        "id": account["account_id"],
        "label": account["label"],
        "sort_code": account["sort_code"],
        "account_number": account["account_number"],
    }


def core_banking(faults: Faults, today: Today) -> FastAPI:
    app = partner_app("core banking", faults)
    app.state.bank = bank = Bank(today)
    keys = KeyedAnswers()

    def owned(customer_id: str) -> dict[str, Any]:
        found = bank.known(customer_id)
        if found is None:
            raise HTTPException(404, "no such customer")
        return found

    @app.get("/customers/{customer_id}")
    def customer(customer_id: str) -> dict[str, Any]:
        with bank.lock:
            return owned(customer_id)

    @app.get("/customers")
    def find_customers(
        email: Annotated[str | None, Query(max_length=254)] = None,
        name: Annotated[str | None, Query(max_length=110)] = None,
        dob: date | None = None,
        postcode: Annotated[str | None, Query(max_length=8)] = None,
    ) -> dict[str, Any]:
        if not email and not (name and dob and postcode):
            raise HTTPException(422, "give email, or name, dob and postcode")
        with bank.lock:
            found = bank.find(email, name, dob, postcode)
        return {"customers": [{"customer_id": c["id"], "name": c["name"]} for c in found]}

    @app.post("/customers")
    def create_customer(request: NewCustomer, idempotency_key: IdempotencyKey) -> JSONResponse:
        body = request.model_dump(mode="json")
        with bank.lock:
            return keys.answer(
                "create_customer", idempotency_key, body, lambda: bank.create_customer(request)
            )

    @app.post("/accounts")
    def open_account(request: NewAccount, idempotency_key: IdempotencyKey) -> JSONResponse:
        body = request.model_dump(mode="json")
        with bank.lock:
            return keys.answer(
                "open_account", idempotency_key, body, lambda: bank.open_account(request)
            )

    @app.post("/logins")
    def create_login(request: NewLogin, idempotency_key: IdempotencyKey) -> JSONResponse:
        body = request.model_dump(mode="json")
        with bank.lock:
            return keys.answer(
                "create_login", idempotency_key, body, lambda: bank.create_login(request)
            )

    @app.get("/customers/{customer_id}/profile")
    def profile(customer_id: str) -> dict[str, Any]:
        """The single customer view: tenure, products, digital use, what is invested, and a
        support need when one is recorded (sensitive: read only by what may use it)."""
        with bank.lock:
            owned(customer_id)
        found = dataset.profile(customer_id, today())
        if found is not None:
            return found
        return {  # a customer opened here today: new, with a current account
            "customer_id": customer_id,
            "customer_since": today().isoformat(),
            "tenure_years": 0,
            "products": ["current_account"],
            "digital_since": today().isoformat(),
            "digital_days": 0,
            "invested_pence": 0,
            "vulnerability": {"flagged": False, "needs": []},
        }

    @app.get("/customers/{customer_id}/address")
    def address(customer_id: str) -> dict[str, Any]:
        with bank.lock:
            home = owned(customer_id).get("home_address")
        if not home:
            raise HTTPException(404, "no home address held")
        return {"customer_id": customer_id, "address": home}

    @app.get("/customers/{customer_id}/accounts")
    def accounts(customer_id: str) -> dict[str, Any]:
        with bank.lock:
            owned(customer_id)
            held = [dict(a) for a in bank.accounts.values() if a["customer_id"] == customer_id]
        return {"customer_id": customer_id, "accounts": held}

    @app.get("/customers/{customer_id}/payees")
    def payees(customer_id: str) -> dict[str, Any]:
        with bank.lock:
            owned(customer_id)
            saved = dataset.payees(customer_id, today()) + bank.payees.get(customer_id, [])
        return {"customer_id": customer_id, "payees": saved}

    @app.post("/customers/{customer_id}/payees")
    def save_payee(
        customer_id: str, request: NewPayee, idempotency_key: IdempotencyKey
    ) -> JSONResponse:
        def work() -> tuple[int, dict[str, Any]]:
            owned(customer_id)
            saved = bank.payees.setdefault(customer_id, [])
            payee = {
                "payee_id": f"payee-{customer_id}-{len(saved) + 1}",
                **request.model_dump(),
                "last_paid_pence": None,
                "reference_rule": None,
                "last_paid_on": None,
            }
            saved.append(payee)
            return 201, payee

        body = {"customer_id": customer_id, **request.model_dump()}
        with bank.lock:
            return keys.answer("save_payee", idempotency_key, body, work)

    @app.post("/reservations")
    def reserve(request: Reservation, idempotency_key: IdempotencyKey) -> JSONResponse:
        body = request.model_dump()
        with bank.lock:
            return keys.answer("reserve", idempotency_key, body, lambda: bank.reserve(request))

    def settle(reservation_id: str, key: str, outcome: str) -> JSONResponse:
        body = {"reservation_id": reservation_id}
        with bank.lock:
            return keys.answer(outcome, key, body, lambda: bank.settle(reservation_id, outcome))

    @app.post("/reservations/{reservation_id}/debit")
    def debit(reservation_id: str, idempotency_key: IdempotencyKey) -> JSONResponse:
        return settle(reservation_id, idempotency_key, "debited")

    @app.post("/reservations/{reservation_id}/release")
    def release(reservation_id: str, idempotency_key: IdempotencyKey) -> JSONResponse:
        return settle(reservation_id, idempotency_key, "released")

    @app.post("/standing-orders")
    def create_standing_order(
        request: NewStandingOrder, idempotency_key: IdempotencyKey
    ) -> JSONResponse:
        body = request.model_dump(mode="json")
        with bank.lock:
            return keys.answer(
                "standing_order",
                idempotency_key,
                body,
                lambda: bank.create_standing_order(request),
            )

    @app.post("/refunds")
    def refund(request: Refund, idempotency_key: IdempotencyKey) -> JSONResponse:
        body = request.model_dump(mode="json")
        with bank.lock:
            return keys.answer("refund", idempotency_key, body, lambda: bank.refund(request))

    return app
