"""The functions every CEL expression of a definition may call, besides CEL's own: the few
that dates and repeating groups need. Dates are the kept "YYYY-MM-DD" (or "YYYY-MM") text,
so a rule such as "the addresses cover three years" reads
`items.exists(i, i.moved_in <= add_months(today, -36))`, and a step for people who moved in
the last three years `answers.moved_in > add_months(today, -36)`.

Each raises ValueError or TypeError on what it cannot take; a condition then does not hold.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

_DATE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


def _date(text: Any) -> date:
    match = _DATE.match(str(text))
    if not match:
        raise ValueError("not a date")  # never the value: the cel logger records it
    year, month, day = match.groups()
    return date(int(year), int(month), int(day or 1))


def add_months(text: Any, months: Any) -> str:
    """The date `months` whole months after `text` (before, when negative), on the same day
    or the month's last day when it is shorter."""
    start = _date(text)
    index = start.year * 12 + start.month - 1 + int(months)
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last)).isoformat()


def months_between(start: Any, end: Any) -> int:
    """Whole months from `start` to `end` (negative when `end` is earlier)."""
    first, last = _date(start), _date(end)
    months = (last.year - first.year) * 12 + last.month - first.month
    if months > 0 and last.day < first.day:
        months -= 1
    elif months < 0 and last.day > first.day:
        months += 1
    return months


def total(values: Any) -> int | float:
    """The sum of a list of numbers (an empty list sums to 0)."""
    numbers = list(values)
    if any(isinstance(n, bool) or not isinstance(n, int | float) for n in numbers):
        raise TypeError("sum takes a list of numbers")
    found: int | float = sum(numbers)
    return found


def earliest(values: Any) -> str:
    """The earliest of a list of dates (text, so the least)."""
    return min(str(value) for value in values)


def latest(values: Any) -> str:
    """The latest of a list of dates."""
    return max(str(value) for value in values)


def pence(amount: Any) -> int:
    """`pence(answers.AMOUNT)`: an amount in pounds (a money answer's text, or a
    whole number) as whole pence, exactly: money is never a float on its way to a partner."""
    if isinstance(amount, float):
        raise ValueError("pence() takes an amount as text or a whole number, not a float")
    try:
        exact = Decimal(str(amount)) * 100
    except InvalidOperation:
        raise ValueError("pence() takes an amount of money") from None
    if not exact.is_finite() or exact != exact.to_integral_value():
        raise ValueError("pence() takes an amount in pounds with at most two decimals")
    return int(exact)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "pence": pence,
    "add_months": add_months,
    "months_between": months_between,
    "sum": total,
    "earliest": earliest,
    "latest": latest,
}
