"""Personalisation, pure: which segments a customer is in, which arm of each experiment a
journey is assigned, and the journey as a variant shows it.

A journey's segments are decided once, when it starts, from governed customer data (the
sources its segments read); only their names are kept in the state (`Personalised`), never
the data. Experiment arms are assigned by a hash of the customer's or the journey's id, so the
same id always gets the same arm. The variants that apply (those of the customer's segments,
then those of the assigned arms) change the journey's content and path: `apply` gives the
journey as they show it, and everything after start reads that journey.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wayline.journeys.expressions import holds
from wayline.journeys.loader import Journey, build_journey
from wayline.journeys.schema import (
    Content,
    ExperimentSpec,
    FieldChange,
    FieldSpec,
    SegmentSpec,
    StepChange,
    StepSpec,
    VariantSpec,
)

BUCKETS = 10_000  # an arm's share of 1 percent is 100 buckets


@dataclass(frozen=True)
class Personalised:
    """What a journey was personalised with: its segments (names only), the arm of each
    experiment it is in, and the variants that apply, in the order they apply."""

    segments: tuple[str, ...] = ()
    undecided: tuple[str, ...] = ()  # segments whose data could not be read
    arms: Mapping[str, str] = field(default_factory=dict)  # experiment → arm
    variants: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "segments": list(self.segments),
            "undecided": list(self.undecided),
            "arms": dict(self.arms),
            "variants": list(self.variants),
        }

    @classmethod
    def from_dict(cls, body: Mapping[str, Any] | None) -> Personalised:
        body = body or {}
        return cls(
            segments=tuple(body.get("segments", ())),
            undecided=tuple(body.get("undecided", ())),
            arms=dict(body.get("arms", {})),
            variants=tuple(body.get("variants", ())),
        )


# --- segments ------------------------------------------------------------------------------


def segments(journey: Journey) -> list[SegmentSpec]:
    """The segments the journey decides at start (the loader resolves shared names)."""
    spec = journey.definition.personalisation
    if spec is None:
        return []
    return [segment for segment in spec.segments if isinstance(segment, SegmentSpec)]


def segment_sources(journey: Journey) -> list[str]:
    """The governed sources the journey's segments read: fetched at start, then dropped."""
    return sorted({source for segment in segments(journey) for source in segment.sources})


def decide_segments(
    journey: Journey, data: Mapping[str, Mapping[str, Any]]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the segments the customer is in, those that could not be decided).

    `data` holds each source's entry as partners answer (`value`, or `error` when the
    source could not answer). A segment whose source could not answer is undecided, and the
    customer is treated as not in it (the journey shows its ordinary content); one whose
    condition reads a value the source did not give does not hold."""
    values = {name: (entry.get("value") or {}) for name, entry in data.items()}
    failed = {name for name, entry in data.items() if entry.get("error") or "value" not in entry}
    inside, undecided = [], []
    for segment in segments(journey):
        if failed & set(segment.sources):
            undecided.append(segment.name)
            continue
        if holds(segment.when, {"data": values}):  # a value missing: not in the segment
            inside.append(segment.name)
    return tuple(inside), tuple(undecided)


# --- experiments ---------------------------------------------------------------------------


def bucket(experiment: str, subject: str) -> int:
    """0..BUCKETS-1, from a hash of the experiment's name and the subject's id: stable for
    an id, and independent between experiments."""
    digest = hashlib.sha256(f"{experiment}\x00{subject}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def arm_for(experiment: ExperimentSpec, subject: str) -> str:
    """The arm `subject` (a customer's or a journey's id) is assigned, by the arms' shares."""
    position = bucket(experiment.name, subject)
    upper = 0
    for arm in experiment.arms:
        upper += arm.share * BUCKETS // 100
        if position < upper:
            return arm.name
    return experiment.arms[-1].name


def experiments(journey: Journey) -> list[ExperimentSpec]:
    spec = journey.definition.personalisation
    return list(spec.experiments) if spec is not None else []


# --- choosing and applying variants --------------------------------------------------------


def choose(
    journey: Journey,
    data: Mapping[str, Mapping[str, Any]],
    *,
    customer_id: str,
    journey_id: str,
    preview_segments: Iterable[str] | None = None,
) -> Personalised:
    """How a new journey is personalised: its segments decided from `data` (or, when
    previewing, the segments given), each running experiment's arm, and the variants that
    follow, in declaration order."""
    inside: tuple[str, ...]
    undecided: tuple[str, ...] = ()
    if preview_segments is not None:
        known = {segment.name for segment in segments(journey)}
        inside = tuple(s for s in preview_segments if s in known)
    else:
        inside, undecided = decide_segments(journey, data)
    arms = {}
    for experiment in experiments(journey):
        if experiment.running:
            subject = customer_id if experiment.assign_by == "customer" else journey_id
            arms[experiment.name] = arm_for(experiment, subject)
    return Personalised(inside, undecided, arms, variants_for(journey, inside, arms))


def variants_for(
    journey: Journey, inside: Iterable[str], arms: Mapping[str, str]
) -> tuple[str, ...]:
    spec = journey.definition.personalisation
    if spec is None:
        return ()
    chosen = {
        arm.variant
        for experiment in spec.experiments
        for arm in experiment.arms
        if arm.variant is not None and arms.get(experiment.name) == arm.name
    }
    member = set(inside)
    return tuple(
        variant.name
        for variant in spec.variants
        if variant.name in chosen or member & set(variant.segments)
    )


def variant_names(journey: Journey) -> list[str]:
    spec = journey.definition.personalisation
    return [v.name for v in spec.variants] if spec is not None else []


def abandon_limits(journey: Journey) -> list[str]:
    """The journey's abandon_after and each of its variants' (ISO 8601 durations)."""
    spec = journey.definition.personalisation
    variants = spec.variants if spec is not None else []
    return [journey.definition.abandon_after] + [
        v.abandon_after for v in variants if v.abandon_after is not None
    ]


def variant(journey: Journey, name: str) -> VariantSpec | None:
    spec = journey.definition.personalisation
    if spec is None:
        return None
    return next((v for v in spec.variants if v.name == name), None)


_applied: OrderedDict[tuple[str, str, tuple[str, ...]], Journey] = OrderedDict()
_lock = threading.Lock()
_KEPT = 512


def apply(journey: Journey, names: Iterable[str]) -> Journey:
    """The journey as the named variants show it, each applied over the last in order
    (unknown names are skipped: a variant removed from a later version). The result keeps
    the journey's version: it is the same definition, seen by some customers. Cached."""
    chosen = tuple(name for name in names if variant(journey, name) is not None)
    if not chosen:
        return journey
    key = (journey.name, journey.version, chosen)
    with _lock:
        found = _applied.get(key)
    if found is not None:
        return found
    steps = list(journey.steps)
    definition = journey.definition
    for name in chosen:
        spec = variant(journey, name)
        assert spec is not None
        steps = _changed_steps(steps, spec)
        if spec.abandon_after is not None:
            definition = definition.model_copy(update={"abandon_after": spec.abandon_after})
    shown = build_journey(definition, steps, journey.source, version=journey.version)
    with _lock:
        _applied[key] = shown
        while len(_applied) > _KEPT:
            _applied.popitem(last=False)
    return shown


def _changed_steps(steps: list[StepSpec], spec: VariantSpec) -> list[StepSpec]:
    changed = [
        _changed_step(step, spec.steps[step.name]) if step.name in spec.steps else step
        for step in steps
        if step.name not in spec.leave_out
    ]
    if spec.order:
        places = [i for i, step in enumerate(changed) if step.name in spec.order]
        by_name = {step.name: step for step in changed}
        moved = [by_name[name] for name in spec.order if name in by_name]
        for place, step in zip(places, moved, strict=True):
            changed[place] = step
    return changed


def _changed_step(step: StepSpec, change: StepChange) -> StepSpec:
    update: dict[str, Any] = {}
    if change.title is not None:
        update["title"] = change.title
    if change.hint is not None:
        update["hint"] = change.hint
    content: list[Content] = list(step.content if change.content is None else change.content)
    if change.add_content or change.content is not None:
        update["content"] = [*change.add_content, *content]
    if change.fields:
        update["fields"] = [
            _changed_field(spec, change.fields[spec.name]) if spec.name in change.fields else spec
            for spec in step.fields
        ]
    return step.model_copy(update=update)


def _changed_field(spec: FieldSpec, change: FieldChange) -> FieldSpec:
    update: dict[str, Any] = {}
    if change.hint is not None:
        update["hint"] = change.hint
    if change.options_first or change.option_hints:
        options = list(spec.options)
        first = [o for value in change.options_first for o in options if o.value == value]
        rest = [o for o in options if o.value not in change.options_first]
        update["options"] = [
            o.model_copy(update={"hint": change.option_hints[o.value]})
            if o.value in change.option_hints
            else o
            for o in [*first, *rest]
        ]
    return spec.model_copy(update=update)
