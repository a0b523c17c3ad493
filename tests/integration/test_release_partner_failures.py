"""A release's analysis sees the partner data a journey could not get, with the state sealed
(SQLite and PostgreSQL): partner data lives in the state's envelope, so the analysis must read
the state opened, not the column, or it would never see a failure."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.sandbox.wiring import demo_options
from wayline.store import releases as release_store
from wayline.store import tables


class Down:
    """A data source whose partner does not answer."""

    def fetch(self, customer_id: str, params: dict[str, Any], today: date) -> dict[str, Any]:
        raise ConnectionError("the partner did not answer")


@pytest.fixture
def policies_down(components: Components, make_settings: Callable[..., Settings]) -> Iterator:
    """The same deployment (database and keyring) with the policies partner down."""
    options = demo_options()
    options["sources"] = {**options["sources"], "policies": Down()}
    down = build(make_settings(), migrate=True, **options)
    yield down
    down.store.engine.dispose()


def test_a_journey_whose_partner_failed_is_seen_as_such(
    components: Components, policies_down: Components
) -> None:
    assert components.data_keys is not None  # values are sealed here
    answered = components.commands.start("alex", "motor-claim").state
    failed = policies_down.commands.start("sam", "motor-claim").state
    with components.store.engine.connect() as connection:  # the column, as stored
        raw = connection.execute(
            select(tables.journeys.c.state).where(tables.journeys.c.id == failed.id)
        ).scalar_one()
    assert "sealed" in raw and not raw.get("data")  # partner data is in the envelope

    since = datetime.now(UTC) - timedelta(hours=1)
    with components.store.read() as connection:
        arms = release_store.arm_journeys(connection, "motor-claim", failed.version, since)
    seen = {arm.id: arm.partner_failed for arm in arms}
    assert seen == {answered.id: False, failed.id: True}
