"""idempotency_keys: the journey and revision a key's first request produced, not its body

A replayed key answers with the journey's view as it is now, so the first response's body is
no longer kept: it held the customer's answers in plain text, for no use.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_keys = sa.table(
    "idempotency_keys",
    sa.column("customer_id", sa.String),
    sa.column("key", sa.String),
    sa.column("body", sa.JSON),
    sa.column("journey_id", sa.String),
    sa.column("revision", sa.Integer),
)


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(sa.Column("journey_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=True))
    # Each key's journey and revision, from the body it kept (every answer body names both).
    connection = op.get_bind()
    rows = connection.execute(sa.select(_keys.c.customer_id, _keys.c.key, _keys.c.body)).all()
    for row in rows:
        body = row.body if isinstance(row.body, dict) else {}
        connection.execute(
            _keys.update()
            .where(_keys.c.customer_id == row.customer_id, _keys.c.key == row.key)
            .values(journey_id=body.get("id"), revision=body.get("revision"))
        )
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("body")


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(sa.Column("body", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("revision")
        batch.drop_column("journey_id")
