"""Assignment (NĐ 30/2020 Điều 23), corrections (Điều 18.3), uniqueness and timeliness."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from services.registry.domain.assignment import (
    Assignee,
    Assignment,
    AssignmentRole,
    must_be_handled_at_once,
)
from services.registry.domain.classification import Signer, Urgency
from services.registry.domain.document_types import DocumentTypeCatalogue
from services.registry.domain.errors import InvalidField
from services.registry.domain.record import (
    Correction,
    CorrectionKind,
    DocumentRecord,
    Party,
    Timeliness,
)
from services.registry.domain.register_books import VIETNAM, Direction
from services.registry.domain.status import ProcessingStatus, initial_entry, transition

TYPES = DocumentTypeCatalogue.load_default()
LEAD = AssignmentRole.LEAD
SUPPORT = AssignmentRole.SUPPORT
INFO = AssignmentRole.FOR_INFORMATION
ARRIVED = datetime(2026, 11, 20, 9, 0, tzinfo=VIETNAM)


def test_assignment_with_one_lead() -> None:
    assignment = Assignment(
        [
            Assignee("000.00.03.H56", LEAD, date(2026, 11, 27)),
            Assignee("000.00.02.H56", SUPPORT, date(2026, 11, 25)),
            Assignee("000.00.04.H56", INFO),
        ],
        instructions="  Sở Tài chính chủ trì, tham mưu  ",
    )
    assert assignment.lead.assignee_id == "000.00.03.H56"
    assert assignment.due_date == date(2026, 11, 27)
    assert [a.assignee_id for a in assignment.with_role(SUPPORT)] == ["000.00.02.H56"]
    assert assignment.instructions == "Sở Tài chính chủ trì, tham mưu"


@pytest.mark.parametrize(
    ("assignees", "field", "reason"),
    [
        ([], "assignees", "between 1"),
        ([Assignee("a", SUPPORT)], "assignees", "exactly one lead"),
        ([Assignee("a", LEAD), Assignee("b", LEAD)], "assignees", "exactly one lead"),
        ([Assignee("a", LEAD), Assignee("a", SUPPORT)], "assignees[1]", "twice"),
        (
            [Assignee("a", LEAD, date(2026, 11, 27)), Assignee("b", SUPPORT, date(2026, 11, 30))],
            "assignees[1].due_date",
            "after the lead",
        ),
        (["a"], "assignees", "Assignee"),
    ],
)
def test_bad_assignments(assignees: list, field: str, reason: str) -> None:
    with pytest.raises(InvalidField) as info:
        Assignment(assignees)
    assert info.value.field == field
    assert reason in info.value.reason


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"assignee_id": "", "role": LEAD}, "assignee.assignee_id"),
        ({"assignee_id": "a", "role": "lead"}, "assignee.role"),
        ({"assignee_id": "a", "role": LEAD, "due_date": "2026-11-27"}, "assignee.due_date"),
    ],
)
def test_bad_assignees(kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidField) as info:
        Assignee(**kwargs)
    assert info.value.field == field


@pytest.mark.parametrize(("urgency", "at_once"), [(u, u is not Urgency.NORMAL) for u in Urgency])
def test_urgent_documents_are_handled_at_once(urgency: Urgency, at_once: bool) -> None:
    assert must_be_handled_at_once(urgency) is at_once


def outgoing(**overrides: Any) -> DocumentRecord:
    values: dict[str, Any] = {
        "direction": Direction.OUTGOING,
        "agency_code": "000.00.00.H56",
        "document_type": TYPES.by_abbreviation("QĐ"),
        "subject": "Về việc sửa đổi Quyết định số 15/QĐ-UBND",
        "number_and_symbol": "20/QĐ-UBND",
        "document_date": date(2026, 11, 20),
        "signer": Signer("CHỦ TỊCH", "Nguyễn Văn An"),
        "receivers": (Party("Sở Tài chính", "000.00.03.H56"),),
    }
    return DocumentRecord(**(values | overrides))


def test_amendment_and_erratum_reference_the_old_document() -> None:
    amendment = Correction(
        CorrectionKind.AMENDMENT, "15/QĐ-UBND", "000.00.00.H56", original_type_key="quyet_dinh"
    )
    assert outgoing(corrects=amendment).corrects == amendment
    erratum = Correction(CorrectionKind.ERRATUM, "15/QĐ-UBND", "000.00.00.H56")
    record = outgoing(
        document_type=TYPES.by_key("cong_van"), number_and_symbol="21/UBND-VP", corrects=erratum
    )
    assert record.corrects is not None and record.corrects.kind is CorrectionKind.ERRATUM


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (
            {"corrects": Correction(CorrectionKind.ERRATUM, "15/QĐ-UBND", "000.00.00.H56")},
            "corrects.kind",
        ),
        (
            {
                "corrects": Correction(
                    CorrectionKind.REPLACEMENT,
                    "15/CT-UBND",
                    "000.00.00.H56",
                    original_type_key="chi_thi",
                )
            },
            "corrects.original_type_key",
        ),
        (
            {"corrects": Correction(CorrectionKind.AMENDMENT, "20/QĐ-UBND", "000.00.00.H56")},
            "corrects",
        ),
        ({"corrects": "15/QĐ-UBND"}, "corrects"),
    ],
)
def test_bad_corrections(overrides: dict, field: str) -> None:
    with pytest.raises(InvalidField) as info:
        outgoing(**overrides)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "erratum"}, "corrects.kind"),
        ({"number_and_symbol": "15"}, "corrects.number_and_symbol"),
        ({"agency_code": "UBND"}, "corrects.agency_code"),
        ({"document_id": "x" * 101}, "corrects.document_id"),
    ],
)
def test_bad_correction_fields(kwargs: dict, field: str) -> None:
    arguments = {
        "kind": CorrectionKind.AMENDMENT,
        "number_and_symbol": "15/QĐ-UBND",
        "agency_code": "000.00.00.H56",
    }
    with pytest.raises(InvalidField) as info:
        Correction(**(arguments | kwargs))
    assert info.value.field == field


def incoming(**overrides: Any) -> DocumentRecord:
    values: dict[str, Any] = {
        "direction": Direction.INCOMING,
        "agency_code": "000.00.03.H56",
        "document_type": TYPES.by_key("cong_van"),
        "subject": "Về việc báo cáo",
        "number_and_symbol": "05/UBND-VX",
        "document_date": date(2026, 11, 19),
        "sender": Party("Ủy ban nhân dân tỉnh Lạc Hồng", "000.00.00.H56"),
        "arrival_number": 7,
        "received_at": ARRIVED,
        "history": (initial_entry("hệ thống", ARRIVED),),
        "due_date": date(2026, 11, 27),
    }
    return DocumentRecord(**(values | overrides))


def test_uniqueness_keys() -> None:
    assert outgoing().uniqueness_key == ("000.00.00.H56", 2026, "20/QĐ-UBND")
    paper_copy = incoming(arrival_number=8, electronic=False)
    assert (
        incoming().uniqueness_key
        == paper_copy.uniqueness_key
        == ("000.00.00.H56", 2026, "05/UBND-VX")
    )
    citizen = incoming(sender=Party("Ông Nguyễn Văn Bình"))
    assert citizen.uniqueness_key == ("ong nguyen van binh", 2026, "05/UBND-VX")
    assert incoming(number_and_symbol=None).uniqueness_key is None


def _walk(record: DocumentRecord, *targets: ProcessingStatus, at: datetime) -> DocumentRecord:
    for target in targets:
        note = "gửi nhầm" if target is ProcessingStatus.REJECTED else None
        record = record.with_history_entry(transition(record.status, target, "u", note, at))
    return record


S = ProcessingStatus


@pytest.mark.parametrize(
    ("path", "finished_at", "today", "expected"),
    [
        ((), ARRIVED, date(2026, 11, 27), Timeliness.PENDING),
        ((), ARRIVED, date(2026, 11, 28), Timeliness.OVERDUE),
        ((S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS), ARRIVED, date(2026, 12, 1), Timeliness.OVERDUE),
        (
            (S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS, S.COMPLETED),
            datetime(2026, 11, 27, 16, 0, tzinfo=VIETNAM),
            date(2026, 12, 31),
            Timeliness.ON_TIME,
        ),
        (
            (S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS, S.COMPLETED),
            datetime(2026, 11, 28, 8, 0, tzinfo=VIETNAM),
            date(2026, 12, 31),
            Timeliness.LATE,
        ),
        (
            (S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS, S.COMPLETED, S.RECALLED),
            ARRIVED + timedelta(days=1),
            date(2026, 12, 31),
            Timeliness.WITHDRAWN,
        ),
        ((S.REJECTED,), ARRIVED, date(2026, 12, 31), Timeliness.WITHDRAWN),
    ],
)
def test_timeliness(path: tuple, finished_at: datetime, today: date, expected: Timeliness) -> None:
    record = _walk(incoming(), *path, at=finished_at)
    assert record.timeliness(today) is expected


def test_timeliness_without_deadline() -> None:
    assert incoming(due_date=None).timeliness(date(2030, 1, 1)) is Timeliness.NO_DEADLINE
