"""A model's spec: `models/<name>/spec.yaml`, what a journey team declares.

The spec names the model, its label (what a positive case means), the segments the card
reports scores for, and its features. Each feature says what kind of value it is, how
sensitive (the journey fields' classifications), what it reads and the CEL expression the
journey computes it with (loaded and checked to be text here, evaluated by the integration),
and the words a claims handler reads when it moves a score.

Loading refuses, with every problem named: unknown keys, duplicate names, a segment or the
label named like a feature, a `reads` path outside the journey's scope, words missing for a
direction, and word templates with placeholders other than `{value}` and `{label}`.
"""

from __future__ import annotations

import re
import string
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from wayline.journeys.schema import Classification

NAME = r"^[a-z][a-z0-9_]*$"
MODEL_NAME = r"^[a-z][a-z0-9-]*$"
SCOPES = ("answers", "data", "computed", "checks")
PLACEHOLDERS = frozenset({"value", "label"})

Name = Annotated[str, StringConstraints(pattern=NAME)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class SpecError(ValueError):
    """A spec that does not load: its file and every problem found."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Kind(StrEnum):
    """What a feature's value is: a number, one of some words, or yes/no."""

    NUMBER = "number"
    CATEGORY = "category"
    FLAG = "flag"


class Words(Strict):
    """How a feature's contribution reads to a claims handler.

    Numbers and flags say `higher` (above the training average; a flag that is true) and
    `lower`; categories say one phrase per known value in `values`, and `other` for a value
    the model was not trained on. `missing` is said when the value was not given (imputed as
    in training). Templates may use `{value}` and `{label}`."""

    higher: Text | None = None
    lower: Text | None = None
    values: dict[str, Text] = Field(default_factory=dict)
    other: Text = "{label}: {value}"
    missing: Text = "{label} not given"

    def templates(self) -> list[str]:
        """Every template, for placeholder checks."""
        plain = [self.higher, self.lower, self.other, self.missing]
        return [t for t in plain if t is not None] + list(self.values.values())


class Feature(Strict):
    """One input of the model, computed by the journey before it asks for a score."""

    name: Name
    kind: Kind
    classification: Classification
    label: Text
    reads: list[Text] = Field(min_length=1)
    expression: Text
    words: Words

    @model_validator(mode="after")
    def _words_fit_the_kind(self) -> Feature:
        problems = _word_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Label(Strict):
    """What the model predicts: a yes/no column of the training rows."""

    name: Name
    description: Text


class Estimator(Strict):
    """The estimator's settings: the inverse regularisation strength of the regression."""

    regularisation: float = Field(1.0, gt=0)


class ModelSpec(Strict):
    """A model as declared in `models/<name>/spec.yaml`."""

    name: Annotated[str, StringConstraints(pattern=MODEL_NAME)]
    description: Text
    label: Label
    training_data: Text
    segments: list[Name] = Field(default_factory=list)
    estimator: Estimator = Estimator()
    features: list[Feature] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_distinct(self) -> ModelSpec:
        names = [feature.name for feature in self.features]
        problems = [f"feature {n!r} is declared twice" for n in _duplicates(names)]
        problems += [f"segment {n!r} is declared twice" for n in _duplicates(self.segments)]
        taken = set(names)
        problems += [f"segment {n!r} is also a feature" for n in self.segments if n in taken]
        if self.label.name in taken or self.label.name in self.segments:
            problems.append(f"label {self.label.name!r} is also a feature or a segment")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def feature(self, name: str) -> Feature:
        """The feature called `name` (KeyError when there is none)."""
        for feature in self.features:
            if feature.name == name:
                return feature
        raise KeyError(name)


def load_spec(path: Path) -> ModelSpec:
    """The spec in `path`, or SpecError naming every problem (YAML, shape, words)."""
    try:
        document: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise SpecError(path, [str(error)]) from None
    return spec_from_document(document, path)


def spec_from_document(document: Any, where: Path | str = "<spec>") -> ModelSpec:
    """A spec from a loaded YAML/JSON document (as `load_spec`, without the file)."""
    try:
        return ModelSpec.model_validate(document)
    except ValidationError as error:
        problems = [_problem(detail) for detail in error.errors()]
        raise SpecError(where, problems) from None


def _problem(detail: Any) -> str:
    where = ".".join(str(part) for part in detail["loc"])
    message = str(detail["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _duplicates(names: list[str]) -> list[str]:
    return sorted({name for name in names if names.count(name) > 1})


def _word_problems(feature: Feature) -> list[str]:
    words = feature.words
    scopes = ", ".join(SCOPES)
    problems = [
        f"reads {path!r} is not a path under {scopes}"
        for path in feature.reads
        if not _in_scope(path)
    ]
    if feature.kind is Kind.CATEGORY:
        if not words.values:
            problems.append("a category needs words.values (a phrase per known value)")
        if words.higher or words.lower:
            problems.append("a category says words per value, not higher/lower")
    else:
        if not (words.higher and words.lower):
            problems.append(f"a {feature.kind.value} needs words.higher and words.lower")
        if words.values:
            problems.append(f"a {feature.kind.value} has no words.values (categories only)")
    for template in words.templates():
        unknown = _placeholders(template) - PLACEHOLDERS
        if unknown:
            problems.append(f"words {template!r} use {sorted(unknown)}: only {{value}}, {{label}}")
    return problems


def _in_scope(path: str) -> bool:
    head, _, rest = path.partition(".")
    return head in SCOPES and bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", rest))


def _placeholders(template: str) -> set[str]:
    try:
        return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    except ValueError:
        return {"<unbalanced braces>"}
