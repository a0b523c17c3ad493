"""The payment provider's Faster Payments and its confirmation of payee, as the payment
journey needs them, added to the payment provider's simulator.

Confirmation of payee (`POST /cop/checks`): names are compared upper case, without titles or
punctuation. The same name and account type is a `match`; the same surname with a first name
that is the held one's initial or its first three or more letters, or a name within two edits,
is a `close_match` (MBAM) with the held name; the right name with the wrong type is BANM (the
account is a business's) or PANM (a person's); anything else is `no_match` (ANNM, or AC01 when
there is no such account). Accounts under 60-70-80 are the demo's; any other account is held
in the name and type typed, so it matches.

Payments (`POST /payments`, an `Idempotency-Key` each): accepted with a Faster Payments id,
rejected with an ISO 20022 reason, or pending and accepted later. A key reused with the same
details returns the first result and never pays twice; with other details, 409. By amount:
£13.13 pays but loses the first reply; £66.66 is rejected (AG01); £77.77 never answers."""

from __future__ import annotations

import re
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from wayline.sandbox.idempotency import IdempotencyKey, fingerprint

SORT_CODE = r"^[0-9]{2}-[0-9]{2}-[0-9]{2}$"
TITLES = {"MR", "MRS", "MS", "MISS", "MX", "DR", "PROF", "SIR", "DAME", "LORD", "LADY"}

# (sort code, account) → (name held, account type, what the provider does with a payment)
ACCOUNTS: dict[tuple[str, str], tuple[str | None, str | None, str]] = {
    ("60-70-80", "11111111"): ("Christopher Evans", "personal", "accept"),
    ("60-70-80", "22222222"): ("Evans Building Services Ltd", "business", "accept"),
    ("60-70-80", "33333333"): ("Sam Okafor", "personal", "AC04"),
    ("60-70-80", "44444444"): ("Priya Shah", "personal", "pending"),
    ("60-70-80", "66666666"): (None, None, "AC01"),
}
UNABLE_TO_CHECK = {("60-70-80", "44444444")}
REJECTIONS = {
    "AC01": "account number not found",
    "AC04": "account closed",
    "AG01": "transaction forbidden on this account",
}


class PaymentSettings(BaseModel):
    pending_seconds: float = Field(600, ge=0, description="A pending payment's wait to accept.")
    lost_reply_seconds: float = Field(10, ge=0, le=120, description="£13.13's first reply.")
    no_reply_seconds: float = Field(10, ge=0, le=120, description="How long £77.77 hangs.")


class PayeeCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=70)
    account_type: Literal["personal", "business"]
    sort_code: str = Field(pattern=SORT_CODE)
    account_number: str = Field(pattern=r"^[0-9]{8}$")


class Party(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=70)
    sort_code: str = Field(pattern=SORT_CODE)
    account_number: str = Field(pattern=r"^[0-9]{8}$")


class PaymentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_account: Party
    payee: Party
    amount_pence: int = Field(gt=0, le=100_000_000)  # the scheme's £1,000,000 maximum
    currency: Literal["GBP"]
    reference: str = Field("", max_length=18, pattern=r"^[A-Za-z0-9 ./\-]*$")


def _words(name: str) -> list[str]:
    cleaned = re.sub(r"[^A-Z ]", "", name.upper().replace("-", " "))
    words = cleaned.split()
    while words and words[0] in TITLES:
        words = words[1:]
    return words


def _edits(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def _close(typed: list[str], held: list[str]) -> bool:
    if not typed or not held:
        return False
    if _edits(" ".join(typed), " ".join(held)) <= 2:
        return True
    if typed[-1] != held[-1]:
        return False
    first, held_first = typed[0], held[0]
    return (len(first) == 1 and held_first.startswith(first)) or (
        len(first) >= 3 and held_first.startswith(first)
    )


def check_payee(request: PayeeCheck) -> dict[str, Any]:
    """Confirmation of payee by the payment journey's rules."""
    account = (request.sort_code, request.account_number)
    if account in UNABLE_TO_CHECK:
        return {
            "result": "unable_to_check",
            "reason_code": None,
            "name": None,
            "account_type": None,
        }
    held_name, held_type, _ = ACCOUNTS.get(account, (request.name, request.account_type, ""))
    if held_name is None:
        return {"result": "no_match", "reason_code": "AC01", "name": None, "account_type": None}
    typed, held = _words(request.name), _words(held_name)
    if typed == held:
        if held_type == request.account_type:
            return {"result": "match", "reason_code": None, "name": None, "account_type": None}
        code = "BANM" if held_type == "business" else "PANM"
        return {
            "result": "close_match",
            "reason_code": code,
            "name": held_name,
            "account_type": held_type,
        }
    if _close(typed, held):
        return {
            "result": "close_match",
            "reason_code": "MBAM",
            "name": held_name,
            "account_type": held_type,
        }
    return {"result": "no_match", "reason_code": "ANNM", "name": None, "account_type": None}


class FasterPayments:
    """Payments by idempotency key: a key pays at most once, kept for 35 days."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.payments: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, tuple[str, str]] = {}  # key → (fingerprint, payment id)

    def pay(self, key: str, request: PaymentRequest) -> tuple[int, dict[str, Any], bool]:
        """The payment for this key: (status, body, first time)."""
        digest = fingerprint(request.model_dump())
        with self.lock:
            kept = self.by_key.get(key)
            if kept is not None:
                if kept[0] != digest:
                    return 409, {"error": "idempotency_key_reused"}, False
                return 200, self.public(self.payments[kept[1]]), False
            payment_id = f"PMT-{len(self.payments) + 1:06d}"
            _, _, handling = ACCOUNTS.get(
                (request.payee.sort_code, request.payee.account_number), (None, None, "accept")
            )
            if request.amount_pence == 6666:
                handling = "AG01"
            now = datetime.now(UTC)
            payment = {
                "payment_id": payment_id,
                "status": "pending" if handling == "pending" else "accepted",
                "fp_id": None,
                "reason_code": None,
                "reason": None,
                "amount_pence": request.amount_pence,
                "currency": request.currency,
                "reference": request.reference,
                "payee_account_ending": request.payee.account_number[-4:],
                "created_at": now,
                "key_expires_at": now + timedelta(days=35),
            }
            if handling in REJECTIONS:
                payment |= {
                    "status": "rejected",
                    "reason_code": handling,
                    "reason": REJECTIONS[handling],
                }
            elif handling == "accept":
                payment["fp_id"] = "FP" + secrets.token_hex(8).upper()
            self.payments[payment_id] = payment
            self.by_key[key] = (digest, payment_id)
            return 201, self.public(payment), True

    def public(
        self, payment: dict[str, Any], pending_seconds: float | None = None
    ) -> dict[str, Any]:
        if (
            pending_seconds is not None
            and payment["status"] == "pending"
            and datetime.now(UTC) - payment["created_at"] >= timedelta(seconds=pending_seconds)
        ):
            payment |= {"status": "accepted", "fp_id": "FP" + secrets.token_hex(8).upper()}
        hidden = {"created_at", "key_expires_at"}
        body = {k: v for k, v in payment.items() if k not in hidden}
        return body | {"created_at": payment["created_at"].isoformat()}


def add_payments(app: FastAPI) -> None:
    """Adds confirmation of payee and Faster Payments to the payment provider's app."""
    app.state.payment_settings = PaymentSettings()
    app.state.faster_payments = payments = FasterPayments()

    @app.post("/cop/checks")
    def confirmation_of_payee(request: PayeeCheck) -> dict[str, Any]:
        return check_payee(request)

    @app.post("/payments")
    def pay(request: PaymentRequest, idempotency_key: IdempotencyKey) -> JSONResponse:
        settings: PaymentSettings = app.state.payment_settings
        if request.amount_pence == 7777:  # never answers, and pays nothing
            time.sleep(settings.no_reply_seconds)
            return JSONResponse({"error": "gateway timeout"}, status_code=504)
        status, body, first = payments.pay(idempotency_key, request)
        if first and request.amount_pence == 1313:  # paid, but the first reply is lost
            time.sleep(settings.lost_reply_seconds)
            return JSONResponse({"error": "gateway timeout"}, status_code=504)
        return JSONResponse(body, status_code=status)

    @app.get("/payments/{payment_id}")
    def payment(payment_id: str) -> dict[str, Any]:
        with payments.lock:
            found = payments.payments.get(payment_id)
            if found is None:
                raise HTTPException(404, "no such payment")
            return payments.public(found, app.state.payment_settings.pending_seconds)

    @app.get("/_sandbox/payment-settings")
    def get_settings() -> dict[str, Any]:
        return dict(app.state.payment_settings.model_dump())

    @app.put("/_sandbox/payment-settings")
    def set_settings(chosen: PaymentSettings) -> dict[str, Any]:
        app.state.payment_settings = chosen
        return dict(chosen.model_dump())
