"""The registry schema in PostgreSQL.

Numbering rests on three things here: one counter row per (agency, book, year) locked with
``SELECT … FOR UPDATE`` by the allocating transaction (services/registry/adapters/repository.py),
the UNIQUE constraint on (agency, book, year, number) as the last line of defence, and the
unique uniqueness key (outgoing: agency + year + số/ký hiệu) that refuses a duplicate symbol.
History rows are append-only: a trigger (migration registry_0001) refuses UPDATE and DELETE.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.chassis.db import inbox_table, outbox_table
from services.registry.domain.record import (
    DISTRIBUTION_MAX,
    DOCUMENT_ID_MAX,
    DOSSIER_CODE_MAX,
    FILE_NAME_MAX,
    LANGUAGE_MAX,
    MEDIA_TYPE_MAX,
    NOTE_MAX,
    SUBJECT_MAX,
)
from services.registry.domain.symbols import NUMBER_AND_SYMBOL_MAX_LENGTH

SCHEMA = "registry"
metadata = sa.MetaData(schema=SCHEMA)

documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", pg.UUID(as_uuid=False), primary_key=True),
    # Keyset pagination and "newest first" order: an ever-increasing sequence.
    sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
    sa.Column("direction", sa.Text, nullable=False),
    sa.Column("agency_code", sa.String(13), nullable=False),
    sa.Column("book", sa.Text),  # NULL while an outgoing document is a draft
    sa.Column("year", sa.Integer),
    sa.Column("number", sa.Integer),  # số (outgoing) or số đến (incoming) in `book`
    sa.Column("number_and_symbol", sa.String(NUMBER_AND_SYMBOL_MAX_LENGTH)),
    sa.Column("document_date", sa.Date),
    sa.Column("document_id", sa.String(DOCUMENT_ID_MAX)),
    sa.Column("document_type", sa.Text, nullable=False),
    sa.Column("legal_normative", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("electronic", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("subject", sa.String(SUBJECT_MAX), nullable=False),
    # fold(subject): lower case, no diacritics — what the trigram index searches.
    sa.Column("subject_folded", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("signer", pg.JSONB),
    sa.Column("urgency", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("confidentiality", sa.Text, nullable=False, server_default="thường"),
    sa.Column("sender", pg.JSONB),
    sa.Column("receivers", pg.JSONB, nullable=False, server_default="[]"),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("received_at", sa.DateTime(timezone=True)),
    sa.Column("effective_received_at", sa.DateTime(timezone=True)),
    sa.Column("due_date", sa.Date),
    sa.Column("completed_at", sa.DateTime(timezone=True)),
    sa.Column("distribution_instructions", sa.String(DISTRIBUTION_MAX)),
    sa.Column("language", sa.String(LANGUAGE_MAX), nullable=False),
    sa.Column("page_count", sa.Integer),
    sa.Column("number_of_copies", sa.Integer),
    sa.Column("dossier_code", sa.String(DOSSIER_CODE_MAX)),
    sa.Column("note", sa.String(NOTE_MAX)),
    sa.Column("drafting_unit", sa.Text),
    sa.Column("corrects", pg.JSONB),
    sa.Column("assignees", pg.JSONB, nullable=False, server_default="[]"),
    sa.Column("extra", pg.JSONB, nullable=False, server_default="{}"),
    # "|"-joined DocumentRecord.uniqueness_key; NULL when the record lacks its parts.
    sa.Column("uniqueness_key", sa.Text),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.CheckConstraint("direction IN ('outgoing', 'incoming')", name="documents_direction"),
    sa.CheckConstraint(
        "(book IS NULL) = (number IS NULL) AND (number IS NULL) = (year IS NULL)",
        name="documents_numbered_in_a_book",
    ),
    sa.CheckConstraint("number IS NULL OR number >= 1", name="documents_number_positive"),
    sa.UniqueConstraint("agency_code", "book", "year", "number", name="documents_book_number"),
    sa.Index(
        "documents_uniqueness",
        "agency_code",
        "direction",
        "uniqueness_key",
        unique=True,
        postgresql_where=sa.text("uniqueness_key IS NOT NULL"),
    ),
    sa.Index(
        "documents_document_id",
        "agency_code",
        "direction",
        "document_id",
        unique=True,
        postgresql_where=sa.text("document_id IS NOT NULL"),
    ),
    sa.Index("documents_agency_seq", "agency_code", "seq"),
    sa.Index("documents_agency_year_seq", "agency_code", "year", "seq"),  # registry_0003
    sa.Index("documents_agency_date", "agency_code", "direction", "document_date"),
    sa.Index("documents_agency_received", "agency_code", "received_at"),
    sa.Index(
        "documents_subject_trgm",
        sa.text("subject_folded gin_trgm_ops"),
        postgresql_using="gin",
    ),
)

attachments = sa.Table(
    "attachments",
    metadata,
    sa.Column(
        "document_uuid",
        pg.UUID(as_uuid=False),
        sa.ForeignKey(f"{SCHEMA}.documents.id"),
        primary_key=True,
    ),
    sa.Column("position", sa.SmallInteger, primary_key=True),
    sa.Column("file_name", sa.String(FILE_NAME_MAX), nullable=False),
    sa.Column("media_type", sa.String(MEDIA_TYPE_MAX), nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="attachments_sha256_hex"),
    sa.CheckConstraint("size_bytes >= 0", name="attachments_size"),
)

# The main file's versions, oldest first by position (registry_0006); bytes in the blob store.
file_versions = sa.Table(
    "file_versions",
    metadata,
    sa.Column(
        "document_uuid",
        pg.UUID(as_uuid=False),
        sa.ForeignKey(f"{SCHEMA}.documents.id"),
        primary_key=True,
    ),
    sa.Column("position", sa.SmallInteger, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("media_type", sa.String(MEDIA_TYPE_MAX), nullable=False),
    sa.Column("file_name", sa.String(FILE_NAME_MAX), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.CheckConstraint(
        "kind IN ('original', 'person_signed', 'numbered', 'sealed', 'received')",
        name="file_versions_kind",
    ),
    sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="file_versions_sha256_hex"),
    sa.CheckConstraint("size_bytes > 0", name="file_versions_size"),
    sa.CheckConstraint("position >= 0", name="file_versions_position"),
    sa.Index("file_versions_sha256", "document_uuid", "sha256"),
)

history = sa.Table(
    "history",
    metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column(
        "document_uuid",
        pg.UUID(as_uuid=False),
        sa.ForeignKey(f"{SCHEMA}.documents.id"),
        nullable=False,
    ),
    sa.Column("from_status", sa.Text),
    sa.Column("to_status", sa.Text, nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("note", sa.String(2000)),
    sa.Index("history_document", "document_uuid", "seq"),
)

book_counters = sa.Table(
    "book_counters",
    metadata,
    sa.Column("agency_code", sa.String(13), primary_key=True),
    sa.Column("book", sa.Text, primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("last_number", sa.Integer, nullable=False, server_default="0"),
    sa.CheckConstraint("last_number >= 0", name="book_counters_last_number"),
)

# Per-agency office hours and own days off (registry_0005); no row: the defaults.
office_hours = sa.Table(
    "office_hours",
    metadata,
    sa.Column("agency_code", sa.String(13), primary_key=True),
    sa.Column("periods", pg.JSONB, nullable=False),
    sa.Column("make_up_day_periods", pg.JSONB, nullable=False),
    sa.Column("extra_days_off", pg.JSONB, nullable=False, server_default="[]"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_by", sa.String(255), nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
