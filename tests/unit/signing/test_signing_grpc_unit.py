"""The signing servicer with ``worker_factory``: a fake engine and token, the in-memory audit log.

What is checked here is the servicer's own behaviour (header checks, size limit while
streaming, refusal → status + field + audit entry, batch results); the real engine, token and
database are exercised by tests/integration/signing/test_signing_grpc.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from lienthong.signing.v1 import signing_pb2 as pb

from services.chassis.errors import InvalidArgument, NotFound, ServiceError
from services.chassis.testing import FakeContext, worker_factory
from services.signing.adapters.hsm import KeyNotFound, PinLocked, WrongPin
from services.signing.domain.audit import InMemoryAuditLog, verify_chain
from services.signing.domain.errors import (
    CorruptPdf,
    NotAPdf,
    PersonSignatureMissing,
    SignerCertificateRevoked,
    SigningEngineFailed,
)
from services.signing.entrypoints.grpc import SigningService
from services.signing.service_layer.grpc_support import (
    UploadBuffer,
    parse_header,
    refusal_error,
    reply_chunks,
)

LIMIT = 1000
PERSON_KEY = b"person-key"
ORG_KEY = b"org-key"


class FakeEngine:
    """Stands in for PadesEngine: appends a marker per step, refuses like the real one."""

    max_document_bytes = LIMIT

    async def async_sign_person(self, data: bytes, signer: object) -> bytes:
        if not data.startswith(b"%PDF-"):
            raise NotAPdf("document: no %PDF- header in the first 1024 bytes, not a PDF")
        return data + b"|person"

    async def async_fill_number_and_date(self, data: bytes, **fields: str) -> bytes:
        return data + f"|{fields['number']}".encode()

    async def async_sign_organisation(
        self, data: bytes, signer: object, *, digitised_copy: bool = False
    ) -> bytes:
        if b"|person" not in data and not digitised_copy:
            raise PersonSignatureMissing("document: no valid signature of an authorised person")
        return data + b"|organisation"

    async def async_sign_attachment(self, data: bytes, signer: object, **fields: str) -> bytes:
        raise RuntimeError("engine exploded")

    async def async_sign_copy(self, data: bytes, signer: object, **fields: object) -> bytes:
        return data + b"|copy"


class FakeSigners:
    def profile(self, key_id: bytes) -> SimpleNamespace:
        if key_id not in (PERSON_KEY, ORG_KEY):
            raise KeyNotFound(f"key_id {key_id.hex()}: no certificate on the token")
        return SimpleNamespace(key_id=key_id)


@pytest.fixture
def audit_log() -> InMemoryAuditLog:
    return InMemoryAuditLog()


@pytest.fixture
def service(audit_log: InMemoryAuditLog) -> SigningService:
    runtime = SimpleNamespace(engine=FakeEngine(), signers=FakeSigners(), hsm=None)
    return worker_factory(SigningService, runtime=runtime, audit_log=audit_log)


def _header(step: int, key: bytes | None = PERSON_KEY, **fields: object) -> pb.SignHeader:
    return pb.SignHeader(
        step=step,
        key_id_hex=key.hex() if key else "",
        requested_by=str(fields.pop("requested_by", "Lò Thị Mai")),
        **fields,
    )  # type: ignore[arg-type]


def _stream(header: pb.SignHeader | None, *parts: bytes) -> Iterator[pb.SignChunk]:
    if header is not None:
        yield pb.SignChunk(header=header)
    for part in parts:
        yield pb.SignChunk(data=part)


def _call(
    service: SigningService, requests: Iterator[pb.SignChunk]
) -> tuple[bytes, pb.AuditRecord]:
    replies = list(service.SignDocument(requests, FakeContext()))
    assert replies[0].WhichOneof("part") == "audit"
    return b"".join(r.data for r in replies[1:]), replies[0].audit


def test_sign_document_returns_audit_then_the_signed_bytes(service, audit_log) -> None:  # type: ignore[no-untyped-def]
    document, audit = _call(service, _stream(_header(pb.PERSON), b"%PDF-1.7 ", b"body"))
    assert document == b"%PDF-1.7 body|person"
    assert audit.outcome == "signed" and audit.operation == "sign_person"
    assert audit.key_id == PERSON_KEY.hex() and audit.requested_by == "Lò Thị Mai"
    assert audit_log.records()[-1].record_hash == audit.record_hash


def test_workflow_order_person_number_organisation(service, audit_log) -> None:  # type: ignore[no-untyped-def]
    person, _ = _call(service, _stream(_header(pb.PERSON), b"%PDF-1.7"))
    numbered, _ = _call(
        service,
        _stream(
            _header(pb.NUMBER_AND_DATE, None, number="7/UBND", place_and_date="Hà Giang"), person
        ),
    )
    sealed, audit = _call(service, _stream(_header(pb.ORGANISATION, ORG_KEY), numbered))
    assert sealed == b"%PDF-1.7|person|7/UBND|organisation"
    assert verify_chain(audit_log.records()) == 3 == audit.sequence


def test_organisation_before_person_is_failed_precondition_and_audited(service, audit_log) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ServiceError) as caught:
        _call(service, _stream(_header(pb.ORGANISATION, ORG_KEY), b"%PDF-1.7"))
    assert caught.value.status == "FAILED_PRECONDITION"
    assert caught.value.field == "document"
    (record,) = audit_log.records()
    assert record.event.outcome == "refused"
    assert f"(audit record {record.sequence})" in str(caught.value)


def test_upload_over_the_limit_is_refused_at_the_chunk_that_passes_it(service, audit_log) -> None:  # type: ignore[no-untyped-def]
    consumed = []

    def requests() -> Iterator[pb.SignChunk]:
        yield pb.SignChunk(header=_header(pb.PERSON))
        for index in range(10):
            consumed.append(index)
            yield pb.SignChunk(data=b"%PDF-" + b"x" * 295)

    with pytest.raises(ServiceError) as caught:
        _call(service, requests())
    assert (caught.value.status, caught.value.field) == ("INVALID_ARGUMENT", "document")
    assert consumed == [0, 1, 2, 3]  # 4 × 300 > 1000: nothing read after the fourth chunk
    assert audit_log.records()[-1].event.detail.startswith("SigningCallRefused")


def test_unknown_key_is_not_found_naming_the_key_and_audited(service, audit_log) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ServiceError) as caught:
        _call(service, _stream(_header(pb.PERSON, b"nobody"), b"%PDF-1.7"))
    assert (caught.value.status, caught.value.field) == ("NOT_FOUND", "header.key_id_hex")
    assert audit_log.records()[-1].event.key_id == b"nobody".hex()


def test_unexpected_engine_failure_is_internal_and_audited_as_failed(service, audit_log) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ServiceError) as caught:
        _call(service, _stream(_header(pb.ATTACHMENT, ORG_KEY, number="7/UBND"), b"%PDF-1.7"))
    assert caught.value.status == "INTERNAL"
    assert audit_log.records()[-1].event.outcome == "failed"


@pytest.mark.parametrize(
    ("requests", "field"),
    [
        (lambda: _stream(None, b"%PDF-1.7"), "header"),
        (lambda: _stream(_header(pb.PERSON)), "document"),
        (
            lambda: iter(
                [pb.SignChunk(header=_header(pb.PERSON)), pb.SignChunk(header=_header(pb.PERSON))]
            ),
            "header",
        ),
    ],
)
def test_malformed_streams_name_the_field(service, audit_log, requests, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ServiceError) as caught:
        _call(service, requests())
    assert (caught.value.status, caught.value.field) == ("INVALID_ARGUMENT", field)
    assert audit_log.records()[-1].event.outcome == "refused"


@pytest.mark.parametrize(
    ("header", "field"),
    [
        (pb.SignHeader(key_id_hex="00", requested_by="a"), "header.step"),
        (pb.SignHeader(step=pb.PERSON, key_id_hex="00"), "header.requested_by"),
        (pb.SignHeader(step=pb.PERSON, requested_by="a"), "header.key_id_hex"),
        (pb.SignHeader(step=pb.PERSON, key_id_hex="xyz", requested_by="a"), "header.key_id_hex"),
        (
            pb.SignHeader(step=pb.NUMBER_AND_DATE, requested_by="a", place_and_date="b"),
            "header.number",
        ),
        (
            pb.SignHeader(step=pb.NUMBER_AND_DATE, requested_by="a", number="1"),
            "header.place_and_date",
        ),
        (pb.SignHeader(step=pb.ATTACHMENT, key_id_hex="00", requested_by="a"), "header.number"),
        (
            pb.SignHeader(step=pb.COPY, key_id_hex="00", requested_by="a", copying_agency="b"),
            "header.copy_form",
        ),
        (
            pb.SignHeader(step=pb.COPY, key_id_hex="00", requested_by="a", copy_form=pb.SAO_Y),
            "header.copying_agency",
        ),
    ],
)
def test_header_checks(header: pb.SignHeader, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_header(header)
    assert caught.value.field == field


def test_number_and_date_needs_no_key() -> None:
    parsed = parse_header(
        pb.SignHeader(
            step=pb.NUMBER_AND_DATE, requested_by=" a ", number="1/QĐ", place_and_date="Hà Giang"
        )
    )
    assert parsed.key_id is None and parsed.requested_by == "a"


@pytest.mark.parametrize(
    ("error", "status", "field"),
    [
        (NotAPdf("x"), "INVALID_ARGUMENT", "document"),
        (CorruptPdf("x"), "INVALID_ARGUMENT", "document"),
        (PersonSignatureMissing("x"), "FAILED_PRECONDITION", "document"),
        (SignerCertificateRevoked("x"), "FAILED_PRECONDITION", "header.key_id_hex"),
        (KeyNotFound("x"), "NOT_FOUND", "header.key_id_hex"),
        (WrongPin("x"), "UNAUTHENTICATED", None),
        (PinLocked("x"), "PERMISSION_DENIED", None),
        (SigningEngineFailed("x"), "INTERNAL", None),
    ],
)
def test_refusals_keep_their_status(error: Exception, status: str, field: str | None) -> None:
    translated = refusal_error(error)  # type: ignore[arg-type]
    assert (translated.status, translated.field) == (status, field)
    assert type(error).__name__ in translated.reason


def test_upload_buffer_keeps_at_most_the_limit() -> None:
    buffer = UploadBuffer(10)
    buffer.add(b"12345")
    buffer.add(b"67890")
    with pytest.raises(ServiceError):
        buffer.add(b"1")
    assert buffer.bytes() == b"1234567890"


def test_reply_chunks_cover_the_document() -> None:
    document = bytes(range(256)) * 10
    parts = list(reply_chunks(document, size=1000))
    assert [len(p) for p in parts] == [1000, 1000, 560] and b"".join(parts) == document


def test_batch_streams_a_result_per_item_refusals_included(service, audit_log) -> None:  # type: ignore[no-untyped-def]
    items = [
        pb.BatchItem(id="a", document=b"%PDF-a"),
        pb.BatchItem(id="word", document=b"PK\x03\x04 docx"),
        pb.BatchItem(id="big", document=b"%PDF-" + b"x" * LIMIT),
        pb.BatchItem(id="b", document=b"%PDF-b"),
    ]
    results = list(
        service.SignBatch(
            pb.BatchRequest(header=_header(pb.PERSON), items=items, concurrency=2), FakeContext()
        )
    )
    by_id = {result.id: result for result in results}
    assert set(by_id) == {"a", "word", "big", "b"}
    assert by_id["a"].document == b"%PDF-a|person" and by_id["a"].audit.outcome == "signed"
    assert by_id["word"].error_code == "INVALID_ARGUMENT"
    assert by_id["word"].error_field == "items[].document" and by_id["word"].index == 1
    assert by_id["big"].error_code == "INVALID_ARGUMENT" and by_id["big"].index == 2
    assert len(audit_log.records()) == 4


def test_batch_header_and_arguments_are_checked(service) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidArgument) as caught:
        list(service.SignBatch(pb.BatchRequest(header=_header(pb.PERSON)), FakeContext()))
    assert caught.value.field == "items"
    with pytest.raises(InvalidArgument) as caught:
        list(
            service.SignBatch(
                pb.BatchRequest(
                    header=_header(pb.PERSON),
                    items=[pb.BatchItem(document=b"%PDF-")],
                    concurrency=99,
                ),
                FakeContext(),
            )
        )
    assert caught.value.field == "concurrency"


def test_get_audit_record(service, audit_log) -> None:  # type: ignore[no-untyped-def]
    _, audit = _call(service, _stream(_header(pb.PERSON), b"%PDF-1.7"))
    assert (
        service.GetAuditRecord(pb.GetAuditRecordRequest(sequence=audit.sequence), FakeContext())
        == audit
    )
    with pytest.raises(NotFound) as caught:
        service.GetAuditRecord(pb.GetAuditRecordRequest(sequence=99), FakeContext())
    assert caught.value.field == "sequence"
    with pytest.raises(InvalidArgument):
        service.GetAuditRecord(pb.GetAuditRecordRequest(sequence=0), FakeContext())
    reply = service.VerifyAuditChain(pb.VerifyAuditChainRequest(), FakeContext())
    assert reply.records == 1


def test_every_refusal_class_has_a_status_for_the_interceptor() -> None:
    statuses = SigningService.error_statuses
    assert statuses[PersonSignatureMissing] == "FAILED_PRECONDITION"
    assert statuses[KeyNotFound] == "NOT_FOUND"
    assert statuses[WrongPin] == "UNAUTHENTICATED"
    assert statuses[NotAPdf] == "INVALID_ARGUMENT"
