"""Load journey definitions from YAML: validate, resolve fragments, report errors by line.

A definition with any error never loads. Every error names the file, the line and what to fix,
so `wayline journeys validate` and a refused server start say the same thing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import jmespath
import jmespath.exceptions
import yaml
from pydantic import BaseModel, ValidationError

from wayline.journeys import content, model_checks, personalisation_checks
from wayline.journeys.computed import Cycle, order
from wayline.journeys.expressions import ExpressionError, compile_expression
from wayline.journeys.field_types import FieldType, a_field_of, field_type, types_allowing
from wayline.journeys.model_checks import ModelFacts
from wayline.journeys.references import (
    Scope,
    never_shown,
    reads_root,
    unknown_calls,
    unknown_names,
    unknown_options,
)
from wayline.journeys.schema import (
    Audience,
    Classification,
    Content,
    Effect,
    FieldSpec,
    Fragment,
    Include,
    JourneyDefinition,
    SegmentsFile,
    SegmentSpec,
    StepSpec,
)

Location = tuple[str | int, ...]

SENSITIVITY = (
    Classification.PUBLIC,
    Classification.INTERNAL,
    Classification.PERSONAL,
    Classification.FINANCIAL,
    Classification.SENSITIVE,
)

# `checks.NAME` or `checks.NAME.member` in a CEL expression.
_CHECK_READ = re.compile(r"(?<![\w.])checks\s*\.\s*([a-z][a-z0-9_]*)(?:\s*\.\s*([a-z_]+))?")


class OperationShape(Protocol):
    """What the loader needs to know of a declared partner operation (connectors/operations.py
    declares them; the journeys package cannot import it)."""

    @property
    def changing(self) -> bool: ...

    @property
    def properties(self) -> frozenset[str]: ...

    @property
    def required(self) -> frozenset[str]: ...


Operations = Mapping[str, OperationShape]  # by "partner.operation"


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
    # Repeating groups by the name their items are kept under, each with its step.
    groups: dict[str, StepSpec] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.definition.journey

    @property
    def title(self) -> str:
        return self.definition.title

    def step(self, name: str) -> StepSpec | None:
        return self.steps_by_name.get(name)

    def classification_of(self, answer: str) -> Classification:
        """How sensitive an answer is: its field's, or for a group's items, the most
        sensitive of the group's fields."""
        group = self.groups.get(answer)
        if group is None:
            return self.fields[answer].classification
        return max((spec.classification for spec in group.fields), key=SENSITIVITY.index)

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
    groups: dict[str, StepSpec] = {}
    for step in steps:
        for spec in step.fields:
            fields[spec.name] = spec
            step_of_field[spec.name] = step.name
        if step.group is not None:
            groups[step.group.name] = step
            step_of_field[step.group.name] = step.name
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
        groups=groups,
    )


def journey_from_document(document: dict[str, Any], version: str) -> Journey:
    """Rebuild a journey from a stored, resolved document (a version kept in the store)."""
    definition = JourneyDefinition.model_validate(document)
    steps = [step for step in definition.steps if isinstance(step, StepSpec)]
    return build_journey(definition, steps, source="<stored>", version=version)


# libyaml's parser where PyYAML was built with it (its wheels are): about ten times faster than
# the pure-Python one, and definitions are read at every start, hot reload and test.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _YamlFile:
    """One YAML file's data and the line of every node, for error messages."""

    def __init__(self, path: Path, display: str):
        self.path = path
        self.display = display
        text = path.read_text(encoding="utf-8")
        # Parsed once: the nodes keep the lines, the data is built from the same nodes.
        loader = YAML_LOADER(text)
        try:
            self.root = loader.get_single_node()
            self.data = None if self.root is None else loader.construct_document(self.root)
        finally:
            loader.dispose()

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
    """Checks what the schema alone cannot: names, expressions, includes and references.

    With a `scope` (the journey's resolved steps), every expression is also checked for what
    it reads (references.py): a fragment's steps alone have no scope, so they are checked
    again in each journey that includes them."""

    def __init__(self, file: _YamlFile, scope: Scope | None = None):
        self.file = file
        self.scope = scope
        self.errors: list[DefinitionError] = []

    def error(self, location: Location, message: str) -> None:
        self.errors.append(DefinitionError(self.file.display, self.file.line_of(location), message))

    def expression(self, location: Location, source: str | None, rule: bool = False) -> None:
        """`rule`: a rule's expression, which also reads `value`."""
        if source is None:
            return
        try:
            compile_expression(source)
        except ExpressionError as error:
            self.error(location, f"invalid CEL expression: {error}")
            return
        if reads_root(source, "scores") and not _may_read_scores(location):
            self.error(
                location,
                "only the decision's rules, its models' conditions and the review may read "
                "scores: a model's score is never shown to the customer, nor what follows from it",
            )
        if self.scope is not None:
            for message in unknown_names(self.scope, source, rule):
                self.in_scope(location, message)
            for message in unknown_options(self.scope, source):
                self.in_scope(location, message)

    def in_scope(self, location: Location, message: str) -> None:
        """An error in what the journey offers its expressions (references.py)."""
        self.error(location, message)

    def jmespath(self, location: Location, source: str | None) -> None:
        if source is None:
            return
        try:
            jmespath.compile(source)
        except jmespath.exceptions.JMESPathError as error:
            self.error(location, f"invalid JMESPath expression: {error}")

    def blocks(self, location: Location, blocks: list[Content]) -> None:
        """Content blocks: their conditions, and placeholders rooted where they may be."""
        for index, block in enumerate(blocks):
            where = (*location, index)
            self.expression((*where, "when"), block.when)
            for text in (block.text, block.title or ""):
                for path in content.unknown_roots(text):
                    self.error(
                        (*where, "text"),
                        f"placeholder {{{path}}} must start with answers, effects, journey or "
                        "computed",
                    )

    def step(self, location: Location, step: StepSpec) -> None:
        self.expression((*location, "when"), step.when)
        self.blocks((*location, "content"), step.content)
        if step.step_up is not None:
            self.expression((*location, "step_up", "when"), step.step_up.when)
        for index, spec in enumerate(step.fields):
            self.field((*location, "fields", index), spec)
        if step.group is not None:
            self.group(location, step)

    def group(self, location: Location, step: StepSpec) -> None:
        """A repeating group: its rules compile, its label names its own fields, and its
        fields are ones an item can hold (not files, which belong to one field of a journey,
        nor prefills, which fill one answer)."""
        group = step.group
        assert group is not None
        where: Location = (*location, "group")
        for index, rule in enumerate(group.rules):
            self.expression((*where, "rules", index, "expression"), rule.expression)
            self.expression((*where, "rules", index, "when"), rule.when)
        names = {spec.name for spec in step.fields}
        allowed = names | ({"label"} if group.for_each else set())
        for placeholder in re.findall(r"\{([^{}]*)\}", group.item_label or ""):
            if placeholder not in allowed:
                self.error(
                    (*where, "item_label"),
                    f"item_label names '{{{placeholder}}}', which is not a field of this "
                    f"group (its fields: {', '.join(sorted(allowed))})",
                )
        for index, spec in enumerate(step.fields):
            if field_type(spec).holds_files:
                self.error(
                    (*location, "fields", index),
                    f"a repeating group cannot ask for files ('{spec.name}'): ask for them "
                    "in a step of their own",
                )
            if spec.prefill is not None:
                self.error(
                    (*location, "fields", index, "prefill"),
                    "a field of a repeating group cannot be prefilled",
                )

    def field(self, location: Location, spec: FieldSpec) -> None:
        self.expression((*location, "when"), spec.when)
        for index, rule in enumerate(spec.rules):
            self.expression((*location, "rules", index, "expression"), rule.expression, True)
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
            if spec.required and not spec.options and spec.options_from.when_none is None:
                self.error(
                    where,
                    f"required choice '{spec.name}' takes its options from "
                    f"'{spec.options_from.source}' alone: add 'when_none' to say what the "
                    "customer sees when it offers none",
                )
        if spec.type == FieldType.MONEY and spec.currency is None:
            self.error(
                location,
                f"money field '{spec.name}' needs 'currency': an ISO 4217 code such as GBP",
            )
        if spec.prefill:
            self.jmespath((*location, "prefill", "expression"), spec.prefill.expression)
        if field_type(spec).holds_files and not spec.accept:
            self.error(location, f"file field '{spec.name}' needs 'accept': a list of MIME types")


def _load_segments(
    directory: Path, root: Path
) -> tuple[dict[str, SegmentSpec], list[DefinitionError]]:
    """The shared segments, from the files in journeys/segments/."""
    segments: dict[str, SegmentSpec] = {}
    errors: list[DefinitionError] = []
    for file, parsed in _files_in(directory, root, SegmentsFile, errors):
        for index, segment in enumerate(parsed.segments):
            if segment.name in segments:
                where = file.line_of(("segments", index))
                message = f"segment '{segment.name}' is declared twice"
                errors.append(DefinitionError(file.display, where, message))
            segments[segment.name] = segment
    return segments, errors


def _files_in(
    directory: Path, root: Path, model: type[ModelT], errors: list[DefinitionError]
) -> Iterator[tuple[_YamlFile, ModelT]]:
    """Each YAML file of a folder (none when it does not exist) read as `model`; the errors
    of those that cannot be are added to `errors`."""
    if not directory.is_dir():
        return
    for path in sorted(directory.glob("*.y*ml")):
        loaded = _parse(path, root, model)
        if isinstance(loaded, list):
            errors.extend(loaded)
        else:
            yield loaded


def _load_fragments(
    directory: Path, root: Path
) -> tuple[dict[str, list[StepSpec]], list[DefinitionError]]:
    fragments: dict[str, list[StepSpec]] = {}
    errors: list[DefinitionError] = []
    for file, parsed in _files_in(directory, root, Fragment, errors):
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
    roles: Collection[str] | None = None,
    operations: Operations | None = None,
    segments: Mapping[str, SegmentSpec] | None = None,
    models: Mapping[str, ModelFacts] | None = None,
) -> tuple[Journey | None, list[DefinitionError]]:
    loaded = _parse(path, root, JourneyDefinition)
    if isinstance(loaded, list):
        return None, loaded
    file, definition = loaded
    checker = _Checker(file)
    if definition.personalisation is not None:
        personalisation = personalisation_checks.resolve(
            checker, definition.personalisation, segments or {}
        )
        definition = definition.model_copy(update={"personalisation": personalisation})
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
            steps.append(entry)
            origins.append((("steps", index), True))
    _check_unique_names(checker, steps, origins)
    if not checker.errors:  # what expressions read is judged once every name is unique
        checker.scope = Scope(definition, steps)
    _check_steps(checker, steps, origins)
    _check_for_each(checker, steps, origins)
    _check_computed(checker, definition, steps, origins)
    _check_outcomes(checker, definition, {s.name for s in steps})
    _check_retention(checker, definition)
    personalisation_checks.check(checker, definition, steps)
    model_checks.check(checker, definition, models)
    check_review(checker, definition, roles)
    checker.expression(("owner",), definition.owner)
    if definition.owner is not None and definition.who is not Audience.ANYONE:
        checker.error(
            ("owner",), "'owner' is for journeys anyone may start: add `who: anyone` or remove it"
        )
    if definition.fulfilment is not None:
        for key in ("completed_when", "declined_when", "withdrawn_when"):
            checker.expression(("fulfilment", key), getattr(definition.fulfilment, key))
    names: set[str] = set()
    checker.blocks(("progress",), definition.progress)
    for index, effect in enumerate(definition.effects):
        where: Location = ("effects", index)
        checker.expression((*where, "when"), effect.when)
        checker.expression((*where, "not_before"), effect.not_before)
        if effect.schedule is not None:
            checker.expression((*where, "schedule", "first"), effect.schedule.first)
            checker.expression((*where, "schedule", "until"), effect.schedule.until)
        if effect.at.startswith("step:") and effect.at[5:] not in {s.name for s in steps}:
            checker.error((*where, "at"), f"no step named '{effect.at[5:]}'")
        if effect.at.startswith("done:") and effect.at[5:] not in _call_names(definition):
            checker.error((*where, "at"), f"no call effect named '{effect.at[5:]}'")
        if effect.call is not None:
            if effect.name in names:
                checker.error((*where, "name"), f"two effects are named '{effect.name}'")
            names.add(str(effect.name))
            _check_call(checker, where, effect, operations)
        elif effect.kind == "call":
            checker.error((*where, "kind"), "write call: partner.operation, not kind: call")
        elif effect_kinds is not None and effect.kind is not None:
            kinds = sorted(k for k in effect_kinds if k != "call")
            unknown = "no handler runs effects of kind '{}'"
            check_calls(checker, [((*where, "kind"), effect.kind)], kinds, unknown)
    recipient = definition.recipient
    if recipient is not None and operations is not None:
        operation = operations.get(recipient.send_with)
        if operation is None:
            checker.error(
                ("recipient", "send_with"),
                f"no partner operation '{recipient.send_with}' is declared",
            )
        elif not {"channel", "to", "body"} <= operation.properties:
            checker.error(
                ("recipient", "send_with"),
                f"{recipient.send_with} does not take a message (channel, to, body, subject)",
            )
    if checker.errors:
        return None, checker.errors
    resolved = definition.model_copy(update={"steps": steps})
    return build_journey(resolved, steps, source=file.display), []


def _check_steps(
    checker: _Checker, steps: list[StepSpec], origins: list[tuple[Location, bool]]
) -> None:
    """Each step in the journey's scope, and whether it can ever be shown. A fragment's step
    is reported at the include that brought it in, naming the step."""
    for index, (step, (origin, own)) in enumerate(zip(steps, origins, strict=True)):
        at = checker if own else _Included(checker, origin, step.name)
        at.step(origin, step)
        unreachable = checker.scope and never_shown(checker.scope, index)
        if unreachable:
            at.in_scope((*origin, "when"), unreachable)


def _may_read_scores(location: Location) -> bool:
    """The decision's reasons and models' conditions, and the review (staff's queues)."""
    return location[:1] == ("review",) or (
        location[:1] == ("decision",) and location[-1:] == ("when",)
    )


class _Included(_Checker):
    """A checker for a fragment's step within an including journey. Only what depends on the
    journey is reported (the fragment's file had the rest): at the include, naming the step,
    since the journey's file does not hold the step's lines."""

    def __init__(self, journey: _Checker, include: Location, step: str):
        super().__init__(journey.file, journey.scope)
        self.journey = journey
        self.include = include
        self.step_name = step

    def error(self, location: Location, message: str) -> None:
        pass  # reported in the fragment's own file

    def in_scope(self, location: Location, message: str) -> None:
        self.journey.error(self.include, f"included step '{self.step_name}': {message}")


def check_calls(
    checker: _Checker, calls: Sequence[tuple[Location, str]], known: Collection[str], unknown: str
) -> None:
    """Names a definition calls (effect kinds; partner operations) that nothing known runs:
    `unknown` says one, such as "no partner operation '{}'"."""
    for finding in unknown_calls(calls, known, unknown):
        checker.error(finding.location, finding.message)


def _call_names(definition: JourneyDefinition) -> set[str]:
    """The names of the definition's partner calls (what `at: done:NAME` may wait for)."""
    return {str(e.name) for e in definition.effects if e.call is not None}


def _check_call(
    checker: _Checker, where: Location, effect: Effect, operations: Operations | None
) -> None:
    """A `call:` effect: its expressions compile, and, when the declared operations are known,
    the operation exists, its request names only properties it has and every one it needs,
    and an operation that changes something has a key."""
    checker.expression((*where, "key"), effect.key)
    if effect.pays is not None:
        checker.expression((*where, "pays", "amount"), effect.pays.amount)
    pending: list[tuple[Location, Any]] = [((*where, "request"), effect.request)]
    while pending:
        location, value = pending.pop()
        if isinstance(value, dict):
            pending.extend(((*location, name), inner) for name, inner in value.items())
        else:
            checker.expression(location, value)
    if operations is None:
        return
    operation = operations.get(str(effect.call))
    if operation is None:
        unknown = "no partner operation '{}' is declared"
        check_calls(checker, [((*where, "call"), str(effect.call))], list(operations), unknown)
        return
    given = set(effect.request)
    for name in sorted(operation.required - given):
        checker.error((*where, "request"), f"the request needs '{name}' ({effect.call})")
    for name in sorted(given - operation.properties):
        allowed = ", ".join(sorted(operation.properties)) or "none"
        checker.error(
            (*where, "request", name),
            f"{effect.call} has no request property '{name}' (it has: {allowed})",
        )
    if operation.changing and effect.key is None:
        checker.error(
            where,
            f"{effect.call} changes something: give the call a key (CEL), so that running it "
            "again takes effect once",
        )


def check_review(
    checker: _Checker, definition: JourneyDefinition, roles: Collection[str] | None
) -> None:
    """The review block: expressions compile, names are unique and resolve, roles are known,
    and every case finds a queue (the last queue takes what the others do not)."""
    review = definition.review
    if review is None:
        return
    queues = [queue.name for queue in review.queues]
    for index, queue in enumerate(review.queues):
        where: Location = ("review", "queues", index)
        checker.expression((*where, "when"), queue.when)
        if queues.index(queue.name) != index:
            checker.error((*where, "name"), f"queue name '{queue.name}' is used twice")
        for number, role in enumerate(queue.roles):
            if roles is not None and role not in roles:
                known = ", ".join(sorted(roles))
                checker.error((*where, "roles", number), f"no role '{role}' (known: {known})")
    if review.queues[-1].when is not None:
        checker.error(
            ("review", "queues", len(queues) - 1, "when"),
            "the last queue takes every case the others do not: remove its 'when'",
        )
    if review.fraud_queue is not None and review.fraud_queue not in queues:
        checker.error(("review", "fraud_queue"), _no_queue(review.fraud_queue, queues))
    for index, rule in enumerate(review.open_when):
        checker.expression(("review", "open_when", index, "when"), rule.when)
        if rule.queue not in queues:
            checker.error(("review", "open_when", index, "queue"), _no_queue(rule.queue, queues))
    if review.four_eyes is not None:
        checker.expression(("review", "four_eyes", "amount"), review.four_eyes.amount)
        checker.expression(("review", "four_eyes", "when"), review.four_eyes.when)
    for key in ("approve_reasons", "decline_reasons", "information_requests"):
        codes = [entry.code for entry in getattr(review, key)]
        for index, code in enumerate(codes):
            if codes.index(code) != index:
                checker.error(("review", key, index, "code"), f"code '{code}' is used twice")
    for index, request in enumerate(review.information_requests):
        if request.kind == "upload" and not request.accept:
            checker.error(
                ("review", "information_requests", index),
                "an upload request needs 'accept': a list of MIME types",
            )
    template = review.information_template
    if template is not None and template not in definition.notifications:
        known = ", ".join(sorted(definition.notifications)) or "none"
        checker.error(
            ("review", "information_template"),
            f"no notification template '{template}' (known: {known})",
        )


def _no_queue(name: str, queues: list[str]) -> str:
    return f"no queue named '{name}' (known: {', '.join(queues)})"


# The statuses a journey can end in (or be decided in): retention may name them as outcomes.
_ENDING_STATUSES = frozenset(
    {"decided", "completed", "declined", "withdrawn", "expired", "closed", "abandoned"}
)


def _known_outcomes(definition: JourneyDefinition) -> set[str]:
    """Every outcome the journey can end with: its decision's, its checks', its review's."""
    known = set(_ENDING_STATUSES)
    known |= {check.outcome for check in definition.checks if check.outcome}
    if definition.decision:
        known |= {outcome.outcome for outcome in definition.decision.outcomes}
    if definition.review:
        known |= {definition.review.approve_outcome, definition.review.decline_outcome}
    return known


def _check_retention(checker: _Checker, definition: JourneyDefinition) -> None:
    """Retention periods by outcome name outcomes (or ending statuses) the journey has: a
    misspelt one would silently fall back to `default`."""
    rules = definition.retention_rules()
    known = _known_outcomes(definition)
    for name in rules.outcomes:
        if name not in known:
            checker.error(
                ("retention", "outcomes", name),
                f"no outcome or ending status '{name}' (known: {', '.join(sorted(known))})",
            )


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
    _check_recipient(checker, definition)
    for index, effect in enumerate(definition.effects):
        template = effect.params.get("template")
        if effect.kind == "notify" and template not in definition.notifications:
            known = ", ".join(sorted(definition.notifications)) or "none"
            checker.error(
                ("effects", index, "params"),
                f"no notification template '{template}' (known: {known})",
            )


def _check_recipient(checker: _Checker, definition: JourneyDefinition) -> None:
    """Notifications need a recipient, and its expressions must compile."""
    recipient = definition.recipient
    if recipient is None:
        if any(effect.kind == "notify" for effect in definition.effects):
            checker.error(
                ("effects",),
                "notify effects need a recipient: who the messages go to (recipient: name, "
                "email, sms) and the operation that sends them",
            )
        return
    for key in ("name", "email", "sms"):
        checker.expression(("recipient", key), getattr(recipient, key))


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


def _check_computed(
    checker: _Checker,
    definition: JourneyDefinition,
    steps: list[StepSpec],
    origins: list[tuple[Location, bool]],
) -> None:
    """Computed values: expressions compile, read only names that exist (computed values
    included: references.py, as for every expression), and do not read each other in a
    circle; a step shows only values that exist."""
    computed = definition.computed
    for name, spec in computed.items():
        checker.expression(("computed", name, "expression"), spec.expression)
    try:
        order(computed)
    except Cycle as cycle:
        checker.error(
            ("computed", cycle.path[0]),
            f"computed values read each other in a circle: {' -> '.join(cycle.path)}",
        )
    for step, (origin, own) in zip(steps, origins, strict=True):
        for index, name in enumerate(step.show):
            if name not in computed:
                checker.error(
                    (*origin, "show", index) if own else origin, _no_computed(name, computed)
                )
        blocks = [
            ((*origin, "content", i) if own else origin, b) for i, b in enumerate(step.content)
        ]
        _check_computed_placeholders(checker, blocks, computed)
    progress: list[tuple[Location, Content]] = [
        (("progress", i), b) for i, b in enumerate(definition.progress)
    ]
    _check_computed_placeholders(checker, progress, computed)


def _check_computed_placeholders(
    checker: _Checker, blocks: list[tuple[Location, Content]], computed: Collection[str]
) -> None:
    """A content block's {computed.NAME} must name a computed value."""
    for where, block in blocks:
        for text in (block.text, block.title or ""):
            for name in content.computed_names(text):
                if name not in computed:
                    checker.error((*where, "text"), _no_computed(name, computed))


def _no_computed(name: str, computed: Collection[str]) -> str:
    return f"no computed value named '{name}' (known: {', '.join(sorted(computed)) or 'none'})"


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
        if step.group is not None:
            # A group's items are kept under its name, beside the answers of fields.
            if step.group.name in field_names:
                where = (*origin, "group", "name") if own else origin
                checker.error(where, f"group name '{step.group.name}' is also the name of a field")
            field_names.add(step.group.name)


def _check_for_each(
    checker: _Checker, steps: list[StepSpec], origins: list[tuple[Location, bool]]
) -> None:
    """A group made from a selection names a multiple-choice field asked in an earlier
    step, outside any group."""
    earlier: dict[str, FieldSpec] = {}
    for step, (origin, own) in zip(steps, origins, strict=True):
        group = step.group
        if group is not None and group.for_each is not None:
            chosen = earlier.get(group.for_each)
            where = (*origin, "group", "for_each") if own else origin
            if chosen is None:
                checker.error(
                    where,
                    f"for_each names '{group.for_each}', which is not a field of an earlier "
                    "step outside a group",
                )
            elif not field_type(chosen).holds_list or not field_type(chosen).takes_options:
                checker.error(
                    where,
                    f"for_each needs a multiple-choice field; '{group.for_each}' is "
                    f"{a_field_of(chosen.type)}",
                )
        if group is None:
            earlier.update({spec.name: spec for spec in step.fields})


def load_directory(
    directory: Path,
    effect_kinds: Collection[str] | None = None,
    roles: Collection[str] | None = None,
    operations: Operations | None = None,
    models: Mapping[str, ModelFacts] | None = None,
) -> dict[str, Journey]:
    """Load every journey in a folder (fragments from its fragments/ subfolder).

    `effect_kinds`, when given, are the kinds of effect something can run: a definition that
    declares any other is an error (the journeys package cannot know the runtime's handlers).
    `roles`, when given, are the staff roles a review's queues may name (the journeys package
    cannot know the identity layer's). `operations`, when given, are the declared partner
    operations by "partner.operation" that `call:` effects may name. `models`, when given, are
    the models decisions may score (journeys/model_checks.py). Raises DefinitionErrors listing
    every problem in every file when any is wrong.
    """
    journeys, errors = check_directory(directory, effect_kinds, roles, operations, models)
    if errors:
        raise DefinitionErrors(errors)
    return journeys


def check_directory(
    directory: Path,
    effect_kinds: Collection[str] | None = None,
    roles: Collection[str] | None = None,
    operations: Operations | None = None,
    models: Mapping[str, ModelFacts] | None = None,
) -> tuple[dict[str, Journey], list[DefinitionError]]:
    directory = Path(directory)
    root = directory.parent
    if not directory.is_dir():
        return {}, [DefinitionError(str(directory), 0, "no such folder of journey definitions")]
    fragments, errors = _load_fragments(directory / "fragments", root)
    segments, segment_errors = _load_segments(directory / "segments", root)
    errors.extend(segment_errors)
    journeys: dict[str, Journey] = {}
    for path in sorted(directory.glob("*.y*ml")):
        journey, found = _load_journey(
            path, root, fragments, effect_kinds, roles, operations, segments, models
        )
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
    path: Path,
    effect_kinds: Collection[str] | None = None,
    roles: Collection[str] | None = None,
    operations: Operations | None = None,
    models: Mapping[str, ModelFacts] | None = None,
) -> tuple[dict[str, Journey], list[DefinitionError]]:
    """Check a folder of definitions, or a single definition file beside its fragments/
    (`effect_kinds`, `roles` and `operations` as for load_directory)."""
    path = Path(path)
    if path.is_dir():
        return check_directory(path, effect_kinds, roles, operations, models)
    if not path.exists():
        return {}, [DefinitionError(str(path), 0, "no such file")]
    fragments, errors = _load_fragments(path.parent / "fragments", path.parent.parent)
    segments, segment_errors = _load_segments(path.parent / "segments", path.parent.parent)
    errors.extend(segment_errors)
    journey, found = _load_journey(
        path, path.parent.parent, fragments, effect_kinds, roles, operations, segments, models
    )
    errors.extend(found)
    return ({journey.name: journey} if journey else {}), errors
