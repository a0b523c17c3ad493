"""CEL conditions and rules. Never `eval`: CEL is side-effect free and terminates.

Expressions see `answers` (every field of the journey, null when unanswered), `data` (the
customer's known data by source), `computed` (the definition's computed values), `today`
("YYYY-MM-DD"), `now` (the moment, an ISO 8601 date-time), `checks`, `decision`, `journey` (id,
reference), `effects` (partner calls' results by name) and, in validation rules, `value`; in a
repeating group, `item` (the item's answers) and, in rules across items, `items`.
They may call the functions of `functions.py` (dates, pence), the exact decimal functions of
`money.py` (add, percent_of, round_half_even...: CEL's own numbers are not exact) and
`calendar.py`'s dealing_day.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

import cel

from wayline.journeys import calendar, functions, money

FUNCTIONS = {**functions.FUNCTIONS, **money.FUNCTIONS, **calendar.FUNCTIONS}

# A decimal function refusing an unanswered field is expected and handled (the expression
# fails, so its condition does not hold); the CEL library would log each one as a warning.
logging.getLogger("cel").setLevel(logging.ERROR)

# Macros bind their own variable: items.exists(p, p.active) names p, which is not unknown.
MACRO_VARIABLE = re.compile(
    r"\.(?:all|exists|exists_one|map|filter)\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,"
)
# `item` is the item being checked in a repeating group's field conditions and rules, `items`
# a group's items in its rules across items (journeys/groups.py).
VARIABLES = frozenset(
    {"answers", "data", "computed", "today", "now", "value", "checks", "decision"}
    | {"journey", "effects", "item", "items", "scores"}
)


class ExpressionError(ValueError):
    """An expression that does not compile, or names a variable the language does not offer."""


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> Any:
    try:
        program = cel.compile(source)
    except ValueError as error:
        raise ExpressionError(str(error).strip()) from None
    unknown = set(program.variables()) - VARIABLES - set(MACRO_VARIABLE.findall(source))
    if unknown:
        names = ", ".join(sorted(unknown))
        offered = ", ".join(sorted(VARIABLES))
        raise ExpressionError(f"unknown variable {names}; expressions may use {offered}")
    return program


def prepared(scope: dict[str, Any]) -> cel.Context:
    """`scope` converted to CEL values once, with the language's functions
    (journeys/functions.py); raises TypeError or ValueError on what CEL cannot hold."""
    return cel.Context(scope, functions=FUNCTIONS)


def evaluate(source: str, context: Any) -> Any:
    """`context`: a scope, or one `prepared` already (faster for several expressions)."""
    if isinstance(context, dict):
        context = prepared(context)
    try:
        return compile_expression(source).execute(context)
    except IndexError:
        # An index past a list's end (`list.filter(...)[0]` on no match) is a value that is
        # not there, as a missing key is: callers treat KeyError as "not known yet".
        raise KeyError("index out of bounds") from None


def holds(source: str | None, context: Any) -> bool:
    """A condition is true only when it evaluates to true; an error (a missing value, a type
    mismatch on an unanswered field, the first of an empty list) means the condition does
    not hold yet."""
    if source is None:
        return True
    try:
        return evaluate(source, context) is True
    except (LookupError, TypeError, ValueError, RuntimeError):
        return False
