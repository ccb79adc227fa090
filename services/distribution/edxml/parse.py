"""edXML bytes → model (:mod:`services.distribution.edxml.model`).

``parse(data)`` returns a :class:`ParseResult`: the package plus every issue it tolerated.
Tolerated (non-strict mode, the default, because real peers send such packages):

- stray bytes before the XML declaration, undeclared ``edXML:``/``xlink:`` prefixes
  (``kind="recovery"``, see :mod:`services.distribution.edxml._xml`);
- values that break a rule — an agency code that is not 13 characters ``NNN.NN.NN.XNN``
  (e.g. ``28.22.H17``), a malformed document id, date, timestamp, number, enum value or base64
  text (``kind="invalid"``; the field names the element path, e.g.
  ``MessageHeader/To[1]/OrganId``). Typed values that cannot be read become ``None``;
  agency codes and document ids keep their text; undecodable base64 is kept in
  ``Attachment.undecoded``;
- unknown elements (kept in ``extras``, ``kind="unknown-element"``), unknown attributes
  (reported, ``kind="unknown-attribute"``), repeated single elements (the first is used, the
  others kept in ``extras``, ``kind="duplicate"``).

``strict=True`` raises instead: :class:`MalformedPackage` for a recovery, :class:`InvalidField`
for an invalid value. Size limits always raise (:class:`PackageTooLarge`,
:class:`AttachmentTooLarge`, :class:`ZipBomb`).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from lxml import etree

from services.distribution.edxml._xml import (
    XLINK_NAMESPACE,
    element_children,
    local_name,
    read_tree,
)
from services.distribution.edxml.codes import BussinessDocType, Priority, StatusCode
from services.distribution.edxml.errors import (
    AttachmentTooLarge,
    EdxmlError,
    InvalidField,
    MalformedPackage,
    ZipBomb,
)
from services.distribution.edxml.model import (
    VIETNAM_TIME,
    Attachment,
    Bussiness,
    BussinessDocumentInfo,
    DocumentCode,
    DocumentPackage,
    DocumentType,
    Issue,
    ManifestReference,
    MessageHeader,
    Organization,
    OtherInfo,
    ParseResult,
    PromulgationInfo,
    RawElement,
    Receiver,
    ReplacementInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusPackage,
    TraceHeader,
    TraceHeaderList,
    ZipEntryInfo,
    ZipReport,
)
from services.identifiers.domain.codes import (
    AgencyCode,
    DocumentId,
    InvalidAgencyCode,
    InvalidDocumentId,
)

MIB = 1024 * 1024
DATE_FORMAT = "%Y/%m/%d"
TIMESTAMP_FORMAT = "%Y/%m/%d %H:%M:%S"
_DATE_PATTERN = re.compile(r"\d{4}/\d{2}/\d{2}")
_TIMESTAMP_PATTERN = re.compile(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}")
_INTEGER_PATTERN = re.compile(r"\d{1,9}")
_BASE64_WHITESPACE = re.compile(rb"\s+")
_ZIP_CONTENT_TYPES = frozenset(
    {"application/zip", "application/x-zip-compressed", "application/x-zip"}
)
_ZIP_MAGIC = b"PK\x03\x04"
_ZIP_READ_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """Bounds on what a package may make the parser allocate. All sizes in bytes."""

    max_package_bytes: int = 128 * MIB
    max_attachment_bytes: int = 50 * MIB
    max_total_attachment_bytes: int = 100 * MIB
    max_stray_prefix_bytes: int = 1024
    max_zip_ratio: float = 100.0
    max_zip_uncompressed_bytes: int = 256 * MIB
    max_zip_entries: int = 1000


DEFAULT_LIMITS = ParseLimits()


@dataclass(slots=True)
class _Context:
    strict: bool
    limits: ParseLimits
    issues: list[Issue] = field(default_factory=list)
    decoded_total: int = 0

    def invalid(self, path: str, reason: str) -> None:
        if self.strict:
            raise InvalidField(path, reason)
        self.issues.append(Issue(path, reason, "invalid"))

    def note(self, path: str, reason: str, kind: str) -> None:
        self.issues.append(Issue(path, reason, kind))


# --- leaves -----------------------------------------------------------------------------------


def _leaf_text(ctx: _Context, element: etree._Element, path: str) -> str | None:
    if element_children(element):
        ctx.invalid(path, "expected text, found child elements (they are ignored)")
    text = unicodedata.normalize("NFC", element.text or "").strip()
    return text or None


def _text(ctx: _Context, element: etree._Element, path: str) -> str | None:
    return _leaf_text(ctx, element, path)


def _agency_code(ctx: _Context, element: etree._Element, path: str) -> str | None:
    text = _leaf_text(ctx, element, path)
    if text is not None:
        try:
            AgencyCode.parse(text, field=path)
        except InvalidAgencyCode as error:
            ctx.invalid(path, f"not a valid agency code (mã định danh): {error.reason}")
    return text


def _document_id(ctx: _Context, element: etree._Element, path: str) -> str | None:
    text = _leaf_text(ctx, element, path)
    if text is not None:
        try:
            DocumentId.parse(text, field=path)
        except (InvalidDocumentId, InvalidAgencyCode) as error:
            ctx.invalid(
                path,
                "not a document id {OrganId},{yyyy/MM/dd},{Số}/{Ký hiệu}: "
                f"{getattr(error, 'reason', error)}",
            )
    return text


def _date(ctx: _Context, element: etree._Element, path: str) -> date | None:
    text = _leaf_text(ctx, element, path)
    if text is None:
        return None
    if _DATE_PATTERN.fullmatch(text):
        try:
            return datetime.strptime(text, DATE_FORMAT).date()
        except ValueError as error:
            ctx.invalid(path, f"{text!r} is not a calendar date: {error}")
            return None
    ctx.invalid(path, f"{text!r} is not a date in the form yyyy/MM/dd")
    return None


def _timestamp(ctx: _Context, element: etree._Element, path: str) -> datetime | None:
    text = _leaf_text(ctx, element, path)
    if text is None:
        return None
    if _TIMESTAMP_PATTERN.fullmatch(text):
        try:
            return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=VIETNAM_TIME)
        except ValueError as error:
            ctx.invalid(path, f"{text!r} is not a valid time: {error}")
            return None
    ctx.invalid(path, f"{text!r} is not a timestamp in the form yyyy/MM/dd HH:mm:ss")
    return None


def _integer(ctx: _Context, element: etree._Element, path: str) -> int | None:
    text = _leaf_text(ctx, element, path)
    if text is None:
        return None
    if _INTEGER_PATTERN.fullmatch(text):
        return int(text)
    ctx.invalid(path, f"{text!r} is not a non-negative integer")
    return None


def _boolean(ctx: _Context, element: etree._Element, path: str) -> bool | None:
    text = _leaf_text(ctx, element, path)
    if text is None:
        return None
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    ctx.invalid(path, f"{text!r} is not a boolean (true/false)")
    return None


def _priority(ctx: _Context, element: etree._Element, path: str) -> Priority | None:
    number = _integer(ctx, element, path)
    if number is None:
        return None
    try:
        return Priority(number)
    except ValueError:
        ctx.invalid(path, f"{number} is not a priority (0 thường .. 4 hỏa tốc hẹn giờ)")
        return None


def _bussiness_doc_type(
    ctx: _Context, element: etree._Element, path: str
) -> BussinessDocType | None:
    number = _integer(ctx, element, path)
    if number is None:
        return None
    try:
        return BussinessDocType(number)
    except ValueError:
        ctx.invalid(
            path, f"{number} is not a BussinessDocType (0 new, 1 recall, 2 update, 3 replace)"
        )
        return None


def _status_code(ctx: _Context, element: etree._Element, path: str) -> StatusCode | None:
    text = _leaf_text(ctx, element, path)
    if text is None:
        return None
    try:
        return StatusCode(text)
    except ValueError:
        known = ", ".join(code.value for code in StatusCode)
        ctx.invalid(path, f"{text!r} is not a status code ({known})")
        return None


# --- containers -------------------------------------------------------------------------------

Reader = Callable[[_Context, etree._Element, str], Any]


@dataclass(frozen=True, slots=True)
class _Slot:
    attribute: str
    read: Reader
    repeated: bool = False


def _join(path: str, name: str) -> str:
    """Element paths start below the wrappers: ``MessageHeader/To[1]/OrganId``."""
    return f"{path}/{name}" if path else name


def _raw(parent: str, element: etree._Element) -> RawElement:
    name = local_name(element) or etree.QName(element).localname
    xml = etree.tostring(element, encoding="unicode", with_tail=False)
    return RawElement(parent=parent, name=name, xml=xml)


def _read_fields(
    ctx: _Context,
    element: etree._Element,
    path: str,
    slots: dict[str, _Slot],
    known_attributes: frozenset[str] = frozenset(),
) -> tuple[dict[str, Any], tuple[RawElement, ...]]:
    """Read the children of ``element`` by name into ``slots``; unknown ones become extras."""
    parent_name = local_name(element) or "?"
    for attribute in element.attrib:
        if attribute not in known_attributes:
            ctx.note(
                _join(path, f"@{attribute}"), "unknown attribute, not kept", "unknown-attribute"
            )
    values: dict[str, Any] = {}
    repeated: dict[str, list[Any]] = {}
    extras: list[RawElement] = []
    for child in element_children(element):
        name = local_name(child)
        slot = slots.get(name) if name else None
        if slot is None:
            extras.append(_raw(parent_name, child))
            ctx.note(
                _join(path, str(name or child.tag)),
                "unknown element, kept as extra",
                "unknown-element",
            )
            continue
        if slot.repeated:
            items = repeated.setdefault(slot.attribute, [])
            items.append(slot.read(ctx, child, _join(path, f"{name}[{len(items) + 1}]")))
        elif slot.attribute in values:
            extras.append(_raw(parent_name, child))
            ctx.note(_join(path, name), "repeated element; the first is used", "duplicate")
        else:
            values[slot.attribute] = slot.read(ctx, child, _join(path, name))
    for attribute, items in repeated.items():
        values[attribute] = tuple(item for item in items if item is not None)
    return values, tuple(extras)


def _reader(cls: type, slots: dict[str, _Slot]) -> Reader:
    def read(ctx: _Context, element: etree._Element, path: str) -> Any:
        values, extras = _read_fields(ctx, element, path, slots)
        return cls(**values, extras=extras)

    return read


def _text_list(item_name: str) -> Reader:
    def read(ctx: _Context, element: etree._Element, path: str) -> tuple[str, ...]:
        values, extras = _read_fields(ctx, element, path, {item_name: _Slot("items", _text, True)})
        if extras:
            ctx.invalid(path, f"only {item_name} elements are expected here; others are ignored")
        return values.get("items", ())

    return read


_read_organization = _reader(
    Organization,
    {
        "OrganId": _Slot("organ_id", _agency_code),
        "OrganizationInCharge": _Slot("organization_in_charge", _text),
        "OrganName": _Slot("organ_name", _text),
        "OrganAdd": _Slot("organ_add", _text),
        "Email": _Slot("email", _text),
        "Telephone": _Slot("telephone", _text),
        "Fax": _Slot("fax", _text),
        "Website": _Slot("website", _text),
    },
)
_read_code = _reader(
    DocumentCode,
    {"CodeNumber": _Slot("code_number", _text), "CodeNotation": _Slot("code_notation", _text)},
)
_read_promulgation_info = _reader(
    PromulgationInfo,
    {"Place": _Slot("place", _text), "PromulgationDate": _Slot("promulgation_date", _date)},
)
_read_document_type = _reader(
    DocumentType,
    {
        "Type": _Slot("type", _text),
        "TypeDetail": _Slot("type_detail", _text),
        "TypeName": _Slot("type_name", _text),
    },
)
_read_signer_info = _reader(
    SignerInfo,
    {
        "Competence": _Slot("competence", _text),
        "Position": _Slot("position", _text),
        "FullName": _Slot("full_name", _text),
    },
)
_read_other_info = _reader(
    OtherInfo,
    {
        "Priority": _Slot("priority", _priority),
        "SphereOfPromulgation": _Slot("sphere_of_promulgation", _text),
        "TyperNotation": _Slot("typer_notation", _text),
        "PromulgationAmount": _Slot("promulgation_amount", _integer),
        "PageAmount": _Slot("page_amount", _integer),
        "Direction": _Slot("direction", _boolean),
        "Appendixes": _Slot("appendixes", _text_list("Appendix")),
    },
)
_read_response_for = _reader(
    ResponseFor,
    {
        "OrganId": _Slot("organ_id", _agency_code),
        "Code": _Slot("code", _text),
        "PromulgationDate": _Slot("promulgation_date", _date),
        "DocumentId": _Slot("document_id", _document_id),
    },
)
_read_staff_info = _reader(
    StaffInfo,
    {
        "Department": _Slot("department", _text),
        "Staff": _Slot("staff", _text),
        "Email": _Slot("email", _text),
        "Mobile": _Slot("mobile", _text),
    },
)
_read_message_header = _reader(
    MessageHeader,
    {
        "From": _Slot("from_", _read_organization),
        "To": _Slot("to", _read_organization, repeated=True),
        "DocumentId": _Slot("document_id", _document_id),
        "Code": _Slot("code", _read_code),
        "PromulgationInfo": _Slot("promulgation_info", _read_promulgation_info),
        "DocumentType": _Slot("document_type", _read_document_type),
        "Subject": _Slot("subject", _text),
        "Content": _Slot("content", _text),
        "SignerInfo": _Slot("signer_info", _read_signer_info),
        "DueDate": _Slot("due_date", _date),
        "OtherInfo": _Slot("other_info", _read_other_info),
        "ResponseFor": _Slot("response_for", _read_response_for, repeated=True),
        "SteeringType": _Slot("steering_type", _text),
        "ToPlaces": _Slot("to_places", _text_list("Place")),
    },
)
_read_trace_header = _reader(
    TraceHeader,
    {"OrganId": _Slot("organ_id", _agency_code), "Timestamp": _Slot("timestamp", _timestamp)},
)
_read_receiver = _reader(
    Receiver,
    {"ReceiverType": _Slot("receiver_type", _text), "OrganId": _Slot("organ_id", _agency_code)},
)


def _list_of(child: str, read_item: Any) -> Any:
    """A reader of an element that holds only repeated ``child`` elements (e.g. ReceiverList)."""

    def read_list(ctx: _Context, element: etree._Element, path: str) -> tuple[Any, ...]:
        values, extras = _read_fields(ctx, element, path, {child: _Slot("items", read_item, True)})
        if extras:
            ctx.invalid(path, f"only {child} elements are expected here; others are ignored")
        return values.get("items", ())

    return read_list


_read_receiver_list = _list_of("Receiver", _read_receiver)


_read_bussiness_document_info = _reader(
    BussinessDocumentInfo,
    {
        "DocumentInfo": _Slot("document_info", _text),
        "DocumentReceiver": _Slot("document_receiver", _text),
        "ReceiverList": _Slot("receivers", _read_receiver_list),
    },
)


_read_organ_id_list = _list_of("OrganId", _agency_code)


_read_replacement_info = _reader(
    ReplacementInfo,
    {
        "DocumentId": _Slot("document_id", _document_id),
        "OrganIdList": _Slot("organ_ids", _read_organ_id_list),
    },
)


def _read_replacement_info_list(
    ctx: _Context, element: etree._Element, path: str
) -> tuple[ReplacementInfo, ...]:
    values, extras = _read_fields(
        ctx, element, path, {"ReplacementInfo": _Slot("items", _read_replacement_info, True)}
    )
    if extras:
        ctx.invalid(path, "only ReplacementInfo elements are expected here; others are ignored")
    return values.get("items", ())


_read_bussiness = _reader(
    Bussiness,
    {
        "DocumentId": _Slot("document_id", _document_id),
        "BussinessDocType": _Slot("bussiness_doc_type", _bussiness_doc_type),
        "BussinessDocReason": _Slot("bussiness_doc_reason", _text),
        "Paper": _Slot("paper", _text),
        "StaffInfo": _Slot("staff_info", _read_staff_info),
        "BussinessDocumentInfo": _Slot("bussiness_document_info", _read_bussiness_document_info),
        "ReplacementInfoList": _Slot("replacement_info_list", _read_replacement_info_list),
    },
)
_read_trace_header_list = _reader(
    TraceHeaderList,
    {
        "TraceHeader": _Slot("trace_headers", _read_trace_header, repeated=True),
        "Bussiness": _Slot("bussiness", _read_bussiness),
    },
)


def _read_signature(ctx: _Context, element: etree._Element, path: str) -> str:
    return etree.tostring(element, encoding="unicode", with_tail=False)


_MANIFEST_REFERENCE_SLOTS = {
    "ContentId": _Slot("content_id", _text),
    "ContentType": _Slot("content_type", _text),
    "Description": _Slot("description", _text),
    "AttachmentName": _Slot("attachment_name", _text),
}
_XLINK_HREF_NAMES = (f"{{{XLINK_NAMESPACE}}}href", "xlink:href")


def _read_manifest_reference(
    ctx: _Context, element: etree._Element, path: str
) -> ManifestReference:
    values, extras = _read_fields(
        ctx, element, path, _MANIFEST_REFERENCE_SLOTS, frozenset(_XLINK_HREF_NAMES)
    )
    href = next((element.get(name) for name in _XLINK_HREF_NAMES if name in element.attrib), None)
    return ManifestReference(**values, href=href, extras=extras)


@dataclass(frozen=True, slots=True)
class _Manifest:
    version: str | None
    references: tuple[ManifestReference, ...]
    extras: tuple[RawElement, ...]


def _read_manifest(ctx: _Context, element: etree._Element, path: str) -> _Manifest:
    values, extras = _read_fields(
        ctx,
        element,
        path,
        {"Reference": _Slot("references", _read_manifest_reference, repeated=True)},
        frozenset({"version"}),
    )
    return _Manifest(element.get("version"), values.get("references", ()), extras)


def _read_encoded_content(ctx: _Context, element: etree._Element, path: str) -> bytes | str:
    """Decode ``ContentTransferEncoded``: bytes, or the raw text when it is not base64."""
    if element_children(element):
        ctx.invalid(path, "expected base64 text, found child elements (they are ignored)")
    text = (element.text or "").encode("ascii", errors="replace")
    compact = _BASE64_WHITESPACE.sub(b"", text)
    # Refuse before decoding: the decoded size is known from the encoded length.
    estimated = len(compact) * 3 // 4
    limit = ctx.limits.max_attachment_bytes
    if estimated > limit + 2:
        raise AttachmentTooLarge(f"{path}: about {estimated} bytes decoded, limit {limit} bytes")
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as error:
        ctx.invalid(path, f"not valid base64 ({error}); the text is kept undecoded")
        return (element.text or "").strip()
    if len(data) > limit:
        raise AttachmentTooLarge(f"{path}: {len(data)} bytes decoded, limit {limit} bytes")
    ctx.decoded_total += len(data)
    total_limit = ctx.limits.max_total_attachment_bytes
    if ctx.decoded_total > total_limit:
        raise AttachmentTooLarge(
            f"{path}: attachments total {ctx.decoded_total} bytes decoded, "
            f"limit {total_limit} bytes"
        )
    return data


def _read_attachment(ctx: _Context, element: etree._Element, path: str) -> Attachment:
    values, extras = _read_fields(
        ctx,
        element,
        path,
        {
            "ContentId": _Slot("content_id", _text),
            "AttachmentName": _Slot("name", _text),
            "Description": _Slot("description", _text),
            "ContentType": _Slot("content_type", _text),
            "ContentTransferEncoded": _Slot("content", _read_encoded_content),
        },
    )
    content = values.pop("content", b"")
    if isinstance(content, str):
        return Attachment(**values, data=b"", undecoded=content, extras=extras)
    return Attachment(**values, data=content, extras=extras)


def _read_attachment_encoded(
    ctx: _Context, element: etree._Element, path: str
) -> tuple[tuple[Attachment, ...], tuple[RawElement, ...]]:
    values, extras = _read_fields(
        ctx, element, path, {"Attachment": _Slot("items", _read_attachment, repeated=True)}
    )
    return values.get("items", ()), extras


# --- zip attachments --------------------------------------------------------------------------


def is_zip(attachment: Attachment) -> bool:
    """Whether an attachment is a zip archive (by content type or by its magic bytes)."""
    content_type = (attachment.content_type or "").lower()
    return content_type in _ZIP_CONTENT_TYPES or attachment.data.startswith(_ZIP_MAGIC)


def inspect_zip(data: bytes, limits: ParseLimits = DEFAULT_LIMITS, field: str = "zip") -> ZipReport:
    """List a zip archive's members after checking it cannot expand beyond the limits.

    Declared sizes are checked first (entry count, total, compression ratio); then every
    member is actually decompressed in bounded chunks, because headers can lie.
    Raises :class:`ZipBomb` for a bomb, :class:`InvalidField` for a damaged archive.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > limits.max_zip_entries:
                raise ZipBomb(f"{field}: {len(members)} entries, limit {limits.max_zip_entries}")
            declared_total = sum(member.file_size for member in members)
            if declared_total > limits.max_zip_uncompressed_bytes:
                raise ZipBomb(
                    f"{field}: declares {declared_total} bytes uncompressed, "
                    f"limit {limits.max_zip_uncompressed_bytes}"
                )
            entries = []
            actual_total = 0
            for member in members:
                ratio = member.file_size / max(member.compress_size, 1)
                if ratio > limits.max_zip_ratio:
                    raise ZipBomb(
                        f"{field}: {member.filename!r} expands {ratio:.0f}×, "
                        f"limit {limits.max_zip_ratio:.0f}×"
                    )
                actual = 0
                with archive.open(member) as stream:
                    while chunk := stream.read(_ZIP_READ_CHUNK):
                        actual += len(chunk)
                        actual_total += len(chunk)
                        if actual_total > limits.max_zip_uncompressed_bytes:
                            raise ZipBomb(
                                f"{field}: expands beyond {limits.max_zip_uncompressed_bytes} bytes"
                            )
                        if actual / max(member.compress_size, 1) > limits.max_zip_ratio:
                            raise ZipBomb(
                                f"{field}: {member.filename!r} expands beyond "
                                f"{limits.max_zip_ratio:.0f}× its compressed size"
                            )
                entries.append(ZipEntryInfo(member.filename, member.compress_size, actual))
    except EdxmlError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        EOFError,
        OSError,
        RuntimeError,
        NotImplementedError,
        ValueError,
    ) as error:
        raise InvalidField(field, f"not a readable zip archive: {error}") from None
    return ZipReport(content_id=None, entries=tuple(entries), total_uncompressed=actual_total)


# --- package ----------------------------------------------------------------------------------


def _read_status_header(
    ctx: _Context, element: etree._Element, path: str
) -> tuple[dict[str, Any], tuple[RawElement, ...]]:
    return _read_fields(
        ctx,
        element,
        path,
        {
            "From": _Slot("from_", _read_organization),
            "ResponseFor": _Slot("response_for", _read_response_for),
            "StaffInfo": _Slot("staff_info", _read_staff_info),
            "StatusCode": _Slot("status_code", _status_code),
            "Description": _Slot("description", _text),
            "Timestamp": _Slot("timestamp", _timestamp),
        },
    )


def _is_status_header(element: etree._Element) -> bool:
    return any(local_name(child) == "StatusCode" for child in element_children(element))


def _identity(ctx: _Context, element: etree._Element, path: str) -> etree._Element:
    return element


def _read_package(ctx: _Context, root: etree._Element) -> DocumentPackage | StatusPackage:
    if local_name(root) != "edXML":
        raise MalformedPackage(
            f"package: the root element is {root.tag!r}, expected edXML in the namespace "
            "http://www.mic.gov.vn/TBT/QCVN_102_2016"
        )
    root_values, root_extras = _read_fields(
        ctx,
        root,
        "",
        {
            "edXMLEnvelope": _Slot("envelope", _identity),
            "AttachmentEncoded": _Slot("attachments", _read_attachment_encoded),
        },
    )
    envelope = root_values.get("envelope")
    if envelope is None:
        raise MalformedPackage("edXML/edXMLEnvelope: missing")
    envelope_values, envelope_extras = _read_fields(
        ctx,
        envelope,
        "",
        {"edXMLHeader": _Slot("header", _identity), "edXMLBody": _Slot("body", _identity)},
    )
    header = envelope_values.get("header")
    if header is None:
        raise MalformedPackage("edXMLEnvelope/edXMLHeader: missing")
    header_values, header_extras = _read_fields(
        ctx,
        header,
        "",
        {
            "MessageHeader": _Slot("message_header", _identity),
            "TraceHeaderList": _Slot("trace_header_list", _read_trace_header_list),
            "Signature": _Slot("signature", _read_signature),
        },
    )
    message_header = header_values.get("message_header")
    if message_header is None:
        raise MalformedPackage("edXMLHeader/MessageHeader: missing")
    extras = root_extras + envelope_extras + header_extras

    if _is_status_header(message_header):
        status_values, status_extras = _read_status_header(ctx, message_header, "MessageHeader")
        body = envelope_values.get("body")
        if body is not None:
            extras += (_raw("edXMLEnvelope", body),)
        if "attachments" in root_values:
            ctx.note(
                "edXML/AttachmentEncoded", "unexpected in a status package, kept", "unknown-element"
            )
            extras += tuple(
                _raw("edXML", child)
                for child in element_children(root)
                if local_name(child) == "AttachmentEncoded"
            )
        if header_values.get("trace_header_list") is not None:
            ctx.note(
                "edXMLHeader/TraceHeaderList",
                "unexpected in a status package, kept",
                "unknown-element",
            )
            extras += tuple(
                _raw("edXMLHeader", child)
                for child in element_children(header)
                if local_name(child) == "TraceHeaderList"
            )
        return StatusPackage(
            **status_values,
            signature=header_values.get("signature"),
            header_extras=status_extras,
            extras=extras,
        )

    message = _read_message_header(ctx, message_header, "MessageHeader")
    manifest = _Manifest(None, (), ())
    body = envelope_values.get("body")
    if body is not None:
        body_values, body_extras = _read_fields(
            ctx, body, "", {"edXMLManifest": _Slot("manifest", _read_manifest)}
        )
        extras += body_extras
        manifest = body_values.get("manifest", manifest)
    attachments, attachment_extras = root_values.get("attachments", ((), ()))
    _check_references(ctx, manifest.references, attachments)
    return DocumentPackage(
        header=message,
        trace_header_list=header_values.get("trace_header_list"),
        signature=header_values.get("signature"),
        manifest_version=manifest.version,
        manifest=manifest.references,
        attachments=attachments,
        extras=extras + manifest.extras + attachment_extras,
    )


def _check_references(
    ctx: _Context,
    references: tuple[ManifestReference, ...],
    attachments: tuple[Attachment, ...],
) -> None:
    attachment_ids = {attachment.content_id for attachment in attachments}
    for index, reference in enumerate(references, start=1):
        if reference.content_id not in attachment_ids:
            ctx.invalid(
                f"edXMLManifest/Reference[{index}]/ContentId",
                f"{reference.content_id!r} matches no AttachmentEncoded/Attachment",
            )


def parse(
    data: bytes,
    *,
    strict: bool = False,
    limits: ParseLimits = DEFAULT_LIMITS,
    inspect_zips: bool = False,
) -> ParseResult:
    """Parse an edXML package (document or status) from bytes.

    ``inspect_zips=True`` also opens every zip attachment behind the zip-bomb guard and lists
    its members in ``ParseResult.zip_reports``. Raises only :class:`EdxmlError` subclasses.
    """
    root, issues = read_tree(
        data,
        strict=strict,
        max_package_bytes=limits.max_package_bytes,
        max_stray_prefix_bytes=limits.max_stray_prefix_bytes,
    )
    ctx = _Context(strict=strict, limits=limits, issues=issues)
    try:
        package = _read_package(ctx, root)
    except RecursionError:
        raise MalformedPackage("package: nesting too deep") from None
    reports: list[ZipReport] = []
    if inspect_zips and isinstance(package, DocumentPackage):
        for index, attachment in enumerate(package.attachments, start=1):
            if attachment.undecoded is None and is_zip(attachment):
                path = f"AttachmentEncoded/Attachment[{index}]"
                try:
                    report = inspect_zip(attachment.data, limits, field=path)
                except InvalidField as error:
                    ctx.invalid(error.field, error.reason)
                    continue
                reports.append(
                    ZipReport(attachment.content_id, report.entries, report.total_uncompressed)
                )
    return ParseResult(package=package, issues=tuple(ctx.issues), zip_reports=tuple(reports))
