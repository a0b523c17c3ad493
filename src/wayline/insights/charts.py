"""Horizontal bar charts laid out for server-drawn SVG: the geometry only (pure). The page's
template draws them with role="img", a <title> and a <desc> that says what the chart shows in
words, and a data table beside each chart carries the same numbers for anyone who cannot see
it. No JavaScript, so the charts work wherever the page does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 440  # two charts side by side fit the page's 960px
LABEL_WIDTH = 150
NOTE_WIDTH = 90
ROW_HEIGHT = 26
BAR_HEIGHT = 16
PADDING = 6


@dataclass(frozen=True)
class Segment:
    """One part of a bar, from the bar's start: its CSS class (the series) and width."""

    css: str
    width: float


@dataclass(frozen=True)
class Bar:
    label: str
    y: float
    segments: tuple[Segment, ...]
    note: str  # the number(s) in words at the bar's end


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    width: int
    height: int
    label_width: int
    bars: tuple[Bar, ...]

    @property
    def note_x(self) -> int:
        return self.width - NOTE_WIDTH + PADDING


Series = Sequence[tuple[str, float]]  # (css class, value), drawn over each other, largest first


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    rows: Sequence[tuple[str, Series, str]],
    scale: float | None = None,
) -> Chart:
    """A chart of `rows` (label, series, note). Bars are scaled to `scale`, or to the largest
    value; a label too long for its column is shortened with an ellipsis (the table beside the
    chart has it whole)."""
    largest = scale or max((value for _, series, _ in rows for _, value in series), default=0)
    room = WIDTH - LABEL_WIDTH - NOTE_WIDTH
    bars = []
    for i, (label, series, note) in enumerate(rows):
        segments = tuple(
            Segment(css, room * value / largest if largest else 0.0)
            for css, value in sorted(series, key=lambda s: -s[1])
        )
        bars.append(Bar(_short(label), PADDING + i * ROW_HEIGHT, segments, note))
    height = PADDING * 2 + max(1, len(rows)) * ROW_HEIGHT
    return Chart(chart_id, title, description, WIDTH, height, LABEL_WIDTH, tuple(bars))


def _short(label: str, most: int = 22) -> str:
    return label if len(label) <= most else label[: most - 1] + "…"


def duration(seconds: float | None) -> str:
    """A duration in words a glance can take: 45 s, 12 min, 3.5 h, 2.1 days."""
    if seconds is None:
        return "none"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "none"
