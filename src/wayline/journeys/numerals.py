"""How people write numbers and amounts in the UK, read strictly.

A numeral is ASCII digits, optionally grouped in thousands, optionally with a full stop and a
fraction: "850", "850.00", "1,234.50", "1 234.50" (a space, a no-break space or a narrow
no-break space between groups). Groups must be of three digits and use one separator
throughout, so "1,23,4" and "1,234 567" are refused rather than guessed at.

Never read by `int()` or `Decimal()` on raw text: those accept digits of every script
("٣", "１２"), underscores, exponents, "NaN" and "Infinity", and `int()` refuses more than
4,300 digits with an exception. Every digit here is matched as [0-9] first, and the number of
digits is bounded before any arithmetic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

MAX_DIGITS = 15  # either side of the point: every such whole number is exact in a double
GROUP_SEPARATORS = ", \u00a0\u202f"
_NUMERAL = re.compile(
    r"(?P<sign>-)?"
    r"(?P<whole>[0-9]+|[0-9]{1,3}(?P<sep>[" + GROUP_SEPARATORS + r"])[0-9]{3}(?:(?P=sep)[0-9]{3})*)"
    r"(?:\.(?P<fraction>[0-9]+))?"
)
# "850,00" or "2,5": a comma where the UK writes a full stop (never a thousands group).
_DECIMAL_COMMA = re.compile(r"-?[0-9]+,[0-9]{1,2}")


class NotANumeral(ValueError):
    """Why a text is not a numeral: "format", "decimal comma", "too long" (before the point)
    or "too precise" (after it)."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class Numeral:
    negative: bool
    whole: str  # the digits before the point, separators removed
    fraction: str  # the digits after it, as typed ("" when none)

    def decimal(self) -> Decimal:
        sign = "-" if self.negative else ""
        return Decimal(f"{sign}{self.whole}.{self.fraction or '0'}")


def read(text: str, *, signed: bool) -> Numeral:
    """The numeral the text is (already trimmed), or NotANumeral saying why not."""
    match = _NUMERAL.fullmatch(text)
    if match is None or (match.group("sign") and not signed):
        kind = "decimal comma" if _DECIMAL_COMMA.fullmatch(text) else "format"
        raise NotANumeral(kind)
    whole = re.sub(f"[{GROUP_SEPARATORS}]", "", match.group("whole")).lstrip("0") or "0"
    fraction = match.group("fraction") or ""
    if len(whole) > MAX_DIGITS:
        raise NotANumeral("too long")
    if len(fraction) > MAX_DIGITS:
        raise NotANumeral("too precise")
    return Numeral(bool(match.group("sign")), whole, fraction)


def bounded(number: Decimal) -> Decimal:
    """A number sent as a number (a JSON int or float), held to the same bounds as a typed
    one; NotANumeral otherwise. Checked on the exponent, so 1e999999999 costs nothing."""
    if not number.is_finite():
        raise NotANumeral("format")
    if number != 0 and number.adjusted() >= MAX_DIGITS:
        raise NotANumeral("too long")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DIGITS:
        raise NotANumeral("too precise")
    return number
