"""blind indexes: room for an email's index key version, and a look-up by it

The email's lookup key in email_codes and journey_emails becomes a blind index,
`<index key version>.<64 hex digits>` (protection/blind_index.py): the columns grow from 64
to 80 characters (SQLite does not enforce a length, so only PostgreSQL changes), and
journey_emails gets an index on it, to find a person's journeys by their address. Indexes
made before (without a version) are recomputed by `wayline keys rotate-index`.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLES = ("email_codes", "journey_emails")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.alter_column(table, "email_hash", type_=sa.String(80))
    op.create_index("ix_journey_emails_email_hash", "journey_emails", ["email_hash"])


def downgrade() -> None:
    op.drop_index("ix_journey_emails_email_hash", "journey_emails")
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.alter_column(table, "email_hash", type_=sa.String(64))
