"""The edXML document package of an issued registry record (SendDocument).

QĐ 28/2018/QĐ-TTg Điều 8 khoản 1: the sending agency sends the issued document with its
metadata (Điều 10 khoản 2) as an edXML package (QCVN 102:2016/BTTTT). The registry record is the
system of record for that metadata; this module maps it field by field:

| registry ``Document`` | edXML ``MessageHeader`` |
|---|---|
| ``agency_code`` + directory name | ``From/OrganId``, ``OrganName`` |
| ``document_id`` (else ``<agency>,<yyyy/mm/dd>,<số/ký hiệu>``) | ``DocumentId`` |
| ``number_and_symbol`` "15/QĐ-UBND" | ``Code/CodeNumber`` 15, ``CodeNotation`` QĐ-UBND |
| ``extra["place"]``, ``document_date`` | ``PromulgationInfo/Place``, ``PromulgationDate`` |
| ``document_type`` (catalogue key) | ``DocumentType/TypeName`` (catalogue name), ``Type`` 1/2 |
| ``subject`` | ``Subject`` |
| ``signer`` ("KT." + on behalf of, title, name) | ``SignerInfo`` |
| ``due_date`` | ``DueDate`` |
| ``urgency`` (thường … hỏa tốc hẹn giờ) | ``OtherInfo/Priority`` 0 … 4 |
| ``page_count``, ``number_of_copies`` | ``OtherInfo/PageAmount``, ``PromulgationAmount`` |
| the receivers (directory names) | ``To`` (each), ``ToPlaces`` (names) |

The main file (the sealed PDF) is the first ``Attachment`` (``cid:1``), the record's attachments
follow (``cid:2`` …), with a manifest reference each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.chassis.errors import FailedPrecondition, InvalidArgument
from services.distribution.domain.routing import ReceiverInfo
from services.distribution.edxml.build import manifest_for
from services.distribution.edxml.codes import BussinessDocType, Priority
from services.distribution.edxml.model import (
    Attachment,
    Bussiness,
    DocumentCode,
    DocumentPackage,
    DocumentType,
    MessageHeader,
    Organization,
    OtherInfo,
    PromulgationInfo,
    ReplacementInfo,
    SignerInfo,
    TraceHeader,
    TraceHeaderList,
)
from services.distribution.service_layer.ports import RecordFile

#: Registry ``Direction`` / ``Status`` / ``Urgency`` values (registry.v1; the proto enums are
#: plain ints on the wire, named here to keep this module free of the registry's stubs).
DIRECTION_OUTGOING = 1
STATUS_ISSUED = 21
SEALED_KIND = "sealed"
#: edXML ``DocumentType/Type``: 1 văn bản hành chính, 2 văn bản quy phạm pháp luật.
ADMINISTRATIVE_TYPE = "1"
LEGAL_NORMATIVE_TYPE = "2"


@dataclass(frozen=True, slots=True)
class RecordParties:
    """Who sends and who receives, as the identifiers directory names them."""

    sender_name: str
    receivers: Sequence[ReceiverInfo]


def check_sendable(record: Any) -> None:
    """Refuse a record that is not an issued outgoing document with a sealed main file."""
    if record.direction != DIRECTION_OUTGOING:
        raise FailedPrecondition(
            "is not an outgoing document (văn bản đi); only those are sent", field="registry_id"
        )
    if record.status != STATUS_ISSUED:
        raise FailedPrecondition(
            "is not issued (numbered and dated) yet; only an issued document is sent",
            field="registry_id",
        )
    if not any(version.kind == SEALED_KIND for version in record.files):
        raise FailedPrecondition(
            "has no sealed main file (the organisation's signature) to send",
            field="registry_id",
        )


def priority_of(record: Any, requested: int) -> Priority:
    """The request's priority when given (1–4), else the record's urgency (proto = edXML + 1)."""
    if requested:
        try:
            return Priority(requested)
        except ValueError:
            raise InvalidArgument("must be 0–4 (edXML Priority)", field="priority") from None
    return Priority(max(record.urgency - 1, 0))


def split_number_and_symbol(text: str) -> DocumentCode | None:
    """ "15/QĐ-UBND" → CodeNumber 15, CodeNotation QĐ-UBND; "15/2026/QĐ-UBND" keeps the year
    in the notation, as the legal normative form số/năm/ký hiệu writes it."""
    text = text.strip()
    if not text:
        return None
    number, _, notation = text.partition("/")
    return DocumentCode(code_number=number or None, code_notation=notation or None)


def _date(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(f"{text!r} is not yyyy-MM-dd", field=field) from None


def _signer_info(record: Any) -> SignerInfo | None:
    signer = record.signer
    if not (signer.full_name or signer.title):
        return None
    competence = " ".join(p for p in (signer.authority, signer.on_behalf_of) if p) or None
    return SignerInfo(
        competence=competence, position=signer.title or None, full_name=signer.full_name or None
    )


def _document_type(record: Any, type_names: dict[str, str]) -> DocumentType | None:
    if not record.document_type:
        return None
    return DocumentType(
        type=LEGAL_NORMATIVE_TYPE if record.legal_normative else ADMINISTRATIVE_TYPE,
        type_detail=None,
        type_name=type_names.get(record.document_type, record.document_type),
    )


def document_id_of(record: Any) -> str:
    """The record's mã định danh văn bản, else the form the axis samples use."""
    if record.document_id:
        return str(record.document_id)
    issued = _date(record.document_date, "document_date")
    day = f"{issued:%Y/%m/%d}" if issued else ""
    return f"{record.agency_code},{day},{record.number_and_symbol}"


def package_from_record(
    record: Any,
    main_file: RecordFile,
    attachments: Sequence[RecordFile],
    parties: RecordParties,
    *,
    priority: Priority,
    kind: BussinessDocType,
    at: datetime,
    type_names: dict[str, str],
    supersedes_document_id: str = "",
) -> DocumentPackage:
    """The unsigned document package of ``record`` (sign it with ``edxml.dsig.sign``).

    An update or replacement names the document it supersedes in ``ReplacementInfoList``
    (with its receivers), so that peers on the national axis find the earlier copy.
    """
    files = [main_file, *attachments]
    encoded = tuple(
        Attachment(
            content_id=f"cid:{index}",
            name=item.file_name or f"{item.sha256}.bin",
            content_type=item.media_type,
            description=item.file_name or None,
            data=item.data,
        )
        for index, item in enumerate(files, start=1)
    )
    to = tuple(
        Organization(organ_id=receiver.code, organ_name=receiver.name or None)
        for receiver in parties.receivers
    )
    places = tuple(dict.fromkeys(r.name or r.code for r in parties.receivers))
    header = MessageHeader(
        from_=Organization(organ_id=record.agency_code, organ_name=parties.sender_name or None),
        to=to,
        document_id=document_id_of(record),
        code=split_number_and_symbol(record.number_and_symbol),
        promulgation_info=PromulgationInfo(
            place=(record.extra.get("place") or None),
            promulgation_date=_date(record.document_date, "document_date"),
        ),
        document_type=_document_type(record, type_names),
        subject=record.subject or None,
        signer_info=_signer_info(record),
        due_date=_date(record.due_date, "due_date"),
        other_info=OtherInfo(
            priority=priority,
            promulgation_amount=record.number_of_copies or None,
            page_amount=record.page_count or None,
        ),
        to_places=places,
    )
    trace = TraceHeaderList(
        trace_headers=(TraceHeader(organ_id=record.agency_code, timestamp=at),),
        bussiness=Bussiness(
            bussiness_doc_type=kind,
            bussiness_doc_reason=kind.vietnamese,
            paper="0",
            replacement_info_list=(
                ReplacementInfo(
                    document_id=supersedes_document_id,
                    organ_ids=tuple(r.code for r in parties.receivers),
                ),
            )
            if supersedes_document_id
            else (),
        ),
    )
    return DocumentPackage(
        header=header,
        trace_header_list=trace,
        manifest_version="1.0",
        manifest=manifest_for(encoded),
        attachments=encoded,
    )
