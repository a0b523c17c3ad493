"""event_outbox: the journey events waiting to be published as CloudEvents (docs/events.md)

One row per event, written in the event's own transaction; the relay leases rows (FOR UPDATE
SKIP LOCKED on PostgreSQL), publishes them and stamps `published_at`. Events recorded before
this revision are entered as already published: a new deployment does not flood its bus with
history (`wayline events replay` sends a range on purpose).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)
Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "event_outbox",
        sa.Column("event_id", Serial, primary_key=True, autoincrement=False),
        sa.Column("journey_id", sa.String(32), nullable=False),
        sa.Column("traceparent", sa.String(55), nullable=True),
        sa.Column("leased_by", sa.String(40), nullable=True),
        sa.Column("leased_until", Stamp, nullable=True),
        sa.Column("published_at", Stamp, nullable=True),
    )
    op.create_index("ix_event_outbox_pending", "event_outbox", ["published_at", "event_id"])
    op.create_index("ix_event_outbox_journey", "event_outbox", ["journey_id", "event_id"])
    op.execute(
        "INSERT INTO event_outbox (event_id, journey_id, published_at) "
        "SELECT id, journey_id, at FROM events"
    )


def downgrade() -> None:
    op.drop_index("ix_event_outbox_journey", table_name="event_outbox")
    op.drop_index("ix_event_outbox_pending", table_name="event_outbox")
    op.drop_table("event_outbox")
