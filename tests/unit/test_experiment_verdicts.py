"""Verdicts on an experiment's arms: the interval of the difference decides better, worse or
no difference shown, in the metric's direction (more completion, less drop-off, less time);
below the minimum sample it is too small to tell, with how many more each arm needs; and the
questions refuse what cannot be measured."""

from __future__ import annotations

import pytest

from wayline.insights.experiments.questions import ExperimentQuestion, undeclared
from wayline.insights.experiments.statistics import Summary
from wayline.insights.experiments.verdicts import Verdict, compare, share_arm, time_arm


def question(metric: str = "completion", minimum: int = 100) -> ExperimentQuestion:
    step = "photos" if metric == "drop_off" else None
    return ExperimentQuestion(
        "photo-guidance", "Photo guidance", metric, step, ("control", "examples"), minimum
    )  # type: ignore[arg-type]


def test_clearly_more_completion_is_better() -> None:
    result = compare(question(), share_arm("control", 120, 200), share_arm("examples", 160, 200))
    assert result.verdict is Verdict.BETTER
    assert result.label == "examples better"
    assert result.difference == pytest.approx(0.2)
    assert result.interval is not None and result.interval.low > 0
    assert result.sentence.startswith(
        "examples better than control on completion: 80.0% against 60.0%, +20.0 points"
    )


def test_clearly_less_completion_is_worse() -> None:
    result = compare(question(), share_arm("control", 160, 200), share_arm("examples", 120, 200))
    assert result.verdict is Verdict.WORSE
    assert result.label == "examples worse"


def test_more_drop_off_is_worse() -> None:
    drop = question("drop_off")
    result = compare(drop, share_arm("control", 10, 200), share_arm("examples", 40, 200))
    assert result.verdict is Verdict.WORSE
    assert "drop-off at photos" in result.sentence


def test_less_time_is_better() -> None:
    quick = compare(
        question("time_to_complete"),
        time_arm("control", Summary(150, 30.0, 100.0)),
        time_arm("examples", Summary(150, 24.0, 90.0)),
    )
    assert quick.verdict is Verdict.BETTER
    assert quick.difference == pytest.approx(-6.0)
    assert "30.0 min" in quick.sentence and "-6.0 min" in quick.sentence


def test_an_interval_across_zero_shows_no_difference_and_how_many_would() -> None:
    result = compare(question(), share_arm("control", 124, 200), share_arm("examples", 130, 200))
    assert result.verdict is Verdict.NO_DIFFERENCE
    assert result.label == "no difference shown"
    assert result.interval is not None and result.interval.low < 0 < result.interval.high
    assert result.sentence.startswith("No difference shown between examples and control")
    # A 3-point difference with a ~9.4-point half width: about (9.4/3)^2 x 200 per arm.
    assert "about 2,000 journeys per arm would show it" in result.sentence


def test_below_the_minimum_it_is_too_small_to_tell_with_what_is_missing() -> None:
    result = compare(question(), share_arm("control", 30, 42), share_arm("examples", 38, 100))
    assert result.verdict is Verdict.TOO_SMALL
    assert result.interval is None and result.difference is None
    assert result.sentence == (
        "Too small to tell: each arm needs 100 journeys before a verdict; "
        "control has 42 (about 58 more)."
    )


def test_the_minimum_is_the_questions() -> None:
    small = question(minimum=10)
    result = compare(small, share_arm("control", 2, 20), share_arm("examples", 18, 20))
    assert result.verdict is Verdict.BETTER


def test_an_empty_arm_is_too_small_even_with_a_minimum_of_one() -> None:
    result = compare(question(minimum=1), share_arm("control", 0, 0), share_arm("examples", 1, 3))
    assert result.verdict is Verdict.TOO_SMALL
    assert "control has 0 (about 1 more)" in result.sentence


def test_time_needs_two_completed_journeys_whatever_the_minimum() -> None:
    timed = question("time_to_complete", minimum=1)
    one = time_arm("control", Summary(1, 12.0, 0.0))
    assert one.interval is None and one.value == 12.0
    result = compare(timed, one, time_arm("examples", Summary(5, 10.0, 4.0)))
    assert result.verdict is Verdict.TOO_SMALL
    assert "2 completed journeys" in result.sentence


def test_an_arm_without_journeys_has_no_number() -> None:
    empty = share_arm("control", 0, 0)
    assert (empty.n, empty.value, empty.interval) == (0, None, None)


def test_a_drop_off_question_names_its_step() -> None:
    with pytest.raises(ValueError, match="drop_off needs the step"):
        ExperimentQuestion("x", "X", "drop_off", None, ("a", "b"))
    with pytest.raises(ValueError, match="minimum sample"):
        ExperimentQuestion("x", "X", "completion", None, ("a", "b"), minimum_sample=0)


def test_an_undeclared_experiment_reads_completion_with_control_first() -> None:
    found = undeclared("photo-guidance", ["examples", "control", "examples", "big"])
    assert found.metric == "completion" and found.minimum_sample == 100
    assert found.arms == ("control", "big", "examples")
