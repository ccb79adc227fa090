"""Use cases of the API-managed trust anchors: add, remove, list — state and event together.

An anchor is a self-signed CA certificate (the government root CA list is a set of such
roots). Each change publishes ``TrustStoreChanged`` on ``lienthong.verification.truststore.v1``
in the same transaction; every verification process listens (broadcast) and reloads, so the
next verification uses the new trust store version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from asn1crypto import x509 as asn1_x509
from lienthong.verification.v1 import verification_pb2 as pb
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidArgument
from services.chassis.events import Event, topic_name
from services.verification.adapters import orm
from services.verification.adapters.pdf import VIETNAM
from services.verification.adapters.truststore import der_blocks, fingerprint, load_certificate

SERVICE = "verification"
TRUSTSTORE_TOPIC = topic_name(SERVICE, "truststore")
_TYPE_PREFIX = "vn.lienthong.verification.truststore."
MAX_CERTIFICATE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class StoredAnchor:
    fingerprint: str
    certificate: asn1_x509.Certificate
    subject: str
    not_after: datetime
    note: str
    added_at: datetime | None


def anchor_to_pb(anchor: StoredAnchor, source: str = "database") -> pb.TrustAnchor:
    return pb.TrustAnchor(
        fingerprint=anchor.fingerprint,
        certificate=anchor.certificate.dump(),
        subject=anchor.subject,
        not_after=anchor.not_after.astimezone(VIETNAM).isoformat(),
        note=anchor.note,
        source=source,
        added_at=anchor.added_at.astimezone(VIETNAM).isoformat() if anchor.added_at else "",
    )


def parse_anchor(data: bytes, note: str = "") -> StoredAnchor:
    """A self-signed CA certificate from DER or PEM; anything else is an InvalidArgument."""
    if not data:
        raise InvalidArgument("is empty", field="certificate")
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise InvalidArgument(f"larger than {MAX_CERTIFICATE_BYTES} bytes", field="certificate")
    blocks = der_blocks(data, "CERTIFICATE")
    if len(blocks) != 1:
        raise InvalidArgument(f"expected one certificate, found {len(blocks)}", field="certificate")
    certificate = load_certificate(blocks[0], "certificate")
    if certificate.self_signed == "no":
        raise InvalidArgument("a trust anchor must be a self-signed root", field="certificate")
    if not certificate.ca:
        raise InvalidArgument("not a CA certificate (basicConstraints cA)", field="certificate")
    return StoredAnchor(
        fingerprint=fingerprint(certificate),
        certificate=certificate,
        subject=certificate.subject.human_friendly,
        not_after=certificate.not_valid_after,
        note=note.strip(),
        added_at=None,
    )


def _row_to_anchor(row: sa.Row) -> StoredAnchor:
    return StoredAnchor(
        fingerprint=row.fingerprint,
        certificate=asn1_x509.Certificate.load(bytes(row.certificate)),
        subject=row.subject,
        not_after=row.not_after,
        note=row.note,
        added_at=row.added_at,
    )


def list_anchors(uow: UnitOfWork) -> list[StoredAnchor]:
    rows = uow.execute(sa.select(orm.trust_anchors).order_by(orm.trust_anchors.c.added_at))
    return [_row_to_anchor(row) for row in rows]


def _event(change: pb.TrustStoreChanged.Change.ValueType, anchor: StoredAnchor) -> Event:
    payload = pb.TrustStoreChanged(change=change, anchor=anchor_to_pb(anchor))
    suffix = pb.TrustStoreChanged.Change.Name(change).removeprefix("CHANGE_").lower()
    return Event.of(TRUSTSTORE_TOPIC, _TYPE_PREFIX + suffix, SERVICE, anchor.fingerprint, payload)


def add_anchor(uow: UnitOfWork, candidate: StoredAnchor) -> tuple[StoredAnchor, bool]:
    """Insert unless present; (anchor as stored, created). An existing anchor emits nothing."""
    inserted = uow.execute(
        pg_insert(orm.trust_anchors)
        .values(
            fingerprint=candidate.fingerprint,
            certificate=candidate.certificate.dump(),
            subject=candidate.subject,
            not_after=candidate.not_after,
            note=candidate.note,
        )
        .on_conflict_do_nothing(index_elements=["fingerprint"])
        .returning(orm.trust_anchors)
    ).first()
    if inserted is None:
        existing = uow.execute(
            sa.select(orm.trust_anchors).where(
                orm.trust_anchors.c.fingerprint == candidate.fingerprint
            )
        ).one()
        return _row_to_anchor(existing), False
    stored = _row_to_anchor(inserted)
    uow.publish(_event(pb.TrustStoreChanged.CHANGE_ADDED, stored))
    return stored, True


def remove_anchor(uow: UnitOfWork, anchor_fingerprint: str) -> bool:
    key = anchor_fingerprint.strip().lower()
    if len(key) != 64 or any(ch not in "0123456789abcdef" for ch in key):
        raise InvalidArgument("must be 64 hexadecimal digits (SHA-256)", field="fingerprint")
    removed = uow.execute(
        sa.delete(orm.trust_anchors)
        .where(orm.trust_anchors.c.fingerprint == key)
        .returning(orm.trust_anchors)
    ).first()
    if removed is None:
        return False
    uow.publish(_event(pb.TrustStoreChanged.CHANGE_REMOVED, _row_to_anchor(removed)))
    return True
