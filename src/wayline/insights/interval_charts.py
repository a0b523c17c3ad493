"""Interval charts laid out for server-drawn SVG: one row per arm of an experiment, its value
as a point and its 95% interval as a line with end caps, on a shared scale with an axis below.
The geometry only (pure); the page's template draws it with role="img", a <title> and a
<desc> in words, and a table beside it holds the same numbers (as with insights/charts.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 560  # one chart per experiment, across the page
LABEL_WIDTH = 110
NOTE_WIDTH = 170
ROW_HEIGHT = 26
AXIS_HEIGHT = 22
PADDING = 6


@dataclass(frozen=True)
class IntervalRow:
    """One row: its label, top, the x of its point and interval ends (None: nothing to
    draw, as for an arm without journeys) and the number(s) in words at its end."""

    label: str
    y: float
    point_x: float | None
    low_x: float | None
    high_x: float | None
    note: str

    @property
    def middle(self) -> float:
        return self.y + ROW_HEIGHT / 2 - PADDING / 2


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class IntervalChart:
    id: str
    title: str
    description: str
    width: int
    height: int
    label_width: int
    plot_width: int
    rows: tuple[IntervalRow, ...]
    axis_y: float
    ticks: tuple[Tick, ...]

    @property
    def note_x(self) -> int:
        return self.width - NOTE_WIDTH + PADDING


# (label, value, (low, high) or None, note); a value of None draws nothing for that row.
Entry = tuple[str, float | None, tuple[float, float] | None, str]


def interval_chart(
    chart_id: str,
    title: str,
    description: str,
    entries: Sequence[Entry],
    scale: tuple[float, float],
    tick_text: Callable[[float], str],
) -> IntervalChart:
    """A chart of `entries` on the axis from `scale[0]` to `scale[1]` (values outside are
    drawn at its ends), with ticks at both ends and the middle labelled by `tick_text`."""
    lowest, highest = scale
    plot = WIDTH - LABEL_WIDTH - NOTE_WIDTH - PADDING

    def x(value: float | None) -> float | None:
        if value is None:
            return None
        share = (value - lowest) / (highest - lowest) if highest > lowest else 0.5
        return LABEL_WIDTH + plot * min(1.0, max(0.0, share))

    rows = tuple(
        IntervalRow(
            label[:16] + "…" if len(label) > 17 else label,
            PADDING + i * ROW_HEIGHT,
            x(value),
            x(interval[0]) if interval and value is not None else None,
            x(interval[1]) if interval and value is not None else None,
            note,
        )
        for i, (label, value, interval, note) in enumerate(entries)
    )
    axis_y = PADDING + max(1, len(entries)) * ROW_HEIGHT
    ticks = tuple(
        Tick(LABEL_WIDTH + plot * share, tick_text(lowest + (highest - lowest) * share))
        for share in (0.0, 0.5, 1.0)
    )
    height = int(axis_y + AXIS_HEIGHT)
    return IntervalChart(
        chart_id, title, description, WIDTH, height, LABEL_WIDTH, plot, rows, axis_y, ticks
    )
