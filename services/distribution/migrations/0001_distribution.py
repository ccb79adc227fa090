"""Packages, dispatches, deliveries with append-only history, inbox entries, webhooks, outbox.

Revision ID: distribution_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from services.chassis.db import inbox_table, outbox_table
from services.chassis.outbox import outbox_notify_ddl
from services.distribution.adapters.orm import define

revision = "distribution_0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "distribution"


def upgrade() -> None:
    local = sa.MetaData(schema=SCHEMA)
    define(local)
    outbox_table(local)
    inbox_table(local)
    local.create_all(op.get_bind())
    for statement in outbox_notify_ddl(SCHEMA):
        op.execute(statement)
    # History is evidence (QĐ 28/2018 Điều 10 khoản 2 điểm p): append-only in the database too.
    op.execute(
        f"""CREATE FUNCTION {SCHEMA}.append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'append-only table'; END $$"""
    )
    for table in ("delivery_history", "dispatch_events"):
        op.execute(
            f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {SCHEMA}.{table}
                FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.append_only()"""
        )


def downgrade() -> None:
    op.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
