"""The verification schema in PostgreSQL: the API-managed trust anchors, outbox and inbox."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.chassis.db import inbox_table, outbox_table

SCHEMA = "verification"
metadata = sa.MetaData(schema=SCHEMA)

trust_anchors = sa.Table(
    "trust_anchors",
    metadata,
    # SHA-256 of the DER certificate, lower-case hex: the anchor's identity.
    sa.Column("fingerprint", sa.String(64), primary_key=True),
    sa.Column("certificate", pg.BYTEA, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
