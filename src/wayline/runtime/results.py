"""What commands return: domain results, never status codes or response bodies (web/ turns
them into HTTP).

`Position` is where a journey stands (its applicable steps and its current one), worked out
once per request from the state a command wrote or a query read, and passed along: to the
store (the journeys row keeps the current step) and to the view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from wayline.journeys import engine
from wayline.journeys.engine import JourneyState
from wayline.journeys.loader import Journey
from wayline.journeys.schema import StepSpec


@dataclass(frozen=True)
class Position:
    """The steps that apply to a journey now, in order, and the one it is at (the first not
    completed, check-answers once all are, None once it is sent)."""

    applicable: tuple[StepSpec, ...]
    current: str | None

    @classmethod
    def of(cls, journey: Journey, state: JourneyState, now: datetime) -> Position:
        applicable = engine.applicable_steps(journey, state, now)
        return cls(tuple(applicable), engine.current_step(journey, state, now, applicable))

    def previous(self, step: str) -> str | None:
        """The applicable step before `step` (None for the first, or a step not applicable)."""
        names = [s.name for s in self.applicable]
        index = names.index(step) if step in names else 0
        return names[index - 1] if index > 0 else None


@dataclass(frozen=True)
class Changed:
    """A journey as a command left it: the state it wrote, at the revision it wrote. A replay
    (the same Idempotency-Key again) did nothing: it carries the journey as it is now."""

    journey: Journey  # the definition version the journey runs on
    state: JourneyState
    revision: int
    position: Position
    now: datetime  # the command's moment: the view is drawn as of it
    created: bool = False  # a new journey
    replayed: bool = False

    @property
    def journey_id(self) -> str:
        return self.state.id
