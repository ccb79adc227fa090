"""Packages, dispatches, deliveries with append-only history, inbox entries, webhooks, outbox.

Revision ID: distribution_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from services.chassis.db import inbox_table, outbox_table
from services.chassis.outbox import outbox_notify_ddl

revision = "distribution_0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "distribution"
_TS = sa.DateTime(timezone=True)


def _tables_at_0001(md: sa.MetaData) -> dict[str, sa.Table]:
    """A frozen copy of the tables as this revision creates them (the ORM may move on)."""
    packages = sa.Table(
        "packages",
        md,
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("sender_code", sa.String(13), nullable=False),
        sa.Column("document_id", sa.Text, nullable=False, server_default=""),
        sa.Column("subject", sa.Text, nullable=False, server_default=""),
        sa.Column("document_type", sa.Text, nullable=False, server_default=""),
        sa.Column("priority", sa.SmallInteger, nullable=False),
        sa.Column("kind", sa.SmallInteger, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("stored_at", _TS, nullable=False, server_default=sa.func.now()),
    )
    dispatches = sa.Table(
        "dispatches",
        md,
        sa.Column("id", pg.UUID(as_uuid=False), primary_key=True),
        sa.Column(
            "package_sha256", sa.String(64), sa.ForeignKey(packages.c.sha256), nullable=False
        ),
        sa.Column("sender_code", sa.String(13), nullable=False),
        sa.Column("priority", sa.SmallInteger, nullable=False),
        sa.Column("kind", sa.SmallInteger, nullable=False),
        sa.Column("deliver_at", _TS),
        sa.Column("supersedes_dispatch_id", pg.UUID(as_uuid=False)),
        sa.Column("frozen", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("sent_at", _TS, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Index("dispatches_sender", "sender_code", "sent_at"),
    )
    dispatch_events = sa.Table(
        "dispatch_events",
        md,
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "dispatch_id", pg.UUID(as_uuid=False), sa.ForeignKey(dispatches.c.id), nullable=False
        ),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
    )
    deliveries = sa.Table(
        "deliveries",
        md,
        sa.Column("id", pg.UUID(as_uuid=False), primary_key=True),
        sa.Column(
            "dispatch_id", pg.UUID(as_uuid=False), sa.ForeignKey(dispatches.c.id), nullable=False
        ),
        sa.Column("package_sha256", sa.String(64), nullable=False),
        sa.Column("sender_code", sa.String(13), nullable=False),
        sa.Column("receiver_code", sa.String(13), nullable=False),
        sa.Column("lane", sa.Text, nullable=False),
        sa.Column("priority", sa.SmallInteger, nullable=False),
        sa.Column("kind", sa.SmallInteger, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("state_before_notice", sa.Text),
        sa.Column("status_code", sa.String(2), nullable=False, server_default=""),
        sa.Column("paper_copy", sa.Boolean, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        # The same package reaches one receiver once, however often it is sent.
        sa.UniqueConstraint("package_sha256", "receiver_code", name="deliveries_once"),
        sa.Index("deliveries_dispatch", "dispatch_id"),
    )
    delivery_history = sa.Table(
        "delivery_history",
        md,
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "delivery_id", pg.UUID(as_uuid=False), sa.ForeignKey(deliveries.c.id), nullable=False
        ),
        sa.Column("code", sa.String(2), nullable=False),
        sa.Column("from_state", sa.Text, nullable=False),
        sa.Column("to_state", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Index("delivery_history_delivery", "delivery_id", "seq"),
    )
    inbox_entries = sa.Table(
        "inbox_entries",
        md,
        sa.Column("delivery_id", pg.UUID(as_uuid=False), primary_key=True),
        sa.Column("sequence", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
        sa.Column("dispatch_id", pg.UUID(as_uuid=False), nullable=False),
        sa.Column("package_sha256", sa.String(64), nullable=False),
        sa.Column("receiver_code", sa.String(13), nullable=False),
        sa.Column("sender_code", sa.String(13), nullable=False),
        sa.Column("priority", sa.SmallInteger, nullable=False),
        sa.Column("kind", sa.SmallInteger, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("state_before_notice", sa.Text),
        sa.Column("pending_notice", sa.Text, nullable=False, server_default=""),
        sa.Column("supersedes_dispatch_id", pg.UUID(as_uuid=False)),
        sa.Column("received_at", _TS, nullable=False),
        sa.Column("effective_received_at", _TS, nullable=False),
        sa.Column("visible_from", _TS, nullable=False),
        sa.Column("paper_copy", sa.Boolean, nullable=False),
        sa.Column("registry_id", sa.Text, nullable=False, server_default=""),
        sa.Column("arrival_number", sa.Integer, nullable=False, server_default="0"),
        sa.Column("assignee", sa.Text, nullable=False, server_default=""),
        sa.Column("verification", sa.Text, nullable=False, server_default=""),
        sa.Column("sent_at", _TS),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Index("inbox_entries_receiver", "receiver_code", "sequence"),
    )
    webhooks = sa.Table(
        "webhooks",
        md,
        sa.Column("receiver_code", sa.String(13), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
    )
    return {
        "packages": packages,
        "dispatches": dispatches,
        "dispatch_events": dispatch_events,
        "deliveries": deliveries,
        "delivery_history": delivery_history,
        "inbox_entries": inbox_entries,
        "webhooks": webhooks,
    }


def upgrade() -> None:
    local = sa.MetaData(schema=SCHEMA)
    _tables_at_0001(local)
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
