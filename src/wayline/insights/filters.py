"""What an analyst asks for: a journey type, up to two of its versions, and a date range of
journey starts. Parsed from text (a query string) with a message per field that is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

MAX_VERSIONS = 2  # side by side
# Dates past these are typing mistakes, not ranges: refused rather than read as "everything".
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


@dataclass(frozen=True)
class FilterError:
    field: str
    message: str


class InvalidFilters(ValueError):
    def __init__(self, errors: list[FilterError]):
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class Asked:
    journey: str | None = None
    versions: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None

    @classmethod
    def parse(
        cls, journey: str = "", versions: list[str] | None = None, since: str = "", until: str = ""
    ) -> Asked:
        """InvalidFilters naming each field that is wrong: a date that is not a real
        YYYY-MM-DD date, a range that ends before it starts, more than two versions."""
        errors: list[FilterError] = []
        start = _date("since", since, "From", errors)
        end = _date("until", until, "To", errors)
        if start and end and end < start:
            errors.append(FilterError("until", "To must be the same as or after From"))
        chosen = tuple(dict.fromkeys(v.strip() for v in versions or () if v.strip()))
        if len(chosen) > MAX_VERSIONS:
            errors.append(
                FilterError("versions", f"Choose at most {MAX_VERSIONS} versions to compare")
            )
        if errors:
            raise InvalidFilters(errors)
        return cls(journey.strip() or None, chosen, start, end)


def _date(name: str, text: str, label: str, errors: list[FilterError]) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or len(text) != 10:
        errors.append(FilterError(name, f"{label} must be a real date, like 2026-11-01"))
        return None
    if not EARLIEST <= value <= LATEST:
        errors.append(FilterError(name, f"{label} must be between 2000 and 2100"))
        return None
    return value
