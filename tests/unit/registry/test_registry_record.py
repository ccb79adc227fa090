"""The document record: every field validated, each error naming the field."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from services.registry.domain.classification import (
    Confidentiality,
    Signer,
    SignerAuthority,
    Urgency,
)
from services.registry.domain.document_types import DocumentTypeCatalogue
from services.registry.domain.errors import IllegalTransition, InvalidField, StateSecretNotAllowed
from services.registry.domain.record import Attachment, DocumentRecord, Party
from services.registry.domain.register_books import VIETNAM, Direction
from services.registry.domain.status import ProcessingStatus, initial_entry, transition

TYPES = DocumentTypeCatalogue.load_default()
SIGNER = Signer("PHÓ CHỦ TỊCH", "Nguyễn Văn An", SignerAuthority.DEPUTY, "CHỦ TỊCH")
ARRIVED = datetime(2026, 11, 20, 9, 0, tzinfo=VIETNAM)
PDF = Attachment("15-QD-UBND.pdf", "application/pdf", 1234, hashlib.sha256(b"pdf").hexdigest())


def outgoing(**overrides: Any) -> DocumentRecord:
    values: dict[str, Any] = {
        "direction": Direction.OUTGOING,
        "agency_code": "000.00.00.H56",
        "document_type": TYPES.by_abbreviation("QĐ"),
        "subject": "Về việc phê duyệt kế hoạch chuyển đổi số năm 2026",
        "number_and_symbol": "15/QĐ-UBND",
        "document_date": date(2026, 11, 20),
        "signer": SIGNER,
        "receivers": (Party("Sở Tài chính", "000.00.03.H56"),),
        "attachments": (PDF,),
        "page_count": 3,
        "number_of_copies": 10,
    }
    return DocumentRecord(**(values | overrides))


def incoming(**overrides: Any) -> DocumentRecord:
    values: dict[str, Any] = {
        "direction": Direction.INCOMING,
        "agency_code": "000.00.03.H56",
        "document_type": TYPES.by_key("cong_van"),
        "subject": "Về việc báo cáo tình hình thực hiện dự toán",
        "number_and_symbol": "05/UBND-VX",
        "document_date": date(2026, 11, 19),
        "sender": Party("Ủy ban nhân dân tỉnh Lạc Hồng", "000.00.00.H56"),
        "arrival_number": 1,
        "received_at": ARRIVED,
        "effective_received_at": ARRIVED,
        "history": (initial_entry("hệ thống", ARRIVED),),
        "due_date": date(2026, 11, 27),
    }
    return DocumentRecord(**(values | overrides))


def test_valid_records() -> None:
    record = outgoing()
    assert record.year == 2026
    assert record.status is None
    assert record.language == "Tiếng Việt"
    received = incoming()
    assert received.status is ProcessingStatus.ARRIVED
    with pytest.raises(dataclasses.FrozenInstanceError):
        received.subject = "x"  # type: ignore[misc]


def test_history_grows_by_new_values_only() -> None:
    received = incoming()
    accepted = received.with_history_entry(
        transition(
            received.status, ProcessingStatus.ACCEPTED, "vanthu", None, ARRIVED + timedelta(hours=1)
        )
    )
    assert accepted.status is ProcessingStatus.ACCEPTED
    assert received.status is ProcessingStatus.ARRIVED
    forged = transition(ProcessingStatus.ASSIGNED, ProcessingStatus.IN_PROGRESS, "x", None, ARRIVED)
    with pytest.raises(InvalidField, match="history"):
        received.with_history_entry(forged)


def test_overdue() -> None:
    received = incoming()
    assert not received.is_overdue(date(2026, 11, 27))
    assert received.is_overdue(date(2026, 11, 28))
    done = received
    for target in (
        ProcessingStatus.ACCEPTED,
        ProcessingStatus.ASSIGNED,
        ProcessingStatus.IN_PROGRESS,
        ProcessingStatus.COMPLETED,
    ):
        done = done.with_history_entry(transition(done.status, target, "u", None, ARRIVED))
    assert not done.is_overdue(date(2026, 12, 31))


@pytest.mark.parametrize(
    "level", [Confidentiality.CONFIDENTIAL, Confidentiality.SECRET, Confidentiality.TOP_SECRET]
)
def test_electronic_state_secret_is_refused_but_paper_is_registered(level: Confidentiality) -> None:
    with pytest.raises(StateSecretNotAllowed) as info:
        incoming(confidentiality=level)
    assert info.value.field == "confidentiality"
    assert incoming(confidentiality=level, electronic=False).confidentiality is level


BAD_COMMON = [
    ({"agency_code": "H56"}, "agency_code"),
    ({"agency_code": None}, "agency_code"),
    ({"document_type": "QĐ"}, "document_type"),
    ({"subject": ""}, "subject"),
    ({"subject": "x" * 1001}, "subject"),
    ({"subject": 15}, "subject"),
    ({"number_and_symbol": "15-QĐ-UBND"}, "number_and_symbol"),
    ({"number_and_symbol": "1/" + "X" * 60}, "number_and_symbol"),
    ({"document_date": "2026-11-20"}, "document_date"),
    ({"document_date": datetime(2026, 11, 20, tzinfo=VIETNAM)}, "document_date"),
    ({"document_id": "x" * 101}, "document_id"),
    ({"legal_normative": "yes"}, "legal_normative"),
    ({"electronic": 1}, "electronic"),
    ({"attachments": [PDF, PDF]}, "attachments"),
    ({"attachments": ("a.pdf",)}, "attachments[0]"),
    ({"attachments": {"a": PDF}}, "attachments"),
    ({"urgency": 1}, "urgency"),
    ({"confidentiality": "mật"}, "confidentiality"),
    ({"signer": "Nguyễn Văn An"}, "signer"),
    ({"sent_at": datetime(2026, 11, 20, 10, 0)}, "sent_at"),
    ({"due_date": date(2026, 1, 1)}, "due_date"),
    ({"distribution_instructions": "x" * 2001}, "distribution_instructions"),
    ({"language": ""}, "language"),
    ({"page_count": 0}, "page_count"),
    ({"page_count": 2.5}, "page_count"),
    ({"page_count": True}, "page_count"),
    ({"dossier_code": "x" * 101}, "dossier_code"),
    ({"note": "x" * 2001}, "note"),
    ({"extra": {"Bad Key": "v"}}, "extra"),
    ({"extra": {"ok": ""}}, "extra.ok"),
    ({"extra": {f"k{i}": "v" for i in range(51)}}, "extra"),
    ({"extra": ["a"]}, "extra"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_COMMON, ids=lambda v: str(v)[:40])
@pytest.mark.parametrize("factory", [outgoing, incoming], ids=["outgoing", "incoming"])
def test_bad_common_fields_name_the_field(factory: Any, overrides: dict, field: str) -> None:
    with pytest.raises(InvalidField) as info:
        factory(**overrides)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"number_and_symbol": None}, "number_and_symbol"),
        ({"document_date": None}, "document_date"),
        ({"signer": None}, "signer"),
        ({"receivers": ()}, "receivers"),
        ({"receivers": ("Sở Tài chính",)}, "receivers[0]"),
        ({"arrival_number": 3}, "arrival_number"),
        ({"received_at": ARRIVED}, "received_at"),
        ({"history": (initial_entry("x", ARRIVED),)}, "history"),
        ({"sent_at": datetime(2026, 11, 19, 10, 0, tzinfo=VIETNAM)}, "sent_at"),
        ({"legal_normative": True, "document_type": TYPES.by_key("cong_van")}, "legal_normative"),
        ({"number_of_copies": 0}, "number_of_copies"),
    ],
)
def test_bad_outgoing_fields(overrides: dict, field: str) -> None:
    with pytest.raises(InvalidField) as info:
        outgoing(**overrides)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"arrival_number": None}, "arrival_number"),
        ({"arrival_number": 0}, "arrival_number"),
        ({"arrival_number": "1"}, "arrival_number"),
        ({"received_at": None}, "received_at"),
        ({"sender": None}, "sender"),
        ({"sender": "UBND tỉnh"}, "sender"),
        ({"number_of_copies": 5}, "number_of_copies"),
        ({"effective_received_at": ARRIVED - timedelta(minutes=1)}, "effective_received_at"),
        ({"document_date": date(2026, 11, 21)}, "document_date"),
        ({"history": ()}, "history"),
    ],
)
def test_bad_incoming_fields(overrides: dict, field: str) -> None:
    try:
        record = incoming(**overrides)
    except InvalidField as exc:
        assert exc.field == field
    else:
        # An incoming record without history is allowed (registered before the first status).
        assert field == "history" and record.status is None


def test_incoming_history_is_replayed() -> None:
    bad = (
        initial_entry("x", ARRIVED),
        transition(ProcessingStatus.ACCEPTED, ProcessingStatus.ASSIGNED, "u", None, ARRIVED),
    )
    with pytest.raises(InvalidField, match="history"):
        incoming(history=bad)
    jump = dataclasses.replace(
        bad[1], from_status=ProcessingStatus.ARRIVED, to_status=ProcessingStatus.COMPLETED
    )
    with pytest.raises(IllegalTransition):
        incoming(history=(bad[0], jump))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"file_name": "../etc/passwd"}, "attachment.file_name"),
        ({"file_name": ""}, "attachment.file_name"),
        ({"media_type": "pdf"}, "attachment.media_type"),
        ({"size_bytes": -1}, "attachment.size_bytes"),
        ({"sha256": "ABC"}, "attachment.sha256"),
        ({"sha256": "A" * 64}, "attachment.sha256"),
    ],
)
def test_bad_attachments(kwargs: dict, field: str) -> None:
    arguments = {
        "file_name": "a.pdf",
        "media_type": "application/pdf",
        "size_bytes": 1,
        "sha256": "0" * 64,
    }
    with pytest.raises(InvalidField) as info:
        Attachment(**(arguments | kwargs))
    assert info.value.field == field


def test_attachment_media_type_is_lowercased() -> None:
    assert Attachment("a.PDF", "Application/PDF", 1, "0" * 64).media_type == "application/pdf"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"name": ""}, "party.name"), ({"name": "A", "agency_code": "x"}, "party.agency_code")],
)
def test_bad_parties(kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidField) as info:
        Party(**kwargs)
    assert info.value.field == field


def test_text_is_normalised_to_nfc() -> None:
    import unicodedata

    record = outgoing(
        subject=unicodedata.normalize("NFD", "  Về   việc  thu hồi  "), urgency=Urgency.EXPRESS
    )
    assert record.subject == "Về việc thu hồi"
    assert unicodedata.is_normalized("NFC", record.subject)
