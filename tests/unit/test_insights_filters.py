"""The analyst's filters (a message per field that is wrong) and the charts' layout."""

from __future__ import annotations

from datetime import date

import pytest

from wayline.insights.charts import bar_chart, duration
from wayline.insights.filters import Asked, InvalidFilters


def test_dates_are_real_iso_days() -> None:
    asked = Asked.parse("motor-claim", ["v1", "v1", " "], "2026-11-01", "2026-11-30")
    assert asked == Asked("motor-claim", ("v1",), date(2026, 11, 1), date(2026, 11, 30))
    assert Asked.parse() == Asked()


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        ("2026-02-30", "", {"since": "From must be a real date, like 2026-11-01"}),
        ("", "20261101", {"until": "To must be a real date, like 2026-11-01"}),
        ("1900-01-01", "", {"since": "From must be between 2000 and 2100"}),
        ("2026-11-02", "2026-11-01", {"until": "To must be the same as or after From"}),
    ],
)
def test_bad_dates_name_their_field(since: str, until: str, expected: dict[str, str]) -> None:
    with pytest.raises(InvalidFilters) as refused:
        Asked.parse(since=since, until=until)
    assert {e.field: e.message for e in refused.value.errors} == expected


def test_at_most_two_versions() -> None:
    with pytest.raises(InvalidFilters) as refused:
        Asked.parse(versions=["a", "b", "c"])
    assert refused.value.errors[0].field == "versions"


def test_bars_are_scaled_to_the_largest_value_and_labels_shortened() -> None:
    chart = bar_chart(
        "c",
        "T",
        "D",
        [("a-very-long-step-name-indeed", [("x", 50)], "50"), ("b", [("x", 100)], "")],
    )
    first, second = chart.bars
    assert second.segments[0].width == 2 * first.segments[0].width > 0
    assert first.label.endswith("…") and len(first.label) == 22
    assert chart.height > 2 * 16
    assert [duration(s) for s in (None, 30, 600, 7200, 3 * 86400)] == [
        "none",
        "30 s",
        "10 min",
        "2.0 h",
        "3.0 days",
    ]
