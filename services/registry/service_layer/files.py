"""Main-file versions: upload in pieces (PutFileVersion), download in pieces (GetFile).

An upload is checked three times, each as early as it can be: the header alone (kind, media
type, file name), then the record before any byte is read (it exists in the caller's agency
and can take this kind now — a refused upload costs no transfer), then again under the
record's row lock in the transaction that writes the version, the version bump, the history
line and the ``file_added`` event together. The bytes are written to the blob store while
they arrive (hashed on the way, never whole in memory) before that transaction, so a committed
version never points at a missing blob; a refused or failed one leaves at most an unreferenced
blob.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lienthong.registry.v1 import registry_pb2 as pb

from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidArgument, NotFound
from services.chassis.timeutil import iso
from services.registry.adapters.blobs import BlobRef, BlobStore
from services.registry.adapters.repository import DocumentRepository
from services.registry.domain.errors import InvalidField
from services.registry.domain.files import (
    CREATED_BY_MAX,
    PDF_MAGIC,
    FileKind,
    VersionConflict,
    check_file_name,
    check_may_add,
    check_media_type,
    check_pdf_start,
    file_kind_of,
)
from services.registry.service_layer import use_cases
from services.registry.service_layer.messages import file_version_pb

#: The contract's upper bound for one data chunk of PutFileVersion.
MAX_UPLOAD_CHUNK_BYTES = 4 * 1024 * 1024
#: GetFile sends data chunks of at most this size.
DOWNLOAD_CHUNK_BYTES = 1024 * 1024
#: FileVersion.kind of an attachment found by GetFile(sha256=…).
ATTACHMENT_KIND = "attachment"
FILE_ADDED = "file_added"


@dataclass(frozen=True, slots=True)
class FileHeader:
    """A checked PutFileVersion header."""

    document_uuid: str
    kind: FileKind
    file_name: str
    media_type: str
    actor: str
    expected_version: int


def check_record_id(text: str, field: str = "id") -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise InvalidArgument(f"{text!r} is not a record id (UUID)", field=field) from None


def parse_header(header: pb.FileVersionHeader, *, default_actor: str) -> FileHeader:
    """Everything the header alone can tell, each error naming ``header.<field>``."""
    document_uuid = check_record_id(header.id, "header.id")
    try:
        kind = file_kind_of(header.kind, "header.kind")
        media_type = check_media_type(header.media_type, "header.media_type")
        file_name = check_file_name(header.file_name, kind, "header.file_name")
    except InvalidField as exc:
        raise InvalidArgument(exc.reason, field=exc.field) from None
    actor = header.actor or default_actor
    if len(actor) > CREATED_BY_MAX:
        raise InvalidArgument(f"at most {CREATED_BY_MAX} characters", field="header.actor")
    if header.expected_version < 0:
        raise InvalidArgument("must be 0 (no check) or a version", field="header.expected_version")
    return FileHeader(document_uuid, kind, file_name, media_type, actor, header.expected_version)


def first_header(chunks: Iterator[pb.FileChunk]) -> pb.FileVersionHeader:
    """The header, which must come first."""
    first = next(chunks, None)
    if first is None or first.WhichOneof("part") != "header":
        raise InvalidArgument("the stream must start with the header, exactly once", field="header")
    return first.header


def pdf_bytes(chunks: Iterator[pb.FileChunk]) -> Iterator[bytes]:
    """The data of the chunks after the header, checked as they pass: only data chunks of at
    most 4 MiB, at least one byte, and the bytes start with ``%PDF-``."""
    head = b""
    total = 0
    for index, chunk in enumerate(chunks, start=1):
        if chunk.WhichOneof("part") != "data":
            raise InvalidArgument(
                f"chunk {index} is not data; the header comes once, first", field="header"
            )
        data = chunk.data
        if len(data) > MAX_UPLOAD_CHUNK_BYTES:
            raise InvalidArgument(
                f"chunk {index} is {len(data)} bytes, at most {MAX_UPLOAD_CHUNK_BYTES}",
                field="data",
            )
        if len(head) < len(PDF_MAGIC):
            head += data[: len(PDF_MAGIC) - len(head)]
            if len(head) >= len(PDF_MAGIC):
                _check_pdf(head)
        total += len(data)
        yield data
    if total == 0:
        raise InvalidArgument("no bytes: the file is empty", field="data")
    if len(head) < len(PDF_MAGIC):
        _check_pdf(head)


def _check_pdf(head: bytes) -> None:
    try:
        check_pdf_start(head, "data")
    except InvalidField as exc:
        raise InvalidArgument(exc.reason, field=exc.field) from None


def _scoped_row(repo: DocumentRepository, document_uuid: str, *, for_update: bool) -> Any:
    """The record, or NOT_FOUND — also for another agency's record (ids cannot be probed)."""
    row = repo.get(document_uuid, for_update=for_update)
    if row is None:
        raise NotFound(f"no document {document_uuid}", field="id")
    use_cases.require_visible(row.agency_code, document_uuid)
    return row


def _existing_kinds(rows: Iterable[Any]) -> list[FileKind]:
    return [FileKind(r.kind) for r in rows]


def _addable_row(
    repo: DocumentRepository, header: FileHeader, *, for_update: bool
) -> tuple[Any, list[Any]]:
    """The record and its file versions, if ``header`` may add a version to it."""
    row = _scoped_row(repo, header.document_uuid, for_update=for_update)
    existing = repo.files_of([header.document_uuid])[header.document_uuid]
    check_may_add(
        header.kind,
        direction=row.direction,
        status=row.status,
        existing=_existing_kinds(existing),
        field="header.kind",
    )
    _check_version(row, header)
    return row, existing


def check_upload(uow: UnitOfWork, header: FileHeader) -> None:
    """Refuse before any byte is transferred (checked again when writing)."""
    _addable_row(DocumentRepository(uow.session), header, for_update=False)


def _check_version(row: Any, header: FileHeader) -> None:
    if header.expected_version and row.version != header.expected_version:
        raise VersionConflict("header.expected_version", row.version, header.expected_version)


def add_file_version(uow: UnitOfWork, header: FileHeader, ref: BlobRef, *, now: datetime) -> int:
    """The version row, the record's version bump, a history line and the event — one
    transaction, under the record's row lock. Returns the record's new version."""
    repo = DocumentRepository(uow.session)
    row, existing = _addable_row(repo, header, for_update=True)
    values = {
        "kind": header.kind.value,
        "sha256": ref.sha256,
        "size_bytes": ref.size_bytes,
        "media_type": header.media_type,
        "file_name": header.file_name,
        "created_at": now,
        "created_by": header.actor,
    }
    repo.add_file_version(header.document_uuid, len(existing), values)
    version = row.version + 1
    repo.update(header.document_uuid, {"updated_at": now, "version": version})
    repo.append_note(
        header.document_uuid,
        row.status,
        actor=header.actor,
        at=now,
        note=(
            f"file version {header.kind.value}: {header.file_name}, {ref.size_bytes} bytes, "
            f"sha256 {ref.sha256}"
        ),
    )
    uow.publish(
        use_cases._event(
            FILE_ADDED,
            header.document_uuid,
            pb.FileAdded(
                id=header.document_uuid,
                agency_code=row.agency_code,
                direction=(
                    pb.DIRECTION_OUTGOING if row.direction == "outgoing" else pb.DIRECTION_INCOMING
                ),
                file=file_version_pb(_Values(values)),
                version=version,
            ),
        )
    )
    return version


class _Values:
    """Attribute access to a dict, as the row mapping reads it."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def store_upload(blobs: BlobStore, chunks: Iterator[pb.FileChunk], *, max_bytes: int) -> BlobRef:
    """Stream the data chunks into the blob store (checked on the way)."""
    return blobs.put_stream(pdf_bytes(chunks), max_bytes=max_bytes, field="data")


# -- download ------------------------------------------------------------------------------------


def find_file(uow: UnitOfWork, document_uuid: str, kind: str, sha256: str) -> pb.FileVersion:
    """The version asked for: by digest (a main-file version or an attachment of the record),
    else the newest of ``kind``, else the newest of all. NOT_FOUND names what is missing."""
    document_uuid = check_record_id(document_uuid)
    wanted_kind = None
    if kind:
        try:
            wanted_kind = file_kind_of(kind, "kind")
        except InvalidField as exc:
            raise InvalidArgument(exc.reason, field=exc.field) from None
    if sha256 and (len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256)):
        raise InvalidArgument("must be 64 lower-case hexadecimal characters", field="sha256")
    repo = DocumentRepository(uow.session)
    row = _scoped_row(repo, document_uuid, for_update=False)
    versions = repo.files_of([document_uuid])[document_uuid]
    candidates = [v for v in versions if wanted_kind is None or v.kind == wanted_kind.value]
    if sha256:
        for version in reversed(candidates):
            if version.sha256 == sha256:
                return file_version_pb(version)
        if wanted_kind is None:
            for attachment in use_cases.attachments_rows(repo, document_uuid):
                if attachment.sha256 == sha256:
                    return pb.FileVersion(
                        kind=ATTACHMENT_KIND,
                        sha256=attachment.sha256,
                        size_bytes=attachment.size_bytes,
                        media_type=attachment.media_type,
                        file_name=attachment.file_name,
                        created_at=iso(row.registered_at),
                        created_by="",
                    )
        raise NotFound(f"the record holds no file with sha256 {sha256}", field="sha256")
    if not candidates:
        what = f"no {wanted_kind.value!r} version" if wanted_kind else "no main file yet"
        raise NotFound(f"the record has {what}", field="kind")
    return file_version_pb(candidates[-1])


def file_chunks(blobs: BlobStore, version: pb.FileVersion) -> Iterator[pb.FileChunk]:
    """The version first, then its bytes (verified against its SHA-256) in ≤ 1 MiB chunks."""
    pieces = blobs.read_chunks(version.sha256, DOWNLOAD_CHUNK_BYTES)
    first = next(pieces, b"")  # the hash is verified before anything is sent
    yield pb.FileChunk(version=version)
    if first:
        yield pb.FileChunk(data=first)
    for piece in pieces:
        yield pb.FileChunk(data=piece)
