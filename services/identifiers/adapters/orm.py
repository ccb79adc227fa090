"""The identifiers schema in PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from services.chassis.db import inbox_table, outbox_table

SCHEMA = "identifiers"
metadata = sa.MetaData(schema=SCHEMA)

agencies = sa.Table(
    "agencies",
    metadata,
    sa.Column("code", sa.String(13), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    # fold(name): lower case, no diacritics — what diacritic-insensitive search matches on.
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
    sa.CheckConstraint("(status = 'merged') = (merged_into IS NOT NULL)", name="merged_has_target"),
    sa.Index("agencies_parent", "parent_code"),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
