"""photo reuse index: 64-bit perceptual hashes split into four indexed 16-bit chunks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "photo_hashes",
        sa.Column("document_id", sa.String(32), primary_key=True),
        sa.Column("journey_id", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.String(100), nullable=False),
        sa.Column("phash", sa.BigInteger(), nullable=False),
        sa.Column("c0", sa.Integer(), nullable=False),
        sa.Column("c1", sa.Integer(), nullable=False),
        sa.Column("c2", sa.Integer(), nullable=False),
        sa.Column("c3", sa.Integer(), nullable=False),
    )
    # Each chunk with the hash: a lookup by chunk value and distance is answered from the index
    # alone (an index-only scan on PostgreSQL, a covering index on SQLite).
    for chunk in ("c0", "c1", "c2", "c3"):
        op.create_index(f"ix_photo_hashes_{chunk}", "photo_hashes", [chunk, "phash"])
    if op.get_bind().dialect.name == "postgresql":
        # Index-only scans need the visibility map: vacuum this insert-mostly table after 2% new
        # rows rather than PostgreSQL's default 20%, so recent photos are answered from the
        # indexes too.
        op.execute("ALTER TABLE photo_hashes SET (autovacuum_vacuum_insert_scale_factor = 0.02)")


def downgrade() -> None:
    for chunk in ("c0", "c1", "c2", "c3"):
        op.drop_index(f"ix_photo_hashes_{chunk}", table_name="photo_hashes")
    op.drop_table("photo_hashes")
