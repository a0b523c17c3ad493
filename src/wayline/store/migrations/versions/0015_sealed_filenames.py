"""sealed file names: documents.filename becomes text, for its sealed form

An upload's original file name is personal (a customer may name a photo after themselves),
so it is now sealed like the evidence (`wl1:…`, longer than the name). The column was 255
characters; it becomes unbounded text on PostgreSQL (SQLite does not enforce a length). Names
stored before stay in clear and read back as they are.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("documents", "filename", type_=sa.Text)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("documents", "filename", type_=sa.String(255))
