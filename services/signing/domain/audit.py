"""Append-only, hash-chained audit log of signing operations (pure: no storage here).

Each record carries the SHA-256 of its predecessor's canonical form, so removing, reordering or
editing any record breaks every later link; :func:`verify_chain` finds the first bad one.
Storage (PostgreSQL, one row per record, insert-only grant) is an adapter concern.

Canonical form: UTF-8 JSON with sorted keys, no spaces, NFC strings, times ISO 8601 +07:00.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from services.chassis.text import nfc

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
GENESIS_HASH = "0" * 64


class Outcome(enum.StrEnum):
    SIGNED = "signed"
    REFUSED = "refused"
    FAILED = "failed"


class AuditChainBroken(Exception):
    """A record's hash or link does not match; ``sequence`` names the first bad record."""

    def __init__(self, sequence: int, reason: str) -> None:
        super().__init__(f"audit record {sequence}: {reason}")
        self.sequence = sequence
        self.reason = reason


@dataclass(frozen=True)
class AuditEvent:
    """What happened, before it is chained."""

    requested_by: str
    operation: str
    key_id: str
    document_sha256_before: str
    document_sha256_after: str | None
    outcome: Outcome
    detail: str = ""
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(VIETNAM))

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("at: audit times must carry a time zone")
        if self.outcome is Outcome.SIGNED and not self.document_sha256_after:
            raise ValueError("document_sha256_after: required when the outcome is 'signed'")


@dataclass(frozen=True)
class AuditRecord:
    """A chained event: ``record_hash`` = SHA-256(canonical(event, sequence, previous_hash))."""

    sequence: int
    previous_hash: str
    event: AuditEvent
    record_hash: str

    def canonical_body(self) -> bytes:
        return canonical_body(self.sequence, self.previous_hash, self.event)


def canonical_body(sequence: int, previous_hash: str, event: AuditEvent) -> bytes:
    body = {
        "sequence": sequence,
        "previous_hash": previous_hash,
        "requested_by": nfc(event.requested_by),
        "operation": event.operation,
        "key_id": event.key_id,
        "document_sha256_before": event.document_sha256_before,
        "document_sha256_after": event.document_sha256_after,
        "outcome": event.outcome.value,
        "detail": nfc(event.detail),
        "at": event.at.astimezone(VIETNAM).isoformat(timespec="microseconds"),
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def chain(previous: AuditRecord | None, event: AuditEvent) -> AuditRecord:
    """Append ``event`` after ``previous`` (``None`` for the first record)."""
    sequence = 1 if previous is None else previous.sequence + 1
    previous_hash = GENESIS_HASH if previous is None else previous.record_hash
    digest = hashlib.sha256(canonical_body(sequence, previous_hash, event)).hexdigest()
    return AuditRecord(sequence, previous_hash, event, digest)


def verify_chain(records: Iterable[AuditRecord]) -> int:
    """Check every link; return the number of records, or raise :class:`AuditChainBroken`."""
    expected_previous, expected_sequence, count = GENESIS_HASH, 1, 0
    for record in records:
        if record.sequence != expected_sequence:
            raise AuditChainBroken(record.sequence, f"sequence gap, expected {expected_sequence}")
        if record.previous_hash != expected_previous:
            raise AuditChainBroken(
                record.sequence, "previous_hash does not link to the prior record"
            )
        if hashlib.sha256(record.canonical_body()).hexdigest() != record.record_hash:
            raise AuditChainBroken(record.sequence, "record_hash does not match its content")
        expected_previous, expected_sequence = record.record_hash, expected_sequence + 1
        count += 1
    return count


class InMemoryAuditLog:
    """Append-only log kept in memory (tests, the CLI sample); the DB adapter has the same API."""

    def __init__(self) -> None:
        self._records: list[AuditRecord] = []

    def append(self, event: AuditEvent) -> AuditRecord:
        record = chain(self._records[-1] if self._records else None, event)
        self._records.append(record)
        return record

    def records(self) -> tuple[AuditRecord, ...]:
        return tuple(self._records)

    def get(self, sequence: int) -> AuditRecord:
        if not 1 <= sequence <= len(self._records):
            raise KeyError(f"audit sequence {sequence}: no such record")
        return self._records[sequence - 1]
