"""Trust anchors managed through the API, outbox and inbox.

Revision ID: verification_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from services.chassis.db import inbox_table, outbox_table
from services.chassis.outbox import outbox_notify_ddl

revision = "verification_0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "verification"


def upgrade() -> None:
    op.create_table(
        "trust_anchors",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("certificate", pg.BYTEA, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column(
            "added_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("fingerprint ~ '^[0-9a-f]{64}$'", name="fingerprint_is_sha256_hex"),
        schema=SCHEMA,
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
