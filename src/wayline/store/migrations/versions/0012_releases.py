"""releases: canary releases of journey definition versions, and their log

- releases: one row per release of a journey's version (the canary) against the version
  new journeys were on (stable): its strategy, the stage it is at, its status (running,
  paused, rolled_back, promoted), how many analyses in a row found a KPI failing, and a
  revision for compare-and-set updates (two workers never both decide). `open_journey` holds
  the journey's name while the release is open and is unique: one open release a journey.
- release_log: every decision and analysis of a release (started, analysed, advanced,
  paused, resumed, rolled_back, promoted), who or what made it, and the KPIs it saw.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)
Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "releases",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("journey", sa.String(100), nullable=False),
        sa.Column("stable_version", sa.String(64), nullable=False),
        sa.Column("canary_version", sa.String(64), nullable=False),
        sa.Column("strategy", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("stage", sa.Integer, nullable=False),
        sa.Column("percent", sa.Integer, nullable=False),
        sa.Column("stage_started_at", Stamp, nullable=False),
        sa.Column("started_at", Stamp, nullable=False),
        sa.Column("started_by", sa.String(100), nullable=False),
        sa.Column("ended_at", Stamp, nullable=True),
        sa.Column("failing_intervals", sa.Integer, nullable=False),
        sa.Column("last_analysed_at", Stamp, nullable=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("open_journey", sa.String(100), nullable=True, unique=True),
    )
    op.create_index("ix_releases_journey", "releases", ["journey", "started_at"])
    op.create_table(
        "release_log",
        sa.Column("id", Serial, primary_key=True, autoincrement=True),
        sa.Column("release_id", sa.String(32), nullable=False),
        sa.Column("journey", sa.String(100), nullable=False),
        sa.Column("at", Stamp, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
    )
    op.create_index("ix_release_log_release", "release_log", ["release_id", "id"])
    op.create_index("ix_release_log_journey", "release_log", ["journey", "at"])


def downgrade() -> None:
    op.drop_table("release_log")
    op.drop_table("releases")
