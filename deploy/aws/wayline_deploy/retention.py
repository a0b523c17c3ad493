"""How long documents are kept: the longest `retention` the journey definitions declare.

A journey definition declares `retention` as an ISO 8601 duration (P7Y, P18M, P400D). The
documents bucket expires objects only after the longest of them (plus a margin), so that no
journey's evidence is deleted early by the storage layer; each journey's own, shorter retention
is applied by Wayline itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

# Years and months are rounded up (a year is 366 days, a month 31): expiring late is safe,
# expiring early would lose evidence the organisation must keep.
_DURATION = re.compile(r"^P(?:(?P<y>\d+)Y)?(?:(?P<m>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?$")


def duration_days(duration: str) -> int:
    """Days in an ISO 8601 date duration (no time part), rounded up; ValueError otherwise."""
    match = _DURATION.match(duration)
    if not match or duration == "P":
        raise ValueError(f"not an ISO 8601 date duration: {duration!r}")
    parts = {key: int(value or 0) for key, value in match.groupdict().items()}
    return parts["y"] * 366 + parts["m"] * 31 + parts["w"] * 7 + parts["d"]


def longest_declared_days(journeys: Path) -> int:
    """The longest `retention` in the definitions under `journeys` (*.yaml), in days.

    Raises ValueError when no definition declares one: a bucket must not be made to expire
    documents on a guess."""
    found = [
        duration_days(duration)
        for path in sorted(journeys.glob("*.yaml"))
        if isinstance(definition := yaml.safe_load(path.read_text()), dict)
        and "retention" in definition
        for duration in _durations(definition["retention"])
    ]
    if not found:
        raise ValueError(f"no journey definition under {journeys} declares a retention")
    return max(found)


def _durations(retention: object) -> list[str]:
    """Every duration a `retention` declares: the shorthand (P7Y), or the mapping's default,
    drafts and each outcome's."""
    if not isinstance(retention, dict):
        return [str(retention)]
    found = [str(retention[key]) for key in ("default", "drafts") if key in retention]
    return found + [str(value) for value in (retention.get("outcomes") or {}).values()]
