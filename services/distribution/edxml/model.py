"""The edXML packages (QCVN 102:2016/BTTTT) as frozen dataclasses.

Names follow the element names of the format (``organ_add`` is ``OrganAdd``; the format's own
spelling ``Bussiness`` is kept so the model greps like the wire form). Conventions:

- a leaf the package does not carry, or carries empty, is ``None`` (the builder omits it);
- repeated elements are tuples, in document order;
- text is Unicode NFC with surrounding whitespace stripped;
- dates are :class:`datetime.date`, timestamps timezone-aware :class:`datetime.datetime`
  (written in the package as Vietnam time, ``Asia/Ho_Chi_Minh``);
- an element the model has no field for is kept verbatim as a :class:`RawElement` in the
  ``extras`` of the element that contained it and written back at the end of that element —
  a parsed package never silently loses an element.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.distribution.edxml.codes import BussinessDocType, Priority, StatusCode

VIETNAM_TIME = ZoneInfo("Asia/Ho_Chi_Minh")
EDXML_NAMESPACE = "http://www.mic.gov.vn/TBT/QCVN_102_2016"


@dataclass(frozen=True, slots=True)
class RawElement:
    """An element the model does not know, kept as its serialized XML.

    ``parent`` names the element it was found in (``edXMLHeader``, ``OtherInfo``, ...).
    """

    parent: str
    name: str
    xml: str


@dataclass(frozen=True, slots=True)
class Organization:
    """``From`` / ``To``: an agency (cơ quan, tổ chức)."""

    organ_id: str | None = None
    organization_in_charge: str | None = None
    organ_name: str | None = None
    organ_add: str | None = None
    email: str | None = None
    telephone: str | None = None
    fax: str | None = None
    website: str | None = None
    extras: tuple[RawElement, ...] = ()


@dataclass(frozen=True, slots=True)
class DocumentCode:
    """``Code``: số (CodeNumber) and ký hiệu (CodeNotation)."""

    code_number: str | None = None
    code_notation: str | None = None
    extras: tuple[RawElement, ...] = ()


@dataclass(frozen=True, slots=True)
class PromulgationInfo:
    """``PromulgationInfo``: place and date of issue."""

    place: str | None = None
    promulgation_date: date | None = None
    extras: tuple[RawElement, ...] = ()


@dataclass(frozen=True, slots=True)
class DocumentType:
    """``DocumentType``: loại văn bản."""

    type: str | None = None
    type_detail: str | None = None
    type_name: str | None = None
    extras: tuple[RawElement, ...] = ()


@dataclass(frozen=True, slots=True)
class SignerInfo:
    """``SignerInfo``: thẩm quyền, chức vụ, họ tên người ký."""

    competence: str | None = None
    position: str | None = None
    full_name: str | None = None
    extras: tuple[RawElement, ...] = ()


@dataclass(frozen=True, slots=True)
class OtherInfo:
    """``OtherInfo``: độ khẩn, phạm vi, số trang, phụ lục..."""

    priority: Priority | None = None
    sphere_of_promulgation: str | None = None
    typer_notation: str | None = None
    promulgation_amount: int | None = None
    page_amount: int | None = None
    direction: bool | None = None
    appendixes: tuple[str, ...] = ()
    extras: tuple[RawElement, ...] = ()


@dataclass(frozen=True, slots=True)
class ResponseFor:
    """``ResponseFor``: the document this package answers (or, in a status package, reports on)."""

    organ_id: str | None = None
    code: str | None = None
    promulgation_date: date | None = None
    document_id: str | None = None
    extras: tuple[RawElement, ...] = ()


@dataclass(frozen=True, slots=True)
class StaffInfo:
    """``StaffInfo``: the clerk acting for the agency."""

    department: str | None = None
    staff: str | None = None
    email: str | None = None
    mobile: str | None = None
    extras: tuple[RawElement, ...] = ()


@dataclass(frozen=True, slots=True)
class MessageHeader:
    """``MessageHeader`` of a document package."""

    from_: Organization = field(default_factory=Organization)
    to: tuple[Organization, ...] = ()
    document_id: str | None = None
    code: DocumentCode | None = None
    promulgation_info: PromulgationInfo | None = None
    document_type: DocumentType | None = None
    subject: str | None = None
    content: str | None = None
    signer_info: SignerInfo | None = None
    due_date: date | None = None
    other_info: OtherInfo | None = None
    response_for: tuple[ResponseFor, ...] = ()
    steering_type: str | None = None
    to_places: tuple[str, ...] = ()
    extras: tuple[RawElement, ...] = ()


@dataclass(frozen=True, slots=True)
class TraceHeader:
    """``TraceHeader``: one agency the package passed through, and when."""

    organ_id: str | None = None
    timestamp: datetime | None = None
    extras: tuple[RawElement, ...] = ()


@dataclass(frozen=True, slots=True)
class Receiver:
    """``BussinessDocumentInfo/ReceiverList/Receiver`` (update packages)."""

    receiver_type: str | None = None
    organ_id: str | None = None
    extras: tuple[RawElement, ...] = ()


@dataclass(frozen=True, slots=True)
class BussinessDocumentInfo:
    """``Bussiness/BussinessDocumentInfo``: what an update package changes."""

    document_info: str | None = None
    document_receiver: str | None = None
    receivers: tuple[Receiver, ...] = ()
    extras: tuple[RawElement, ...] = ()


@dataclass(frozen=True, slots=True)
class ReplacementInfo:
    """``Bussiness/ReplacementInfoList/ReplacementInfo``: a replaced document and its receivers."""

    document_id: str | None = None
    organ_ids: tuple[str, ...] = ()
    extras: tuple[RawElement, ...] = ()


@dataclass(frozen=True, slots=True)
class Bussiness:
    """``TraceHeaderList/Bussiness``: new / recall / update / replace, and why."""

    document_id: str | None = None
    bussiness_doc_type: BussinessDocType | None = None
    bussiness_doc_reason: str | None = None
    paper: str | None = None
    staff_info: StaffInfo | None = None
    bussiness_document_info: BussinessDocumentInfo | None = None
    replacement_info_list: tuple[ReplacementInfo, ...] = ()
    extras: tuple[RawElement, ...] = ()


@dataclass(frozen=True, slots=True)
class TraceHeaderList:
    """``TraceHeaderList``."""

    trace_headers: tuple[TraceHeader, ...] = ()
    bussiness: Bussiness | None = None
    extras: tuple[RawElement, ...] = ()


@dataclass(frozen=True, slots=True)
class ManifestReference:
    """``edXMLBody/edXMLManifest/Reference``: points at an attachment by ``ContentId``.

    ``href`` is the ``xlink:href`` attribute some senders write (usually empty).
    """

    content_id: str | None = None
    content_type: str | None = None
    description: str | None = None
    attachment_name: str | None = None
    href: str | None = None
    extras: tuple[RawElement, ...] = ()


@dataclass(frozen=True, slots=True)
class Attachment:
    """``AttachmentEncoded/Attachment`` with its content decoded from base64.

    ``undecoded`` holds the ``ContentTransferEncoded`` text, as received, when it was not valid
    base64 (reported as an issue; ``data`` is then empty) so that nothing is lost.
    """

    content_id: str | None = None
    name: str | None = None
    content_type: str | None = None
    description: str | None = None
    data: bytes = b""
    undecoded: str | None = None
    extras: tuple[RawElement, ...] = ()


@dataclass(frozen=True, slots=True)
class DocumentPackage:
    """A document package (gói tin văn bản).

    ``signature`` is the enveloped ``Signature`` element as received (serialized XML); see
    :mod:`services.distribution.edxml.dsig` to verify or replace it. ``extras`` holds unknown
    elements of the root, envelope, header, body and manifest (``RawElement.parent`` says which).
    """

    header: MessageHeader = field(default_factory=MessageHeader)
    trace_header_list: TraceHeaderList | None = None
    signature: str | None = None
    manifest_version: str | None = None
    manifest: tuple[ManifestReference, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    extras: tuple[RawElement, ...] = ()


@dataclass(frozen=True, slots=True)
class StatusPackage:
    """A status package (gói tin trạng thái): a receiver reports what happened to a document."""

    from_: Organization = field(default_factory=Organization)
    response_for: ResponseFor | None = None
    staff_info: StaffInfo | None = None
    status_code: StatusCode | None = None
    description: str | None = None
    timestamp: datetime | None = None
    signature: str | None = None
    header_extras: tuple[RawElement, ...] = ()
    extras: tuple[RawElement, ...] = ()


Package = DocumentPackage | StatusPackage


@dataclass(frozen=True, slots=True)
class Issue:
    """Something the parser noticed and tolerated (non-strict mode).

    ``kind``: ``recovery`` (bytes or namespaces repaired), ``invalid`` (a value breaks a rule;
    the field names the element), ``unknown-element`` (kept in ``extras``), ``duplicate``.
    """

    field: str
    reason: str
    kind: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.field}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ZipEntryInfo:
    """One member of an inspected zip attachment."""

    name: str
    compressed_size: int
    uncompressed_size: int


@dataclass(frozen=True, slots=True)
class ZipReport:
    """What a zip attachment holds, after the zip-bomb guard let it through."""

    content_id: str | None
    entries: tuple[ZipEntryInfo, ...]
    total_uncompressed: int


@dataclass(frozen=True, slots=True)
class ParseResult:
    """A parsed package with everything the parser had to tolerate."""

    package: Package
    issues: tuple[Issue, ...] = ()
    zip_reports: tuple[ZipReport, ...] = ()

    @property
    def warnings(self) -> tuple[Issue, ...]:
        """The recoveries (stray bytes skipped, undeclared prefixes repaired)."""
        return tuple(issue for issue in self.issues if issue.kind == "recovery")
