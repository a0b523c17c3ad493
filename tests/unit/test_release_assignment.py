"""Which version a new journey gets: a customer's bucket is the same every time, the canary
gets its declared share of 10,000 ids within a tolerance, a customer in the canary at 10%
stays in it at 50%, and after a release ends new journeys go where it left them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wayline.runtime.releases.assignment import bucket, in_canary, version_for
from wayline.store.releases import ReleaseRow

IDS = [f"customer-{n}" for n in range(10_000)]
AT = datetime(2026, 12, 1, tzinfo=UTC)


def release(status: str, percent: int = 10) -> ReleaseRow:
    return ReleaseRow(
        id="r1",
        journey="motor-claim",
        stable_version="stable1",
        canary_version="canary1",
        strategy={},
        status=status,
        stage=0,
        percent=percent,
        stage_started_at=AT,
        started_at=AT,
        started_by="test",
        ended_at=None,
        failing_intervals=0,
        last_analysed_at=None,
        revision=1,
    )


def test_the_same_customer_always_gets_the_same_bucket() -> None:
    first = [bucket("motor-claim", i) for i in IDS[:500]]
    assert first == [bucket("motor-claim", i) for i in IDS[:500]]
    assert all(0 <= b < 10_000 for b in first)
    # Another journey type draws its own buckets: not the same customers first every time.
    assert first != [bucket("card-replacement", i) for i in IDS[:500]]


@pytest.mark.parametrize("percent", [1, 10, 50, 90])
def test_the_split_is_as_declared_over_ten_thousand_ids(percent: int) -> None:
    share = sum(in_canary("motor-claim", i, percent) for i in IDS) / len(IDS)
    # Three standard deviations of a binomial share at n = 10,000.
    tolerance = 3 * (percent / 100 * (1 - percent / 100) / len(IDS)) ** 0.5
    assert abs(share - percent / 100) <= tolerance


def test_a_growing_share_keeps_the_customers_it_had() -> None:
    at_ten = {i for i in IDS if in_canary("motor-claim", i, 10)}
    at_fifty = {i for i in IDS if in_canary("motor-claim", i, 50)}
    assert at_ten < at_fifty


def test_open_releases_split_and_ended_ones_leave_one_version() -> None:
    canary_ids = [i for i in IDS if in_canary("motor-claim", i, 10)]
    stable_ids = [i for i in IDS if not in_canary("motor-claim", i, 10)]
    for status in ("running", "paused"):
        assert version_for(release(status), "canary1", canary_ids[0]) == "canary1"
        assert version_for(release(status), "canary1", stable_ids[0]) == "stable1"
    # Rolled back while servers still load the canary's file: stable for everyone.
    assert version_for(release("rolled_back"), "canary1", canary_ids[0]) == "stable1"
    # Promoted while servers still load the stable file: the canary for everyone.
    assert version_for(release("promoted"), "stable1", stable_ids[0]) == "canary1"
    # A version deployed after the release (neither of its two) is used as it is.
    assert version_for(release("rolled_back"), "fixed2", canary_ids[0]) == "fixed2"
    assert version_for(None, "current", canary_ids[0]) == "current"
