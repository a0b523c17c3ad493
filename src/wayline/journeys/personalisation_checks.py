"""What the schema alone cannot check of a journey's personalisation: that its segments exist
and read only what they declare and the journey may use, that its variants change steps,
fields and options that exist (and leave out or move only optional steps), and that its
experiments name real variants and never touch regulated content."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol

from wayline.journeys.expressions import ExpressionError, compile_expression
from wayline.journeys.references import tokens
from wayline.journeys.schema import (
    Classification,
    Content,
    ExperimentSpec,
    JourneyDefinition,
    Personalisation,
    SegmentSpec,
    StepSpec,
    VariantSpec,
)

Location = tuple[str | int, ...]
ROOT: Location = ("personalisation",)


class Checker(Protocol):
    def error(self, location: Location, message: str) -> None: ...

    def expression(self, location: Location, source: str | None, rule: bool = False) -> None: ...

    def blocks(self, location: Location, blocks: list[Content]) -> None: ...


def resolve(
    checker: Checker, spec: Personalisation, shared: Mapping[str, SegmentSpec]
) -> Personalisation:
    """The personalisation with each shared segment's name replaced by its declaration (a
    stored version then holds everything it was decided with)."""
    resolved: list[str | SegmentSpec] = []
    seen: set[str] = set()
    for index, entry in enumerate(spec.segments):
        segment = shared.get(entry) if isinstance(entry, str) else entry
        if segment is None:
            known = ", ".join(sorted(shared)) or "none"
            checker.error((*ROOT, "segments", index), f"no segment '{entry}' (known: {known})")
            continue
        if segment.name in seen:
            checker.error((*ROOT, "segments", index), f"segment '{segment.name}' is named twice")
        seen.add(segment.name)
        resolved.append(segment)
    return spec.model_copy(update={"segments": resolved})


def check(checker: Checker, definition: JourneyDefinition, steps: Sequence[StepSpec]) -> None:
    """Every rule above, on a personalisation whose segments are resolved."""
    spec = definition.personalisation
    if spec is None:
        return
    segments = [s for s in spec.segments if isinstance(s, SegmentSpec)]
    for index, segment in enumerate(segments):
        check_segment(checker, (*ROOT, "segments", index), segment, spec)
    by_step = {step.name: step for step in steps}
    experimented = _experiment_variants(spec)
    names: set[str] = set()
    for index, variant in enumerate(spec.variants):
        where: Location = (*ROOT, "variants", index)
        if variant.name in names:
            checker.error((*where, "name"), f"two variants are named '{variant.name}'")
        names.add(variant.name)
        _check_variant(checker, where, variant, by_step, {s.name for s in segments})
        if variant.name in experimented:
            _check_unregulated(checker, where, variant, by_step)
            if variant.segments:
                checker.error(
                    (*where, "segments"),
                    f"variant '{variant.name}' is an experiment's arm: it applies through "
                    "its arm only, so it takes no segments",
                )
        elif not variant.segments:
            checker.error(
                where,
                f"variant '{variant.name}' applies to nobody: give it segments, or make it "
                "an experiment's arm",
            )
    for index, experiment in enumerate(spec.experiments):
        _check_experiment(checker, (*ROOT, "experiments", index), experiment, names, by_step)
    experiments = [e.name for e in spec.experiments]
    for index, name in enumerate(experiments):
        if experiments.index(name) != index:
            checker.error((*ROOT, "experiments", index, "name"), f"two experiments are '{name}'")


def check_segment(
    checker: Checker, where: Location, segment: SegmentSpec, spec: Personalisation
) -> None:
    """A segment reads only what it declares, and nothing the journey may not use."""
    allowed = set(spec.may_use)
    for read, classification in segment.reads.items():
        if "." not in read:
            checker.error(
                (*where, "reads", read), f"'{read}': name a value as SOURCE.PATH, not a source"
            )
        if classification not in allowed:
            may = ", ".join(c.value for c in Classification if c in allowed)
            checker.error(
                (*where, "reads", read),
                f"segment '{segment.name}' reads {read}, which is {classification.value}; this "
                f"journey may use only {may} (personalisation.may_use)",
            )
    try:  # a segment's condition reads its own sources, not the journey's: compiled alone
        compile_expression(segment.when)
    except ExpressionError as error:
        checker.error((*where, "when"), f"invalid CEL expression: {error}")
    for path in data_paths(segment.when):
        if path is None:
            checker.error(
                (*where, "when"),
                f"segment '{segment.name}' reads `data` other than as data.SOURCE.PATH "
                "(indexing, or the whole of data): write each value it reads as a dotted "
                "path, declared in `reads`",
            )
        elif not any(path == read or path.startswith(f"{read}.") for read in segment.reads):
            checker.error(
                (*where, "when"),
                f"segment '{segment.name}' reads data.{path}, which it does not declare in "
                "`reads` (with its classification)",
            )


def data_paths(source: str) -> Iterator[str | None]:
    """Each `data.a.b…` path an expression reads, as "a.b…" (what follows it, an index or a
    method, reads within it); None for a use of `data` that does not start with a dotted path
    (data["a"], data alone, dyn(data)), which could read anything."""
    parts = tokens(source)
    for i, token in enumerate(parts):
        if token.kind != "name" or token.text != "data" or (i and parts[i - 1].text == "."):
            continue
        names = []
        j = i + 1
        while j + 1 < len(parts) and parts[j].text == "." and parts[j + 1].kind == "name":
            names.append(parts[j + 1].text)
            j += 2
        method = j < len(parts) and parts[j].text == "("
        if method:
            names = names[:-1]  # data.a.b.size(): the last name is a method, not a member
        # An index after a path reads within it (data.a.b[0] is within a.b): the path counts.
        yield ".".join(names) if names else None


def _check_variant(
    checker: Checker,
    where: Location,
    variant: VariantSpec,
    by_step: Mapping[str, StepSpec],
    segments: set[str],
) -> None:
    for index, name in enumerate(variant.segments):
        if name not in segments:
            known = ", ".join(sorted(segments)) or "none"
            checker.error(
                (*where, "segments", index),
                f"no segment '{name}' in this journey's personalisation.segments (known: {known})",
            )
    for name, change in variant.steps.items():
        at: Location = (*where, "steps", name)
        step = by_step.get(name)
        if step is None:
            checker.error(at, f"no step named '{name}'")
            continue
        checker.blocks((*at, "add_content"), change.add_content)
        checker.blocks((*at, "content"), change.content or [])
        fields = {spec.name: spec for spec in step.fields}
        for field_name, field_change in change.fields.items():
            spec = fields.get(field_name)
            if spec is None:
                checker.error(
                    (*at, "fields", field_name), f"step '{name}' has no field '{field_name}'"
                )
                continue
            values = {option.value for option in spec.options}
            for value in [*field_change.options_first, *field_change.option_hints]:
                if value not in values:
                    checker.error(
                        (*at, "fields", field_name),
                        f"'{value}' is not one of {field_name}'s options "
                        f"({', '.join(sorted(values)) or 'it has none declared'})",
                    )
    for key in ("leave_out", "order"):
        listed: list[str] = getattr(variant, key)
        for index, name in enumerate(listed):
            step = by_step.get(name)
            if step is None:
                checker.error((*where, key, index), f"no step named '{name}'")
            elif not step.optional:
                checker.error(
                    (*where, key, index),
                    f"step '{name}' is not optional: only a step marked `optional: true` may "
                    "be left out or moved",
                )
        if len(listed) != len(set(listed)):
            checker.error((*where, key), "a step is listed twice")


def _experiment_variants(spec: Personalisation) -> set[str]:
    return {arm.variant for e in spec.experiments for arm in e.arms if arm.variant is not None}


def _check_experiment(
    checker: Checker,
    where: Location,
    experiment: ExperimentSpec,
    variants: set[str],
    by_step: Mapping[str, StepSpec],
) -> None:
    for index, arm in enumerate(experiment.arms):
        if arm.variant is not None and arm.variant not in variants:
            known = ", ".join(sorted(variants)) or "none"
            checker.error(
                (*where, "arms", index, "variant"),
                f"no variant named '{arm.variant}' (known: {known})",
            )
    if experiment.step is not None and experiment.step not in by_step:
        checker.error((*where, "step"), f"no step named '{experiment.step}'")


def _check_unregulated(
    checker: Checker, where: Location, variant: VariantSpec, by_step: Mapping[str, StepSpec]
) -> None:
    """An experiment never changes what the law requires: a regulated block is not replaced,
    a step holding one is not left out or moved, and no regulated block is added."""
    for name, change in variant.steps.items():
        step = by_step.get(name)
        if step is None:
            continue
        if change.content is not None and _regulated(step.content):
            checker.error(
                (*where, "steps", name, "content"),
                f"an experiment may not replace step '{name}''s content: it holds regulated words",
            )
        if _regulated(change.add_content) or _regulated(change.content or []):
            checker.error(
                (*where, "steps", name),
                "an experiment may not add regulated words: declare them in the journey",
            )
    for key in ("leave_out", "order"):
        for index, name in enumerate(getattr(variant, key)):
            step = by_step.get(name)
            if step is not None and _regulated(step.content):
                checker.error(
                    (*where, key, index),
                    f"an experiment may not leave out or move step '{name}': it holds "
                    "regulated words",
                )


def _regulated(blocks: Sequence[Content]) -> bool:
    return any(block.regulated for block in blocks)
