"""Repeating groups ("add another"): what their items are, how they are named, and the few
functions a rule across items needs. Pure; the engine's group commands use it.

A group's answer is a list of items kept under the group's name, each a map of the step's
fields to their parsed answers (empty answers left out). An item made from a selection
(`for_each`) also keeps the chosen value under `FOR`, a key no field can have (field names
start with a letter), so that it stays with its value when the selection changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from wayline.journeys.expressions import prepared
from wayline.journeys.schema import GroupSpec

FOR = "_for"

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def items_of(answers: Mapping[str, Any], group: GroupSpec) -> list[dict[str, Any]]:
    """The group's items as kept (an empty list when there are none)."""
    found = answers.get(group.name)
    return [dict(item) for item in found] if isinstance(found, list) else []


def item_fields(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item's answers without the value it was made for."""
    return {name: value for name, value in item.items() if name != FOR}


def label(group: GroupSpec, item: Mapping[str, Any], words: Mapping[str, str], chosen: str) -> str:
    """How the summary and check-answers name an item: the group's `item_label` with each
    {field} replaced by that answer in words (empty when not given) and {label} by the
    chosen option's label; without a template, the chosen option's label."""
    if group.item_label is None:
        return chosen
    found = {**words, "label": chosen}
    text = _PLACEHOLDER.sub(lambda match: found.get(match.group(1), ""), group.item_label)
    return " ".join(text.split())


def summary_title(group: GroupSpec, count: int) -> str:
    """The summary's heading for `count` items ("You have added 2 names")."""
    if count == 1 and group.summary_title_one:
        return group.summary_title_one
    return group.summary_title.replace("{count}", str(count))


def rule_scope(scope: dict[str, Any], items: list[dict[str, Any]]) -> Any:
    """The scope a rule across items is checked in: `scope` with `items`."""
    return prepared({**scope, "items": items})
