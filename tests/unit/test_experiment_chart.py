"""The experiments' interval chart and its view: points and interval ends on the shared scale,
an arm without journeys drawn as nothing (its note says none), the axis ticks in words, and
the description that says every arm's number in words."""

from __future__ import annotations

import pytest

from wayline.insights.experiments.questions import ExperimentQuestion
from wayline.insights.experiments.results import ExperimentResult
from wayline.insights.experiments.verdicts import compare, share_arm
from wayline.insights.interval_charts import LABEL_WIDTH, interval_chart
from wayline.web.pages.insight_views import experiment_view


def test_points_and_ends_sit_on_the_scale() -> None:
    chart = interval_chart(
        "c",
        "T",
        "D",
        [("a", 0.5, (0.4, 0.6), "50%"), ("b", None, None, "none"), ("c", 1.2, (0.9, 1.5), "")],
        (0.0, 1.0),
        lambda v: f"{v:.1f}",
    )
    a, b, c = chart.rows
    plot = chart.plot_width
    assert a.point_x == pytest.approx(LABEL_WIDTH + plot / 2)
    assert a.low_x == pytest.approx(LABEL_WIDTH + 0.4 * plot)
    assert (b.point_x, b.low_x, b.high_x) == (None, None, None)
    assert c.point_x == c.high_x == pytest.approx(LABEL_WIDTH + plot)  # held at the end
    assert [t.label for t in chart.ticks] == ["0.0", "0.5", "1.0"]
    assert chart.height > chart.axis_y > c.y


def test_the_view_of_an_experiment() -> None:
    question = ExperimentQuestion(
        "photo-guidance", "Photo guidance", "drop_off", "photos", ("control", "examples", "x")
    )
    control, examples, empty = (
        share_arm("control", 60, 120),
        share_arm("examples", 30, 120),
        share_arm("x", 0, 0),
    )
    result = ExperimentResult(
        question,
        True,
        (control, examples, empty),
        (compare(question, control, examples), compare(question, control, empty)),
    )
    view = experiment_view(result, 3)
    assert view.chart.id == "experiment-3"
    assert view.unit_heading == "Journeys that reached photos"
    assert view.metric_heading == "Drop-off at photos"
    assert [(r.arm, r.n, r.value, r.interval) for r in view.arms] == [
        ("control", 120, "50.0%", "41.2% to 58.8%"),
        ("examples", 120, "25.0%", "18.1% to 33.4%"),
        ("x", 0, "none", "none"),
    ]
    assert view.chart.description.startswith(
        "control: drop-off at photos 50.0%, 95% CI 41.2% to 58.8%, 120 journeys that reached"
    )
    assert [t.label for t in view.chart.ticks] == ["10%", "35%", "60%"]  # whole tens around
    assert view.sentences[0].startswith("examples better than control on drop-off at photos")
    assert view.sentences[1].startswith("Too small to tell")
