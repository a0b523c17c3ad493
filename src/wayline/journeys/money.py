"""Exact decimal arithmetic for CEL: the functions computed values use for money.

CEL has no decimal type and its doubles are not exact (0.1 + 0.2 != 0.3), so amounts travel
through expressions as decimal strings ("1234.50", as money answers are kept) and every
operation on them is one of these functions, done with Python's Decimal and returned as a
decimal string again. Nothing here ever makes a float.

Each function takes decimal strings or CEL integers (never doubles: a double already lost
exactness, so it is refused) and raises ValueError on anything else; the expression then
fails, and a condition that reads it does not hold.

    decimal(x)                  x as a canonical decimal string ("7" -> "7", "7.50" -> "7.50")
    add(a, b), subtract(a, b)   a + b, a - b (exact)
    multiply(a, b)              a × b (exact)
    divide(a, b, places)        a ÷ b rounded half-even to `places` decimal places
    percent_of(p, amount)       amount × p ÷ 100 (exact)
    round_half_even(x, places)  x rounded to `places` places, ties to the even digit
    round_half_up(x, places)    x rounded to `places` places, ties away from zero
    minimum(a, b), maximum(a, b)
    compare(a, b)               -1, 0 or 1 (for conditions: compare(a, b) > 0)
    sum_of(list)                the exact sum of a list of amounts ("0" for none)
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any

# Enough digits for any amount a journey meets; an operation that would need more is refused
# rather than silently rounded.
EXACT = Context(prec=60, traps=[InvalidOperation])
MAX_PLACES = 10


def to_decimal(value: Any) -> Decimal:
    """A decimal string or an integer as a Decimal; anything else (a double, a bool, text
    that is not a plain decimal numeral) raises ValueError."""
    # Messages never quote the value: it may be an answer, and CEL's library logs them.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"not a decimal amount: a {type(value).__name__} (write '12.50')")
    text = str(value).strip()
    if not text or any(c not in "0123456789.-+" for c in text):
        raise ValueError("not a decimal amount: text that is not a plain decimal numeral")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError("not a decimal amount: text that is not a decimal numeral") from None
    if not number.is_finite():
        raise ValueError("not a decimal amount: not a finite number")
    return number


def text(number: Decimal) -> str:
    """A Decimal as a plain decimal string, never in exponent form ("1E+2" is "100")."""
    if number == 0:
        number = abs(number)  # no "-0"
    return f"{number:f}"


def _places(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PLACES:
        raise ValueError(f"places must be a whole number from 0 to {MAX_PLACES}")
    return int(value)


def _exact(operation: Callable[[Decimal, Decimal], Decimal], a: Any, b: Any) -> str:
    try:
        result = operation(to_decimal(a), to_decimal(b))
    except InvalidOperation:
        raise ValueError("the result has more digits than an amount can hold") from None
    return text(result)


def decimal(value: Any) -> str:
    return text(to_decimal(value))


def add(a: Any, b: Any) -> str:
    return _exact(EXACT.add, a, b)


def subtract(a: Any, b: Any) -> str:
    return _exact(EXACT.subtract, a, b)


def multiply(a: Any, b: Any) -> str:
    return _exact(EXACT.multiply, a, b)


def divide(a: Any, b: Any, places: Any) -> str:
    divisor = to_decimal(b)
    if divisor == 0:
        raise ValueError("division by zero")
    quotient = EXACT.divide(to_decimal(a), divisor)
    return _rounded(quotient, places, ROUND_HALF_EVEN)


def percent_of(percent: Any, amount: Any) -> str:
    return text(EXACT.divide(EXACT.multiply(to_decimal(amount), to_decimal(percent)), 100))


def _rounded(number: Decimal, places: Any, rounding: str) -> str:
    quantum = Decimal(1).scaleb(-_places(places))
    try:
        return text(number.quantize(quantum, rounding=rounding, context=EXACT))
    except InvalidOperation:
        raise ValueError("the result has more digits than an amount can hold") from None


def round_half_even(value: Any, places: Any) -> str:
    return _rounded(to_decimal(value), places, ROUND_HALF_EVEN)


def round_half_up(value: Any, places: Any) -> str:
    return _rounded(to_decimal(value), places, ROUND_HALF_UP)


def minimum(a: Any, b: Any) -> str:
    return text(min(to_decimal(a), to_decimal(b)))


def maximum(a: Any, b: Any) -> str:
    return text(max(to_decimal(a), to_decimal(b)))


def compare(a: Any, b: Any) -> int:
    x, y = to_decimal(a), to_decimal(b)
    return (x > y) - (x < y)


def sum_of(values: Any) -> str:
    if not isinstance(values, list):
        raise ValueError("sum_of takes a list of amounts")
    total = Decimal(0)
    for value in values:
        total = EXACT.add(total, to_decimal(value))
    return text(total)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "decimal": decimal,
    "add": add,
    "subtract": subtract,
    "multiply": multiply,
    "divide": divide,
    "percent_of": percent_of,
    "round_half_even": round_half_even,
    "round_half_up": round_half_up,
    "minimum": minimum,
    "maximum": maximum,
    "compare": compare,
    "sum_of": sum_of,
}
