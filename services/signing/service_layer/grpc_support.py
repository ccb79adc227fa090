"""What the signing gRPC servicer needs besides the workflow: wiring, checks, conversions.

* :class:`SigningRuntimeProvider` — the chassis dependency holding the process's HSM login,
  the :class:`PadesEngine` and the signer profiles; built in ``setup()`` (after any fork).
* :class:`OutboxAuditLog` — the audit log written through a chassis unit of work, so the
  ``lienthong.signing.document.v1`` event is in the outbox *in the same transaction* as the
  audit record of the signature (the adapter ``PostgresAuditLog`` opens its own transaction
  and stays the reader).
* :func:`parse_header`, :class:`UploadBuffer`, :func:`refusal_error` — the request checks and
  the translation of a workflow refusal into a chassis error naming the field.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from asn1crypto import x509 as asn1_x509
from lienthong.signing.v1 import signing_pb2 as pb
from sqlalchemy.engine import Engine

from services.certificates.identity import read_subject
from services.chassis import config
from services.chassis.db import Database, UnitOfWork, inbox_table, outbox_table
from services.chassis.dependencies import DependencyProvider
from services.chassis.errors import InvalidArgument, ServiceError
from services.chassis.events import Event, topic_name
from services.chassis.timeutil import iso
from services.signing.adapters.audit_store import PostgresAuditLog, audit_log_table
from services.signing.adapters.hsm import Hsm, HsmError, KeyNotFound, process_hsm
from services.signing.adapters.images import (
    EncodedImage,
    handwritten_signature_png,
    round_seal_png,
)
from services.signing.adapters.pades import CopyForm, PadesEngine, SignerProfile
from services.signing.adapters.trust import TrustConfig
from services.signing.adapters.tsa import HsmTimestampAuthority
from services.signing.domain.audit import VIETNAM, AuditEvent, AuditRecord, Outcome, chain
from services.signing.domain.errors import (
    FormFieldProblem,
    InvalidDocument,
    PersonSignatureMissing,
    SignerCertificateProblem,
    SigningRefused,
)
from services.signing.service_layer.workflow import SignedResult, SigningService, sha256_hex

logger = logging.getLogger(__name__)

SCHEMA = "signing"
metadata = sa.MetaData(schema=SCHEMA)
AUDIT_TABLE = audit_log_table(metadata)
outbox_table(metadata)
inbox_table(metadata)

DOCUMENT_TOPIC = topic_name("signing", "document")
DOCUMENT_SIGNED_TYPE = "vn.lienthong.signing.document.signed"

# Declared (and documented) once in services/chassis/config.py.
TRUST_DIR_ENV = config.SIGNING_TRUST_DIR.name
TSA_KEY_ENV = config.SIGNING_TSA_KEY_ID_HEX.name
MAX_BYTES_ENV = config.SIGNING_MAX_DOCUMENT_BYTES.name
REPLY_CHUNK_BYTES = 1024 * 1024
DEFAULT_BATCH_CONCURRENCY = 4
MAX_BATCH_CONCURRENCY = 16
PROFILE_TTL_SECONDS = 300.0
# Same advisory lock key as PostgresAuditLog, so both writers keep one chain.
_APPEND_LOCK_KEY = "signing.audit_log.append"

OPERATIONS = {
    pb.PERSON: "sign_person",
    pb.NUMBER_AND_DATE: "fill_number_and_date",
    pb.ORGANISATION: "sign_organisation",
    pb.ATTACHMENT: "sign_attachment",
    pb.COPY: "sign_copy",
}
COPY_FORMS = {
    pb.SAO_Y: CopyForm.SAO_Y,
    pb.TRICH_SAO: CopyForm.TRICH_SAO,
    pb.SAO_LUC: CopyForm.SAO_LUC,
}


# -- errors -------------------------------------------------------------------------------------
class SigningCallRefused(ServiceError):
    """A refusal on the wire: the status is the refusal's own ``grpc_status``."""

    def __init__(self, reason: str, *, status: str, field: str | None = None) -> None:
        super().__init__(reason, field=field)
        self.status = status


def refusal_statuses() -> dict[type[Exception], str]:
    """Every refusal class and its ``grpc_status``: the chassis's safety net (``error_statuses``)
    for a refusal that reaches the interceptor without going through :func:`refusal_error`."""
    found: dict[type[Exception], str] = {}
    pending: list[type[Exception]] = [SigningRefused, HsmError]
    while pending:
        klass = pending.pop()
        found[klass] = klass.grpc_status  # type: ignore[attr-defined]
        pending.extend(klass.__subclasses__())
    return found


def refused_field(exc: Exception) -> str | None:
    """Which request field a workflow refusal is about (the caller must change that one)."""
    if isinstance(exc, InvalidDocument | PersonSignatureMissing | FormFieldProblem):
        return "document"
    if isinstance(exc, SignerCertificateProblem | KeyNotFound):
        return "header.key_id_hex"
    return None


def refusal_error(
    exc: SigningRefused | HsmError | ServiceError, audit: AuditRecord | None = None
) -> ServiceError:
    """The chassis error for a refusal; names the audit record that recorded it."""
    suffix = f" (audit record {audit.sequence})" if audit is not None else ""
    if isinstance(exc, ServiceError):
        return SigningCallRefused(f"{exc.reason}{suffix}", status=exc.status, field=exc.field)
    field_name = refused_field(exc)
    message = str(exc)
    if field_name and message.startswith(f"{field_name.rsplit('.', 1)[-1]}: "):
        # The engine's messages start with the field already; the wire message adds it again.
        message = message.split(": ", 1)[1]
    return SigningCallRefused(
        f"{type(exc).__name__}: {message}{suffix}", status=exc.grpc_status, field=field_name
    )


# -- request checks -----------------------------------------------------------------------------
@dataclass(frozen=True)
class SignRequest:
    """A checked :class:`pb.SignHeader`."""

    step: int
    operation: str
    requested_by: str
    key_id: bytes | None
    number: str = ""
    place_and_date: str = ""
    digitised_copy: bool = False
    copy_form: CopyForm | None = None
    copying_agency: str = ""
    filename: str = ""


def operation_name(header: pb.SignHeader) -> str:
    return OPERATIONS.get(header.step, "sign_document")


def parse_header(header: pb.SignHeader, prefix: str = "header") -> SignRequest:
    """Check the header for its step; raise :class:`InvalidArgument` naming the field."""
    if header.step not in OPERATIONS:
        raise InvalidArgument("must name the step (PERSON … COPY)", field=f"{prefix}.step")
    requested_by = header.requested_by.strip()
    if not requested_by:
        raise InvalidArgument("must say who asks for the signature", field=f"{prefix}.requested_by")
    key_id: bytes | None = None
    if header.step != pb.NUMBER_AND_DATE:
        if not header.key_id_hex:
            raise InvalidArgument("is required for this step", field=f"{prefix}.key_id_hex")
        try:
            key_id = bytes.fromhex(header.key_id_hex)
        except ValueError:
            raise InvalidArgument("is not hexadecimal", field=f"{prefix}.key_id_hex") from None
    needs = {
        pb.NUMBER_AND_DATE: ("number", "place_and_date"),
        pb.ATTACHMENT: ("number",),
        pb.COPY: ("copying_agency",),
    }.get(header.step, ())
    for name in needs:
        if not getattr(header, name).strip():
            raise InvalidArgument("is required for this step", field=f"{prefix}.{name}")
    copy_form = None
    if header.step == pb.COPY:
        copy_form = COPY_FORMS.get(header.copy_form)
        if copy_form is None:
            raise InvalidArgument(
                "must be SAO_Y, TRICH_SAO or SAO_LUC", field=f"{prefix}.copy_form"
            )
    return SignRequest(
        step=header.step,
        operation=OPERATIONS[header.step],
        requested_by=requested_by,
        key_id=key_id,
        number=header.number.strip(),
        place_and_date=header.place_and_date.strip(),
        digitised_copy=header.digitised_copy,
        copy_form=copy_form,
        copying_agency=header.copying_agency.strip(),
        filename=header.filename,
    )


class UploadBuffer:
    """Collects uploaded chunks; refuses the chunk that takes the total past ``limit``.

    The refused chunk is not kept, so memory never holds more than ``limit`` bytes.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._data = bytearray()

    def add(self, chunk: bytes) -> None:
        if len(self._data) + len(chunk) > self.limit:
            raise SigningCallRefused(
                f"more than {self.limit} bytes uploaded; refused while streaming",
                status="INVALID_ARGUMENT",
                field="document",
            )
        self._data += chunk

    def __len__(self) -> int:
        return len(self._data)

    def bytes(self) -> bytes:
        return bytes(self._data)


def reply_chunks(document: bytes, size: int = REPLY_CHUNK_BYTES) -> Iterable[bytes]:
    for start in range(0, len(document), size):
        yield document[start : start + size]


# -- audit log with outbox ------------------------------------------------------------------------
def audit_to_pb(record: AuditRecord) -> pb.AuditRecord:
    event = record.event
    return pb.AuditRecord(
        sequence=record.sequence,
        previous_hash=record.previous_hash,
        record_hash=record.record_hash,
        requested_by=event.requested_by,
        operation=event.operation,
        key_id=event.key_id,
        document_sha256_before=event.document_sha256_before,
        document_sha256_after=event.document_sha256_after or "",
        outcome=event.outcome.value,
        detail=event.detail,
        at=event.at.astimezone(VIETNAM).isoformat(timespec="microseconds"),
    )


def document_signed_event(record: AuditRecord) -> Event:
    event = record.event
    payload = pb.DocumentSigned(
        operation=event.operation,
        key_id_hex=event.key_id,
        requested_by=event.requested_by,
        document_sha256_before=event.document_sha256_before,
        document_sha256_after=event.document_sha256_after or "",
        audit_sequence=record.sequence,
        audit_record_hash=record.record_hash,
        signed_at=iso(event.at),
    )
    # Keyed by the signed document's hash: the next step on the same document finds it.
    return Event.of(
        DOCUMENT_TOPIC, DOCUMENT_SIGNED_TYPE, "signing", event.document_sha256_after or "", payload
    )


class OutboxAuditLog:
    """Appends audit records in a chassis unit of work, with the event of a signature.

    Reads (``get``, ``records``) go through :class:`PostgresAuditLog` on the same pool.
    """

    def __init__(
        self, unit_of_work: Callable[[], UnitOfWork], engine: Callable[[], Engine | None]
    ) -> None:
        self.unit_of_work = unit_of_work
        self._engine = engine

    def _reader(self) -> PostgresAuditLog:
        engine = self._engine()
        if engine is None:
            raise RuntimeError("signing database: not set up (the container calls setup)")
        return PostgresAuditLog(engine, schema=SCHEMA)

    def get(self, sequence: int) -> AuditRecord:
        return self._reader().get(sequence)

    def records(self) -> Iterator[AuditRecord]:
        return self._reader().records()

    def append(self, event: AuditEvent) -> AuditRecord:
        table = AUDIT_TABLE
        with self.unit_of_work() as uow:
            # Serialise appends (every process, both writers) so each links to the true tail.
            uow.execute(sa.select(sa.func.pg_advisory_xact_lock(_lock_key())))
            last = uow.execute(
                sa.select(table.c.sequence, table.c.record_hash)
                .order_by(table.c.sequence.desc())
                .limit(1)
            ).first()
            previous = None if last is None else _Tail(last.sequence, last.record_hash)
            record = chain(previous, event)  # type: ignore[arg-type]
            uow.execute(
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
            if event.outcome is Outcome.SIGNED:
                uow.publish(document_signed_event(record))
            uow.commit()
        return record


class AuditLogProvider(DependencyProvider[OutboxAuditLog]):
    """The audit log of the service's ``signing`` schema (declared after its ``Database``)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def get_dependency(self) -> OutboxAuditLog:
        database = self.database
        return OutboxAuditLog(database.unit_of_work, lambda: database.engine)


class AuditStore(Protocol):
    """What the servicer needs of the audit log (``InMemoryAuditLog`` fits, for unit tests)."""

    def append(self, event: AuditEvent) -> AuditRecord: ...

    def get(self, sequence: int) -> AuditRecord: ...

    def records(self) -> Iterable[AuditRecord]: ...


@dataclass(frozen=True)
class _Tail:
    """Enough of the last record for :func:`chain` (which reads these two attributes)."""

    sequence: int
    record_hash: str


def _lock_key() -> int:
    import zlib

    return zlib.crc32(_APPEND_LOCK_KEY.encode())


class RecordingAuditLog:
    """Passes appends through and remembers the last record (to name it in a refusal)."""

    def __init__(self, inner: AuditStore) -> None:
        self.inner = inner
        self.last: AuditRecord | None = None

    def append(self, event: AuditEvent) -> AuditRecord:
        self.last = self.inner.append(event)
        return self.last


def audit_refusal(
    audit_log: RecordingAuditLog,
    request_operation: str,
    requested_by: str,
    key_hex: str,
    data: bytes,
    exc: Exception,
) -> AuditRecord:
    """Record a refusal made before the workflow ran (bad header, oversize, unknown key)."""
    return audit_log.append(
        AuditEvent(
            requested_by or "(not given)",
            request_operation,
            key_hex,
            sha256_hex(data),
            None,
            Outcome.REFUSED,
            f"{type(exc).__name__}: {exc}",
        )
    )


# -- signers and engine --------------------------------------------------------------------------
@dataclass
class SignerDirectory:
    """Signer profiles read from the token (certificate) and the trust configuration (chain)."""

    hsm: Hsm
    trust: TrustConfig
    ttl_seconds: float = PROFILE_TTL_SECONDS
    _profiles: dict[bytes, tuple[float, SignerProfile]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def profile(self, key_id: bytes) -> SignerProfile:
        """The profile of ``key_id``; :class:`KeyNotFound` without key or certificate.

        Kept ``ttl_seconds`` so a certificate renewed on the token is picked up without a
        restart, while a stream of signatures does not re-read the token each time.
        """
        now = time.monotonic()
        with self._lock:
            cached = self._profiles.get(key_id)
        if cached is not None and now - cached[0] < self.ttl_seconds:
            return cached[1]
        certificate = asn1_x509.Certificate.load(self.hsm.certificate_der(key_id))
        subject = read_subject(certificate)
        if subject.is_person:
            image = handwritten_signature_png(subject.common_name)
        else:
            image = round_seal_png(
                subject.organisation or subject.common_name, subject.agency_code or ""
            )
        profile = SignerProfile(
            key_id=key_id,
            certificate=certificate,
            chain=self._chain(certificate),
            image=EncodedImage.from_png(image),
            algorithm=self.hsm.algorithm_of(key_id),
        )
        with self._lock:
            self._profiles[key_id] = (now, profile)
        return profile

    def _chain(self, certificate: asn1_x509.Certificate) -> tuple[asn1_x509.Certificate, ...]:
        by_subject = {c.subject.dump(): c for c in (*self.trust.intermediates, *self.trust.roots)}
        found: list[asn1_x509.Certificate] = []
        current = certificate
        while current.self_signed == "no" and len(found) < 8:
            issuer = by_subject.get(current.issuer.dump())
            if issuer is None:
                break
            found.append(issuer)
            current = issuer
        return tuple(found)


@dataclass
class SigningRuntime:
    """One process's signing machinery."""

    hsm: Hsm
    engine: PadesEngine
    signers: SignerDirectory


def build_runtime(environ: dict[str, str] | None = None) -> SigningRuntime:
    """From the environment: production trust directory + TSA key, else the dev PKI."""
    env = dict(os.environ if environ is None else environ)
    hsm = process_hsm()
    trust_dir = env.get(TRUST_DIR_ENV)
    if trust_dir:
        tsa_hex = env.get(TSA_KEY_ENV, "")
        if not tsa_hex:
            raise HsmError(f"{TSA_KEY_ENV}: required with {TRUST_DIR_ENV} (the TSA key id)")
        trust = TrustConfig.from_directory(Path(trust_dir))
        tsa_key = bytes.fromhex(tsa_hex)
        tsa_certificate = asn1_x509.Certificate.load(hsm.certificate_der(tsa_key))
        signers = SignerDirectory(hsm, trust)
        authority = HsmTimestampAuthority(
            hsm, tsa_key, tsa_certificate, signers._chain(tsa_certificate)
        )
        engine = PadesEngine(hsm=hsm, trust=trust, timestamper=authority)
    else:
        from services.certificates.devpki import ensure_dev_pki
        from services.signing.service_layer.workflow import dev_signing

        logger.warning(
            "signing: %s not set, using the development PKI (never in production)", TRUST_DIR_ENV
        )
        var_dir = env.get("LT_VAR_DIR")
        dev = dev_signing(hsm, ensure_dev_pki(hsm, Path(var_dir) if var_dir else None))
        engine, signers = dev.engine, SignerDirectory(hsm, dev.trust)
    if env.get(MAX_BYTES_ENV):
        engine.max_document_bytes = int(env[MAX_BYTES_ENV])
    return SigningRuntime(hsm=hsm, engine=engine, signers=signers)


class SigningRuntimeProvider(DependencyProvider[SigningRuntime]):
    """Opens the HSM session and builds the engine in ``setup()``, i.e. after any fork."""

    def setup(self, service_name: str) -> None:
        self.runtime = build_runtime()

    def get_dependency(self) -> SigningRuntime:
        return self.runtime

    def stop(self) -> None:
        runtime = getattr(self, "runtime", None)
        if runtime is not None:
            runtime.hsm.close()


def signing_database() -> Database:
    return Database(schema=SCHEMA, metadata=metadata)


# -- running a step ------------------------------------------------------------------------------
def step_action(
    workflow: SigningService, request: SignRequest, signer: SignerProfile | None, data: bytes
) -> Awaitable[SignedResult]:
    """The workflow coroutine for ``request`` (the signer is resolved by the caller)."""
    who = request.requested_by
    if request.step == pb.NUMBER_AND_DATE:
        return workflow.fill_number_and_date(data, request.number, request.place_and_date, who)
    assert signer is not None
    if request.step == pb.PERSON:
        return workflow.sign_person(data, signer, who)
    if request.step == pb.ORGANISATION:
        return workflow.sign_organisation(data, signer, who, digitised_copy=request.digitised_copy)
    if request.step == pb.ATTACHMENT:
        return workflow.sign_attachment(
            data, signer, request.number, who, filename=request.filename
        )
    assert request.copy_form is not None
    return workflow.sign_copy(data, signer, request.copy_form, request.copying_agency, who)


async def as_completed_results(
    jobs: list[Callable[[], Awaitable[object]]], concurrency: int
) -> AsyncIterator[tuple[int, object]]:
    """Run ``jobs`` at most ``concurrency`` at a time; yield ``(index, result)`` as each ends."""
    semaphore = asyncio.Semaphore(concurrency)

    async def one(index: int, job: Callable[[], Awaitable[object]]) -> tuple[int, object]:
        async with semaphore:
            return index, await job()

    tasks = [asyncio.ensure_future(one(i, job)) for i, job in enumerate(jobs)]
    try:
        for finished in asyncio.as_completed(tasks):
            yield await finished
    finally:
        for task in tasks:
            task.cancel()
