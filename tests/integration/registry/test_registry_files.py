"""Main-file versions over real gRPC, PostgreSQL and the blob store: PutFileVersion, GetFile."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import grpc
import pytest
import sqlalchemy as sa
from lienthong.registry.v1 import registry_pb2 as pb

from services.chassis.grpc_server import ERROR_FIELD_HEADER

FILE_ADDED = "vn.lienthong.registry.document.file_added"
MIB = 1024 * 1024


def _error(call) -> tuple[grpc.StatusCode, str, str]:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    error = caught.value
    field = dict(error.trailing_metadata() or ()).get(ERROR_FIELD_HEADER, "")
    return error.code(), error.details(), field


def pdf(size: int) -> bytes:
    """Bytes shaped like a PDF (the registry checks the header line, not the structure)."""
    body = b"%PDF-1.7\n" + os.urandom(max(0, size - 16))
    return body + b"\n%%EOF\n"


def _chunks(header: pb.FileVersionHeader, content: bytes, size: int) -> Iterator[pb.FileChunk]:
    yield pb.FileChunk(header=header)
    for start in range(0, len(content), size):
        yield pb.FileChunk(data=content[start : start + size])


def put(
    registry, document_id: str, kind: str, content: bytes, *, chunk: int = MIB, metadata=None,
    **header,
) -> pb.Document:  # fmt: skip
    head = pb.FileVersionHeader(id=document_id, kind=kind, **header)
    return registry.PutFileVersion(_chunks(head, content, chunk), metadata=metadata)


def get_file(registry, document_id: str, metadata=None, **request) -> tuple[pb.FileVersion, bytes]:
    parts = list(registry.GetFile(pb.GetFileRequest(id=document_id, **request), metadata=metadata))
    assert parts[0].WhichOneof("part") == "version"
    assert all(p.WhichOneof("part") == "data" and len(p.data) <= MIB for p in parts[1:])
    return parts[0].version, b"".join(p.data for p in parts[1:])


def draft(registry, agency: str, **document) -> pb.Document:
    return registry.RegisterOutgoing(
        pb.RegisterOutgoingRequest(
            document=pb.Document(
                agency_code=agency,
                document_type="quyet_dinh",
                subject="Về việc phê duyệt kế hoạch chuyển đổi số năm 2027",
                signer=pb.Signer(title="CHỦ TỊCH", full_name="Trần Thị Bình"),
                receivers=[pb.Party(name="Sở Tài chính", agency_code="000.00.03.H56")],
                **document,
            ),
            actor="văn thư",
        )
    )


def incoming(registry, agency: str) -> pb.Document:
    return registry.RegisterIncoming(
        pb.RegisterIncomingRequest(
            document=pb.Document(
                agency_code=agency,
                document_type="cong_van",
                number_and_symbol=f"{int.from_bytes(os.urandom(2), 'big') % 900 + 1}/STC-NS",
                document_date="2026-11-02",
                subject="Về việc báo cáo tình hình thực hiện dự toán ngân sách",
                sender=pb.Party(name="Sở Tài chính", agency_code="000.00.03.H56"),
                signer=pb.Signer(title="GIÁM ĐỐC", full_name="Lê Văn Chín"),
            ),
            actor="văn thư",
        )
    )


def _file_events(engine, document_id: str) -> list[pb.FileAdded]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT payload FROM registry.outbox WHERE key = :k AND type = :t ORDER BY 1"),
            {"k": document_id, "t": FILE_ADDED},
        ).all()
    return [pb.FileAdded.FromString(r.payload) for r in rows]


def test_a_multi_mib_pdf_goes_in_and_out_in_chunks_with_its_digest(registry, agency, engine):
    record = draft(registry, agency)
    content = pdf(5 * MIB + 12_345)
    after = put(
        registry, record.id, "original", content, chunk=MIB + 7, file_name="du-thao.pdf",
        media_type="application/pdf", actor="chuyên viên", expected_version=record.version,
    )  # fmt: skip
    digest = hashlib.sha256(content).hexdigest()
    assert after.version == record.version + 1
    assert [(f.kind, f.sha256, f.size_bytes, f.file_name, f.created_by) for f in after.files] == [
        ("original", digest, len(content), "du-thao.pdf", "chuyên viên")
    ]
    assert after.files[0].created_at.endswith("+07:00")
    version, data = get_file(registry, record.id)
    assert version == after.files[0]
    assert hashlib.sha256(data).hexdigest() == digest and data == content
    # By kind and by digest give the same version; Get and List show it.
    assert get_file(registry, record.id, kind="original")[0] == version
    assert get_file(registry, record.id, sha256=digest)[0] == version
    assert registry.Get(pb.GetRequest(id=record.id)).files[0] == version
    listed = registry.List(pb.ListRequest(agency_code=agency, page_size=500)).documents
    assert [d.files[0].sha256 for d in listed if d.id == record.id] == [digest]
    # The same transaction wrote the history line and the event.
    history = registry.GetHistory(pb.HistoryRequest(id=record.id)).entries
    assert [(e.to_status, e.actor) for e in history][-1] == (pb.STATUS_DRAFT, "chuyên viên")
    assert digest in history[-1].note
    events = _file_events(engine, record.id)
    assert [(e.id, e.agency_code, e.version, e.file) for e in events] == [
        (record.id, agency, after.version, version)
    ]
    assert events[0].direction == pb.DIRECTION_OUTGOING


def test_the_issuing_sequence_and_its_refusals(registry, agency, engine):
    record = draft(registry, agency)
    refusals = {
        "person_signed before original": ("person_signed", pb.STATUS_DRAFT),
        "numbered before a number": ("numbered", pb.STATUS_DRAFT),
        "sealed before any version": ("sealed", pb.STATUS_DRAFT),
        "received on outgoing": ("received", pb.STATUS_DRAFT),
    }
    for name, (kind, _) in refusals.items():
        code, details, field = _error(lambda k=kind: put(registry, record.id, k, pdf(2_000)))
        assert (code, field) == (grpc.StatusCode.FAILED_PRECONDITION, "header.kind"), name
        assert kind in details, (name, details)
    assert registry.Get(pb.GetRequest(id=record.id)).version == record.version  # nothing written
    assert _file_events(engine, record.id) == []
    put(registry, record.id, "original", pdf(3_000))
    signed = put(registry, record.id, "person_signed", pdf(4_000))
    numbered_record = registry.AssignNumber(
        pb.AssignNumberRequest(id=record.id, issue_date="2026-11-10")
    )
    assert len(numbered_record.files) == 2 and numbered_record.version > signed.version
    code, _, field = _error(lambda: put(registry, record.id, "original", pdf(3_000)))
    assert (code, field) == (grpc.StatusCode.FAILED_PRECONDITION, "header.kind")
    put(registry, record.id, "numbered", pdf(5_000))
    sealed = put(registry, record.id, "sealed", pdf(6_000))
    assert [f.kind for f in sealed.files] == ["original", "person_signed", "numbered", "sealed"]
    # The newest version is the sealed one; each kind is still there.
    assert get_file(registry, record.id)[0].kind == "sealed"
    _, signed_bytes = get_file(registry, record.id, kind="person_signed")
    assert hashlib.sha256(signed_bytes).hexdigest() == sealed.files[1].sha256
    # A recalled record is frozen.
    registry.Recall(pb.RecallRequest(id=record.id, reason="Ban hành sai thẩm quyền"))
    code, details, field = _error(lambda: put(registry, record.id, "sealed", pdf(6_000)))
    assert (code, field) == (grpc.StatusCode.FAILED_PRECONDITION, "id")
    assert "frozen" in details
    assert len(_file_events(engine, record.id)) == 4


def test_an_incoming_record_keeps_its_received_copy_only(registry, agency):
    record = incoming(registry, agency)
    for kind in ("original", "person_signed", "numbered", "sealed"):
        code, _, field = _error(lambda k=kind: put(registry, record.id, k, pdf(2_000)))
        assert (code, field) == (grpc.StatusCode.FAILED_PRECONDITION, "header.kind"), kind
    received = put(registry, record.id, "received", pdf(2_500), file_name="cv-stc.pdf")
    assert [(f.kind, f.file_name) for f in received.files] == [("received", "cv-stc.pdf")]
    assert received.status == pb.STATUS_ARRIVED


def test_malformed_uploads_are_refused_naming_the_field_and_store_nothing(registry, agency):
    record = draft(registry, agency)
    cases = {
        "not a PDF": (lambda: put(registry, record.id, "original", b"GIF89a" + b"x" * 100), "data"),
        "empty": (lambda: put(registry, record.id, "original", b""), "data"),
        "media type": (
            lambda: put(registry, record.id, "original", pdf(500), media_type="text/plain"),
            "header.media_type",
        ),
        "kind": (lambda: put(registry, record.id, "draft", pdf(500)), "header.kind"),
        "file name": (
            lambda: put(registry, record.id, "original", pdf(500), file_name="../x.pdf"),
            "header.file_name",
        ),
        "record id": (lambda: put(registry, "not-a-uuid", "original", pdf(500)), "header.id"),
        "chunk over 4 MiB": (
            lambda: put(registry, record.id, "original", pdf(4 * MIB + 10), chunk=4 * MIB + 10),
            "data",
        ),
        "header twice": (
            lambda: registry.PutFileVersion(
                iter([pb.FileChunk(header=pb.FileVersionHeader(id=record.id, kind="original"))] * 2)
            ),
            "header",
        ),
        "no header": (
            lambda: registry.PutFileVersion(iter([pb.FileChunk(data=pdf(500))])),
            "header",
        ),
    }
    for name, (attempt, expected_field) in cases.items():
        code, _, field = _error(attempt)
        assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, expected_field), name
    after = registry.Get(pb.GetRequest(id=record.id))
    assert (after.version, list(after.files)) == (record.version, [])


def test_unknown_records_versions_and_digests_are_not_found(registry, agency):
    missing = "00000000-0000-4000-8000-000000000000"
    code, _, field = _error(lambda: put(registry, missing, "original", pdf(500)))
    assert (code, field) == (grpc.StatusCode.NOT_FOUND, "id")
    record = draft(registry, agency)
    code, _, field = _error(lambda: get_file(registry, record.id))
    assert (code, field) == (grpc.StatusCode.NOT_FOUND, "kind")
    put(registry, record.id, "original", pdf(800))
    code, _, field = _error(lambda: get_file(registry, record.id, kind="sealed"))
    assert (code, field) == (grpc.StatusCode.NOT_FOUND, "kind")
    code, _, field = _error(lambda: get_file(registry, record.id, sha256="0" * 64))
    assert (code, field) == (grpc.StatusCode.NOT_FOUND, "sha256")
    code, _, field = _error(lambda: get_file(registry, missing))
    assert (code, field) == (grpc.StatusCode.NOT_FOUND, "id")


def test_an_attachment_is_fetched_by_its_digest(registry, agency):
    annex = b"Phu luc: danh muc du an\n" * 1000
    record = draft(
        registry,
        agency,
        attachments=[
            pb.Attachment(file_name="phu-luc.txt", media_type="text/plain", content=annex)
        ],
    )
    digest = hashlib.sha256(annex).hexdigest()
    version, data = get_file(registry, record.id, sha256=digest)
    assert (version.kind, version.file_name, version.size_bytes) == (
        "attachment", "phu-luc.txt", len(annex),
    )  # fmt: skip
    assert data == annex


def test_a_stale_expected_version_is_aborted_and_writes_nothing(registry, agency, engine):
    record = draft(registry, agency)
    put(registry, record.id, "original", pdf(1_000))
    code, details, field = _error(
        lambda: put(
            registry, record.id, "person_signed", pdf(1_000), expected_version=record.version
        )
    )
    assert (code, field) == (grpc.StatusCode.ABORTED, "header.expected_version")
    assert str(record.version + 1) in details
    assert len(registry.Get(pb.GetRequest(id=record.id)).files) == 1
    assert len(_file_events(engine, record.id)) == 1


def test_a_file_over_the_limit_is_resource_exhausted(registry, agency, monkeypatch):
    monkeypatch.setenv("LT_REGISTRY_MAX_FILE_BYTES", str(2 * MIB))
    record = draft(registry, agency)
    code, details, field = _error(
        lambda: put(registry, record.id, "original", pdf(3 * MIB), chunk=MIB)
    )
    assert (code, field) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "data")
    assert str(2 * MIB) in details
    assert list(registry.Get(pb.GetRequest(id=record.id)).files) == []
    assert put(registry, record.id, "original", pdf(2 * MIB)).files[0].size_bytes == 2 * MIB
