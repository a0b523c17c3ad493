"""A/B experiments on the insight pages: which arm of an experiment did better on its primary
metric, with 95% intervals, and whether there is enough to tell.

`questions.py` says what an experiment asks (`ExperimentQuestion`); `statistics.py` holds the
intervals (Wilson, Newcombe's hybrid score, Welch); `verdicts.py` turns an arm's counts into
its number and interval and compares arms under the minimum sample; `results.py` reads the
warehouse's experiment rows into results per experiment.
"""

from wayline.insights.experiments.questions import (
    ExperimentQuestion,
    ExperimentsOf,
    Metric,
    no_experiments,
)

__all__ = ["ExperimentQuestion", "ExperimentsOf", "Metric", "no_experiments"]
