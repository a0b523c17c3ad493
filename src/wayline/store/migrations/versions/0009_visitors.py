"""visitors: journeys started without signing in (`who: anyone`)

- email_codes: six-digit codes sent to verify a visitor's email address, kept only as keyed
  hashes; each expires, and is used once.
- verification_locks: wrong codes counted per journey and per email address (a keyed hash of
  it); five lock verification for a while, whatever new code is asked for.
- journey_emails: the email address a visitor's journey belongs to once verified (where its
  resume links are sent).
- resume_links: signed, single-use, expiring links back to a visitor's journey, by the
  SHA-256 of their random part.
- journey_viewers: who may still see a journey's status page after its ownership passed to
  a customer (the visitor who started it).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "email_codes",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("journey_id", sa.String(32), nullable=False),
        sa.Column("email_hash", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("expires_at", Stamp, nullable=False),
        sa.Column("used_at", Stamp, nullable=True),
    )
    op.create_index("ix_email_codes_journey", "email_codes", ["journey_id", "created_at"])
    op.create_table(
        "verification_locks",
        sa.Column("scope", sa.String(100), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", Stamp, nullable=True),
        sa.Column("updated_at", Stamp, nullable=False),
    )
    op.create_table(
        "journey_emails",
        sa.Column("journey_id", sa.String(32), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_hash", sa.String(64), nullable=False),
        sa.Column("verified_at", Stamp, nullable=False),
    )
    op.create_table(
        "resume_links",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("journey_id", sa.String(32), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("expires_at", Stamp, nullable=False),
        sa.Column("used_at", Stamp, nullable=True),
    )
    op.create_index("ix_resume_links_journey", "resume_links", ["journey_id"])
    op.create_table(
        "journey_viewers",
        sa.Column("journey_id", sa.String(32), primary_key=True),
        sa.Column("subject", sa.String(100), primary_key=True),
        sa.Column("granted_at", Stamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("journey_viewers")
    op.drop_index("ix_resume_links_journey", table_name="resume_links")
    op.drop_table("resume_links")
    op.drop_table("journey_emails")
    op.drop_table("verification_locks")
    op.drop_index("ix_email_codes_journey", table_name="email_codes")
    op.drop_table("email_codes")
