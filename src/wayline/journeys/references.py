"""What a definition's CEL expressions read, and whether it exists: strict checks at load.

An expression may read only what the engine gives it (`engine.context`): `answers.NAME` for a
field of the journey, `data.SOURCE` for a source the journey uses, `checks.NAME` for a declared
check, `decision.outcome`, `today`, and `value` in a rule's expression. `ROOTS` is that list as
data: one line per root says what its members are and which a journey offers.

The CEL bindings expose no syntax tree, so `tokens` is a small tokenizer that is exact for what
these checks need: string literals (whose contents are never read as names), member access
(`root.member`, `root["member"]`) and the variables macros bind (`exists(p, p.active)`).
"""

from __future__ import annotations

import ast
import difflib
import itertools
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wayline.journeys.expressions import ExpressionError, compile_expression, holds
from wayline.journeys.field_types import FieldType
from wayline.journeys.schema import FieldSpec, JourneyDefinition, StepSpec

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class Finding:
    """A mistake at a place in the definition (a YAML path), in words for its author."""

    location: Location
    message: str


@dataclass(frozen=True)
class Scope:
    """A journey as its expressions see it: the resolved steps and the names they offer."""

    definition: JourneyDefinition
    steps: Sequence[StepSpec]
    fields: Mapping[str, FieldSpec] = field(init=False)
    step_index: Mapping[str, int] = field(init=False)  # field name -> index of its step

    def __post_init__(self) -> None:
        fields = {spec.name: spec for step in self.steps for spec in step.fields}
        index = {spec.name: i for i, step in enumerate(self.steps) for spec in step.fields}
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "step_index", index)

    @property
    def groups(self) -> set[str]:
        """The repeating groups' names: each an answer holding the group's items."""
        return {step.group.name for step in self.steps if step.group is not None}

    @property
    def sources(self) -> set[str]:
        """Every data source the journey names: options, prefills and checks."""
        named = {check.source for check in self.definition.checks if check.source}
        recipient = self.definition.recipient
        if recipient is not None and recipient.source:
            named.add(recipient.source)
        for spec in self.fields.values():
            named.update(b.source for b in (spec.options_from, spec.prefill) if b is not None)
        return named


@dataclass(frozen=True)
class Root:
    """A variable expressions may read: what its members are called, and the members a
    journey offers (None: any member, not checked)."""

    what: str
    members: Callable[[Scope], Collection[str] | None]


ANY: Callable[[Scope], None] = lambda scope: None  # noqa: E731 - a table entry

# The roots expressions may read and how each one's members are checked. To offer a new root,
# add it to expressions.VARIABLES and here (a root missing here is read without checks).
ROOTS: dict[str, Root] = {
    # A repeating group's items are kept under the group's name (a list of item maps).
    "answers": Root("field", lambda scope: {*scope.fields, *scope.groups}),
    "data": Root("data source", lambda scope: scope.sources),
    "checks": Root("check", lambda scope: {check.name for check in scope.definition.checks}),
    "decision": Root("member of the decision", lambda scope: {"outcome", "reasons", "at"}),
    "today": Root("member of today (a date as text)", lambda scope: ()),
    "journey": Root("member of the journey", lambda scope: {"id", "reference"}),
    "computed": Root("computed value", lambda scope: set(scope.definition.computed)),
    "now": Root("member of now (a date-time as text)", lambda scope: ()),
    # A partner call's result is kept under the effect's name (journeys/calls.py).
    "effects": Root(
        "named effect", lambda scope: {e.name for e in scope.definition.effects if e.name}
    ),
    "value": Root("member of the value", ANY),
    # A decision's model scores, by the name the decision gives each model.
    "scores": Root(
        "model of the decision",
        lambda scope: (
            {use.name for use in scope.definition.decision.models}
            if scope.definition.decision is not None
            else set()
        ),
    ),
}
# Offered everywhere but in a rule's expression, which also reads `value`.
ONLY_IN_RULES = frozenset({"value"})

_TOKEN = re.compile(
    r"""
    (?P<string>(?:[rR][bB]?|[bB][rR]?)?(?:'''.*?'''|\"\"\".*?\"\"\"
        |'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
    |(?P<number>0[xX][0-9a-fA-F]+[uU]?|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[uU]?)
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op>==|!=|<=|>=|&&|\|\||[-+*/%<>!?:.,()\[\]{}])
    |(?P<space>\s+)
    """,
    re.VERBOSE | re.DOTALL,
)
_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})


@dataclass(frozen=True)
class Token:
    kind: str  # string, number, name, op
    text: str

    @property
    def literal(self) -> str | None:
        """A string literal's value (None for other tokens)."""
        if self.kind != "string":
            return None
        try:
            value = ast.literal_eval(self.text)
        except (ValueError, SyntaxError):
            return self.text.strip("'\"")
        return value if isinstance(value, str) else None


def tokens(source: str) -> list[Token]:
    """The expression's tokens, spaces dropped. Unknown characters are kept as operators: the
    expression already compiled, so they cannot hide a name."""
    found = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            found.append(Token("op", source[position]))
            position += 1
            continue
        kind = match.lastgroup or "op"
        if kind != "space":
            found.append(Token(kind, match.group()))
        position = match.end()
    return found


@dataclass(frozen=True)
class Read:
    """A `root.member` (or `root["member"]`) read; `end` is the index of the token after it."""

    root: str
    member: str
    end: int


def reads(parts: Sequence[Token]) -> Iterator[Read]:
    """Every `root.member` and `root["member"]` read of a root variable (never of a variable a
    macro binds, nor a method call such as `today.startsWith(...)`)."""
    bound = _bound(parts)
    for i, token in enumerate(parts):
        if token.kind != "name" or token.text not in ROOTS or token.text in bound:
            continue
        if i > 0 and parts[i - 1].text == ".":
            continue  # a member that happens to share a root's name
        after = [t.text for t in parts[i + 1 : i + 4]]
        if after[:1] == ["."] and len(parts) > i + 2 and parts[i + 2].kind == "name":
            if parts[i + 3 : i + 4] and parts[i + 3].text == "(":
                continue
            yield Read(token.text, parts[i + 2].text, i + 3)
        elif after[:1] == ["["] and len(after) == 3 and after[2] == "]":
            member = parts[i + 2].literal
            if member is not None:
                yield Read(token.text, member, i + 4)


def reads_root(source: str, root: str) -> bool:
    """Whether the expression reads a member of `root` (scores.NAME, data.SOURCE, ...)."""
    return any(read.root == root for read in reads(tokens(source)))


def _bound(parts: Sequence[Token]) -> set[str]:
    """The variables macros bind: `p` in `list.exists(p, ...)`."""
    return {
        parts[i + 3].text
        for i in range(len(parts) - 4)
        if parts[i].text == "."
        and parts[i + 1].text in _MACROS
        and parts[i + 2].text == "("
        and parts[i + 3].kind == "name"
        and parts[i + 4].text == ","
    }


def unknown_names(scope: Scope, source: str, rule: bool = False) -> list[str]:
    """What an expression reads that the journey does not offer, each in words, with the
    nearest name when one is close (`answers.reasn`: did you mean answers.reason?)."""
    problems = []
    parts = tokens(source)
    if not rule:
        for name in sorted(ONLY_IN_RULES - _bound(parts)):
            if _alone(parts, name):
                problems.append(f"'{name}' is only offered in a rule's expression")
    for read in reads(parts):
        offered = ROOTS[read.root].members(scope)
        if offered is None or read.member in offered:
            continue
        what = ROOTS[read.root].what
        message = f"{read.root}.{read.member}: no {what} named '{read.member}'"
        close = difflib.get_close_matches(read.member, list(offered), n=1)
        if close:
            message += f"; did you mean {read.root}.{close[0]}?"
        elif offered:
            message += f" (known: {', '.join(sorted(offered))})"
        if message not in problems:
            problems.append(message)
    return problems


def _alone(parts: Sequence[Token], name: str) -> bool:
    return any(
        t.kind == "name" and t.text == name and (i == 0 or parts[i - 1].text != ".")
        for i, t in enumerate(parts)
    )


def _choices(spec: FieldSpec) -> list[str] | None:
    """A choice field's values when they are all known before the journey runs."""
    if spec.type not in (FieldType.SINGLE_CHOICE, FieldType.MULTIPLE_CHOICE):
        return None
    if spec.options_from is not None:
        return None
    return [option.value for option in spec.options]


def compared_values(parts: Sequence[Token]) -> Iterator[tuple[str, str]]:
    """(field, value) for each `answers.F == "v"`, `!=`, `"v" == answers.F`, `answers.F in
    ["v", ...]` and `"v" in answers.F` in the expression."""
    for read in reads(parts):
        if read.root != "answers":
            continue
        end = read.end
        if end < len(parts) and parts[end].text in (".", "["):
            continue  # answers.F.something: not the field's value itself
        start = end - (3 if parts[end - 1].text != "]" else 4)
        following = parts[end : end + 2]
        if len(following) == 2 and following[0].text in ("==", "!=") and following[1].literal:
            yield read.member, following[1].literal
        if following[:1] and following[0].text == "in":
            yield from ((read.member, value) for value in _list_literal(parts, end + 1))
        before = parts[max(0, start - 2) : start]
        if len(before) == 2 and before[1].text in ("==", "!=", "in") and before[0].literal:
            yield read.member, before[0].literal


def _list_literal(parts: Sequence[Token], start: int) -> list[str]:
    """The strings of a list literal starting at `start` (empty when it is not one)."""
    if start >= len(parts) or parts[start].text != "[":
        return []
    values: list[str] = []
    for token in parts[start + 1 :]:
        if token.text == "]":
            return values
        if token.literal is not None:
            values.append(token.literal)
        elif token.text != ",":
            return []
    return []


def unknown_options(scope: Scope, source: str) -> list[str]:
    """Values an expression compares a choice field with that are not among its options."""
    problems = []
    for name, value in compared_values(tokens(source)):
        spec = scope.fields.get(name)
        choices = _choices(spec) if spec else None
        if choices is not None and value not in choices:
            message = f"answers.{name} is never '{value}': its options are {', '.join(choices)}"
            close = difflib.get_close_matches(value, choices, n=1)
            if close:
                message += f"; did you mean '{close[0]}'?"
            if message not in problems:
                problems.append(message)
    return problems


# Beyond this many combinations of earlier answers, a step is not proved unreachable.
MOST_COMBINATIONS = 4096


def never_shown(scope: Scope, index: int) -> str | None:
    """Why the step at `index` can never be shown, or None when it can (or cannot be told).

    A step is shown when its `when` holds as the customer reaches it: then only earlier steps'
    answers are given. So the condition is tried on every combination of those answers that
    can be known in advance (a choice's options, yes or no, or no answer), with the answers of
    this step and later ones empty. A condition that reads anything else (data, checks, a
    field typed in) is not judged."""
    step = scope.steps[index]
    if step.when is None:
        return None
    try:
        compile_expression(step.when)
    except ExpressionError:
        return None  # reported as an invalid expression
    parts = tokens(step.when)
    found = list(reads(parts))
    names = {t.text for t in parts if t.kind == "name"}
    if any(r.root != "answers" for r in found) or names & (set(ROOTS) - {"answers"}):
        return None
    if "answers" in names and len([t for t in parts if t.text == "answers"]) != len(found):
        return None  # answers read whole (answers.exists(...)): not judged
    if any(r.member not in scope.fields for r in found):
        return None  # reported as an unknown name
    fields = sorted({r.member for r in found})
    earlier = [f for f in fields if scope.step_index[f] < index]
    later = [f for f in fields if scope.step_index[f] >= index]
    possible = []
    for name in earlier:
        values = _possible(scope.fields[name])
        if values is None:
            return None
        possible.append(values)
    combinations = 1
    for values in possible:
        combinations *= len(values)
    if combinations > MOST_COMBINATIONS:
        return None
    empty = dict.fromkeys(scope.fields)
    for chosen in itertools.product(*possible):
        answers = {**empty, **dict(zip(earlier, chosen, strict=True))}
        if holds(step.when, {"answers": answers}):
            return None
    if not fields:
        return f"step '{step.name}' can never be shown: its condition is always false"
    if not earlier:
        return (
            f"step '{step.name}' can never be shown: its condition reads only answers given "
            f"on this step or later ({', '.join(later)})"
        )
    return (
        f"step '{step.name}' can never be shown: its condition holds for no answer to "
        f"{', '.join(earlier)}" + (f" (and {', '.join(later)} come later)" if later else "")
    )


def _possible(spec: FieldSpec) -> list[Any] | None:
    """Every value a field can hold as data, or None when there are too many to try."""
    if spec.type == FieldType.YES_NO:
        return [True, False, None]
    if spec.type == FieldType.SINGLE_CHOICE and spec.options_from is None:
        return [option.value for option in spec.options] + [None]
    return None


def unknown_calls(
    calls: Sequence[tuple[Location, str]], known: Collection[str], unknown: str
) -> list[Finding]:
    """Each call of a name not `known`, said by the `unknown` template ("no partner operation
    '{}'"), with the known names and the nearest one. The seam for any registry a definition
    names: effect kinds from the runtime's handlers, partner operations from the connectors'
    declarations."""
    found = []
    for location, name in calls:
        if name in known:
            continue
        message = f"{unknown.format(name)} (known: {', '.join(sorted(known)) or 'none'})"
        close = difflib.get_close_matches(name, list(known), n=1)
        suggestion = f"; did you mean '{close[0]}'?" if close else ""
        found.append(Finding(location, message + suggestion))
    return found
