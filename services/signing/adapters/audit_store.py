"""PostgreSQL store of the hash-chained audit log (schema ``signing``, table ``audit_log``).

Append-only twice over: the adapter only inserts, and triggers reject UPDATE, DELETE and
TRUNCATE on the table for every role (the chain would reveal such edits anyway, see
``services/signing/domain/audit.py``). Appends from several processes are serialised by a
transaction-scoped advisory lock so that each record links to the true predecessor.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.signing.domain.audit import AuditEvent, AuditRecord, Outcome, chain, verify_chain

_APPEND_LOCK = zlib.crc32(b"signing.audit_log.append")


def audit_log_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "audit_log",
        metadata,
        sa.Column("sequence", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("previous_hash", sa.CHAR(64), nullable=False),
        sa.Column("record_hash", sa.CHAR(64), nullable=False, unique=True),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("operation", sa.Text, nullable=False),
        sa.Column("key_id", sa.Text, nullable=False),
        sa.Column("document_sha256_before", sa.CHAR(64), nullable=False),
        sa.Column("document_sha256_after", sa.CHAR(64)),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("outcome IN ('signed', 'refused', 'failed')", name="audit_outcome"),
        sa.CheckConstraint(
            "(outcome = 'signed') = (document_sha256_after IS NOT NULL)", name="audit_after_hash"
        ),
    )


def append_only_ddl(schema: str) -> list[str]:
    """Trigger DDL rejecting UPDATE, DELETE and TRUNCATE on ``<schema>.audit_log``."""
    return [
        f"""
        CREATE FUNCTION "{schema}".audit_log_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """,
        f"""
        CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE
        ON "{schema}".audit_log FOR EACH ROW
        EXECUTE FUNCTION "{schema}".audit_log_append_only()
        """,
        f"""
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE
        ON "{schema}".audit_log FOR EACH STATEMENT
        EXECUTE FUNCTION "{schema}".audit_log_append_only()
        """,
    ]


class PostgresAuditLog:
    """The audit log in PostgreSQL; same API as ``InMemoryAuditLog``."""

    def __init__(self, engine: Engine, schema: str = "signing") -> None:
        self.engine = engine
        self.table = audit_log_table(sa.MetaData(schema=schema))

    def append(self, event: AuditEvent) -> AuditRecord:
        """Chain ``event`` after the last stored record, in one transaction."""
        table = self.table
        with self.engine.begin() as connection:
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_APPEND_LOCK)))
            last_row = (
                connection.execute(sa.select(table).order_by(table.c.sequence.desc()).limit(1))
                .mappings()
                .first()
            )
            record = chain(None if last_row is None else _record(last_row), event)
            connection.execute(
                table.insert().values(
                    sequence=record.sequence,
                    previous_hash=record.previous_hash,
                    record_hash=record.record_hash,
                    requested_by=event.requested_by,
                    operation=event.operation,
                    key_id=event.key_id,
                    document_sha256_before=event.document_sha256_before,
                    document_sha256_after=event.document_sha256_after,
                    outcome=event.outcome.value,
                    detail=event.detail,
                    at=event.at,
                )
            )
        return record

    def records(self, from_sequence: int = 1) -> Iterator[AuditRecord]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(self.table)
                .where(self.table.c.sequence >= from_sequence)
                .order_by(self.table.c.sequence)
            ).mappings()
            for row in rows:
                yield _record(row)

    def get(self, sequence: int) -> AuditRecord:
        with self.engine.connect() as connection:
            row = (
                connection.execute(sa.select(self.table).where(self.table.c.sequence == sequence))
                .mappings()
                .first()
            )
        if row is None:
            raise KeyError(f"audit sequence {sequence}: no such record")
        return _record(row)

    def verify(self) -> int:
        """Re-hash the whole chain; raise ``AuditChainBroken`` at the first bad record."""
        return verify_chain(self.records())


def _record(row: sa.RowMapping) -> AuditRecord:
    event = AuditEvent(
        requested_by=row["requested_by"],
        operation=row["operation"],
        key_id=row["key_id"],
        document_sha256_before=row["document_sha256_before"],
        document_sha256_after=row["document_sha256_after"],
        outcome=Outcome(row["outcome"]),
        detail=row["detail"],
        at=row["at"],
    )
    return AuditRecord(
        sequence=row["sequence"],
        previous_hash=row["previous_hash"],
        event=event,
        record_hash=row["record_hash"],
    )
