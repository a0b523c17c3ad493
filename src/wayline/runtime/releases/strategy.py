"""A release strategy: its stages (the canary's share of new journeys and how long each
bakes), how often it is analysed, the KPIs with their thresholds, the minimum sample before
any judgement, and how many failing intervals in a row roll it back.

Declared in YAML (a file, or a built-in by name); durations as `90s`, `20m`, `1h` or seconds.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from wayline.journeys.loader import YAML_LOADER

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class StrategyError(ValueError):
    """A strategy that cannot be used: the message names what is wrong."""


def seconds(value: Any) -> int:
    """A duration in seconds from `90`, `90s`, `20m`, `1h` or `1d`."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or like 20m")
    if isinstance(value, int):
        return value
    found = _DURATION.match(str(value))
    if found is None:
        raise ValueError(f"'{value}' is not a duration (like 90s, 20m, 1h)")
    return int(found.group(1)) * _UNITS[found.group(2)]


class Stage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    percent: int = Field(ge=1, le=100, description="The canary's share of new journeys.")
    bake: int = Field(description="Seconds the stage runs before it may move on.")

    @field_validator("bake", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int:
        return seconds(value)

    @field_validator("bake")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("must be more than zero")
        return value


class Rule(BaseModel):
    """A KPI's threshold against stable: canary − stable at most `max_increase`, stable −
    canary at most `max_decrease`, canary ÷ stable at most `max_ratio`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_increase: float | None = Field(None, ge=0)
    max_decrease: float | None = Field(None, ge=0)
    max_ratio: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one(self) -> Rule:
        given = [v for v in (self.max_increase, self.max_decrease, self.max_ratio) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of max_increase, max_decrease or max_ratio")
        return self


# The KPIs the analysis computes (runtime/releases/kpis.py), each with its default threshold.
DEFAULT_KPIS: dict[str, Rule] = {
    "step_error_rate": Rule(max_increase=0.10),
    "drop_off": Rule(max_increase=0.10),
    "completion_rate": Rule(max_decrease=0.10),
    "partner_failures": Rule(max_increase=0.05),
    "p99_step_seconds": Rule(max_ratio=2.0),
}


class Strategy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "custom"
    interval: int = Field(300, description="Seconds between analyses.")
    stages: tuple[Stage, ...] = Field(min_length=1)
    minimum_sample: int = Field(30, ge=1, description="Journeys an arm needs to be judged.")
    rollback_after: int = Field(2, ge=1, description="Failing intervals in a row to roll back.")
    drop_off_after: int = Field(1800, description="Idle seconds before a journey has dropped.")
    kpis: dict[str, Rule] = Field(default_factory=lambda: dict(DEFAULT_KPIS))

    @field_validator("interval", "drop_off_after", mode="before")
    @classmethod
    def _durations(cls, value: Any) -> int:
        return seconds(value)

    @field_validator("interval", "drop_off_after")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("must be more than zero")
        return value

    @field_validator("kpis")
    @classmethod
    def _known(cls, kpis: dict[str, Rule]) -> dict[str, Rule]:
        unknown = sorted(set(kpis) - set(DEFAULT_KPIS))
        if unknown:
            raise ValueError(f"unknown KPI {', '.join(unknown)} (known: {', '.join(DEFAULT_KPIS)})")
        if not kpis:
            raise ValueError("name at least one KPI")
        return kpis

    @model_validator(mode="after")
    def _rising(self) -> Strategy:
        shares = [stage.percent for stage in self.stages]
        if shares != sorted(set(shares)):
            raise ValueError("stages must give the canary a larger share each time")
        if shares[-1] != 100:
            raise ValueError("the last stage must be 100 percent")
        return self

    def with_first_share(self, percent: int) -> Strategy:
        """The strategy with the first stage's share replaced (`--canary 10`)."""
        first = Stage(percent=percent, bake=self.stages[0].bake)
        if len(self.stages) == 1:
            stages: tuple[Stage, ...] = (first, self.stages[0])
        else:
            stages = (first, *self.stages[1:])
        return parse({**self.model_dump(), "stages": [s.model_dump() for s in stages]})

    def bake(self, stage: int) -> timedelta:
        return timedelta(seconds=self.stages[stage].bake)


BUILT_IN: dict[str, dict[str, Any]] = {
    # 10% for 20 minutes, then 50% for 20, then everyone for 20 before it is promoted.
    "default": {
        "name": "default",
        "interval": "5m",
        "stages": [
            {"percent": 10, "bake": "20m"},
            {"percent": 50, "bake": "20m"},
            {"percent": 100, "bake": "20m"},
        ],
    },
    # For a journey with little traffic: longer bakes, a smaller sample.
    "slow": {
        "name": "slow",
        "interval": "30m",
        "minimum_sample": 20,
        "stages": [
            {"percent": 5, "bake": "1d"},
            {"percent": 25, "bake": "1d"},
            {"percent": 100, "bake": "1d"},
        ],
    },
}


def parse(document: Any) -> Strategy:
    """A strategy from its parsed YAML; StrategyError naming each problem."""
    if not isinstance(document, dict):
        raise StrategyError("a strategy is a mapping (name, interval, stages, kpis, …)")
    try:
        return Strategy.model_validate(document)
    except ValidationError as invalid:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'strategy'}: {error['msg']}"
            for error in invalid.errors()
        )
        raise StrategyError(problems) from None


def load(name_or_path: str | None) -> Strategy:
    """A built-in strategy by name, or one declared in a YAML file; `default` when none."""
    name = name_or_path or "default"
    if name in BUILT_IN:
        return parse(BUILT_IN[name])
    path = Path(name)
    if not path.is_file():
        raise StrategyError(
            f"no strategy '{name}': name a file or one of {', '.join(sorted(BUILT_IN))}"
        )
    try:
        document = yaml.load(path.read_text(), Loader=YAML_LOADER)
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise StrategyError(f"{path}: not YAML ({type(error).__name__})") from None
    return parse(document)
