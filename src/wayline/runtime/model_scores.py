"""Scoring a journey's decision models before its rules run (docs/models.md).

Each model the decision declares is scored from features its card computes over the journey
(CEL over answers, data, computed and checks), and the result is kept in the journey's state
(sealed): the model, version, score, the top reasons in words and the feature values (for the
drift check). A `shadow` version is scored and kept beside it, never read by the rules.
Each scoring is a `model.scored` event with the score rounded to two places, for the insight
pages' comparison of versions; the customer is never shown a score.

A model version is loaded once per process (loading imports scikit-learn and checks the
file's types: seconds, not milliseconds)."""

from __future__ import annotations

import math
import threading
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from wayline.journeys import engine
from wayline.journeys.engine import Event, EventType, JourneyState
from wayline.journeys.expressions import evaluate, holds, prepared
from wayline.journeys.loader import Journey
from wayline.journeys.schema import ModelUse
from wayline.models import FeatureValueError, Model, load_model

log = structlog.get_logger("wayline.models")


class ModelScorer:
    """The models under `root`, each version loaded on first use and kept."""

    def __init__(self, root: Path):
        self.root = root
        self._loaded: dict[tuple[str, int], Model] = {}
        self._lock = threading.Lock()

    def model(self, name: str, version: int) -> Model:
        with self._lock:
            found = self._loaded.get((name, version))
            if found is None:
                found = self._loaded[(name, version)] = load_model(self.root, name, version)
            return found

    def scored(
        self, journey: Journey, state: JourneyState, now: datetime
    ) -> tuple[JourneyState, list[Event]]:
        """The state with each declared model's score (and shadow's) kept, and an event each."""
        decision = journey.definition.decision
        if decision is None or not decision.models:
            return state, []
        scope = engine.context(journey, state, state.answers, now)
        context = prepared(scope)
        scores = dict(state.scores)
        events = []
        for use in decision.models:
            if not holds(use.when, context):
                scores.pop(use.name, None)  # an earlier score no longer applies
                continue
            entry = self._entry(use.model, use.version, context, now)
            if use.shadow is not None:
                entry["shadow"] = self._shadow(use.model, use.shadow, context, now)
            scores[use.name] = entry
            events.append(Event(EventType.MODEL_SCORED, now, data=_event_data(use, entry)))
        return replace(state, scores=scores), events

    def _shadow(self, name: str, version: int, context: Any, now: datetime) -> dict[str, Any]:
        """A shadow version's entry. A shadow is never acted on, so one that cannot load or
        score is recorded as unavailable rather than holding up the decision."""
        try:
            return self._entry(name, version, context, now)
        except Exception as error:  # any failure of a version nobody acts on
            log.error(
                "model.shadow_failed", model=name, version=version, error=type(error).__name__
            )
            return {"model": name, "version": version, "at": now.isoformat(), "unavailable": True}

    def _entry(self, name: str, version: int, context: Any, now: datetime) -> dict[str, Any]:
        model = self.model(name, version)
        values = {f.name: _value(f.expression, context) for f in model.card.features}
        entry: dict[str, Any] = {"model": name, "version": version, "at": now.isoformat()}
        try:
            scored = model.score(values)
        except FeatureValueError:
            # A value the model cannot take: no score, so no rule on it holds. Neither the
            # log nor the state keeps the values (the error's message names one).
            log.warning("model.unscorable", model=name, version=version)
            return {**entry, "unavailable": True}
        reasons = [
            {
                "feature": reason.feature,
                "label": reason.label,
                "contribution": round(reason.contribution, 3),
                "text": reason.text,
            }
            for reason in scored.reasons
        ]
        return {**entry, "score": round(scored.score, 4), "reasons": reasons, "features": values}


def _value(expression: str, context: Any) -> Any:
    """A feature's value; None where it cannot be worked out (the model imputes it)."""
    try:
        value = evaluate(expression, context)
    except (LookupError, TypeError, ValueError, RuntimeError):
        return None
    return _plain(value)


def _plain(value: Any) -> Any:
    """CEL's values as plain JSON ones (the state is JSON; a number that is not finite, such
    as a division by zero's, is no value)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return str(value)


def _event_data(use: ModelUse, entry: dict[str, Any]) -> dict[str, Any]:
    shadow = entry.get("shadow") or {}
    return {
        "name": use.name,
        "model": use.model,
        "version": use.version,
        "score": _rounded(entry.get("score")),
        "shadow_version": use.shadow,
        "shadow_score": _rounded(shadow.get("score")),
    }


def _rounded(score: float | None) -> float | None:
    return None if score is None else round(score, 2)
