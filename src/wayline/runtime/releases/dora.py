"""The four DORA metrics of a journey's definition, from its releases and the history of its
file in git. Pure: the caller reads the releases and the commits (runtime/releases/git.py).

- deployment frequency: releases started, per week, from the first to now;
- lead time for changes: for each release, from the oldest commit of the journey's file
  since the release before it to the release's start (the median);
- change failure rate: releases rolled back or hot-fixed (another release of the journey
  started within HOTFIX_WINDOW of its promotion) over the releases that ended;
- time to restore: a rollback's, from the first analysis that found a KPI failing (or the
  start) to the rollback; a hot-fix's, from the faulty promotion to the fix's promotion
  (the median).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from wayline.store.releases import LogRow, ReleaseRow

HOTFIX_WINDOW = timedelta(hours=24)
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Dora:
    journey: str
    deployments: int
    per_week: float | None
    lead_time: timedelta | None
    change_failure_rate: float | None
    time_to_restore: timedelta | None
    lead_time_note: str | None = None  # why there is no lead time (not in a git repository)


def compute(
    journey: str,
    releases: Sequence[ReleaseRow],
    log: Sequence[LogRow],
    commits: Sequence[datetime] | str,
    now: datetime,
) -> Dora:
    """The metrics of one journey; `commits` are its file's commit times, or why there are
    none to read."""
    ordered = sorted((r for r in releases if r.journey == journey), key=lambda r: r.started_at)
    failures, restores = _failures(ordered, log)
    ended = [r for r in ordered if r.status in ("rolled_back", "promoted")]
    note = commits if isinstance(commits, str) else None
    lead = None if isinstance(commits, str) else _lead_time(ordered, commits)
    if lead is None and note is None and ordered:
        note = "no commit of the journey's file before its releases"
    return Dora(
        journey=journey,
        deployments=len(ordered),
        per_week=_per_week(ordered, now),
        lead_time=lead,
        change_failure_rate=len(failures) / len(ended) if ended else None,
        time_to_restore=_median(restores),
        lead_time_note=note,
    )


def _per_week(ordered: Sequence[ReleaseRow], now: datetime) -> float | None:
    if not ordered:
        return None
    span = max(now - ordered[0].started_at, timedelta(days=1))
    return len(ordered) / (span / WEEK)


def _failures(
    ordered: Sequence[ReleaseRow], log: Sequence[LogRow]
) -> tuple[list[ReleaseRow], list[timedelta]]:
    failed: list[ReleaseRow] = []
    restores: list[timedelta] = []
    for index, release in enumerate(ordered):
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        if release.status == "rolled_back" and release.ended_at is not None:
            failed.append(release)
            restores.append(release.ended_at - _first_failing(release, log))
        elif (
            release.status == "promoted"
            and release.ended_at is not None
            and following is not None
            and following.started_at - release.ended_at <= HOTFIX_WINDOW
        ):
            failed.append(release)
            if following.status == "promoted" and following.ended_at is not None:
                restores.append(following.ended_at - release.ended_at)
    return failed, restores


def _first_failing(release: ReleaseRow, log: Sequence[LogRow]) -> datetime:
    for entry in log:
        verdicts = entry.body.get("verdicts", []) if entry.kind == "analysed" else []
        if entry.release_id == release.id and any(v.get("outcome") == "fail" for v in verdicts):
            return entry.at
    return release.started_at


def _lead_time(ordered: Sequence[ReleaseRow], commits: Sequence[datetime]) -> timedelta | None:
    leads: list[timedelta] = []
    previous: datetime | None = None
    for release in ordered:
        window = [
            c for c in commits if c <= release.started_at and (previous is None or c > previous)
        ]
        if window:
            leads.append(release.started_at - min(window))
        previous = release.started_at
    return _median(leads)


def _median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))
