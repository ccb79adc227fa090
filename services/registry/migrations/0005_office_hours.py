"""Office hours and own days off per agency (configuration; the defaults apply without a row).

Revision ID: registry_0005
Revises: registry_0004

``periods`` maps the ISO weekday ("1" = Monday … "7" = Sunday) to a list of ``["HH:MM",
"HH:MM"]`` periods; ``make_up_day_periods`` is one such list; ``extra_days_off`` is a list of
``yyyy-MM-dd``. The service validates them (services/registry/service_layer/office_hours.py)
before writing, so the columns are plain JSONB.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "registry_0005"
down_revision = "registry_0004"
branch_labels = None
depends_on = None

SCHEMA = "registry"


def upgrade() -> None:
    op.create_table(
        "office_hours",
        sa.Column("agency_code", sa.String(13), primary_key=True),
        sa.Column("periods", pg.JSONB, nullable=False),
        sa.Column("make_up_day_periods", pg.JSONB, nullable=False),
        sa.Column("extra_days_off", pg.JSONB, nullable=False, server_default="[]"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(255), nullable=False),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("office_hours", schema=SCHEMA)
