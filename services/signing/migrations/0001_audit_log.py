"""Signing audit log (append-only, hash-chained), outbox and inbox.

Revision ID: signing_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from services.chassis.db import inbox_table, outbox_table
from services.chassis.outbox import outbox_notify_ddl
from services.signing.adapters.audit_store import append_only_ddl, audit_log_table

revision = "signing_0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "signing"


def upgrade() -> None:
    local = sa.MetaData(schema=SCHEMA)
    bind = op.get_bind()
    audit_log_table(local).create(bind)
    for statement in append_only_ddl(SCHEMA):
        op.execute(statement)
    # The chassis's outbox/inbox layout as of this revision.
    outbox_table(local).create(bind)
    inbox_table(local).create(bind)
    for statement in outbox_notify_ddl(SCHEMA):
        op.execute(statement)


def downgrade() -> None:
    op.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
