"""Issuing an outgoing document through the services: the main file's way from the registry
through the signing service and back, one version per step (NĐ 30/2020/NĐ-CP Điều 15–16:
the draft, the competent person's signature, the number and date, the organisation's seal).

Every step is the same pipeline: read the newest version from the registry (``GetFile``), have
the signing service sign or stamp it (``SignDocument``), store the result as the next version
(``PutFileVersion``). Files pass in chunks through spooled temporary files — at most
:data:`SPOOL_BYTES` of one file in memory, the rest on disk — and never whole in one message.
Between the services nothing is streamed straight through: a failure of the signing service in
the middle of a document must come back as its own problem, not as a cancelled upload.

These functions are synchronous (gRPC's blocking stubs); routes run them off the event loop.
Every call carries the user (``who``) so each service checks agency scope itself.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO, Any
from urllib.parse import quote

from lienthong.registry.v1 import registry_pb2 as rpb
from lienthong.signing.v1 import signing_pb2 as spb

from gateway import problems
from gateway.accounts.domain import Principal
from gateway.clients import ServiceClients

#: Chunks sent to the services (the contracts allow up to 4 MiB).
CHUNK_BYTES = 1024 * 1024
#: A file larger than this goes to disk while it passes through the gateway.
SPOOL_BYTES = 1024 * 1024
#: Deadline of one file transfer or signature; a 50 MB PDF on a busy HSM takes a while.
TRANSFER_TIMEOUT_S = 300.0

PDF_MAGIC = b"%PDF-"
PDF_MEDIA_TYPE = "application/pdf"
#: Versions a client may ask for by name; ``latest`` is the newest whatever its kind.
FILE_KINDS = ("original", "person_signed", "numbered", "sealed", "received")
DOWNLOAD_KINDS = (*FILE_KINDS, "latest")

_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._-]+")


def spool() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)


def pieces(source: IO[bytes], size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The whole of ``source`` from its start, ``size`` bytes at a time."""
    source.seek(0)
    while piece := source.read(size):
        yield piece


# -- words and headers ----------------------------------------------------------------------------
def place_and_date(place: str, issued: date) -> str:
    """ "Lạc Hồng, ngày 05 tháng 02 năm 2027": the địa danh and date line of a document.

    NĐ 30/2020/NĐ-CP Phụ lục I (thể thức, mục "Địa danh và thời gian ban hành"): days below 10
    and the months January and February are written with a leading zero; other months not
    ("ngày 05 tháng 3 năm 2020").
    """
    day = f"{issued.day:02d}"
    month = f"{issued.month:02d}" if issued.month < 3 else str(issued.month)
    return f"{place}, ngày {day} tháng {month} năm {issued.year}"


def ascii_file_name(name: str) -> str:
    """A plain-ASCII stand-in for ``name`` (diacritics dropped, đ → d, the rest ``_``)."""
    folded = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _UNSAFE_ASCII.sub("_", bare).strip("._") or "document.pdf"


def content_disposition(name: str, disposition: str = "attachment") -> str:
    """RFC 6266 with an RFC 5987 ``filename*`` so a Vietnamese name reaches the browser intact,
    and an ASCII ``filename`` for clients that know only that."""
    return (
        f'{disposition}; filename="{ascii_file_name(name)}"; '
        f"filename*=UTF-8''{quote(name, safe='')}"
    )


def version_file_name(document: rpb.Document, kind: str) -> str:
    """The name a new version is stored under: the draft's name with the kind added
    ("Du thao QĐ.pdf" → "Du thao QĐ.sealed.pdf"), or ``<kind>.pdf`` with no draft."""
    originals = [f.file_name for f in document.files if f.kind == "original" and f.file_name]
    if not originals:
        return f"{kind}.pdf"
    stem = originals[0]
    stem = stem[:-4] if stem.lower().endswith(".pdf") else stem
    return f"{stem}.{kind}.pdf"[-255:]


def newest_version(document: rpb.Document, kind: str) -> rpb.FileVersion | None:
    """The version of ``kind`` (``latest``: the newest of any kind), None if there is none."""
    chosen = None
    for version in document.files:  # oldest first
        if kind in ("latest", version.kind):
            chosen = version
    return chosen


# -- the three calls ------------------------------------------------------------------------------
def upload_requests(header: rpb.FileVersionHeader, source: IO[bytes]) -> Iterator[rpb.FileChunk]:
    yield rpb.FileChunk(header=header)
    for piece in pieces(source):
        yield rpb.FileChunk(data=piece)


def put_file(
    clients: ServiceClients,
    who: Principal | None,
    record_id: str,
    kind: str,
    file_name: str,
    source: IO[bytes],
    expected_version: int = 0,
) -> rpb.Document:
    """Store ``source`` as the record's version ``kind`` (registry ``PutFileVersion``)."""
    header = rpb.FileVersionHeader(
        id=record_id,
        kind=kind,
        file_name=file_name,
        media_type=PDF_MEDIA_TYPE,
        actor=who.username if who else "",
        expected_version=expected_version,
    )
    return clients.call(
        "registry",
        "PutFileVersion",
        upload_requests(header, source),
        who=who,
        timeout_s=TRANSFER_TIMEOUT_S,
    )


def open_file(
    clients: ServiceClients, who: Principal | None, record_id: str, kind: str
) -> tuple[rpb.FileVersion, Iterator[bytes]]:
    """A version's header and an iterator of its bytes (registry ``GetFile``).

    The header is read at once, so a missing record or version fails here — before an HTTP
    response has started — and not half-way through a download.
    """
    replies = clients.stream(
        "registry",
        "GetFile",
        rpb.GetFileRequest(id=record_id, kind="" if kind == "latest" else kind),
        who=who,
        timeout_s=TRANSFER_TIMEOUT_S,
    )
    first = next(replies, None)
    if first is None or first.WhichOneof("part") != "version":
        replies.close()
        raise problems.Problem(
            502, "Bad gateway", "the registry sent a file without its version header",
            "bad-gateway",
        )  # fmt: skip

    def data() -> Iterator[bytes]:
        for chunk in replies:
            if chunk.WhichOneof("part") == "data":
                yield chunk.data

    return first.version, data()


def fetch_file(
    clients: ServiceClients, who: Principal | None, record_id: str, kind: str, into: IO[bytes]
) -> rpb.FileVersion:
    version, data = open_file(clients, who, record_id, kind)
    for piece in data:
        into.write(piece)
    return version


def sign_requests(header: spb.SignHeader, source: IO[bytes]) -> Iterator[spb.SignChunk]:
    yield spb.SignChunk(header=header)
    for piece in pieces(source):
        yield spb.SignChunk(data=piece)


def sign(
    clients: ServiceClients,
    who: Principal | None,
    header: spb.SignHeader,
    source: IO[bytes],
    into: IO[bytes],
) -> spb.AuditRecord:
    """The signing service's ``SignDocument`` of ``source``; the result is written to ``into``,
    its audit record returned."""
    audit: spb.AuditRecord | None = None
    for reply in clients.stream(
        "signing", "SignDocument", sign_requests(header, source), who=who,
        timeout_s=TRANSFER_TIMEOUT_S,
    ):  # fmt: skip
        if reply.WhichOneof("part") == "audit":
            audit = reply.audit
        else:
            into.write(reply.data)
    if audit is None:
        raise problems.Problem(
            502, "Bad gateway", "the signing service answered without its audit record",
            "bad-gateway",
        )  # fmt: skip
    return audit


# -- one step -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StepResult:
    document: rpb.Document
    audit: spb.AuditRecord


def audit_json(audit: spb.AuditRecord) -> dict[str, Any]:
    return {
        "sequence": audit.sequence,
        "record_hash": audit.record_hash,
        "operation": audit.operation,
        "key_id": audit.key_id,
        "document_sha256_before": audit.document_sha256_before,
        "document_sha256_after": audit.document_sha256_after,
        "at": audit.at,
    }


def signing_step(
    clients: ServiceClients,
    who: Principal,
    document: rpb.Document,
    header: spb.SignHeader,
    kind: str,
) -> StepResult:
    """Newest version → ``SignDocument(header)`` → stored as version ``kind``.

    ``document`` is the record as last read: the new version is stored only if nobody changed
    the record since (``expected_version``), so two clerks sealing at once cannot each seal a
    different version.
    """
    if not document.files:
        raise problems.Problem(
            409, "Failed precondition",
            "the document has no file yet; upload the draft PDF first",
            "failed-precondition", "files",
        )  # fmt: skip
    with spool() as source, spool() as signed:
        fetch_file(clients, who, document.id, "latest", source)
        audit = sign(clients, who, header, source, signed)
        try:
            stored = put_file(
                clients,
                who,
                document.id,
                kind,
                version_file_name(document, kind),
                signed,
                expected_version=document.version,
            )
        except problems.Problem as problem:
            # The signature exists (and is audited) but the registry does not hold it: say so,
            # so the user repeats the step rather than assuming it is done.
            problem.detail = (
                f"signed (audit record {audit.sequence}) but the registry did not store the "
                f"{kind!r} version: {problem.detail}; repeat the step"
            )
            problem.extensions = {**(problem.extensions or {}), "audit": audit_json(audit)}
            raise
    return StepResult(stored, audit)


def organisation_key(keys: list[spb.SigningKey], agency_code: str) -> spb.SigningKey | None:
    """The agency's seal key: certified for the agency, without a title (a person's has one)."""
    for key in keys:
        if key.agency_code == agency_code and key.has_certificate and not key.title:
            return key
    return None


def first_pdf_attachment(attachments: Any) -> Any | None:
    """The main document of a received package: its first PDF attachment (an edXML package
    carries the document itself as an attachment). Recognised by its bytes, not by the
    declared type, which senders get wrong."""
    for attachment in attachments:
        if (attachment.data or b"").startswith(PDF_MAGIC):
            return attachment
    return None
