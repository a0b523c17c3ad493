"""lifecycle: legal holds and the retention log

- legal_holds: a hold on a journey or on a customer (all their journeys), with its reason and
  who placed and released it; a held journey is never removed by retention or erasure.
- retention_log: what retention or an erasure removed, when, by which rule: the kinds of rows
  and how many, never the data itself.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)
Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("target", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("placed_by", sa.String(100), nullable=False),
        sa.Column("placed_at", Stamp, nullable=False),
        sa.Column("released_at", Stamp),
        sa.Column("released_by", sa.String(100)),
    )
    op.create_index("ix_legal_holds_target", "legal_holds", ["scope", "target", "released_at"])
    op.create_table(
        "retention_log",
        sa.Column("id", Serial, primary_key=True, autoincrement=True),
        sa.Column("at", Stamp, nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("journey_id", sa.String(32)),
        sa.Column("journey", sa.String(100)),
        sa.Column("subject", sa.String(100)),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("removed", sa.JSON, nullable=False),
    )
    op.create_index("ix_retention_log_at", "retention_log", ["at"])


def downgrade() -> None:
    op.drop_table("retention_log")
    op.drop_table("legal_holds")
