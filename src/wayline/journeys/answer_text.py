"""An answer in plain words for people (check-answers and status pages), one function per
way of showing it; the field-type registry (`field_types.py`) names each type's.

Every function has the same shape, `(value, shown) -> words`, and is given a non-empty,
parsed value (an empty answer reads "Not given" whatever its type: the caller says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from wayline.journeys.currencies import prefix

IBAN_GROUP = 4  # IBANs are written in groups of four characters (ISO 13616)


@dataclass(frozen=True)
class Shown:
    """What an answer's words may need besides its value: the labels of the question's
    options by value, and the file names of the journey's documents by id."""

    labels: Mapping[str, str] = field(default_factory=dict)
    filenames: Mapping[str, str] = field(default_factory=dict)
    currency: str = "GBP"  # a money field's; versions stored before currencies were pounds


def as_typed(value: Any, shown: Shown) -> str:
    """The value as it is kept."""
    return str(value)


def yes_no(value: Any, shown: Shown) -> str:
    return "Yes" if value else "No"


def long_date(text: str) -> str:
    """An ISO date in words (2026-03-07 reads 7 March 2026); any other text as it is."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return text
    return f"{day.day} {day:%B %Y}"


def day(value: Any, shown: Shown) -> str:
    return long_date(str(value))


def money(value: Any, shown: Shown) -> str:
    """An amount in its currency: 1234.50 in GBP reads £1,234.50, in CHF CHF 1,234.50."""
    return f"{prefix(shown.currency)}{Decimal(value):,.2f}"


def option_labels(value: Any, shown: Shown) -> str:
    """The label of each chosen option, or the value itself where none is known (a choice
    typed in while its options' source was down or offered none)."""
    values = value if isinstance(value, list) else [value]
    return ", ".join(shown.labels.get(v, v) for v in values)


def file_names(value: Any, shown: Shown) -> str:
    """How many files, and their names: 2 files: front.jpg, back.jpg."""
    names = [shown.filenames.get(v, "a file") for v in value]
    count = f"{len(names)} file{'s' if len(names) != 1 else ''}"
    return f"{count}: " + ", ".join(names)


def grouped_in_fours(value: Any, shown: Shown) -> str:
    """In groups of four, as IBANs are printed: GB82 WEST 1234 5698 7654 32."""
    text = str(value)
    return " ".join(text[i : i + IBAN_GROUP] for i in range(0, len(text), IBAN_GROUP))
