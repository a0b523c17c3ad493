"""cases: the handlers' workbench

- cases: a referred (or rule-picked) journey being worked by staff: its queue, status,
  priority, assignee, SLA due time, the reasons staff read, a four-eyes proposal and the
  decision. `open_journey` holds the journey's id while the case is open (NULL once closed):
  its unique constraint allows at most one open case per journey.
- case_notes: handlers' notes on a case.
- case_tasks: what a handler asked the customer for (a question or an upload) and the answer.
- case_views: a member of staff's saved filters.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("journey_id", sa.String(32), nullable=False),
        sa.Column("journey", sa.String(100), nullable=False),
        sa.Column("customer_id", sa.String(100), nullable=False),
        sa.Column("reference", sa.String(20), nullable=True),
        sa.Column("open_journey", sa.String(32), nullable=True),
        sa.Column("queue", sa.String(50), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("assignee", sa.String(100), nullable=True),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("proposal", sa.JSON(), nullable=True),
        sa.Column("decision", sa.JSON(), nullable=True),
        sa.Column("opened_at", Stamp, nullable=False),
        sa.Column("due_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.Column("closed_at", Stamp, nullable=True),
        sa.UniqueConstraint("open_journey", name="uq_cases_open_journey"),
    )
    op.create_index("ix_cases_queue", "cases", ["queue", "status", "due_at"])
    op.create_index("ix_cases_assignee", "cases", ["assignee", "status"])
    op.create_index("ix_cases_journey", "cases", ["journey_id", "opened_at"])

    op.create_table(
        "case_notes",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("at", Stamp, nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_index("ix_case_notes_case", "case_notes", ["case_id", "at"])

    op.create_table(
        "case_tasks",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("journey_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("accept", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("requested_at", Stamp, nullable=False),
        sa.Column("answered_at", Stamp, nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("documents", sa.JSON(), nullable=True),
    )
    op.create_index("ix_case_tasks_journey", "case_tasks", ["journey_id", "status"])
    op.create_index("ix_case_tasks_case", "case_tasks", ["case_id", "requested_at"])

    op.create_table(
        "case_views",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.UniqueConstraint("owner", "name", name="uq_case_views_owner_name"),
    )


def downgrade() -> None:
    op.drop_table("case_views")
    op.drop_index("ix_case_tasks_case", table_name="case_tasks")
    op.drop_index("ix_case_tasks_journey", table_name="case_tasks")
    op.drop_table("case_tasks")
    op.drop_index("ix_case_notes_case", table_name="case_notes")
    op.drop_table("case_notes")
    op.drop_index("ix_cases_journey", table_name="cases")
    op.drop_index("ix_cases_assignee", table_name="cases")
    op.drop_index("ix_cases_queue", table_name="cases")
    op.drop_table("cases")
