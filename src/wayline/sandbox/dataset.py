"""The demo dataset of the motor-claim specification, with dates relative to `today`.

The embedded demo and the partner simulators serve exactly this data, so anyone can walk the
journey and tests can rely on it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    email: str
    mobile: str
    accounts: tuple[dict[str, str], ...] = ()


CUSTOMERS: dict[str, Customer] = {
    "alex": Customer(
        "alex",
        "Alex Morgan",
        "alex@example.com",
        "+44 7700 900001",
        (
            {
                "id": "acc-alex-9911",
                "label": "Everyday account ending 9911",
                "sort_code": "20-00-00",
                "account_number": "55779911",
            },
        ),
    ),
    "sam": Customer("sam", "Sam Patel", "sam@example.com", "+44 7700 900002"),
    "jordan": Customer(
        "jordan",
        "Jordan Lee",
        "jordan@example.com",
        "+44 7700 900003",
        (
            {
                "id": "acc-jordan-4242",
                "label": "Everyday account ending 4242",
                "sort_code": "20-00-00",
                "account_number": "31924242",
            },
        ),
    ),
}


@dataclass(frozen=True)
class StaffMember:
    """A demo member of staff: the demo sign-in offers one for each role (the test identity
    provider has the same people, so either sign-in shows the same names)."""

    id: str
    name: str
    role: str  # a wayline.identity.roles.Role value


STAFF: dict[str, StaffMember] = {
    member.id: member
    for member in (
        StaffMember("casey", "Casey Quinn", "handler"),
        StaffMember("morgan", "Morgan Blake", "senior_handler"),
        StaffMember("riley", "Riley Shaw", "fraud_investigator"),
        StaffMember("avery", "Avery Stone", "analyst"),
        StaffMember("harper", "Harper Reid", "auditor"),
        StaffMember("sasha", "Sasha Novak", "admin"),
    )
}

COVER_LABELS = {"comprehensive": "comprehensive", "third_party": "third party only"}

# policy, customer, car, registration, cover, start offset, end offset (days from today)
_POLICIES = [
    ("MTR-100001", "alex", "Ford Focus (2019)", "AB12 CDE", "comprehensive", -270, 95),
    ("MTR-100002", "sam", "Toyota Yaris (2021)", "CD34 EFG", "comprehensive", -60, 305),
    ("MTR-100003", "sam", "Vauxhall Corsa (2015)", "EF56 GHI", "third_party", -700, -335),
    ("MTR-100004", "jordan", "BMW 320d (2020)", "GH78 JKL", "comprehensive", -30, 335),
]

_FRAUD = {
    "jordan": {"claims_last_two_years": 3, "risk_marker": "high"},
}

_REPAIRER_NAMES = ["Northside Motor Repairs", "Crown Accident Centre", "Parkway Body Shop"]
# Postcode areas no approved repairer covers (Shetland, the Outer Hebrides): a network has gaps.
_NOT_COVERED = ("ZE", "HS")


def policies(customer_id: str, today: date) -> list[dict[str, Any]]:
    found = []
    for number, owner, car, registration, cover, start, end in _POLICIES:
        if owner != customer_id:
            continue
        ends = today + timedelta(days=end)
        found.append(
            {
                "policy_number": number,
                "car": car,
                "registration": registration,
                "cover": cover,
                "cover_label": COVER_LABELS[cover],
                "start": (today + timedelta(days=start)).isoformat(),
                "end": ends.isoformat(),
                "status": "active" if ends >= today else "lapsed",
            }
        )
    return found


# Added for the account-opening, card-replacement, payment and investment journeys.
HOME_ADDRESSES: dict[str, dict[str, str]] = {
    "alex": {"line_1": "1 Acacia Avenue", "town": "London", "postcode": "SW1A 1AA"},
    "jordan": {"line_1": "22 Mill Road", "town": "Leeds", "postcode": "LS1 4AP"},
}
_ADDRESS_YEARS = {"alex": 6, "jordan": 4}

# Fixed birth dates for the customers core banking holds; Sam's is relative (the pension's
# minimum age depends on it).
_BIRTH_DATES = {"alex": date(1985, 4, 12), "jordan": date(1991, 9, 30)}

# Available balance and daily payment limit, in pence, of each customer's current account.
BALANCES: dict[str, tuple[int, int]] = {
    "alex": (245_000, 1_000_000),
    "jordan": (64_000, 1_000_000),
}

# Saved payees (trusted beneficiaries) by customer, with the day they were last paid.
_PAYEES: dict[str, list[dict[str, Any]]] = {
    "alex": [
        {
            "payee_id": "payee-alex-jane",
            "name": "Jane Morgan",
            "kind": "personal",
            "sort_code": "20-11-22",
            "account_number": "12345678",
            "last_paid_pence": 4000,
            "last_paid_days_ago": 12,
            "reference_rule": None,
        },
        {
            "payee_id": "payee-alex-british-gas",
            "name": "British Gas",
            "kind": "business",
            "sort_code": "40-11-62",
            "account_number": "91234567",
            "last_paid_pence": None,
            "last_paid_days_ago": None,
            "reference_rule": "^[0-9]{12}$",
        },
    ],
}

PASSCODE = "246810"  # the demo passcode for every customer (the payment journey's step-up)


def birth_date(customer_id: str, today: date) -> date | None:
    if customer_id == "sam":
        return _years_before(today, 58) - timedelta(days=90)
    return _BIRTH_DATES.get(customer_id)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def home_address(customer_id: str, today: date) -> dict[str, str] | None:
    address = HOME_ADDRESSES.get(customer_id)
    if address is None:
        return None
    since = _years_before(today, _ADDRESS_YEARS[customer_id])
    return {**address, "since": since.isoformat()}


def payees(customer_id: str, today: date) -> list[dict[str, Any]]:
    found = []
    for payee in _PAYEES.get(customer_id, []):
        record = {k: v for k, v in payee.items() if k != "last_paid_days_ago"}
        days = payee["last_paid_days_ago"]
        record["last_paid_on"] = (
            None if days is None else (today - timedelta(days=days)).isoformat()
        )
        found.append(record)
    return found


# The bank's single customer view of each demo customer, as core banking's profile answers it:
# since when they are a customer, what they hold, since when they use digital banking, what
# they invested with us, and any support need recorded (a possible vulnerability).
# customer → (customer since, products, first digital sign-in, invested (pence), support needs)
PROFILES: dict[str, tuple[str, tuple[str, ...], int, int, tuple[str, ...]]] = {
    "alex": (
        "2014-05-12",
        ("current_account", "motor_insurance", "isa", "gia"),
        2_900,
        2_240_000,
        (),
    ),
    "sam": ("2023-02-20", ("motor_insurance", "pension", "isa"), 21, 7_370_000, ("bereavement",)),
    "jordan": ("2019-09-03", ("current_account", "credit_card", "motor_insurance"), 1_400, 0, ()),
}


def profile(customer_id: str, today: date) -> dict[str, Any] | None:
    """A demo customer's profile (None: not a customer). Dates move with the demo's today;
    tenure and digital days are worked out as core banking would."""
    found = PROFILES.get(customer_id)
    if found is None:
        return None
    since, products, digital_days, invested, needs = found
    joined = date.fromisoformat(since)
    return {
        "customer_id": customer_id,
        "customer_since": since,
        "tenure_years": today.year
        - joined.year
        - ((today.month, today.day) < (joined.month, joined.day)),
        "products": list(products),
        "digital_since": (today - timedelta(days=digital_days)).isoformat(),
        "digital_days": digital_days,
        "invested_pence": invested,
        "vulnerability": {"flagged": bool(needs), "needs": list(needs)},
    }


def customer(customer_id: str) -> dict[str, Any] | None:
    person = CUSTOMERS.get(customer_id)
    if person is None:
        return None
    return {
        "id": person.id,
        "name": person.name,
        "email": person.email,
        "mobile": person.mobile,
        "accounts": [dict(account) for account in person.accounts],
    }


def fraud_record(customer_id: str) -> dict[str, Any]:
    return dict(_FRAUD.get(customer_id, {"claims_last_two_years": 0, "risk_marker": None}))


def repairers(postcode: str, today: date) -> list[dict[str, Any]]:
    """Three approved repairers near any valid UK postcode, stable for a given postcode; none
    in the areas the network does not cover."""
    if postcode.replace(" ", "").upper().startswith(_NOT_COVERED):
        return []
    seed = hashlib.sha256(postcode.replace(" ", "").upper().encode()).digest()
    found = []
    for index, name in enumerate(_REPAIRER_NAMES):
        distance = round(0.5 + index * 1.7 + seed[index] / 255, 1)
        found.append(
            {
                "id": f"rep-{index + 1}-{seed[:3].hex()}",
                "name": name,
                "distance_miles": distance,
                "next_available": (today + timedelta(days=1 + index + seed[index] % 3)).isoformat(),
            }
        )
    return found


# What each demo customer shows in each journey (the demo's sign-in and banner explain them).
SITUATIONS: dict[str, dict[str, str]] = {
    "motor-claim": {
        "alex": "one active comprehensive policy; banks with us",
        "sam": "an active policy and a lapsed third-party-only one",
        "jordan": "fraud bureau marker; banks with us",
    },
    "account-opening": {
        "alex": "already banks with us: told so after the email code",
        "jordan": "already banks with us; a fraud marker if he applies by name",
        "sam": "the walk-through: 58, employed, £48,000, three previous addresses",
    },
    "card-replacement": {
        "alex": "Visa debit 4821 (Apple Pay, recent online payments) and a credit card",
        "jordan": "Visa debit 5550 and a credit card 1187 sent 12 days ago, never received;"
        " new addresses are referred",
        "sam": "no cards",
    },
    "payment": {
        "alex": "£2,450.00 available; saved payees Jane Morgan and British Gas",
        "jordan": "£640.00 available; fraud marker: over £250 to someone new is held",
        "sam": "no current account with us",
    },
    "investment-cashout": {
        "alex": "a flexible ISA (£18,400.00) and a general account with a property fund",
        "sam": "a pension (£64,000.00, aged 58) and an ISA; a bereavement recorded",
        "jordan": "no investments",
    },
}

# Applicants for account opening whose last name picks a partner's answer (any case).
APPLICANT_LAST_NAMES: dict[str, str] = {
    "Retake": "identity check asks for a new photo once (glare), then clears",
    "Refer": "identity check refers: the document's authenticity is inconclusive",
    "Fail": "identity check fails: the face does not match",
    "Mismatch": "identity check clears, but the document's birth date is a year earlier",
    "Sanction": "possible UK Sanctions List match",
    "Politico": "politically exposed person (Member of Parliament, in office)",
    "Fraud": "fraud bureau impersonation marker",
    "Status": "disqualified person (Immigration Act 2014)",
    "Thin": "thin credit file: no overdraft",
    "Adverse": "a default 14 months ago: overdraft declined",
}
