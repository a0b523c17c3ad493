"""The KPIs of one arm of a release (the journeys started on one version since the release
began), from what the store keeps of them: statuses, current steps and events. Pure.

- `step_error_rate`: step submissions refused for invalid answers (`answers.refused`) over all
  submissions (those and `step.completed`);
- `drop_off`: the worst step's share of the journeys that reached it and were left there, in
  progress and untouched for the strategy's `drop_off_after`;
- `completion_rate`: the share of journeys sent (submitted);
- `partner_failures`: the share of journeys in which partner data the customer needed was
  unavailable (they typed it, or met a check that could not be made);
- `p99_step_seconds`: the 99th percentile of the time customers spend on a step, from the
  event before (the start, or the step before completed) to the step's `step.completed`.
  Events carry no server timing, so this is the customer's time on the step: a page that
  confuses or refuses makes it longer, which is what a release must catch.

A KPI that cannot be computed (no submissions yet) is None, and judged inconclusive.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from wayline.store.releases import ArmEvent, ArmJourney

IN_PROGRESS = "in_progress"


@dataclass(frozen=True)
class ArmKpis:
    sample: int  # journeys in the arm
    submissions: int  # step submissions, accepted or refused
    values: dict[str, float | None]
    drop_off_by_step: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "sample": self.sample,
            "submissions": self.submissions,
            "values": self.values,
            "drop_off_by_step": self.drop_off_by_step,
        }


def compute(
    journeys: Sequence[ArmJourney],
    events: Sequence[ArmEvent],
    now: datetime,
    drop_off_after: timedelta,
) -> ArmKpis:
    completed = [e for e in events if e.type == "step.completed"]
    rejected = sum(1 for e in events if e.type == "answers.refused")
    submissions = len(completed) + rejected
    by_step = _drop_off(journeys, completed, now, drop_off_after)
    sample = len(journeys)
    values: dict[str, float | None] = {
        "step_error_rate": rejected / submissions if submissions else None,
        "drop_off": max(by_step.values()) if by_step else None,
        "completion_rate": _share(sum(1 for j in journeys if j.submitted_at), sample),
        "partner_failures": _share(sum(1 for j in journeys if j.partner_failed), sample),
        "p99_step_seconds": _p99(_step_seconds(events)),
    }
    return ArmKpis(sample, submissions, values, by_step)


def _share(count: int, total: int) -> float | None:
    return count / total if total else None


def _drop_off(
    journeys: Sequence[ArmJourney],
    completed: Sequence[ArmEvent],
    now: datetime,
    after: timedelta,
) -> dict[str, float]:
    """Each step's dropped share of the journeys that reached it."""
    reached: dict[str, set[str]] = defaultdict(set)
    for event in completed:
        if event.step:
            reached[event.step].add(event.journey_id)
    dropped: dict[str, int] = defaultdict(int)
    for journey in journeys:
        if journey.status != IN_PROGRESS or not journey.current_step:
            continue
        reached[journey.current_step].add(journey.id)
        if now - journey.updated_at >= after:
            dropped[journey.current_step] += 1
    return {step: dropped[step] / len(ids) for step, ids in sorted(reached.items())}


def _step_seconds(events: Sequence[ArmEvent]) -> list[float]:
    """Time on each completed step: from the journey's event before it (events come oldest
    first; a refused submission does not end the time on the step)."""
    last: dict[str, datetime] = {}
    found: list[float] = []
    for event in events:
        if event.type == "journey.started":
            last[event.journey_id] = event.at
        elif event.type == "step.completed":
            before = last.get(event.journey_id)
            if before is not None:
                found.append((event.at - before).total_seconds())
            last[event.journey_id] = event.at
    return found


def _p99(values: list[float]) -> float | None:
    """The 99th percentile by nearest rank; None with no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]
