"""CEL conditions and rules. Never `eval`: CEL is side-effect free and terminates.

Expressions see `answers` (every field of the journey, null when unanswered), `data` (the
customer's known data by source), `today` ("YYYY-MM-DD") and, in validation rules, `value`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import cel

# Macros bind their own variable: items.exists(p, p.active) names p, which is not unknown.
MACRO_VARIABLE = re.compile(
    r"\.(?:all|exists|exists_one|map|filter)\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,"
)
VARIABLES = frozenset({"answers", "data", "today", "value", "checks", "decision"})


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


def evaluate(source: str, context: dict[str, Any]) -> Any:
    return compile_expression(source).execute(context)


def holds(source: str | None, context: dict[str, Any]) -> bool:
    """A condition is true only when it evaluates to true; an error (a missing value, a type
    mismatch on an unanswered field) means the condition does not hold yet."""
    if source is None:
        return True
    try:
        return evaluate(source, context) is True
    except (KeyError, TypeError, ValueError, RuntimeError):
        return False
