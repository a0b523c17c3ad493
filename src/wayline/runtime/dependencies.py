"""What commands and queries work with, injected at one edge (bootstrap.py)."""

from __future__ import annotations

from dataclasses import dataclass

from wayline.runtime.catalog import Catalog
from wayline.runtime.clock import Clock
from wayline.runtime.partner_data import PartnerData
from wayline.runtime.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Dependencies:
    uow: UnitOfWork
    partners: PartnerData
    catalog: Catalog
    clock: Clock
    # Files a file field may have stored beyond its maximum (runtime/file_room.py).
    file_replacements: int = 5
