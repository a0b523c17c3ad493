"""The models of one journey type, read: each model's versions (the one acted on and any in
shadow) with how many journeys each scored, the mean score and the share over the threshold,
and for each shadow run how often it agreed with the live version and what switching it on
would change. Built from the rows of the `model_versions` and `model_agreement` questions
(insights/queries.py); scores are the events' (to two places)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from wayline.insights.queries import Row

Role = Literal["live", "shadow"]


@dataclass(frozen=True)
class VersionScores:
    """One version's scores: `journeys` it was asked to score, `scored` that got a score (the
    rest could not be scored), their `mean_score` and how many were `over` the threshold."""

    version: int
    role: Role
    journeys: int
    scored: int
    mean_score: float | None
    over: int

    @property
    def share_over(self) -> float | None:
        """The share of scored journeys over the threshold (None when none was scored)."""
        return self.over / self.scored if self.scored else None


@dataclass(frozen=True)
class ShadowAgreement:
    """A live version and the version scored beside it in shadow, over the journeys both
    scored: how many fell on the same side of the threshold, how many only the shadow put
    over it, and how many only the live version did."""

    version: int
    shadow_version: int
    paired: int
    agree: int
    shadow_only: int
    live_only: int

    @property
    def agreement(self) -> float | None:
        """The share of paired journeys on the same side (None when none was paired)."""
        return self.agree / self.paired if self.paired else None

    @property
    def change(self) -> int:
        """How many more journeys would be over the threshold with the shadow switched on."""
        return self.shadow_only - self.live_only


@dataclass(frozen=True)
class ModelComparison:
    """One model: its versions (live first, then shadow, each by version) and its shadow
    runs, counted against `threshold`."""

    model: str
    threshold: float
    versions: tuple[VersionScores, ...]
    shadows: tuple[ShadowAgreement, ...]

    @property
    def sentences(self) -> list[str]:
        """What switching each shadow version on would change, in words."""
        return [switch_sentence(shadow, self.threshold) for shadow in self.shadows]


def model_comparisons(
    version_rows: Sequence[Row], agreement_rows: Sequence[Row], threshold: float
) -> list[ModelComparison]:
    """Every model with a scored journey in `version_rows` (one journey type), by name."""
    names = sorted({row.model for row in version_rows})
    return [
        ModelComparison(
            name,
            threshold,
            tuple(_scores(row) for row in version_rows if row.model == name),
            tuple(_agreement(row) for row in agreement_rows if row.model == name),
        )
        for name in names
    ]


def switch_sentence(shadow: ShadowAgreement, threshold: float) -> str:
    """What switching `shadow` on in place of its live version would have changed, in words,
    over the journeys both scored."""
    live, new = f"version {shadow.version}", f"version {shadow.shadow_version}"
    cut = f"{threshold:g}"
    if shadow.paired == 0:
        return f"No journey was scored by both {live} and {new} yet: nothing to compare."
    if shadow.shadow_only == 0 and shadow.live_only == 0:
        return (
            f"Switching {new} on would change nothing at {cut}: it put all {shadow.paired} "
            f"journeys scored by both on the same side as {live}."
        )
    more = shadow.change
    net = (
        f"{more} more over {cut} in all"
        if more > 0
        else f"{-more} fewer over {cut} in all"
        if more < 0
        else f"as many over {cut} in all"
    )
    return (
        f"Switching {new} on in place of {live} would have put {_journeys(shadow.shadow_only)} "
        f"over {cut} that {live} did not, and {_journeys(shadow.live_only)} under it that "
        f"{live} put over ({net}, of {shadow.paired} scored by both; "
        f"the two agree on {_percent(shadow.agreement)})."
    )


def _scores(row: Row) -> VersionScores:
    return VersionScores(
        version=int(row.version),
        role="shadow" if row.role == "shadow" else "live",
        journeys=int(row.journeys),
        scored=int(row.scored),
        mean_score=None if row.mean_score is None else float(row.mean_score),
        over=int(row.over),
    )


def _agreement(row: Row) -> ShadowAgreement:
    return ShadowAgreement(
        version=int(row.version),
        shadow_version=int(row.shadow_version),
        paired=int(row.paired),
        agree=int(row.agree),
        shadow_only=int(row.shadow_only),
        live_only=int(row.live_only),
    )


def _journeys(count: int) -> str:
    return f"{count} journey" if count == 1 else f"{count} journeys"


def _percent(share: float | None) -> str:
    return "none" if share is None else f"{100 * share:.1f}%"
