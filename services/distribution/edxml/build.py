"""Model → edXML bytes, in the structure the national axis SDK writes.

The layout copies the SDK-generated samples (``edoc_new.edxml``, ``edoc_revocation.edxml``,
``status_*.edxml``): root ``edXML`` with the QCVN 102 namespace as default namespace,
``edXML:edXMLEnvelope`` declaring the ``edXML`` prefix, every child written with that explicit
prefix, the element order of those samples, and ``AttachmentEncoded`` after the envelope with
base64 on one line in ``edXML:ContentTransferEncoded`` (which re-declares the prefix, as the
samples do). Unlike ``edoc.edxml``, ``edXML:AttachmentEncoded`` declares the prefix it uses, so
the output is namespace-well-formed. ``None`` leaves are omitted; unknown elements kept in
``extras`` are written back at the end of their parent; the received ``Signature`` is written
back where the samples carry it (after ``TraceHeaderList``) unless ``include_signature=False``.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from datetime import date, datetime

from lxml import etree

from services.distribution.edxml.errors import InvalidField
from services.distribution.edxml.model import (
    EDXML_NAMESPACE,
    VIETNAM_TIME,
    Attachment,
    Bussiness,
    DocumentPackage,
    ManifestReference,
    MessageHeader,
    Organization,
    OtherInfo,
    RawElement,
    ResponseFor,
    StaffInfo,
    StatusPackage,
    TraceHeaderList,
)

_INDENT = "  "
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_XLINK_NAMESPACE = "http://www.w3.org/1999/xlink"
# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FRAGMENT_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
}


def _escape(text: str, path: str) -> str:
    if _NOT_XML_CHAR.search(text):
        raise InvalidField(path, "contains a control character XML 1.0 cannot carry")
    text = unicodedata.normalize("NFC", text)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _attribute(text: str, path: str) -> str:
    return _escape(text, path).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def open(self, depth: int, name: str, attributes: str = "") -> None:
        self.lines.append(f"{_INDENT * depth}<edXML:{name}{attributes}>")

    def close(self, depth: int, name: str) -> None:
        self.lines.append(f"{_INDENT * depth}</edXML:{name}>")

    def leaf(self, depth: int, name: str, value: object, path: str) -> None:
        if value is None:
            return
        text = _format_value(value, f"{path}/{name}")
        self.lines.append(f"{_INDENT * depth}<edXML:{name}>{text}</edXML:{name}>")

    def extras(self, depth: int, extras: tuple[RawElement, ...], parent: str | None = None) -> None:
        for extra in extras:
            if parent is None or extra.parent == parent:
                _check_fragment(extra.xml, f"extras[{extra.parent}/{extra.name}]")
                self.lines.append(f"{_INDENT * depth}{extra.xml}")

    def raw(self, depth: int, xml: str) -> None:
        self.lines.append(f"{_INDENT * depth}{xml}")

    def bytes(self) -> bytes:
        return (_XML_DECLARATION + "\n".join(self.lines) + "\n").encode("utf-8")


def _format_value(value: object, path: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidField(path, "timestamps must be timezone-aware")
        return value.astimezone(VIETNAM_TIME).strftime("%Y/%m/%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y/%m/%d")
    if hasattr(value, "value"):  # enums: Priority, BussinessDocType, StatusCode
        return _escape(str(value.value), path)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _escape(value, path)
    raise InvalidField(path, f"cannot write a {type(value).__name__}")


def _check_fragment(xml: str, path: str) -> None:
    """Refuse a kept element (extra, signature) that would make the package ill-formed."""
    try:
        wrapper = f'<edXML:x xmlns="{EDXML_NAMESPACE}" xmlns:edXML="{EDXML_NAMESPACE}">'
        etree.fromstring(
            f"{wrapper}{xml}</edXML:x>".encode(), etree.XMLParser(**_FRAGMENT_PARSER_OPTIONS)
        )
    except etree.XMLSyntaxError as error:
        raise InvalidField(path, f"not a well-formed XML element: {error}") from None


def _organization(w: _Writer, depth: int, name: str, org: Organization, path: str) -> None:
    w.open(depth, name)
    d = depth + 1
    w.leaf(d, "OrganId", org.organ_id, path)
    w.leaf(d, "OrganizationInCharge", org.organization_in_charge, path)
    w.leaf(d, "OrganName", org.organ_name, path)
    w.leaf(d, "OrganAdd", org.organ_add, path)
    w.leaf(d, "Email", org.email, path)
    w.leaf(d, "Telephone", org.telephone, path)
    w.leaf(d, "Fax", org.fax, path)
    w.leaf(d, "Website", org.website, path)
    w.extras(d, org.extras)
    w.close(depth, name)


def _response_for(w: _Writer, depth: int, response: ResponseFor, path: str) -> None:
    w.open(depth, "ResponseFor")
    d = depth + 1
    w.leaf(d, "OrganId", response.organ_id, path)
    w.leaf(d, "Code", response.code, path)
    w.leaf(d, "PromulgationDate", response.promulgation_date, path)
    w.leaf(d, "DocumentId", response.document_id, path)
    w.extras(d, response.extras)
    w.close(depth, "ResponseFor")


def _staff_info(w: _Writer, depth: int, staff: StaffInfo, path: str) -> None:
    w.open(depth, "StaffInfo")
    d = depth + 1
    w.leaf(d, "Department", staff.department, path)
    w.leaf(d, "Staff", staff.staff, path)
    w.leaf(d, "Email", staff.email, path)
    w.leaf(d, "Mobile", staff.mobile, path)
    w.extras(d, staff.extras)
    w.close(depth, "StaffInfo")


def _text_list(
    w: _Writer, depth: int, name: str, item: str, values: tuple[str, ...], path: str
) -> None:
    if not values:
        return
    w.open(depth, name)
    for value in values:
        w.leaf(depth + 1, item, value, f"{path}/{name}")
    w.close(depth, name)


def _other_info(w: _Writer, depth: int, info: OtherInfo, path: str) -> None:
    w.open(depth, "OtherInfo")
    d = depth + 1
    w.leaf(d, "Priority", info.priority, path)
    w.leaf(d, "SphereOfPromulgation", info.sphere_of_promulgation, path)
    w.leaf(d, "TyperNotation", info.typer_notation, path)
    w.leaf(d, "PromulgationAmount", info.promulgation_amount, path)
    w.leaf(d, "PageAmount", info.page_amount, path)
    w.leaf(d, "Direction", info.direction, path)
    _text_list(w, d, "Appendixes", "Appendix", info.appendixes, path)
    w.extras(d, info.extras)
    w.close(depth, "OtherInfo")


def _message_header(w: _Writer, depth: int, header: MessageHeader) -> None:
    path = "MessageHeader"
    w.open(depth, "MessageHeader")
    d = depth + 1
    _organization(w, d, "From", header.from_, f"{path}/From")
    for index, receiver in enumerate(header.to, start=1):
        _organization(w, d, "To", receiver, f"{path}/To[{index}]")
    w.leaf(d, "DocumentId", header.document_id, path)
    if header.code is not None:
        w.open(d, "Code")
        w.leaf(d + 1, "CodeNumber", header.code.code_number, f"{path}/Code")
        w.leaf(d + 1, "CodeNotation", header.code.code_notation, f"{path}/Code")
        w.extras(d + 1, header.code.extras)
        w.close(d, "Code")
    if header.promulgation_info is not None:
        info = header.promulgation_info
        w.open(d, "PromulgationInfo")
        w.leaf(d + 1, "Place", info.place, f"{path}/PromulgationInfo")
        w.leaf(d + 1, "PromulgationDate", info.promulgation_date, f"{path}/PromulgationInfo")
        w.extras(d + 1, info.extras)
        w.close(d, "PromulgationInfo")
    if header.document_type is not None:
        kind = header.document_type
        w.open(d, "DocumentType")
        w.leaf(d + 1, "Type", kind.type, f"{path}/DocumentType")
        w.leaf(d + 1, "TypeDetail", kind.type_detail, f"{path}/DocumentType")
        w.leaf(d + 1, "TypeName", kind.type_name, f"{path}/DocumentType")
        w.extras(d + 1, kind.extras)
        w.close(d, "DocumentType")
    w.leaf(d, "Subject", header.subject, path)
    w.leaf(d, "Content", header.content, path)
    if header.signer_info is not None:
        signer = header.signer_info
        w.open(d, "SignerInfo")
        w.leaf(d + 1, "Competence", signer.competence, f"{path}/SignerInfo")
        w.leaf(d + 1, "Position", signer.position, f"{path}/SignerInfo")
        w.leaf(d + 1, "FullName", signer.full_name, f"{path}/SignerInfo")
        w.extras(d + 1, signer.extras)
        w.close(d, "SignerInfo")
    w.leaf(d, "DueDate", header.due_date, path)
    if header.other_info is not None:
        _other_info(w, d, header.other_info, f"{path}/OtherInfo")
    for index, response in enumerate(header.response_for, start=1):
        _response_for(w, d, response, f"{path}/ResponseFor[{index}]")
    w.leaf(d, "SteeringType", header.steering_type, path)
    _text_list(w, d, "ToPlaces", "Place", header.to_places, path)
    w.extras(d, header.extras)
    w.close(depth, "MessageHeader")


def _bussiness(w: _Writer, depth: int, bussiness: Bussiness) -> None:
    path = "TraceHeaderList/Bussiness"
    w.open(depth, "Bussiness")
    d = depth + 1
    w.leaf(d, "DocumentId", bussiness.document_id, path)
    w.leaf(d, "BussinessDocType", bussiness.bussiness_doc_type, path)
    w.leaf(d, "BussinessDocReason", bussiness.bussiness_doc_reason, path)
    w.leaf(d, "Paper", bussiness.paper, path)
    if bussiness.staff_info is not None:
        _staff_info(w, d, bussiness.staff_info, f"{path}/StaffInfo")
    info = bussiness.bussiness_document_info
    if info is not None:
        info_path = f"{path}/BussinessDocumentInfo"
        w.open(d, "BussinessDocumentInfo")
        w.leaf(d + 1, "DocumentInfo", info.document_info, info_path)
        w.leaf(d + 1, "DocumentReceiver", info.document_receiver, info_path)
        if info.receivers:
            w.open(d + 1, "ReceiverList")
            for receiver in info.receivers:
                w.open(d + 2, "Receiver")
                w.leaf(d + 3, "ReceiverType", receiver.receiver_type, f"{info_path}/Receiver")
                w.leaf(d + 3, "OrganId", receiver.organ_id, f"{info_path}/Receiver")
                w.extras(d + 3, receiver.extras)
                w.close(d + 2, "Receiver")
            w.close(d + 1, "ReceiverList")
        w.extras(d + 1, info.extras)
        w.close(d, "BussinessDocumentInfo")
    if bussiness.replacement_info_list:
        w.open(d, "ReplacementInfoList")
        for replacement in bussiness.replacement_info_list:
            r_path = f"{path}/ReplacementInfo"
            w.open(d + 1, "ReplacementInfo")
            w.leaf(d + 2, "DocumentId", replacement.document_id, r_path)
            _text_list(w, d + 2, "OrganIdList", "OrganId", replacement.organ_ids, r_path)
            w.extras(d + 2, replacement.extras)
            w.close(d + 1, "ReplacementInfo")
        w.close(d, "ReplacementInfoList")
    w.extras(d, bussiness.extras)
    w.close(depth, "Bussiness")


def _trace_header_list(w: _Writer, depth: int, trace: TraceHeaderList) -> None:
    w.open(depth, "TraceHeaderList")
    d = depth + 1
    for index, hop in enumerate(trace.trace_headers, start=1):
        hop_path = f"TraceHeaderList/TraceHeader[{index}]"
        w.open(d, "TraceHeader")
        w.leaf(d + 1, "OrganId", hop.organ_id, hop_path)
        w.leaf(d + 1, "Timestamp", hop.timestamp, hop_path)
        w.extras(d + 1, hop.extras)
        w.close(d, "TraceHeader")
    if trace.bussiness is not None:
        _bussiness(w, d, trace.bussiness)
    w.extras(d, trace.extras)
    w.close(depth, "TraceHeaderList")


def _signature(w: _Writer, depth: int, signature: str | None, include: bool) -> None:
    if signature is not None and include:
        _check_fragment(signature, "signature")
        w.raw(depth, signature)


def _manifest_reference(w: _Writer, depth: int, reference: ManifestReference, path: str) -> None:
    attributes = ""
    if reference.href is not None:
        attributes = (
            f' xmlns:xlink="{_XLINK_NAMESPACE}" xlink:href="{_attribute(reference.href, path)}"'
        )
    w.open(depth, "Reference", attributes)
    d = depth + 1
    w.leaf(d, "ContentId", reference.content_id, path)
    w.leaf(d, "ContentType", reference.content_type, path)
    w.leaf(d, "Description", reference.description, path)
    w.leaf(d, "AttachmentName", reference.attachment_name, path)
    w.extras(d, reference.extras)
    w.close(depth, "Reference")


def _attachment(w: _Writer, depth: int, attachment: Attachment, path: str) -> None:
    w.open(depth, "Attachment")
    d = depth + 1
    w.leaf(d, "ContentId", attachment.content_id, path)
    w.leaf(d, "AttachmentName", attachment.name, path)
    w.leaf(d, "Description", attachment.description, path)
    w.leaf(d, "ContentType", attachment.content_type, path)
    if attachment.undecoded is not None:
        encoded = _escape(attachment.undecoded, f"{path}/ContentTransferEncoded")
    else:
        encoded = base64.b64encode(attachment.data).decode("ascii")
    w.raw(
        d,
        f'<edXML:ContentTransferEncoded xmlns:edXML="{EDXML_NAMESPACE}">{encoded}'
        "</edXML:ContentTransferEncoded>",
    )
    w.extras(d, attachment.extras)
    w.close(depth, "Attachment")


def manifest_for(attachments: tuple[Attachment, ...]) -> tuple[ManifestReference, ...]:
    """The manifest references a sender writes for its attachments (one per attachment)."""
    return tuple(
        ManifestReference(
            content_id=attachment.content_id,
            content_type=attachment.content_type,
            description=attachment.description,
            attachment_name=attachment.name,
        )
        for attachment in attachments
    )


_DOCUMENT_EXTRA_PARENTS = frozenset(
    {"edXML", "edXMLEnvelope", "edXMLHeader", "edXMLBody", "edXMLManifest", "AttachmentEncoded"}
)
_STATUS_EXTRA_PARENTS = frozenset({"edXML", "edXMLEnvelope", "edXMLHeader"})


def _check_extra_parents(extras: tuple[RawElement, ...], allowed: frozenset[str]) -> None:
    # An extra whose parent the builder never writes would be lost without a word.
    for extra in extras:
        if extra.parent not in allowed:
            raise InvalidField(
                f"extras[{extra.name}].parent",
                f"{extra.parent!r} is not one of {', '.join(sorted(allowed))}",
            )


def _build_document(package: DocumentPackage, include_signature: bool) -> bytes:
    w = _Writer()
    extras = package.extras
    _check_extra_parents(extras, _DOCUMENT_EXTRA_PARENTS)
    w.lines.append(f'<edXML xmlns="{EDXML_NAMESPACE}">')
    w.lines.append(f'{_INDENT}<edXML:edXMLEnvelope xmlns:edXML="{EDXML_NAMESPACE}">')
    w.open(2, "edXMLHeader")
    _message_header(w, 3, package.header)
    if package.trace_header_list is not None:
        _trace_header_list(w, 3, package.trace_header_list)
    _signature(w, 3, package.signature, include_signature)
    w.extras(3, extras, "edXMLHeader")
    w.close(2, "edXMLHeader")
    w.open(2, "edXMLBody")
    version = package.manifest_version
    version_attribute = (
        "" if version is None else f' version="{_attribute(version, "edXMLManifest/@version")}"'
    )
    w.open(3, "edXMLManifest", version_attribute)
    for index, reference in enumerate(package.manifest, start=1):
        _manifest_reference(w, 4, reference, f"edXMLManifest/Reference[{index}]")
    w.extras(4, extras, "edXMLManifest")
    w.close(3, "edXMLManifest")
    w.extras(3, extras, "edXMLBody")
    w.close(2, "edXMLBody")
    w.extras(2, extras, "edXMLEnvelope")
    w.close(1, "edXMLEnvelope")
    if package.attachments or any(extra.parent == "AttachmentEncoded" for extra in extras):
        w.lines.append(f'{_INDENT}<edXML:AttachmentEncoded xmlns:edXML="{EDXML_NAMESPACE}">')
        for index, attachment in enumerate(package.attachments, start=1):
            _attachment(w, 2, attachment, f"AttachmentEncoded/Attachment[{index}]")
        w.extras(2, extras, "AttachmentEncoded")
        w.close(1, "AttachmentEncoded")
    w.extras(1, extras, "edXML")
    w.lines.append("</edXML>")
    return w.bytes()


def _build_status(package: StatusPackage, include_signature: bool) -> bytes:
    w = _Writer()
    extras = package.extras
    _check_extra_parents(extras, _STATUS_EXTRA_PARENTS)
    w.lines.append(f'<edXML xmlns="{EDXML_NAMESPACE}">')
    w.lines.append(f'{_INDENT}<edXML:edXMLEnvelope xmlns:edXML="{EDXML_NAMESPACE}">')
    w.open(2, "edXMLHeader")
    w.open(3, "MessageHeader")
    _organization(w, 4, "From", package.from_, "MessageHeader/From")
    if package.response_for is not None:
        _response_for(w, 4, package.response_for, "MessageHeader/ResponseFor")
    if package.staff_info is not None:
        _staff_info(w, 4, package.staff_info, "MessageHeader/StaffInfo")
    if package.status_code is None:
        raise InvalidField("MessageHeader/StatusCode", "a status package needs a status code")
    w.leaf(4, "StatusCode", package.status_code, "MessageHeader")
    w.leaf(4, "Description", package.description, "MessageHeader")
    w.leaf(4, "Timestamp", package.timestamp, "MessageHeader")
    w.extras(4, package.header_extras)
    w.close(3, "MessageHeader")
    w.extras(3, extras, "edXMLHeader")
    _signature(w, 3, package.signature, include_signature)
    w.close(2, "edXMLHeader")
    w.extras(2, extras, "edXMLEnvelope")
    w.close(1, "edXMLEnvelope")
    w.extras(1, extras, "edXML")
    w.lines.append("</edXML>")
    return w.bytes()


def build(package: DocumentPackage | StatusPackage, *, include_signature: bool = True) -> bytes:
    """Write a package as UTF-8 edXML bytes. Raises :class:`InvalidField` for unwritable values."""
    if isinstance(package, DocumentPackage):
        return _build_document(package, include_signature)
    if isinstance(package, StatusPackage):
        return _build_status(package, include_signature)
    raise InvalidField(
        "package", f"expected a DocumentPackage or StatusPackage, got {type(package).__name__}"
    )
