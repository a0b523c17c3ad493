"""The caller's proof of identity, as the service layer sees it: how strongly they signed in
(a level: 1 a password, 2 a password and a second factor) and when they did.

A plain value so that commands need nothing of sign-in or sessions: the web layer builds it
from the session's principal (web/step_up.py). It lives here rather than in identity/ because
identity/ already uses the runtime (its clock), and packages must not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from wayline.errors import StepUpRequired
from wayline.journeys.step_up import Rule


@dataclass(frozen=True)
class Proof:
    level: int
    authenticated_at: datetime

    def meets(self, rule: Rule | None, now: datetime) -> bool:
        """Whether this proof is enough for `rule` now (None: nothing is asked)."""
        return rule is None or rule.met(self.level, self.authenticated_at, now)

    def require(self, rule: Rule | None, now: datetime) -> None:
        """Raise StepUpRequired unless this proof meets `rule`."""
        if rule is not None and not self.meets(rule, now):
            raise StepUpRequired(rule.level, rule.within)


# No proof at all: a caller that names none meets no step-up.
NONE = Proof(0, datetime.min.replace(tzinfo=UTC))
