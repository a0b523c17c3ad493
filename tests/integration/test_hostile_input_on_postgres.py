"""The hostile-input suite (test_hostile_input.py) on PostgreSQL: the same walks, tests and
world, in a file of its own so that the SQLite and PostgreSQL halves run side by side."""

from __future__ import annotations

import pytest
from test_hostile_input import (  # noqa: F401  (collected here too, on this module's database)
    test_bad_input_is_refused_and_changes_nothing,
    test_every_route_is_walked,
    test_the_claims_were_attacked_where_it_matters,
    world,
)

pytestmark = pytest.mark.parametrize(
    "module_database_url",
    [pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
    scope="module",
)
