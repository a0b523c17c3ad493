"""Load journey definitions from YAML: validate, resolve fragments, report errors by line.

A definition with any error never loads. Every error names the file, the line and what to fix,
so `wayline journeys validate` and a refused server start say the same thing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import jmespath
import jmespath.exceptions
import yaml
from pydantic import BaseModel, ValidationError

from wayline.journeys.expressions import ExpressionError, compile_expression
from wayline.journeys.field_types import a_field_of, field_type, types_allowing
from wayline.journeys.schema import (
    FieldSpec,
    Fragment,
    Include,
    JourneyDefinition,
    StepSpec,
)

Location = tuple[str | int, ...]

# `checks.NAME` or `checks.NAME.member` in a CEL expression.
_CHECK_READ = re.compile(r"(?<![\w.])checks\s*\.\s*([a-z][a-z0-9_]*)(?:\s*\.\s*([a-z_]+))?")


@dataclass(frozen=True)
class DefinitionError:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class DefinitionErrors(Exception):
    def __init__(self, errors: list[DefinitionError]):
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


@dataclass(frozen=True)
class Journey:
    """A loaded, checked definition with its fragments spliced in and its content version."""

    definition: JourneyDefinition
    version: str
    steps: tuple[StepSpec, ...]
    source: str = ""
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    step_of_field: dict[str, str] = field(default_factory=dict)
    steps_by_name: dict[str, StepSpec] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.definition.journey

    @property
    def title(self) -> str:
        return self.definition.title

    def step(self, name: str) -> StepSpec | None:
        return self.steps_by_name.get(name)

    def to_document(self) -> dict[str, Any]:
        """The resolved definition as plain data: what is stored per version."""
        document = self.definition.model_dump(mode="json", exclude_none=True)
        document["steps"] = [step.model_dump(mode="json", exclude_none=True) for step in self.steps]
        return document


def build_journey(
    definition: JourneyDefinition, steps: list[StepSpec], source: str, version: str | None = None
) -> Journey:
    fields: dict[str, FieldSpec] = {}
    step_of_field: dict[str, str] = {}
    for step in steps:
        for spec in step.fields:
            fields[spec.name] = spec
            step_of_field[spec.name] = step.name
    resolved = definition.model_dump(mode="json", exclude_none=True)
    resolved["steps"] = [step.model_dump(mode="json", exclude_none=True) for step in steps]
    canonical = json.dumps(resolved, sort_keys=True, separators=(",", ":"))
    version = version or hashlib.sha256(canonical.encode()).hexdigest()[:12]
    return Journey(
        definition=definition,
        version=version,
        steps=tuple(steps),
        source=source,
        fields=fields,
        step_of_field=step_of_field,
        steps_by_name={step.name: step for step in steps},
    )


def journey_from_document(document: dict[str, Any], version: str) -> Journey:
    """Rebuild a journey from a stored, resolved document (a version kept in the store)."""
    definition = JourneyDefinition.model_validate(document)
    steps = [step for step in definition.steps if isinstance(step, StepSpec)]
    return build_journey(definition, steps, source="<stored>", version=version)


class _YamlFile:
    """One YAML file's data and the line of every node, for error messages."""

    def __init__(self, path: Path, display: str):
        self.path = path
        self.display = display
        text = path.read_text(encoding="utf-8")
        self.root = yaml.compose(text, Loader=yaml.SafeLoader)
        self.data = yaml.safe_load(text)

    def line_of(self, location: Location) -> int:
        node = self.root
        for key in location:
            child = None
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if key_node.value == key:
                        child = value_node
                        break
            elif (
                isinstance(node, yaml.SequenceNode)
                and isinstance(key, int)
                and 0 <= key < len(node.value)
            ):
                child = node.value[key]
            if child is None:
                break
            node = child
        return (node.start_mark.line + 1) if node is not None else 1


def _without_union_tags(loc: tuple[Any, ...]) -> Location:
    """Drop the tag pydantic puts after a `steps` index ("step" or "include"): not a YAML key."""
    return tuple(
        part
        for i, part in enumerate(loc)
        if not (
            i >= 2
            and loc[i - 2] == "steps"
            and isinstance(loc[i - 1], int)
            and part in ("step", "include")
        )
    )


def _pydantic_errors(file: _YamlFile, error: ValidationError) -> list[DefinitionError]:
    found = []
    for item in error.errors():
        location = _without_union_tags(tuple(item["loc"]))
        where = ".".join(str(part) for part in location) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = f"unknown key '{location[-1]}': remove it or check its spelling"
        elif item["type"] == "missing":
            message = f"'{location[-1]}' is required here"
        found.append(DefinitionError(file.display, file.line_of(location), f"{where}: {message}"))
    return found


class _Checker:
    """Checks what the schema alone cannot: names, expressions, includes and references."""

    def __init__(self, file: _YamlFile):
        self.file = file
        self.errors: list[DefinitionError] = []

    def error(self, location: Location, message: str) -> None:
        self.errors.append(DefinitionError(self.file.display, self.file.line_of(location), message))

    def expression(self, location: Location, source: str | None) -> None:
        if source is None:
            return
        try:
            compile_expression(source)
        except ExpressionError as error:
            self.error(location, f"invalid CEL expression: {error}")

    def jmespath(self, location: Location, source: str | None) -> None:
        if source is None:
            return
        try:
            jmespath.compile(source)
        except jmespath.exceptions.JMESPathError as error:
            self.error(location, f"invalid JMESPath expression: {error}")

    def step(self, location: Location, step: StepSpec) -> None:
        self.expression((*location, "when"), step.when)
        for index, spec in enumerate(step.fields):
            self.field((*location, "fields", index), spec)

    def field(self, location: Location, spec: FieldSpec) -> None:
        self.expression((*location, "when"), spec.when)
        for index, rule in enumerate(spec.rules):
            self.expression((*location, "rules", index, "expression"), rule.expression)
            self.expression((*location, "rules", index, "when"), rule.when)
            if not field_type(spec).allows(rule.rule):
                self.error(
                    (*location, "rules", index),
                    f"rule '{rule.rule}' does not apply to {a_field_of(spec.type)} "
                    f"(it applies to {', '.join(types_allowing(rule.rule))})",
                )
        if spec.options_from:
            where = (*location, "options_from")
            for key in ("items", "value", "label", "hint"):
                self.jmespath((*where, key), getattr(spec.options_from, key))
            for name, expression in spec.options_from.params.items():
                self.expression((*where, "params", name), expression)
        if spec.prefill:
            self.jmespath((*location, "prefill", "expression"), spec.prefill.expression)
        if field_type(spec).holds_files and not spec.accept:
            self.error(location, f"file field '{spec.name}' needs 'accept': a list of MIME types")


def _load_fragments(
    directory: Path, root: Path
) -> tuple[dict[str, list[StepSpec]], list[DefinitionError]]:
    fragments: dict[str, list[StepSpec]] = {}
    errors: list[DefinitionError] = []
    if not directory.is_dir():
        return fragments, errors
    for path in sorted(directory.glob("*.y*ml")):
        loaded = _parse(path, root, Fragment)
        if isinstance(loaded, list):
            errors.extend(loaded)
            continue
        file, parsed = loaded
        checker = _Checker(file)
        for index, step in enumerate(parsed.steps):
            checker.step(("steps", index), step)
        errors.extend(checker.errors)
        fragments[parsed.fragment] = list(parsed.steps)
    return fragments, errors


def _duplicate_keys(file: _YamlFile) -> list[DefinitionError]:
    """YAML lets a key appear twice and keeps the last; in a definition that hides a mistake
    (two `when:` on one field), so it is an error."""
    found = []
    pending = [file.root]
    while pending:
        node = pending.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                if key.value in seen:
                    found.append(
                        DefinitionError(
                            file.display,
                            key.start_mark.line + 1,
                            f"the key '{key.value}' appears twice in the same place: keep one",
                        )
                    )
                seen.add(key.value)
                pending.append(value)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
    return sorted(found, key=lambda error: error.line)


ModelT = TypeVar("ModelT", bound=BaseModel)


def _parse(
    path: Path, root: Path, model: type[ModelT]
) -> tuple[_YamlFile, ModelT] | list[DefinitionError]:
    """The file read and checked against `model`, or every error found in it (unreadable
    YAML, not a mapping, a key twice, what the model refuses)."""
    display = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    try:
        file = _YamlFile(path, display)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(error, "problem", None) or str(error)
        return [DefinitionError(display, line, f"not valid YAML: {problem}")]
    if not isinstance(file.data, dict):
        return [DefinitionError(display, 1, "expected a mapping of keys at the top level")]
    duplicates = _duplicate_keys(file)
    if duplicates:
        return duplicates
    try:
        return file, model.model_validate(file.data)
    except ValidationError as error:
        return _pydantic_errors(file, error)


def _load_journey(
    path: Path,
    root: Path,
    fragments: dict[str, list[StepSpec]],
    effect_kinds: Collection[str] | None = None,
) -> tuple[Journey | None, list[DefinitionError]]:
    loaded = _parse(path, root, JourneyDefinition)
    if isinstance(loaded, list):
        return None, loaded
    file, definition = loaded
    checker = _Checker(file)
    steps: list[StepSpec] = []
    origins: list[tuple[Location, bool]] = []  # where each step is written; own step or included
    for index, entry in enumerate(definition.steps):
        if isinstance(entry, Include):
            if entry.include not in fragments:
                known = ", ".join(sorted(fragments)) or "none"
                checker.error(
                    ("steps", index), f"no fragment named '{entry.include}' (known: {known})"
                )
            included = fragments.get(entry.include, [])
            steps.extend(included)
            origins.extend([(("steps", index), False)] * len(included))
        else:
            checker.step(("steps", index), entry)
            steps.append(entry)
            origins.append((("steps", index), True))
    _check_unique_names(checker, steps, origins)
    _check_outcomes(checker, definition, {s.name for s in steps})
    for index, effect in enumerate(definition.effects):
        checker.expression(("effects", index, "when"), effect.when)
        if effect.at.startswith("step:") and effect.at[5:] not in {s.name for s in steps}:
            checker.error(("effects", index, "at"), f"no step named '{effect.at[5:]}'")
        if effect_kinds is not None and effect.kind not in effect_kinds:
            known = ", ".join(sorted(effect_kinds)) or "none"
            checker.error(
                ("effects", index, "kind"),
                f"no handler runs effects of kind '{effect.kind}' (known: {known})",
            )
    if checker.errors:
        return None, checker.errors
    resolved = definition.model_copy(update={"steps": steps})
    return build_journey(resolved, steps, source=file.display), []


def _check_outcomes(checker: _Checker, definition: JourneyDefinition, steps: set[str]) -> None:
    """Checks, the decision and notification templates: expressions compile, names resolve."""
    where: Location  # each part of the definition below names its own place
    for index, check in enumerate(definition.checks):
        where = ("checks", index)
        checker.expression((*where, "when"), check.when)
        checker.expression((*where, "passes"), check.passes)
        for name, expression in check.params.items():
            checker.expression((*where, "params", name), expression)
        if check.at.startswith("step:") and check.at[5:] not in steps:
            checker.error((*where, "at"), f"no step named '{check.at[5:]}'")
    if definition.decision:
        staff = {check.name for check in definition.checks if check.audience == "staff"}
        for index, outcome in enumerate(definition.decision.outcomes):
            for number, reason in enumerate(outcome.reasons):
                where = ("decision", "outcomes", index, "reasons", number)
                checker.expression((*where, "when"), reason.when)
                told = _staff_checks_told(reason.when, staff) if reason.audience != "staff" else []
                for name in told:
                    checker.error(
                        where,
                        f"this reason would tell the customer about the staff check '{name}': "
                        "give it audience: staff",
                    )
    for index, effect in enumerate(definition.effects):
        template = effect.params.get("template")
        if effect.kind == "notify" and template not in definition.notifications:
            known = ", ".join(sorted(definition.notifications)) or "none"
            checker.error(
                ("effects", index, "params"),
                f"no notification template '{template}' (known: {known})",
            )


def _staff_checks_told(condition: str, staff: set[str]) -> list[str]:
    """The staff checks whose result a condition reads. Whether a check could be made at all
    (`.unavailable`) is not a fraud or risk finding, so it may be told."""
    return sorted(
        {
            name
            for name, member in _CHECK_READ.findall(condition)
            if name in staff and member != "unavailable"
        }
    )


def _check_unique_names(
    checker: _Checker, steps: list[StepSpec], origins: list[tuple[Location, bool]]
) -> None:
    """Names must be unique across the resolved steps. An error points at the step or field as
    written in this file, or at the include that brought a fragment's step in."""
    step_names: set[str] = set()
    field_names: set[str] = set()
    for step, (origin, own) in zip(steps, origins, strict=True):
        if step.name in step_names:
            checker.error(origin, f"step name '{step.name}' is used twice")
        step_names.add(step.name)
        for index, spec in enumerate(step.fields):
            if spec.name in field_names:
                where = (*origin, "fields", index) if own else origin
                checker.error(where, f"field name '{spec.name}' is used twice")
            field_names.add(spec.name)


def load_directory(
    directory: Path, effect_kinds: Collection[str] | None = None
) -> dict[str, Journey]:
    """Load every journey in a folder (fragments from its fragments/ subfolder).

    `effect_kinds`, when given, are the kinds of effect something can run: a definition that
    declares any other is an error (the journeys package cannot know the runtime's handlers).
    Raises DefinitionErrors listing every problem in every file when any is wrong.
    """
    journeys, errors = check_directory(directory, effect_kinds)
    if errors:
        raise DefinitionErrors(errors)
    return journeys


def check_directory(
    directory: Path, effect_kinds: Collection[str] | None = None
) -> tuple[dict[str, Journey], list[DefinitionError]]:
    directory = Path(directory)
    root = directory.parent
    if not directory.is_dir():
        return {}, [DefinitionError(str(directory), 0, "no such folder of journey definitions")]
    fragments, errors = _load_fragments(directory / "fragments", root)
    journeys: dict[str, Journey] = {}
    for path in sorted(directory.glob("*.y*ml")):
        journey, found = _load_journey(path, root, fragments, effect_kinds)
        errors.extend(found)
        if journey is None:
            continue
        if journey.name in journeys:
            errors.append(
                DefinitionError(journey.source, 1, f"journey '{journey.name}' is defined twice")
            )
        journeys[journey.name] = journey
    return journeys, errors


def check_path(
    path: Path, effect_kinds: Collection[str] | None = None
) -> tuple[dict[str, Journey], list[DefinitionError]]:
    """Check a folder of definitions, or a single definition file beside its fragments/
    (`effect_kinds` as for load_directory)."""
    path = Path(path)
    if path.is_dir():
        return check_directory(path, effect_kinds)
    if not path.exists():
        return {}, [DefinitionError(str(path), 0, "no such file")]
    fragments, errors = _load_fragments(path.parent / "fragments", path.parent.parent)
    journey, found = _load_journey(path, path.parent.parent, fragments, effect_kinds)
    errors.extend(found)
    return ({journey.name: journey} if journey else {}), errors
