"""What a decision's models must satisfy at load: the model and its versions exist, and every
feature each version computes reads only what the journey has and may use.

The journeys package cannot read model files: whoever loads definitions passes each model's
facts (`ModelFacts`, built by wayline.models.registry.facts). Without them (None), only the
declarations' own rules are checked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from wayline.journeys.expressions import ExpressionError, compile_expression
from wayline.journeys.references import Scope, reads_root, unknown_names
from wayline.journeys.schema import DEFAULT_MAY_USE, Classification, JourneyDefinition

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class ModelFeature:
    name: str
    classification: Classification
    expression: str
    reads: Sequence[str] = ()  # the journey paths it is computed from (answers.NAME, ...)


@dataclass(frozen=True)
class ModelFacts:
    """A model as definitions see it: each version's features."""

    name: str
    features: Mapping[int, Sequence[ModelFeature]]  # by version


class Checker(Protocol):
    def error(self, location: Location, message: str) -> None: ...

    def expression(self, location: Location, source: str | None, rule: bool = False) -> None: ...


def check(
    checker: Checker,
    definition: JourneyDefinition,
    facts: Mapping[str, ModelFacts] | None,
) -> None:
    decision = definition.decision
    if decision is None:
        return
    _check_reasons_told(checker, definition)
    spec = definition.personalisation
    allowed = set(spec.may_use) if spec is not None else set(DEFAULT_MAY_USE)
    names: set[str] = set()
    for index, use in enumerate(decision.models):
        where: Location = ("decision", "models", index)
        if use.name in names:
            checker.error((*where, "name"), f"two models are called '{use.name}'")
        names.add(use.name)
        checker.expression((*where, "when"), use.when)
        if facts is None:
            continue
        model = facts.get(use.model)
        if model is None:
            known = ", ".join(sorted(facts)) or "none"
            checker.error((*where, "model"), f"no model '{use.model}' (known: {known})")
            continue
        for key in ("version", "shadow"):
            version = getattr(use, key)
            if version is None:
                continue
            features = model.features.get(version)
            if features is None:
                have = ", ".join(str(v) for v in sorted(model.features)) or "none"
                checker.error(
                    (*where, key), f"{use.model} has no version {version} (it has: {have})"
                )
                continue
            for feature in features:
                _check_feature(checker, (*where, key), use.model, version, feature, allowed)


def _check_reasons_told(checker: Checker, definition: JourneyDefinition) -> None:
    """A reason that reads a model's score is for staff: the customer is never told of it."""
    assert definition.decision is not None
    for i, outcome in enumerate(definition.decision.outcomes):
        for j, reason in enumerate(outcome.reasons):
            if reads_root(reason.when, "scores") and reason.audience != "staff":
                checker.error(
                    ("decision", "outcomes", i, "reasons", j, "audience"),
                    "a reason that reads a model's score is for staff: add `audience: staff`",
                )


def _check_feature(
    checker: Checker,
    where: Location,
    model: str,
    version: int,
    feature: ModelFeature,
    allowed: set[Classification],
) -> None:
    """A feature is computed over this journey's scope: it reads only what the journey has,
    and nothing of a classification the journey may not use."""
    if feature.classification not in allowed:
        may = ", ".join(c.value for c in Classification if c in allowed)
        checker.error(
            where,
            f"{model} {version}'s feature '{feature.name}' is {feature.classification.value}; "
            f"this journey may use only {may} (personalisation.may_use)",
        )
    try:
        compile_expression(feature.expression)
    except ExpressionError as error:
        checker.error(where, f"{model} {version}'s feature '{feature.name}': {error}")
        return
    scope = getattr(checker, "scope", None)
    if isinstance(scope, Scope):
        for message in unknown_names(scope, feature.expression, False):
            checker.error(where, f"{model} {version}'s feature '{feature.name}' reads {message}")
        _check_declared_class(checker, where, model, version, feature, scope)


def _check_declared_class(
    checker: Checker,
    where: Location,
    model: str,
    version: int,
    feature: ModelFeature,
    scope: Scope,
) -> None:
    """A feature is at least as sensitive as every answer it reads: one declared `internal`
    that reads a sensitive answer would slip past `may_use`."""
    order = list(Classification)
    for path in feature.reads:
        root, _, name = path.partition(".")
        spec = scope.fields.get(name.split(".", 1)[0]) if root == "answers" else None
        if spec is not None and order.index(spec.classification) > order.index(
            feature.classification
        ):
            checker.error(
                where,
                f"{model} {version}'s feature '{feature.name}' is declared "
                f"{feature.classification.value} but reads {path}, which is "
                f"{spec.classification.value}",
            )
