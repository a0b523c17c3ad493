"""documents: outcome of the checks, the display copy, evidence metadata and fraud signals

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(
            sa.Column("status", sa.String(20), nullable=False, server_default="accepted")
        )
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("display_key", sa.String(300), nullable=True))
        batch.add_column(sa.Column("display_content_type", sa.String(100), nullable=True))
        batch.add_column(sa.Column("evidence", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("signals", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        for column in (
            "signals",
            "evidence",
            "display_content_type",
            "display_key",
            "reason",
            "status",
        ):
            batch.drop_column(column)
