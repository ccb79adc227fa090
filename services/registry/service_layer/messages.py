"""Translation between protobuf messages, domain values and database rows.

Every parse names the field it reads (``document.received_at``, ``document.signer.title`` …)
so a bad input comes back as INVALID_ARGUMENT with that field and the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from lienthong.registry.v1 import registry_pb2 as pb

from services.chassis.errors import InvalidArgument
from services.chassis.timeutil import iso
from services.registry.domain.classification import (
    Confidentiality,
    Signer,
    SignerAuthority,
    Urgency,
)
from services.registry.domain.document_types import DocumentTypeCatalogue
from services.registry.domain.record import (
    Attachment,
    Correction,
    CorrectionKind,
    DocumentRecord,
    Party,
)
from services.registry.domain.register_books import Direction
from services.registry.domain.status import HistoryEntry, ProcessingStatus

CATALOGUE = DocumentTypeCatalogue.load_default()

# Outgoing statuses outside the received-document state machine.
DRAFT = "draft"
ISSUED = "issued"

STATUS_TO_PB: dict[str, int] = {
    ProcessingStatus.ARRIVED.value: pb.STATUS_ARRIVED,
    ProcessingStatus.ACCEPTED.value: pb.STATUS_ACCEPTED,
    ProcessingStatus.ASSIGNED.value: pb.STATUS_ASSIGNED,
    ProcessingStatus.IN_PROGRESS.value: pb.STATUS_IN_PROGRESS,
    ProcessingStatus.COMPLETED.value: pb.STATUS_COMPLETED,
    ProcessingStatus.REJECTED.value: pb.STATUS_REJECTED,
    ProcessingStatus.RECALLED.value: pb.STATUS_RECALLED,
    ProcessingStatus.DELETED.value: pb.STATUS_DELETED,
    DRAFT: pb.STATUS_DRAFT,
    ISSUED: pb.STATUS_ISSUED,
}
PB_TO_STATUS = {v: k for k, v in STATUS_TO_PB.items()}
URGENCY_TO_PB = {u: u.value + 1 for u in Urgency}
PB_TO_URGENCY = {v: k for k, v in URGENCY_TO_PB.items()} | {0: Urgency.NORMAL}
CONFIDENTIALITY_TO_PB = {
    Confidentiality.NORMAL: pb.CONFIDENTIALITY_NORMAL,
    Confidentiality.CONFIDENTIAL: pb.CONFIDENTIALITY_CONFIDENTIAL,
    Confidentiality.SECRET: pb.CONFIDENTIALITY_SECRET,
    Confidentiality.TOP_SECRET: pb.CONFIDENTIALITY_TOP_SECRET,
}
PB_TO_CONFIDENTIALITY = {v: k for k, v in CONFIDENTIALITY_TO_PB.items()} | {
    0: Confidentiality.NORMAL
}
CORRECTION_TO_PB = {
    CorrectionKind.AMENDMENT: pb.CORRECTION_KIND_AMENDMENT,
    CorrectionKind.REPLACEMENT: pb.CORRECTION_KIND_REPLACEMENT,
    CorrectionKind.ERRATUM: pb.CORRECTION_KIND_ERRATUM,
}
PB_TO_CORRECTION = {v: k for k, v in CORRECTION_TO_PB.items()}
ROLE_TO_PB = {"lead": pb.ASSIGNMENT_ROLE_LEAD, "support": pb.ASSIGNMENT_ROLE_SUPPORT,
              "information": pb.ASSIGNMENT_ROLE_INFORMATION}  # fmt: skip
PB_TO_ROLE = {v: k for k, v in ROLE_TO_PB.items()}


# -- scalar parsing --------------------------------------------------------------------------


def parse_date(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(f"{text!r} must be a date yyyy-MM-dd", field=field) from None


def parse_time(text: str, field: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(
            f"{text!r} must be an ISO 8601 time with offset, e.g. 2026-11-22T08:30:00+07:00",
            field=field,
        ) from None
    if moment.tzinfo is None:
        raise InvalidArgument(f"{text!r} has no UTC offset (write +07:00)", field=field)
    return moment


def _opt_iso(moment: datetime | None) -> str:
    return iso(moment) if moment else ""


def _opt_date(day: date | None) -> str:
    return day.isoformat() if day else ""


def direction_of(value: int, field: str = "direction") -> Direction:
    if value == pb.DIRECTION_OUTGOING:
        return Direction.OUTGOING
    if value == pb.DIRECTION_INCOMING:
        return Direction.INCOMING
    raise InvalidArgument("must be OUTGOING or INCOMING", field=field)


def urgency_of(value: int, field: str = "document.urgency") -> Urgency:
    try:
        return PB_TO_URGENCY[value]
    except KeyError:
        raise InvalidArgument(f"{value} is not an urgency", field=field) from None


def confidentiality_of(value: int, field: str = "document.confidentiality") -> Confidentiality:
    try:
        return PB_TO_CONFIDENTIALITY[value]
    except KeyError:
        raise InvalidArgument(f"{value} is not a confidentiality class", field=field) from None


def processing_status_of(value: int, field: str = "target") -> ProcessingStatus:
    name = PB_TO_STATUS.get(value)
    if name is None or name in (DRAFT, ISSUED):
        raise InvalidArgument(
            f"{pb.Status.Name(value) if name else value} is not a processing status of a "
            "received document",
            field=field,
        )
    return ProcessingStatus(name)


# -- protobuf → domain -----------------------------------------------------------------------


def _party(message: pb.Party) -> Party:
    return Party(name=message.name, agency_code=message.agency_code or None)


def _signer(message: pb.Signer) -> Signer | None:
    if not (message.title or message.full_name or message.authority or message.on_behalf_of):
        return None
    return Signer(
        title=message.title,
        full_name=message.full_name,
        authority=SignerAuthority.from_prefix(message.authority) if message.authority else None,
        on_behalf_of=message.on_behalf_of or None,
    )


def _correction(message: pb.Correction) -> Correction | None:
    if message.kind == pb.CORRECTION_KIND_UNSPECIFIED and not message.number_and_symbol:
        return None
    kind = PB_TO_CORRECTION.get(message.kind)
    if kind is None:
        raise InvalidArgument("must be AMENDMENT, REPLACEMENT or ERRATUM", field="corrects.kind")
    return Correction(
        kind=kind,
        number_and_symbol=message.number_and_symbol,
        agency_code=message.agency_code,
        document_id=message.document_id or None,
        original_type_key=message.original_type_key or None,
    )


def attachment_of(message: pb.Attachment) -> Attachment:
    return Attachment(
        file_name=message.file_name,
        media_type=message.media_type,
        size_bytes=message.size_bytes,
        sha256=message.sha256,
    )


def record_from_pb(
    message: pb.Document,
    direction: Direction,
    *,
    attachments: tuple[Attachment, ...] = (),
    number_and_symbol: str | None = None,
    document_date: date | None = None,
    arrival_number: int | None = None,
    effective_received_at: datetime | None = None,
    history: tuple[HistoryEntry, ...] = (),
    due_date: date | None = None,
) -> DocumentRecord:
    """A validated :class:`DocumentRecord` from a client's message (keyword overrides win)."""
    if not message.document_type:
        raise InvalidArgument("is required (a catalogue key such as 'quyet_dinh')",
                              field="document.document_type")  # fmt: skip
    document_type = CATALOGUE.by_key(message.document_type, "document.document_type")
    return DocumentRecord(
        direction=direction,
        agency_code=message.agency_code,
        document_type=document_type,
        subject=message.subject,
        number_and_symbol=number_and_symbol or message.number_and_symbol or None,
        document_date=document_date or parse_date(message.document_date, "document.document_date"),
        document_id=message.document_id or None,
        legal_normative=message.legal_normative,
        electronic=message.electronic,
        attachments=attachments,
        signer=_signer(message.signer),
        urgency=urgency_of(message.urgency),
        confidentiality=confidentiality_of(message.confidentiality),
        sender=_party(message.sender) if message.HasField("sender") else None,
        receivers=tuple(_party(p) for p in message.receivers),
        sent_at=parse_time(message.sent_at, "document.sent_at"),
        received_at=parse_time(message.received_at, "document.received_at"),
        effective_received_at=effective_received_at,
        arrival_number=arrival_number,
        due_date=due_date or parse_date(message.due_date, "document.due_date"),
        distribution_instructions=message.distribution_instructions or None,
        language=message.language or "Tiếng Việt",
        page_count=message.page_count or None,
        number_of_copies=message.number_of_copies or None,
        dossier_code=message.dossier_code or None,
        note=message.note or None,
        history=history,
        corrects=_correction(message.corrects),
        extra=dict(message.extra),
    )


# -- domain → row ----------------------------------------------------------------------------


def _party_json(party: Party | None) -> dict[str, Any] | None:
    if party is None:
        return None
    return {"name": party.name, "agency_code": party.agency_code}


def _signer_json(signer: Signer | None) -> dict[str, Any] | None:
    if signer is None:
        return None
    return {
        "title": signer.title,
        "full_name": signer.full_name,
        "authority": signer.authority.value if signer.authority else None,
        "on_behalf_of": signer.on_behalf_of,
    }


def uniqueness_text(record: DocumentRecord) -> str | None:
    key = record.uniqueness_key
    return None if key is None else f"{key[0]}|{key[1]}|{key[2]}"


def record_to_row(record: DocumentRecord) -> dict[str, Any]:
    """Columns of ``registry.documents`` that come from the record itself."""
    from services.chassis.text import fold

    corrects = record.corrects
    return {
        "direction": record.direction.value,
        "agency_code": record.agency_code,
        "number_and_symbol": record.number_and_symbol,
        "document_date": record.document_date,
        "document_id": record.document_id,
        "document_type": record.document_type.key,
        "legal_normative": record.legal_normative,
        "electronic": record.electronic,
        "subject": record.subject,
        "subject_folded": fold(record.subject),
        "signer": _signer_json(record.signer),
        "urgency": record.urgency.value,
        "confidentiality": record.confidentiality.value,
        "sender": _party_json(record.sender),
        "receivers": [_party_json(p) for p in record.receivers],
        "sent_at": record.sent_at,
        "received_at": record.received_at,
        "effective_received_at": record.effective_received_at,
        "due_date": record.due_date,
        "distribution_instructions": record.distribution_instructions,
        "language": record.language,
        "page_count": record.page_count,
        "number_of_copies": record.number_of_copies,
        "dossier_code": record.dossier_code,
        "note": record.note,
        "corrects": None
        if corrects is None
        else {
            "kind": corrects.kind.value,
            "number_and_symbol": corrects.number_and_symbol,
            "agency_code": corrects.agency_code,
            "document_id": corrects.document_id,
            "original_type_key": corrects.original_type_key,
        },
        "extra": dict(record.extra),
        "uniqueness_key": uniqueness_text(record),
    }


# -- row → protobuf --------------------------------------------------------------------------


def _party_pb(value: Mapping[str, Any] | None) -> pb.Party | None:
    if not value:
        return None
    return pb.Party(name=value["name"], agency_code=value.get("agency_code") or "")


def history_entry_pb(row: Any) -> pb.HistoryEntry:
    return pb.HistoryEntry(
        from_status=STATUS_TO_PB.get(row.from_status or "", pb.STATUS_UNSPECIFIED),
        to_status=STATUS_TO_PB[row.to_status],
        actor=row.actor,
        at=iso(row.at),
        note=row.note or "",
    )


def file_version_pb(row: Any) -> pb.FileVersion:
    """A ``registry.file_versions`` row (or anything with its attributes) as the message."""
    return pb.FileVersion(
        kind=row.kind,
        sha256=row.sha256,
        size_bytes=row.size_bytes,
        media_type=row.media_type,
        file_name=row.file_name,
        created_at=iso(row.created_at),
        created_by=row.created_by,
    )


def row_to_pb(
    row: Any,
    attachment_rows: list[Any] = (),  # type: ignore[assignment]
    file_rows: list[Any] = (),  # type: ignore[assignment]
) -> pb.Document:
    message = pb.Document(
        id=str(row.id),
        direction=pb.DIRECTION_OUTGOING if row.direction == "outgoing" else pb.DIRECTION_INCOMING,
        agency_code=row.agency_code,
        document_id=row.document_id or "",
        number_and_symbol=row.number_and_symbol or "",
        number=row.number or 0,
        book=row.book or "",
        year=row.year or 0,
        document_date=_opt_date(row.document_date),
        document_type=row.document_type,
        legal_normative=row.legal_normative,
        subject=row.subject,
        status=STATUS_TO_PB[row.status],
        urgency=URGENCY_TO_PB[Urgency(row.urgency)],
        receivers=[_party_pb(p) for p in row.receivers],
        sent_at=_opt_iso(row.sent_at),
        received_at=_opt_iso(row.received_at),
        effective_received_at=_opt_iso(row.effective_received_at),
        due_date=_opt_date(row.due_date),
        extra=row.extra,
        confidentiality=CONFIDENTIALITY_TO_PB[Confidentiality(row.confidentiality)],
        electronic=row.electronic,
        arrival_number=(row.number or 0) if row.direction == "incoming" else 0,
        distribution_instructions=row.distribution_instructions or "",
        language=row.language,
        page_count=row.page_count or 0,
        number_of_copies=row.number_of_copies or 0,
        dossier_code=row.dossier_code or "",
        note=row.note or "",
        drafting_unit=row.drafting_unit or "",
        assignees=[
            pb.Assignee(
                assignee_id=a["assignee_id"],
                role=ROLE_TO_PB[a["role"]],
                due_date=a.get("due_date") or "",
            )
            for a in row.assignees
        ],
        registered_at=iso(row.registered_at),
        version=row.version,
        completed_at=_opt_iso(row.completed_at),
    )
    if row.signer:
        message.signer.CopyFrom(
            pb.Signer(
                title=row.signer["title"],
                full_name=row.signer["full_name"],
                authority=row.signer.get("authority") or "",
                on_behalf_of=row.signer.get("on_behalf_of") or "",
            )
        )
    sender = _party_pb(row.sender)
    if sender is not None:
        message.sender.CopyFrom(sender)
    if row.corrects:
        c = row.corrects
        message.corrects.CopyFrom(
            pb.Correction(
                kind=CORRECTION_TO_PB[CorrectionKind(c["kind"])],
                number_and_symbol=c["number_and_symbol"],
                agency_code=c["agency_code"],
                document_id=c.get("document_id") or "",
                original_type_key=c.get("original_type_key") or "",
            )
        )
    for a in attachment_rows:
        message.attachments.append(
            pb.Attachment(
                file_name=a.file_name,
                media_type=a.media_type,
                size_bytes=a.size_bytes,
                sha256=a.sha256,
            )
        )
    message.files.extend(file_version_pb(f) for f in file_rows)
    return message
