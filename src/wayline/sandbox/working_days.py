"""Working days in England and Wales: Monday to Friday, not bank holidays. The simulators
date deliveries, dealing and settlement by them."""

from __future__ import annotations

from datetime import date, timedelta

BANK_HOLIDAYS = frozenset(
    date.fromisoformat(day)
    for day in (
        "2025-12-25", "2025-12-26",
        "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31",
        "2026-12-25", "2026-12-28",
        "2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30",
        "2027-12-27", "2027-12-28",
        "2028-01-03",
    )
)  # fmt: skip


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in BANK_HOLIDAYS


def add_working_days(day: date, count: int) -> date:
    """The `count`-th working day after `day` (count ≥ 1)."""
    while count > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day
