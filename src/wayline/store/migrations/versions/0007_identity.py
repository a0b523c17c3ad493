"""identity: who a session speaks for, sign-ins waiting on a provider, the audit log

- sessions gain the principal: customer or staff, roles, the assurance level and time of the
  sign-in's proof, and the provider that gave it. Sessions from before are customers' demo
  sign-ins at level 1, proved when they started.
- sign_in_requests: an authorization request sent to a provider, until its callback (state,
  nonce and PKCE verifier, bound to the browser that started it).
- audit_log: append-only. Triggers refuse UPDATE and DELETE on SQLite and PostgreSQL alike, so
  no interface (nor a mistaken query) can change what it says.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_sessions = sa.table(
    "sessions",
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("authenticated_at", sa.DateTime(timezone=True)),
)

_POSTGRES_GUARD = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
"""
_SQLITE_GUARDS = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
]


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(20), nullable=False, server_default="customer")
        )
        batch.add_column(
            sa.Column("roles", sa.String(200), nullable=False, server_default="customer")
        )
        batch.add_column(sa.Column("assurance", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("authenticated_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("issuer", sa.String(300), nullable=False, server_default="demo"))
    op.execute(_sessions.update().values(authenticated_at=_sessions.c.created_at))

    op.create_table(
        "sign_in_requests",
        sa.Column("id", sa.String(64), primary_key=True),  # SHA-256 of `state`
        sa.Column("browser", sa.String(64), nullable=False),  # SHA-256 of the binding cookie
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("nonce", sa.String(100), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("return_to", sa.String(2000), nullable=False),
        sa.Column("step_up_level", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sign_in_requests_expires", "sign_in_requests", ["expires_at"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(32), primary_key=True),  # a ULID: sorts by time
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(100), nullable=True),  # none: not signed in
        sa.Column("actor_kind", sa.String(20), nullable=True),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(300), nullable=True),
        sa.Column("target_type", sa.String(40), nullable=True),
        sa.Column("target_id", sa.String(100), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor", "at"])
    op.create_index("ix_audit_log_target", "audit_log", ["target_type", "target_id", "at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRES_GUARD)
    else:
        for statement in _SQLITE_GUARDS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER audit_log_no_update ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table("audit_log")
    op.drop_index("ix_sign_in_requests_expires", table_name="sign_in_requests")
    op.drop_table("sign_in_requests")
    with op.batch_alter_table("sessions") as batch:
        for column in ("issuer", "authenticated_at", "assurance", "roles", "kind"):
            batch.drop_column(column)
