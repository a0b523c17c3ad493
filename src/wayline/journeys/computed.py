"""Computed values: named expressions over answers, data and each other, worked out in the
order their dependencies need and kept with the journey.

A computed value that cannot be worked out yet (an answer not given, a partner that has not
answered) is None, never an error: the journey shows it once it can be known. A value is
always of its declared type: money and percent as exact decimal strings, a date as
YYYY-MM-DD, or None.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from wayline.journeys import money
from wayline.journeys.answer_text import long_date
from wayline.journeys.expressions import evaluate
from wayline.journeys.schema import Computed

# `computed.NAME` in a CEL expression.
_COMPUTED_READ = re.compile(r"(?<![\w.])computed\s*\.\s*([A-Za-z_]\w*)")


class Cycle(ValueError):
    """Computed values that read each other in a circle; `path` names them in order."""

    def __init__(self, path: list[str]):
        super().__init__(" -> ".join(path))
        self.path = path


def reads(expression: str) -> set[str]:
    """The computed values an expression reads."""
    return set(_COMPUTED_READ.findall(expression))


def order(computed: dict[str, Computed]) -> list[str]:
    """The names in an order where each comes after every value it reads (reads of unknown
    names are ignored: the loader reports them). Raises Cycle for a circle."""
    done: list[str] = []
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            raise Cycle([*visiting[visiting.index(name) :], name])
        visiting.append(name)
        for needed in sorted(reads(computed[name].expression) & computed.keys()):
            visit(needed)
        visiting.pop()
        done.append(name)

    for name in computed:
        visit(name)
    return done


def compute(computed: dict[str, Computed], scope: dict[str, Any]) -> dict[str, Any]:
    """Every computed value against `scope` (answers, data, today...), in dependency order;
    each sees those before it as `computed`."""
    values: dict[str, Any] = {}
    for name in order(computed):
        spec = computed[name]
        try:
            raw = evaluate(spec.expression, {**scope, "computed": dict(values)})
        except (LookupError, TypeError, ValueError, RuntimeError):
            raw = None
        values[name] = typed(spec, raw)
    return values


CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def shown(kind: str, value: Any, currency: str | None = None) -> str:
    """A computed value as a person reads it: £1,851.85, 20%, Yes, 2 April 2026; "" when
    it is not known."""
    if value is None:
        return ""
    if kind == "money":
        amount = f"{Decimal(value):,.2f}"
        symbol = CURRENCY_SYMBOLS.get(currency or "")
        return f"{symbol}{amount}" if symbol else f"{amount} {currency}"
    if kind == "percent":
        return f"{Decimal(value).normalize():f}%"
    if kind == "boolean":
        return "Yes" if value else "No"
    if kind == "date":
        return long_date(str(value))
    return str(value)


def in_words(computed: dict[str, Computed], values: dict[str, Any]) -> dict[str, str]:
    """Every computed value as a person reads it (see `shown`), by name: what content
    blocks' {computed.NAME} placeholders and notifications show."""
    return {
        name: shown(spec.type, values.get(name), spec.currency) for name, spec in computed.items()
    }


def typed(spec: Computed, raw: Any) -> Any:
    """`raw` as a value of the declared type, or None when it is not one."""
    if raw is None:
        return None
    try:
        if spec.type in ("money", "percent"):
            return money.text(money.to_decimal(raw))
        if spec.type == "number":
            if isinstance(raw, bool) or not isinstance(raw, int | str):
                return None
            return money.text(money.to_decimal(raw)) if isinstance(raw, str) else raw
        if spec.type == "boolean":
            return raw if isinstance(raw, bool) else None
        if spec.type == "text":
            return raw if isinstance(raw, str) else None
        if spec.type == "date":
            return date.fromisoformat(raw[:10]).isoformat() if isinstance(raw, str) else None
    except ValueError:
        return None
    return None
