"""Dates for CEL: the dealing day an order placed at a moment is dealt on, and a date some
working days on.

    dealing_day(moment, cutoff)   the date ("YYYY-MM-DD") of the first weekday on which an
                                  instruction given at `moment` (an ISO 8601 date-time, such
                                  as `now`) is acted on: the same day when it is a weekday
                                  and the time is before `cutoff` ("HH:MM", in the moment's
                                  own zone), otherwise the next weekday.

    add_working_days(date, n)     the date ("YYYY-MM-DD") `n` weekdays after `date` (a date or
                                  the date of an ISO 8601 date-time): when money should arrive.

Bank holidays are not known here: a partner that deals only on its own calendar keeps it, and
says so in its answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

SATURDAY = 5


def dealing_day(moment: Any, cutoff: Any) -> str:
    if not isinstance(moment, str) or not isinstance(cutoff, str):
        raise ValueError("dealing_day takes a date-time and a cut-off time, as text")
    try:
        at = datetime.fromisoformat(moment)
        limit = time.fromisoformat(cutoff)
    except ValueError:
        raise ValueError("dealing_day takes ISO 8601 text: 2026-03-27T14:30:00Z, 15:00") from None
    day = at.date()
    if at.time() >= limit:
        day += timedelta(days=1)
    return _weekday_from(day).isoformat()


def add_working_days(start: Any, days: Any) -> str:
    if not isinstance(start, str) or isinstance(days, bool) or not isinstance(days, int):
        raise ValueError("add_working_days takes a date as text and a whole number of days")
    if not 0 <= days <= 366:
        raise ValueError("add_working_days takes 0 to 366 days")
    try:
        day = date.fromisoformat(start[:10])
    except ValueError:
        raise ValueError("add_working_days takes an ISO 8601 date: 2026-03-27") from None
    for _ in range(days):
        day = _weekday_from(day + timedelta(days=1))
    return day.isoformat()


def _weekday_from(day: date) -> date:
    while day.weekday() >= SATURDAY:
        day += timedelta(days=1)
    return day


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "dealing_day": dealing_day,
    "add_working_days": add_working_days,
}
