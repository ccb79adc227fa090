"""Agency directory, outbox and inbox.

Revision ID: identifiers_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from services.chassis.db import inbox_table, outbox_table
from services.chassis.outbox import outbox_notify_ddl

revision = "identifiers_0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "identifiers"


def upgrade() -> None:
    # pg_trgm is a trusted extension (PostgreSQL ≥ 13): a database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "agencies",
        sa.Column("code", sa.String(13), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_folded", sa.Text, nullable=False),
        sa.Column("abbreviation", sa.Text, nullable=False, server_default=""),
        sa.Column("parent_code", sa.String(13), sa.ForeignKey(f"{SCHEMA}.agencies.code")),
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("organization_in_charge", sa.Text, nullable=False, server_default=""),
        sa.Column("address", sa.Text, nullable=False, server_default=""),
        sa.Column("email", sa.Text, nullable=False, server_default=""),
        sa.Column("telephone", sa.Text, nullable=False, server_default=""),
        sa.Column("fax", sa.Text, nullable=False, server_default=""),
        sa.Column("website", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("status_effective_from", sa.Date),
        sa.Column("merged_into", sa.String(13), sa.ForeignKey(f"{SCHEMA}.agencies.code")),
        sa.Column("exchanges_electronically", sa.Boolean, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("status IN ('active', 'merged', 'dissolved')", name="agency_status"),
        sa.CheckConstraint(
            "(status = 'merged') = (merged_into IS NOT NULL)", name="merged_has_target"
        ),
        schema=SCHEMA,
    )
    op.create_index("agencies_parent", "agencies", ["parent_code"], schema=SCHEMA)
    op.create_index(
        "agencies_name_trgm",
        "agencies",
        [sa.text("name_folded gin_trgm_ops")],
        schema=SCHEMA,
        postgresql_using="gin",
    )
    # The chassis's outbox/inbox layout as of this revision.
    local = sa.MetaData(schema=SCHEMA)
    bind = op.get_bind()
    outbox_table(local).create(bind)
    inbox_table(local).create(bind)
    for statement in outbox_notify_ddl(SCHEMA):
        op.execute(statement)


def downgrade() -> None:
    op.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
