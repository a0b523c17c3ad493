"""Content blocks on a step (`content:` in the definition): which are shown, and their words
with {placeholders} filled in. Pure: the presenter gives the journey as it is now.

A placeholder is a dotted path into answers, effects or journey ({effects.freeze.status},
{answers.amount}), or a computed value by name ({computed.NAME}, in words: "£250.00", as
notifications show it); only those roots may be named (the loader refuses others), nothing
but plain lookups is done, and a path that leads nowhere reads as nothing.
"""

from __future__ import annotations

import re
from typing import Any

from wayline.journeys.expressions import holds
from wayline.journeys.schema import Content

PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")
ROOTS = frozenset({"answers", "effects", "journey", "computed"})
COMPUTED = "computed"


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def unknown_roots(text: str) -> list[str]:
    """The placeholders of `text` that start anywhere but answers, effects, journey or
    computed."""
    return [path for path in placeholders(text) if path.split(".", 1)[0] not in ROOTS]


def computed_names(text: str) -> list[str]:
    """The computed values `text` names ({computed.NAME}); the loader checks they exist."""
    return [path.split(".")[1] for path in placeholders(text) if path.startswith(COMPUTED + ".")]


def shown(
    blocks: list[Content], scope: dict[str, Any], computed: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The blocks whose `when` holds, with their words filled in from `scope` (the engine's
    context for the journey as it is now) and `computed`, each computed value in words
    (computed.in_words); a computed value not given reads as nothing."""
    words = computed or {}
    return [
        {
            "type": block.type,
            **({"title": fill(block.title, scope, words)} if block.title else {}),
            "text": fill(block.text, scope, words),
        }
        for block in blocks
        if holds(block.when, scope)
    ]


def fill(text: str, scope: dict[str, Any], computed: dict[str, str] | None = None) -> str:
    words = computed or {}
    return PLACEHOLDER.sub(lambda match: _words(_lookup(match.group(1), scope, words)), text)


def _lookup(path: str, scope: dict[str, Any], computed: dict[str, str]) -> Any:
    root, *rest = path.split(".")
    if root == COMPUTED:
        # Read as words, never as the kept value: "£1,250.00", not "1250.00".
        return computed.get(rest[0]) if len(rest) == 1 else None
    if root not in ROOTS:
        return None
    value: Any = scope.get(root)
    for part in rest:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _words(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
