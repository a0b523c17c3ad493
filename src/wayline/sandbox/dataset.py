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
    """Three approved repairers near any valid UK postcode; stable for a given postcode."""
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
