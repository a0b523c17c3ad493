"""Small things the partner simulators share: the clock they are given and UK postcodes."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

Today = Callable[[], date]
POSTCODE = re.compile(r"^(?P<area>[A-Z]{1,2})[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")


def normal_postcode(postcode: str) -> str:
    """Upper case, one space before the inward code ("sw1a1aa" → "SW1A 1AA")."""
    compact = re.sub(r"\s+", "", postcode.upper())
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


def valid_postcode(postcode: str) -> bool:
    return bool(POSTCODE.match(normal_postcode(postcode)))
