"""`add_working_days(date, n)`: the date n weekdays on (when money should arrive)."""

from __future__ import annotations

import pytest

from wayline.journeys.expressions import evaluate


@pytest.mark.parametrize(
    ("start", "days", "day"),
    [
        ("2026-12-03", 0, "2026-12-03"),  # Thursday, no days on
        ("2026-12-03", 1, "2026-12-04"),  # Friday
        ("2026-12-03", 2, "2026-12-07"),  # over the weekend: Monday
        ("2026-12-04", 5, "2026-12-11"),  # a week of working days
        ("2026-12-05T10:00:00+00:00", 1, "2026-12-07"),  # Saturday's date-time: Monday
    ],
)
def test_working_days_skip_weekends(start, days, day):
    assert evaluate(f'add_working_days("{start}", {days})', {}) == day


@pytest.mark.parametrize(
    "expression",
    [
        'add_working_days("soon", 1)',
        'add_working_days("2026-12-03", -1)',
        'add_working_days("2026-12-03", 1.5)',
    ],
)
def test_what_it_cannot_take_is_an_error_so_a_condition_does_not_hold(expression):
    with pytest.raises((ValueError, TypeError, RuntimeError)):
        evaluate(expression, {})
