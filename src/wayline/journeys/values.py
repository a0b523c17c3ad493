"""Parse and normalise one answer by its field type, and apply the field's rules.

Pure functions: a raw value in, a normalised value or a customer-facing message out. Each
type's parser is named by the field-type registry (`field_types.py`) and lives in
`parsers.py`; this module picks it, applies what every type shares (the default length
limit, typed-in choices) and checks the definition's rules.

Whatever the raw value (any JSON value, any text of any length), `parse` returns a value or
raises Invalid; nothing else. Text is read strictly: digits are ASCII digits, characters that
are not text (controls, direction overrides) are refused by one check (`text.clean`), and a
value `parse` returns parses again to itself.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from wayline.journeys import parsers
from wayline.journeys.expressions import holds
from wayline.journeys.field_types import field_type
from wayline.journeys.parsers import Given, Invalid
from wayline.journeys.schema import FieldSpec, Option, Rule

__all__ = ["Invalid", "check_rules", "is_empty", "parse"]

TYPED_CHOICE_MAX_LENGTH = 100


def is_empty(value: Any) -> bool:
    return (
        value is None
        or value == ""
        or value == []
        or (isinstance(value, str) and not value.strip())
    )


def parse(
    spec: FieldSpec,
    raw: Any,
    options: list[Option],
    documents: dict[str, Any],
    typed_in: bool = False,
) -> Any:
    """Normalise a non-empty raw value, or raise Invalid with the customer-facing message.
    A choice `typed_in` (its options' source is down) takes what the customer types."""
    if typed_in:
        typed = parsers.one_line(spec, raw, Given())
        if len(typed) > TYPED_CHOICE_MAX_LENGTH:
            raise Invalid(f"{spec.label} must be {TYPED_CHOICE_MAX_LENGTH} characters or fewer")
        return typed
    kind = field_type(spec)
    value = kind.parse(spec, raw, Given({option.value for option in options}, documents))
    limit = kind.max_length
    if limit and len(value) > limit and not any(r.rule == "max_length" for r in spec.rules):
        raise Invalid(f"{spec.label} must be {limit:,} characters or fewer")
    return value


def _measure(value: Any) -> Decimal:
    return Decimal(str(value))


def _rule_fails(rule: Rule, value: Any, context: dict[str, Any]) -> bool:
    kind, bound = rule.rule, rule.value
    if kind == "integer":
        return _measure(value) != _measure(value).to_integral_value()
    if kind == "min":
        return _measure(value) < _measure(bound)
    if kind == "max":
        return _measure(value) > _measure(bound)
    if kind == "min_length":
        return len(value) < int(bound or 0)
    if kind == "max_length":
        return len(value) > int(bound or 0)
    if kind == "pattern":
        return re.fullmatch(str(bound), value) is None
    if kind == "not_future":
        return bool(value > context["today"])  # ISO dates compare as text
    if kind == "not_past":
        return bool(value < context["today"])
    if kind == "min_items":
        return len(value) < int(bound or 0)
    if kind == "max_items":
        return len(value) > int(bound or 0)
    return not holds(rule.expression, {**context, "value": value})


def check_rules(spec: FieldSpec, value: Any, context: dict[str, Any]) -> str | None:
    """The message of the first rule the value breaks, or None. Count rules also see empty
    lists, so that a conditional minimum ("at least one photo unless theft") can apply."""
    for rule in spec.rules:
        if rule.when is not None and not holds(rule.when, context):
            continue
        if is_empty(value) and rule.rule not in ("min_items",):
            continue
        if _rule_fails(rule, value if value is not None else [], context):
            return rule.message
    return None
