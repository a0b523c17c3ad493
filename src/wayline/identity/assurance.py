"""How strongly someone proved who they are, and what a sensitive action asks for.

Providers say it two ways: `acr` names a level of assurance (whose names each provider chooses:
`urn:wayline:loa:2` for our test provider, `gold` or `2` in Keycloak, an authentication context
in Entra ID), and `amr` lists the methods used (RFC 8176: `pwd`, `otp`, `mfa`, `hwk`…). Wayline
reduces both to one small ordered number, so that rules can say "level 2 within 5 minutes"
whatever the provider calls it. Pure: callers pass the time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from wayline.identity.principal import Principal

PASSWORD = 1
SECOND_FACTOR = 2
DEFAULT_ACR_LEVELS: Mapping[str, int] = {
    "urn:wayline:loa:1": PASSWORD,
    "urn:wayline:loa:2": SECOND_FACTOR,
}
# RFC 8176 methods that prove something beyond a password: with any of them the sign-in counts
# as level 2 even when the provider sends no `acr` Wayline knows (Cognito sends none).
SECOND_FACTOR_METHODS = frozenset(
    {"mfa", "otp", "hwk", "swk", "sms", "tel", "sc", "fpt", "face", "iris", "retina", "vbm"}
)


@dataclass(frozen=True)
class AssuranceLevels:
    """The provider's `acr` names and their levels (`WAYLINE_OIDC_ACR_LEVELS`)."""

    acr_levels: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_ACR_LEVELS))

    def level(self, acr: object, amr: Iterable[object] = ()) -> int:
        """The level a sign-in reached: the higher of what its `acr` names and what its `amr`
        methods show. A sign-in that says nothing of itself counts as a password (1)."""
        by_acr = self.acr_levels.get(acr, 0) if isinstance(acr, str) else 0
        methods = {m for m in amr if isinstance(m, str)}
        by_amr = SECOND_FACTOR if methods & SECOND_FACTOR_METHODS else PASSWORD
        return max(by_acr, by_amr)

    def acr_values(self, level: int) -> str:
        """The `acr_values` to ask the provider for at least `level`: every known name at that
        level or above, weakest first (space-separated, as OIDC Core 3.1.2.1 says)."""
        names = sorted((lvl, name) for name, lvl in self.acr_levels.items() if lvl >= level)
        return " ".join(name for _, name in names)


@dataclass(frozen=True)
class StepUp:
    """What a sensitive action asks for: a sign-in of at least `level`, given no longer ago
    than `within` (OIDC's `max_age`)."""

    level: int
    within: timedelta

    def __post_init__(self) -> None:
        if self.level < 1:
            raise ValueError("A step-up asks for level 1 or more")
        if self.within <= timedelta(0):
            raise ValueError("A step-up's time window must be positive")

    def met_by(self, principal: Principal, now: datetime) -> bool:
        fresh = now - principal.authenticated_at <= self.within
        return principal.assurance >= self.level and fresh

    @property
    def max_age(self) -> int:
        """`within` in whole seconds, as OIDC's `max_age` and RFC 9470 carry it."""
        return int(self.within.total_seconds())
