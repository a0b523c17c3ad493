"""Experiments on the insights report, end to end from event records: journeys assigned to two
arms are taken into a DuckDB warehouse file through the Insights service, and the report gives
each arm's n, number and 95% interval on the declared metric (completion, drop-off at a step,
time to complete) with the verdict. An assignment delivered twice (in one batch, and again in
a later one) counts once; a journey assigned twice stays in its first arm; an experiment
nobody declared is read on completion, and with a handful of journeys is too small to tell;
another journey type's journeys are not counted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import insights_kit
import pytest
from insights_kit import AS_OF, JOURNEY, T0

from wayline.insights.experiments import ExperimentQuestion
from wayline.insights.experiments.results import ExperimentResult
from wayline.insights.experiments.statistics import wilson
from wayline.insights.experiments.verdicts import Verdict
from wayline.insights.filters import Asked
from wayline.insights.ingest import FromDatabase
from wayline.insights.records import EventRecord
from wayline.insights.service import Insights
from wayline.insights.warehouse import open_warehouse


class History(insights_kit.History):
    """The shared history, with what these tests add to it."""

    def claim(
        self, journey_id: str, experiment: str, arm: str, sent_after: float | None, **kw: Any
    ) -> EventRecord:
        """Started and assigned; the photos step reached; sent after `sent_after` minutes,
        or withdrawn at photos. The assignment's record."""
        start = T0 + timedelta(hours=len(self.records))
        self.add(journey_id, "journey.started", start, data={"next": "photos"}, **kw)
        assigned = self.add(
            journey_id,
            "experiment.assigned",
            start,
            data={"experiment": experiment, "arm": arm, "variant": None, "by": "journey"},
            **kw,
        )
        if sent_after is None:
            self.add(journey_id, "journey.withdrawn", start + timedelta(minutes=5), **kw)
            return assigned
        done = start + timedelta(minutes=sent_after)
        self.add(journey_id, "step.completed", done, step="photos", data={"next": "x"}, **kw)
        self.add(journey_id, "journey.submitted", done, data={"reference": "C"}, **kw)
        return assigned


class Listed:
    """An event source over a list (records in id order; a copy may repeat an id)."""

    def __init__(self, records: Sequence[EventRecord]):
        self.records = list(records)

    def after(self, event_id: int, limit: int) -> list[EventRecord]:
        return [r for r in self.records if r.event_id > event_id][:limit]


def history() -> tuple[History, EventRecord]:
    h = History()
    # control: 120 journeys, 60 sent after 30 to 36 minutes, 60 withdrawn at photos.
    # examples: 120 journeys, 90 sent after 20 to 24 minutes, 30 withdrawn at photos.
    for i in range(120):
        h.claim(f"c{i}", "photo-guidance", "control", 30 + i % 7 if i % 2 else None)
        h.claim(f"e{i}", "photo-guidance", "examples", 20 + i % 5 if i % 4 else None)
    # A small experiment nobody declared: 5 and 4 journeys.
    for i in range(9):
        h.claim(f"b{i}", "banner", "bold" if i % 2 else "control", 10)
    # Another journey type in the same experiment: not counted for the motor claim.
    for i in range(3):
        h.claim(f"k{i}", "photo-guidance", "examples", None, journey="card-replacement")
    # c1 is assigned again, to the other arm: it stays where it was first put.
    h.add(
        "c1",
        "experiment.assigned",
        T0,
        data={"experiment": "photo-guidance", "arm": "examples", "variant": "v", "by": "journey"},
    )
    redelivered = h.records[1]  # c0's assignment
    assert redelivered.type == "experiment.assigned"
    return h, redelivered


QUESTIONS = {
    "completion": ExperimentQuestion(
        "photo-guidance", "Photo guidance", "completion", None, ("control", "examples")
    ),
    "drop_off": ExperimentQuestion(
        "photo-guidance", "Photo guidance", "drop_off", "photos", ("control", "examples")
    ),
    "time_to_complete": ExperimentQuestion(
        "photo-guidance", "Photo guidance", "time_to_complete", None, ("control", "examples")
    ),
}


@pytest.fixture(scope="module")
def warehouse_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The history taken in, the assignment of c0 delivered twice in the first batch and
    once more afterwards (as a bus redelivers)."""
    path = tmp_path_factory.mktemp("experiments") / "insights.duckdb"
    h, again = history()
    records = sorted([*h.records, again], key=lambda r: r.event_id)
    with open_warehouse(path) as warehouse:
        warehouse.add("bus", records)
        assert warehouse.add("bus", [again]) == 0
        held = warehouse.connection.execute(
            "SELECT name, status FROM events WHERE journey_id = 'c0' AND type = ?",
            ["experiment.assigned"],
        ).fetchall()
    assert held == [("photo-guidance", "control")]  # kept once, experiment and arm flattened
    return path


def report(path: Path, *declared: ExperimentQuestion) -> dict[str, ExperimentResult]:
    insights = Insights(
        path,
        FromDatabase(Listed([])),
        lambda: [],
        timedelta(days=30),
        lambda: AS_OF,
        experiments_of=lambda journey: list(declared) if journey == JOURNEY else [],
    )
    shown = insights.report(Asked(journey=JOURNEY), refresh=True)
    return {result.question.name: result for result in shown.experiments}


def arms(result: ExperimentResult) -> dict[str, tuple[int, float | None]]:
    return {arm.arm: (arm.n, arm.value) for arm in result.arms}


def test_completion_per_arm_with_its_interval_and_verdict(warehouse_file: Path) -> None:
    result = report(warehouse_file, QUESTIONS["completion"])["photo-guidance"]
    assert result.declared
    # Each journey once: c0's assignment was delivered three times, c1 assigned twice.
    assert arms(result) == {"control": (120, 0.5), "examples": (120, 0.75)}
    control, examples = result.arms
    assert control.interval == wilson(60, 120)
    assert examples.interval == wilson(90, 120)
    (comparison,) = result.comparisons
    assert comparison.verdict is Verdict.BETTER
    assert comparison.difference == pytest.approx(0.25)
    assert comparison.interval is not None
    # By hand: Wilson 0.4119-0.5881 and 0.6656-0.8190, so 0.25 - sqrt(0.0844^2 + 0.0881^2)
    # and 0.25 + sqrt(0.0690^2 + 0.0881^2).
    low, high = comparison.interval.low, comparison.interval.high
    assert (round(low, 3), round(high, 3)) == (0.128, 0.362)
    assert comparison.sentence.startswith(
        "examples better than control on completion: 75.0% against 50.0%"
    )


def test_drop_off_at_a_step_per_arm(warehouse_file: Path) -> None:
    result = report(warehouse_file, QUESTIONS["drop_off"])["photo-guidance"]
    assert arms(result) == {"control": (120, 0.5), "examples": (120, 0.25)}
    assert result.comparisons[0].verdict is Verdict.BETTER  # less drop-off


def test_time_to_complete_per_arm(warehouse_file: Path) -> None:
    result = report(warehouse_file, QUESTIONS["time_to_complete"])["photo-guidance"]
    control, examples = result.arms
    assert (control.n, examples.n) == (60, 90)  # the journeys that were sent
    assert control.value == pytest.approx(sum(30 + i % 7 for i in range(1, 120, 2)) / 60)
    assert examples.value == pytest.approx(sum(20 + i % 5 for i in range(120) if i % 4) / 90)
    assert control.interval is not None and control.interval.low < control.value
    # Fewer than 100 completed in each arm: the default minimum holds the verdict back.
    (comparison,) = result.comparisons
    assert comparison.verdict is Verdict.TOO_SMALL
    assert "control has 60 (about 40 more), examples has 90 (about 10 more)" in (
        comparison.sentence
    )
    lower = replace(QUESTIONS["time_to_complete"], minimum_sample=50)
    assert report(warehouse_file, lower)["photo-guidance"].comparisons[0].verdict is (
        Verdict.BETTER
    )


def test_an_undeclared_experiment_reads_completion_and_is_too_small(
    warehouse_file: Path,
) -> None:
    found = report(warehouse_file)
    assert sorted(found) == ["banner", "photo-guidance"]
    banner = found["banner"]
    assert not banner.declared and banner.question.metric == "completion"
    assert arms(banner) == {"control": (5, 1.0), "bold": (4, 1.0)}
    assert banner.too_small
    assert banner.comparisons[0].sentence == (
        "Too small to tell: each arm needs 100 journeys before a verdict; "
        "control has 5 (about 95 more), bold has 4 (about 96 more)."
    )


def test_a_declared_arm_without_journeys_is_shown_empty(warehouse_file: Path) -> None:
    three = replace(QUESTIONS["completion"], arms=("control", "examples", "video"))
    result = report(warehouse_file, three)["photo-guidance"]
    assert [arm.arm for arm in result.arms] == ["control", "examples", "video"]
    assert (result.arms[2].n, result.arms[2].value, result.arms[2].interval) == (0, None, None)
    assert [c.verdict for c in result.comparisons] == [Verdict.BETTER, Verdict.TOO_SMALL]
