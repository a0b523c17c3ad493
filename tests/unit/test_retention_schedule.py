"""The worker's retention run (cli_subjects.RetentionSchedule): the first an interval after
start, then at most once each interval; a failure is logged and the worker goes on."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import structlog
from structlog.testing import capture_logs

from wayline import cli_subjects
from wayline.cli_subjects import RetentionSchedule

HOUR = 3600.0


class Parts:
    """What the schedule uses of the worker's components: settings and lifecycle()."""

    def __init__(self, hours: float, fails: bool = False):
        self.settings = SimpleNamespace(retention_interval_hours=hours)
        self.runs = 0
        self.fails = fails

    def lifecycle(self) -> Any:
        return SimpleNamespace(run_retention=self._run)

    def _run(self) -> None:
        self.runs += 1
        if self.fails:
            raise RuntimeError("database gone")


def schedule(parts: Parts, clock: list[float]) -> RetentionSchedule:
    return RetentionSchedule(parts, now=lambda: clock[0])  # type: ignore[arg-type]


def test_it_runs_an_interval_after_start_then_once_each_interval() -> None:
    parts, clock = Parts(hours=24), [1000.0]
    daily = schedule(parts, clock)
    for at, runs in [(0, 0), (23 * HOUR, 0), (24 * HOUR, 1), (30 * HOUR, 1), (48 * HOUR, 2)]:
        clock[0] = 1000.0 + at
        daily.run_if_due()
        daily.run_if_due()  # the worker's idle sweep comes often: still once
        assert parts.runs == runs, at


def test_an_interval_of_zero_turns_it_off() -> None:
    parts, clock = Parts(hours=0), [0.0]
    off = schedule(parts, clock)
    clock[0] = 1e9
    off.run_if_due()
    assert parts.runs == 0


def test_a_failing_run_is_logged_and_tried_again_next_interval(monkeypatch: Any) -> None:
    # A logger used before in this process may be cached out of the capture's reach: afresh.
    monkeypatch.setattr(cli_subjects, "log", structlog.get_logger("wayline.retention"))
    parts, clock = Parts(hours=1, fails=True), [0.0]
    hourly = schedule(parts, clock)
    clock[0] = HOUR
    with capture_logs() as logged:
        hourly.run_if_due()  # does not raise: the worker's other duties go on
    assert parts.runs == 1
    assert [e["event"] for e in logged] == ["retention.failed"]
    clock[0] = 2 * HOUR
    hourly.run_if_due()
    assert parts.runs == 2
