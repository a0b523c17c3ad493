"""The judgement of one analysis interval, and what it decides. Pure: the service feeds it
the arms' KPIs, the release's stage and the time.

Below the minimum sample in either arm nothing is judged (the release waits; after three
bake times without enough journeys it pauses for a person). Otherwise each KPI passes, fails
its threshold, or is inconclusive (it cannot be computed in an arm). A KPI failing for
`rollback_after` intervals in a row rolls the release back; once the stage has baked, an
inconclusive KPI pauses it for a person, and all passing moves it on (or, at the last stage,
promotes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from wayline.runtime.releases.kpis import ArmKpis
from wayline.runtime.releases.strategy import Rule, Strategy

# A pause waits this many bake times for enough journeys before asking a person.
SAMPLE_PATIENCE = 3


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


class Action(StrEnum):
    WAIT = "wait"  # too few journeys: nothing judged
    CONTINUE = "continue"  # judged; the stage goes on baking
    ADVANCE = "advance"
    PROMOTE = "promote"
    PAUSE = "pause"
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class Verdict:
    kpi: str
    outcome: Outcome
    canary: float | None
    stable: float | None
    threshold: str

    def to_dict(self) -> dict[str, object]:
        return {
            "kpi": self.kpi,
            "outcome": self.outcome.value,
            "canary": self.canary,
            "stable": self.stable,
            "threshold": self.threshold,
        }


@dataclass(frozen=True)
class Judgement:
    sampled: bool
    verdicts: tuple[Verdict, ...] = ()

    @property
    def failing(self) -> bool:
        return any(v.outcome is Outcome.FAIL for v in self.verdicts)


@dataclass(frozen=True)
class Decision:
    action: Action
    failing_intervals: int
    reason: str


def judge_kpi(name: str, rule: Rule, canary: float | None, stable: float | None) -> Verdict:
    """One KPI of the canary against stable, by its rule."""
    if canary is None or stable is None:
        return Verdict(name, Outcome.INCONCLUSIVE, canary, stable, _words(rule))
    if rule.max_increase is not None:
        failed = canary - stable > rule.max_increase
    elif rule.max_decrease is not None:
        failed = stable - canary > rule.max_decrease
    else:
        assert rule.max_ratio is not None  # the rule has exactly one (strategy.Rule)
        if stable <= 0:  # no ratio to a zero: the canary passes only at zero too
            outcome = Outcome.PASS if canary <= 0 else Outcome.INCONCLUSIVE
            return Verdict(name, outcome, canary, stable, _words(rule))
        failed = canary / stable > rule.max_ratio
    return Verdict(name, Outcome.FAIL if failed else Outcome.PASS, canary, stable, _words(rule))


def _words(rule: Rule) -> str:
    if rule.max_increase is not None:
        return f"at most +{rule.max_increase:g}"
    if rule.max_decrease is not None:
        return f"at most -{rule.max_decrease:g}"
    return f"at most x{rule.max_ratio:g}"


def judge(strategy: Strategy, canary: ArmKpis, stable: ArmKpis) -> Judgement:
    """Every KPI the strategy names, once both arms have the minimum sample."""
    if min(canary.sample, stable.sample) < strategy.minimum_sample:
        return Judgement(sampled=False)
    return Judgement(
        sampled=True,
        verdicts=tuple(
            judge_kpi(name, rule, canary.values.get(name), stable.values.get(name))
            for name, rule in strategy.kpis.items()
        ),
    )


def decide(
    strategy: Strategy,
    stage: int,
    stage_started_at: datetime,
    failing_intervals: int,
    judgement: Judgement,
    now: datetime,
) -> Decision:
    """What the release does after this interval's judgement."""
    baked = now - stage_started_at >= strategy.bake(stage)
    if not judgement.sampled:
        if now - stage_started_at >= strategy.bake(stage) * SAMPLE_PATIENCE:
            return Decision(Action.PAUSE, failing_intervals, "too few journeys to judge")
        return Decision(Action.WAIT, failing_intervals, "below the minimum sample")
    if judgement.failing:
        count = failing_intervals + 1
        names = ", ".join(v.kpi for v in judgement.verdicts if v.outcome is Outcome.FAIL)
        if count >= strategy.rollback_after:
            return Decision(Action.ROLLBACK, count, f"failing: {names}")
        return Decision(Action.CONTINUE, count, f"failing: {names}")
    if not baked:
        return Decision(Action.CONTINUE, 0, "baking")
    unsure = [v.kpi for v in judgement.verdicts if v.outcome is Outcome.INCONCLUSIVE]
    if unsure:
        return Decision(Action.PAUSE, 0, f"inconclusive: {', '.join(unsure)}")
    if stage == len(strategy.stages) - 1:
        return Decision(Action.PROMOTE, 0, "every KPI passed at the last stage")
    return Decision(Action.ADVANCE, 0, "every KPI passed")
