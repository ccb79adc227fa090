"""Scheduled events: hỏa tốc hẹn giờ deliveries held until their time.

Revision ID: distribution_0002
Revises: distribution_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "distribution_0002"
down_revision = "distribution_0001"
branch_labels = None
depends_on = None

SCHEMA = "distribution"
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "scheduled_events",
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", pg.UUID(as_uuid=False), nullable=False, unique=True),
        sa.Column("delivery_id", pg.UUID(as_uuid=False), nullable=False),
        sa.Column("due_at", _TS, nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("dataschema", sa.Text, nullable=False, server_default=""),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("scheduled_at", _TS, nullable=False),
        sa.Column("published_at", _TS),
        schema=SCHEMA,
    )
    op.create_index(
        "scheduled_events_due",
        "scheduled_events",
        ["due_at", "seq"],
        schema=SCHEMA,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_index("scheduled_events_delivery", "scheduled_events", ["delivery_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("scheduled_events", schema=SCHEMA)
