"""The distribution schema in PostgreSQL.

- ``packages``: each edXML package stored once (by SHA-256), however many receivers it has.
- ``dispatches``: one per Send (the sender's record of a sent document; frozen once recalled)
  and ``dispatch_events`` (sent / recall / update / replace), append-only.
- ``deliveries`` + ``delivery_history``: the sender's view, one row per receiver, and every
  status the receiver reported (append-only; a trigger refuses UPDATE and DELETE).
- ``inbox_entries``: the receiver's side; ``delivery_id`` is the primary key, so a delivery
  that reaches the consumer twice lands once. ``sequence`` is the pull cursor.
- ``webhooks``: external systems' endpoints and their HMAC secrets.
- ``scheduled_events`` (revision 0002): hỏa tốc hẹn giờ deliveries (and their recall notices)
  held until ``due_at``, then published through the outbox once.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.chassis.db import inbox_table, outbox_table

SCHEMA = "distribution"
metadata = sa.MetaData(schema=SCHEMA)
_TS = sa.DateTime(timezone=True)


def define(md: sa.MetaData) -> dict[str, sa.Table]:
    """The tables on ``md``. A change here needs a new migration revision; revision 0001
    keeps its own frozen copy."""
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
    # Hỏa tốc hẹn giờ: events held until their time, then published through the outbox by the
    # schedule worker (adapters/schedule.py). Published once: the worker locks due rows (SKIP
    # LOCKED) and marks them in the transaction that writes the outbox.
    scheduled_events = sa.Table(
        "scheduled_events",
        md,
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
        sa.Index(
            "scheduled_events_due",
            "due_at",
            "seq",
            postgresql_where=sa.text("published_at IS NULL"),
        ),
        sa.Index("scheduled_events_delivery", "delivery_id"),
    )
    return {
        "scheduled_events": scheduled_events,
        "packages": packages,
        "dispatches": dispatches,
        "dispatch_events": dispatch_events,
        "deliveries": deliveries,
        "delivery_history": delivery_history,
        "inbox_entries": inbox_entries,
        "webhooks": webhooks,
    }


_tables = define(metadata)
packages = _tables["packages"]
dispatches = _tables["dispatches"]
dispatch_events = _tables["dispatch_events"]
deliveries = _tables["deliveries"]
delivery_history = _tables["delivery_history"]
inbox_entries = _tables["inbox_entries"]
webhooks = _tables["webhooks"]
scheduled_events = _tables["scheduled_events"]
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
