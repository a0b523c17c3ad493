"""Migration 0006 on SQLite and PostgreSQL: idempotency records keep the journey and revision
their first request produced, taken from the response body they used to keep, and the body
(which held the customer's answers) is dropped."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command

from wayline.store.database import make_engine
from wayline.store.migrate import alembic_config

pytestmark = pytest.mark.empty_database  # these tests migrate step by step themselves


def test_0006_keeps_each_key_s_journey_and_revision_and_drops_the_bodies(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0005")
        body = {"id": "j-1", "revision": 4, "answers": {"account_number": "00733445"}}
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO idempotency_keys (customer_id, key, fingerprint, status_code, "
                    "body, created_at) VALUES ('alex', 'k-1', 'f', 200, :body, :at)"
                ),
                {"body": json.dumps(body), "at": datetime.now(UTC)},
            )
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0006")
        with engine.connect() as connection:
            columns = {c["name"] for c in sa.inspect(connection).get_columns("idempotency_keys")}
            rows = connection.execute(
                sa.text("SELECT key, journey_id, revision FROM idempotency_keys")
            ).all()
    finally:
        engine.dispose()
    assert "body" not in columns
    assert [tuple(row) for row in rows] == [("k-1", "j-1", 4)]
