"""DORA metrics from releases, their log and the commit times of the journey's file."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from wayline.runtime.releases.dora import compute
from wayline.store.releases import LogRow, ReleaseRow

DAY = timedelta(days=1)
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
BASE = ReleaseRow(
    id="r1",
    journey="motor-claim",
    stable_version="a",
    canary_version="b",
    strategy={},
    status="promoted",
    stage=2,
    percent=100,
    stage_started_at=T0,
    started_at=T0,
    started_by="test",
    ended_at=T0 + timedelta(hours=1),
    failing_intervals=0,
    last_analysed_at=None,
    revision=3,
)


def test_the_four_metrics() -> None:
    # r1 promoted; r2 rolled back 30 minutes after its first failing analysis; r3 promoted,
    # then hot-fixed by r4 within a day.
    r2_start = T0 + 2 * DAY
    r3_end = T0 + 4 * DAY + timedelta(hours=1)
    releases = [
        BASE,
        replace(
            BASE,
            id="r2",
            status="rolled_back",
            started_at=r2_start,
            ended_at=r2_start + timedelta(hours=1),
        ),
        replace(BASE, id="r3", started_at=T0 + 4 * DAY, ended_at=r3_end),
        replace(
            BASE,
            id="r4",
            started_at=r3_end + timedelta(hours=2),
            ended_at=r3_end + timedelta(hours=3),
        ),
    ]
    failing = {"verdicts": [{"kpi": "step_error_rate", "outcome": "fail"}]}
    log = [
        LogRow(1, "r2", "motor-claim", r2_start + timedelta(minutes=30), "analysed", "x", failing)
    ]
    commits = [T0 - timedelta(hours=5), T0 - timedelta(hours=1), r2_start - timedelta(hours=3)]

    found = compute("motor-claim", releases, log, commits, T0 + 7 * DAY)

    assert found.deployments == 4
    assert found.per_week == 4.0
    assert found.change_failure_rate == 0.5  # r2 rolled back, r3 hot-fixed; of four ended
    # Restores: r2 30 minutes; r3 3 hours (promotion to the fix's promotion): median 105 min.
    assert found.time_to_restore == timedelta(minutes=105)
    # Lead times: r1 5 hours (its oldest commit), r2 3 hours: median 4 hours.
    assert found.lead_time == timedelta(hours=4)
    assert found.lead_time_note is None


def test_outside_a_git_repository_it_says_so() -> None:
    found = compute("motor-claim", [BASE], [], "not in a git repository", T0 + DAY)
    assert found.lead_time is None and found.lead_time_note == "not in a git repository"
    assert found.change_failure_rate == 0.0
