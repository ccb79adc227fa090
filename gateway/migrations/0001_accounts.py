"""Accounts, refresh tokens and the audit trail.

Revision ID: gateway_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "gateway_0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "gateway"


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", pg.UUID(as_uuid=False), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("full_name", sa.Text, nullable=False, server_default=""),
        sa.Column("agency_code", sa.String(13), nullable=False),
        sa.Column("roles", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("password_hash", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_index("users_agency", "users", ["agency_code"], schema=SCHEMA)
    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "user_id",
            pg.UUID(as_uuid=False),
            sa.ForeignKey(f"{SCHEMA}.users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_index("refresh_tokens_user", "refresh_tokens", ["user_id"], schema=SCHEMA)
    # Append-only: logins (successful or not), logouts, account and permission changes. The
    # login throttle counts failures here, so it holds across gateway processes.
    op.create_table(
        "audit",
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("agency_code", sa.String(13)),
        sa.Column("client", sa.Text),
        sa.Column("correlation_id", sa.Text),
        sa.Column("detail", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        schema=SCHEMA,
    )
    op.create_index("audit_action_subject_at", "audit", ["action", "subject", "at"], schema=SCHEMA)
    op.create_index("audit_action_client_at", "audit", ["action", "client", "at"], schema=SCHEMA)
    op.execute(
        f"""
        CREATE FUNCTION {SCHEMA}.audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'gateway.audit is append-only'; END $$;
        CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {SCHEMA}.audit
        FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.audit_append_only();
        """
    )


def downgrade() -> None:
    op.drop_table("audit", schema=SCHEMA)
    op.execute(f"DROP FUNCTION IF EXISTS {SCHEMA}.audit_append_only()")
    op.drop_table("refresh_tokens", schema=SCHEMA)
    op.drop_table("users", schema=SCHEMA)
