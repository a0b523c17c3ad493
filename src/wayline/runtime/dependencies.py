"""What commands and queries work with, injected at one edge (bootstrap.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from wayline.journeys.loader import Journey
from wayline.runtime.catalog import Catalog
from wayline.runtime.clock import Clock
from wayline.runtime.immediate import Immediate
from wayline.runtime.partner_data import PartnerData
from wayline.runtime.unit_of_work import UnitOfWork


class Versions(Protocol):
    """Which version of a journey type a new journey starts on (runtime/releases)."""

    def choose(self, current: Journey, subject: str) -> Journey: ...


class Current:
    """Every new journey on the catalogue's current version (no releases)."""

    def choose(self, current: Journey, subject: str) -> Journey:
        return current


@dataclass(frozen=True)
class Dependencies:
    uow: UnitOfWork
    partners: PartnerData
    catalog: Catalog
    clock: Clock
    # Files a file field may have stored beyond its maximum (runtime/file_room.py).
    file_replacements: int = 5
    # A step's partner calls that must finish before the customer goes on (immediate.py).
    immediate: Immediate = field(default_factory=Immediate)
    # The version a new journey starts on, by its type's release (runtime/releases).
    versions: Versions = field(default_factory=Current)
