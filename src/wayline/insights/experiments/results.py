"""The experiments of one journey type, read: for each experiment found in the events, its
question (declared, else completion), each arm's number with its interval, and each arm's
verdict against the baseline. Built from the rows of the `experiment_arms` and
`experiment_steps` questions (insights/queries.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wayline.insights.experiments.questions import ExperimentQuestion, undeclared
from wayline.insights.experiments.statistics import Summary
from wayline.insights.experiments.verdicts import (
    ArmResult,
    Comparison,
    Verdict,
    compare,
    share_arm,
    time_arm,
)
from wayline.insights.queries import Row


@dataclass(frozen=True)
class ExperimentResult:
    """One experiment: its question (`declared` False when none was and completion is
    read), its arms in the question's order (the baseline first; an arm seen in the events
    but not declared last) and each other arm's comparison with the baseline."""

    question: ExperimentQuestion
    declared: bool
    arms: tuple[ArmResult, ...]
    comparisons: tuple[Comparison, ...]

    @property
    def too_small(self) -> bool:
        """Any comparison is too small to tell."""
        return any(c.verdict is Verdict.TOO_SMALL for c in self.comparisons)


def experiment_results(
    questions: Sequence[ExperimentQuestion],
    arm_rows: Sequence[Row],
    step_rows: Sequence[Row],
) -> list[ExperimentResult]:
    """Every experiment with at least one assigned journey in `arm_rows` (one journey type):
    the declared ones in `questions`' order, then the others by name."""
    seen: dict[str, list[str]] = {}
    for row in arm_rows:
        seen.setdefault(row.experiment, []).append(row.arm)
    declared = {q.name: q for q in questions if q.name in seen}
    others = [undeclared(name, arms) for name, arms in sorted(seen.items()) if name not in declared]
    return [
        _result(question, question.name in declared, seen[question.name], arm_rows, step_rows)
        for question in [*declared.values(), *others]
    ]


def _result(
    question: ExperimentQuestion,
    declared: bool,
    seen: list[str],
    arm_rows: Sequence[Row],
    step_rows: Sequence[Row],
) -> ExperimentResult:
    names = [*question.arms, *sorted(set(seen) - set(question.arms))]
    arms = tuple(_arm(question, name, arm_rows, step_rows) for name in names)
    baseline, rest = arms[0], arms[1:]
    comparisons = tuple(compare(question, baseline, arm) for arm in rest)
    return ExperimentResult(question, declared, arms, comparisons)


def _arm(
    question: ExperimentQuestion, arm: str, arm_rows: Sequence[Row], step_rows: Sequence[Row]
) -> ArmResult:
    """One arm's number on the question's metric (no journeys: n = 0)."""
    row = next((r for r in arm_rows if r.experiment == question.name and r.arm == arm), None)
    if question.metric == "drop_off":
        step = next(
            (
                r
                for r in step_rows
                if r.experiment == question.name and r.arm == arm and r.step == question.step
            ),
            None,
        )
        return share_arm(arm, step.dropped if step else 0, step.reached if step else 0)
    if question.metric == "time_to_complete":
        if row is None or not row.submitted:
            return time_arm(arm, Summary(0, 0.0, 0.0))
        variance = row.variance_minutes or 0.0  # None with a single time
        return time_arm(arm, Summary(row.submitted, row.mean_minutes, variance))
    return share_arm(arm, row.submitted if row else 0, row.journeys if row else 0)
