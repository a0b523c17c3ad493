"""Which steps ask for a stronger or fresher proof of identity, and when (a step's `step_up`).

Pure, like the rest of the engine: it knows levels as plain numbers and proofs as a level and
a time, and nothing of sign-in, sessions or providers. The service layer asks `needed` once the
engine has worked out what a submission would keep, before anything is written, and compares
the caller's proof with `Rule.met`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from wayline.journeys import engine
from wayline.journeys.engine import JourneyState
from wayline.journeys.expressions import evaluate
from wayline.journeys.loader import Journey
from wayline.journeys.schema import StepSpec


@dataclass(frozen=True)
class Rule:
    """A sign-in of at least `level`, given no longer ago than `within`. `conditional`: the
    step declared a `when`, so it asks for this only for some answers."""

    level: int
    within: timedelta
    conditional: bool = False

    def met(self, level: int, authenticated_at: datetime, now: datetime) -> bool:
        """Whether a sign-in of `level` given at `authenticated_at` is enough `now`."""
        return level >= self.level and now - authenticated_at <= self.within

    @property
    def max_age(self) -> int:
        """`within` in whole seconds (OIDC's max_age)."""
        return int(self.within.total_seconds())


def declared(step: StepSpec) -> Rule | None:
    """The step-up a step declares, whatever its condition; None when it declares none."""
    spec = step.step_up
    if spec is None:
        return None
    return Rule(spec.level, engine.parse_duration(spec.within), spec.when is not None)


def to_show(step: StepSpec) -> Rule | None:
    """The step-up needed before the step is even shown: one declared without a condition."""
    rule = declared(step)
    return rule if rule is not None and not rule.conditional else None


def needed(journey: Journey, step_name: str, submitted: JourneyState, now: datetime) -> Rule | None:
    """The step-up that submitting `step_name` needs, judged on `submitted`: the state the
    engine produced from the submission (not yet written), so the condition reads the answers
    as they would be kept (parsed, with the step's draft merged in and hidden fields dropped),
    and the partner data recorded for them. None when the step asks for none."""
    step = journey.step(step_name)
    rule = declared(step) if step is not None else None
    if step is None or rule is None or step.step_up is None:
        return None
    if step.step_up.when is None:
        return rule
    scope = engine.context(journey, submitted, submitted.answers, now)
    return rule if _applies(step.step_up.when, scope) else None


def _applies(condition: str, scope: dict[str, Any]) -> bool:
    """Whether the condition asks for the step-up. Unlike a step's `when`, a condition that
    cannot be evaluated (a value of the wrong type) counts as true: when in doubt, ask."""
    try:
        return evaluate(condition, scope) is not False
    except (LookupError, TypeError, ValueError, RuntimeError):
        return True
