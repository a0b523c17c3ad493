"""The release analysis on synthetic KPIs and a moved clock: no judgement below the minimum
sample, a KPI failing its threshold for the declared number of intervals rolls back, an
inconclusive KPI pauses for a person once the stage has baked, every KPI passing moves the
release on and, at the last stage, promotes it. And the KPIs themselves, from synthetic
journeys and events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wayline.runtime.clock import FixedClock
from wayline.runtime.releases.analysis import Action, Outcome, decide, judge, judge_kpi
from wayline.runtime.releases.kpis import ArmKpis, compute
from wayline.runtime.releases.strategy import Rule, StrategyError, load, parse
from wayline.store.releases import ArmEvent, ArmJourney

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
STRATEGY = parse(
    {
        "name": "test",
        "interval": "1m",
        "minimum_sample": 20,
        "rollback_after": 2,
        "stages": [{"percent": 10, "bake": "10m"}, {"percent": 100, "bake": "10m"}],
    }
)
GOOD = {
    "step_error_rate": 0.05,
    "drop_off": 0.10,
    "completion_rate": 0.60,
    "partner_failures": 0.01,
    "p99_step_seconds": 120.0,
}


def arm(sample: int = 50, **values: float | None) -> ArmKpis:
    return ArmKpis(sample, sample * 4, {**GOOD, **values})


def test_nothing_is_judged_below_the_minimum_sample() -> None:
    clock = FixedClock(START)
    clock.advance(timedelta(minutes=11))  # baked: only the sample holds it back
    broken = arm(sample=19, step_error_rate=1.0)  # failing badly, but one journey short

    judgement = judge(STRATEGY, broken, arm(sample=500))
    decision = decide(STRATEGY, 0, START, 1, judgement, clock.now())

    assert not judgement.sampled and judgement.verdicts == ()
    assert decision.action is Action.WAIT
    assert decision.failing_intervals == 1  # the count is neither cleared nor advanced


def test_a_kpi_failing_for_the_declared_intervals_rolls_back() -> None:
    clock = FixedClock(START)
    canary, stable = arm(step_error_rate=0.9), arm()
    failing = 0
    actions = []
    for _ in range(STRATEGY.rollback_after):
        clock.advance(timedelta(minutes=1))
        decision = decide(STRATEGY, 0, START, failing, judge(STRATEGY, canary, stable), clock.now())
        failing = decision.failing_intervals
        actions.append(decision.action)

    assert actions == [Action.CONTINUE, Action.ROLLBACK]
    assert "step_error_rate" in decision.reason


def test_a_passing_interval_clears_the_failing_count() -> None:
    judgement = judge(STRATEGY, arm(), arm())
    decision = decide(STRATEGY, 0, START, 1, judgement, START + timedelta(minutes=2))
    assert (decision.action, decision.failing_intervals) == (Action.CONTINUE, 0)


def test_an_inconclusive_kpi_pauses_for_a_person_once_the_stage_has_baked() -> None:
    canary = arm(p99_step_seconds=None)  # no step completed yet: no time to compare
    judgement = judge(STRATEGY, canary, arm())
    baking = decide(STRATEGY, 0, START, 0, judgement, START + timedelta(minutes=5))
    baked = decide(STRATEGY, 0, START, 0, judgement, START + timedelta(minutes=10))

    assert baking.action is Action.CONTINUE
    assert baked.action is Action.PAUSE and "p99_step_seconds" in baked.reason


def test_every_kpi_passing_moves_on_and_promotes_at_the_last_stage() -> None:
    judgement = judge(STRATEGY, arm(step_error_rate=0.08), arm())  # within +0.10
    assert {v.outcome for v in judgement.verdicts} == {Outcome.PASS}
    later = START + timedelta(minutes=10)

    assert decide(STRATEGY, 0, START, 0, judgement, later).action is Action.ADVANCE
    assert decide(STRATEGY, 1, START, 0, judgement, later).action is Action.PROMOTE


def test_too_few_journeys_for_three_bake_times_pauses() -> None:
    judgement = judge(STRATEGY, arm(sample=3), arm())
    decision = decide(STRATEGY, 0, START, 0, judgement, START + timedelta(minutes=30))
    assert decision.action is Action.PAUSE and "too few" in decision.reason


@pytest.mark.parametrize(
    ("rule", "canary", "stable", "outcome"),
    [
        (Rule(max_increase=0.1), 0.25, 0.1, Outcome.FAIL),
        (Rule(max_increase=0.1), 0.2, 0.1, Outcome.PASS),
        (Rule(max_decrease=0.1), 0.4, 0.6, Outcome.FAIL),
        (Rule(max_decrease=0.1), 0.55, 0.6, Outcome.PASS),
        (Rule(max_ratio=2.0), 50.0, 20.0, Outcome.FAIL),
        (Rule(max_ratio=2.0), 30.0, 20.0, Outcome.PASS),
        (Rule(max_ratio=2.0), 5.0, 0.0, Outcome.INCONCLUSIVE),
        (Rule(max_increase=0.1), None, 0.1, Outcome.INCONCLUSIVE),
    ],
)
def test_each_rule_compares_the_canary_with_stable(
    rule: Rule, canary: float | None, stable: float | None, outcome: Outcome
) -> None:
    assert judge_kpi("kpi", rule, canary, stable).outcome is outcome


def test_kpis_from_journeys_and_events() -> None:
    now = START + timedelta(hours=2)
    journeys = [
        ArmJourney("a", "submitted", None, now, now, False),
        ArmJourney("b", "in_progress", "incident", START, None, True),  # idle: dropped
        ArmJourney("c", "in_progress", "incident", now, None, False),  # still going
        ArmJourney("d", "in_progress", "policy", now, None, False),
    ]
    events = [
        ArmEvent("a", "journey.started", START, None),
        ArmEvent("a", "step.completed", START + timedelta(seconds=30), "policy"),
        ArmEvent("a", "step.completed", START + timedelta(seconds=90), "incident"),
        ArmEvent("b", "journey.started", START, None),
        ArmEvent("b", "step.completed", START + timedelta(seconds=10), "policy"),
        ArmEvent("b", "answers.refused", START + timedelta(seconds=20), "incident"),
        ArmEvent("c", "journey.started", START, None),
        ArmEvent("c", "answers.refused", START + timedelta(seconds=5), "policy"),
    ]

    found = compute(journeys, events, now, timedelta(minutes=30))

    assert found.sample == 4 and found.submissions == 5
    assert found.values["step_error_rate"] == pytest.approx(2 / 5)
    assert found.values["completion_rate"] == pytest.approx(1 / 4)
    assert found.values["partner_failures"] == pytest.approx(1 / 4)
    # incident: reached by a, b and c; b dropped there. policy: a, b, d; none dropped.
    assert found.drop_off_by_step == {"incident": pytest.approx(1 / 3), "policy": 0.0}
    assert found.values["drop_off"] == pytest.approx(1 / 3)
    assert found.values["p99_step_seconds"] == 60.0  # 30 s, 60 s and 10 s on steps


def test_no_submissions_means_no_error_rate() -> None:
    found = compute(
        [ArmJourney("a", "in_progress", "policy", START, None, False)], [], START, timedelta(1)
    )
    assert found.values["step_error_rate"] is None and found.values["p99_step_seconds"] is None


def test_strategies_are_checked_and_the_canary_share_replaces_the_first_stage() -> None:
    default = load("default")
    assert [s.percent for s in default.stages] == [10, 50, 100]
    assert [s.percent for s in default.with_first_share(25).stages] == [25, 50, 100]
    with pytest.raises(StrategyError, match="larger share"):
        default.with_first_share(60)
    with pytest.raises(StrategyError, match="last stage must be 100"):
        parse({"stages": [{"percent": 10, "bake": "5m"}]})
    with pytest.raises(StrategyError, match="unknown KPI"):
        parse({"stages": [{"percent": 100, "bake": "5m"}], "kpis": {"nps": {"max_ratio": 1}}})
    with pytest.raises(StrategyError, match="not a duration"):
        parse({"stages": [{"percent": 100, "bake": "soon"}]})
    with pytest.raises(StrategyError, match="no strategy"):
        load("no-such-strategy-or-file")
