"""data keys: field-level envelope encryption (docs/data-protection.md)

- data_keys: each data subject's data keys (a customer's or a visitor's id), wrapped by a
  key-encryption key (KEK); `kek_version` names the KEK version that wrapped each, so rotation
  knows what is left to rewrap and `wayline keys retire` what still needs a version.
- index_keys: the keys of blind indexes (keyed hashes of personal values that are looked up),
  wrapped the same way; the newest is current.
- journey_emails.email becomes text: it is stored sealed, longer than an address in clear.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("subject", sa.String(255), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("kek_version", sa.String(300), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("rewrapped_at", Stamp, nullable=True),
    )
    op.create_index("ix_data_keys_kek", "data_keys", ["kek_version", "subject"])
    # A sealed address is longer than the longest address in clear.
    with op.batch_alter_table("journey_emails") as batch:
        batch.alter_column("email", type_=sa.Text(), existing_nullable=False)
    op.create_table(
        "index_keys",
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("kek_version", sa.String(300), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("index_keys")
    with op.batch_alter_table("journey_emails") as batch:
        batch.alter_column("email", type_=sa.String(320), existing_nullable=False)
    op.drop_index("ix_data_keys_kek", table_name="data_keys")
    op.drop_table("data_keys")
