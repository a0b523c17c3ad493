"""What an experiment asks: its primary metric, its arms and the sample each arm needs before
a verdict is given. Journey definitions declare them (`personalisation.experiments`); the
insights service is handed a callable that names them per journey type (`ExperimentsOf`,
wired in by bootstrap.experiment_questions), and an experiment seen in the events that no
deployed definition declares (one since removed) is read on completion."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

Metric = Literal["completion", "drop_off", "time_to_complete"]
MINIMUM_SAMPLE = 100  # per arm, before any verdict
CONTROL = "control"  # the conventional name of the arm the others are compared with


@dataclass(frozen=True)
class ExperimentQuestion:
    """One experiment of a journey type: `name` as the `experiment.assigned` events carry it,
    a `title` for people, the primary `metric` (`drop_off` names its `step`), the `arms` with
    the baseline first (every other arm is compared with it), and the `minimum_sample` each
    arm needs before a verdict. ValueError when `drop_off` has no step, there are no arms, or
    the minimum is below 1."""

    name: str
    title: str
    metric: Metric
    step: str | None
    arms: tuple[str, ...]
    minimum_sample: int = MINIMUM_SAMPLE

    def __post_init__(self) -> None:
        if self.metric == "drop_off" and not self.step:
            raise ValueError(f"experiment {self.name}: drop_off needs the step it is measured at")
        if not self.arms:
            raise ValueError(f"experiment {self.name}: no arms")
        if self.minimum_sample < 1:
            raise ValueError(f"experiment {self.name}: the minimum sample must be at least 1")


ExperimentsOf = Callable[[str], list[ExperimentQuestion]]


def no_experiments(journey: str) -> list[ExperimentQuestion]:
    """The default `ExperimentsOf`: no journey type declares an experiment."""
    return []


def undeclared(name: str, arms: Iterable[str]) -> ExperimentQuestion:
    """The question for an experiment seen in the events that nobody declared: completion,
    the default minimum sample, the arm named `control` first (else the first by name)."""
    ordered = sorted(set(arms), key=lambda arm: (arm != CONTROL, arm))
    return ExperimentQuestion(name, name, "completion", None, tuple(ordered))
