"""The registry through real gRPC calls: numbering, arrival, the status state machine, refusals.

Runs the real registry service and the real identifiers service (agency directory) on the
real PostgreSQL of the profile; each test uses a fresh agency so its books start at 01.
"""

from __future__ import annotations

import hashlib
import itertools

import grpc
import pytest
import sqlalchemy as sa
from lienthong.registry.v1 import registry_pb2 as pb

from services.chassis.grpc_server import ERROR_FIELD_HEADER
from services.registry.domain.status import TRANSITIONS, ProcessingStatus
from services.registry.service_layer.messages import STATUS_TO_PB

PROVINCE_FINANCE = "000.00.03.H56"
_serial = itertools.count(1)


def _error(call) -> tuple[grpc.StatusCode, str, str]:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    error = caught.value
    field = dict(error.trailing_metadata() or ()).get(ERROR_FIELD_HEADER, "")
    return error.code(), error.details(), field


def _outgoing(agency: str, **changes) -> pb.Document:
    document = pb.Document(
        agency_code=agency,
        document_type="quyet_dinh",
        subject="Về việc phê duyệt kế hoạch chuyển đổi số năm 2027",
        signer=pb.Signer(
            title="PHÓ CHỦ TỊCH",
            full_name="Nguyễn Văn An",
            authority="KT.",
            on_behalf_of="CHỦ TỊCH",
        ),
        receivers=[pb.Party(name="Sở Tài chính", agency_code=PROVINCE_FINANCE)],
    )
    for name, value in changes.items():
        if isinstance(value, list):
            getattr(document, name).extend(value)
        elif hasattr(value, "CopyFrom"):
            getattr(document, name).CopyFrom(value)
        else:
            setattr(document, name, value)
    return document


def _incoming(agency: str, **changes) -> pb.Document:
    document = pb.Document(
        agency_code=agency,
        document_type="cong_van",
        subject="Về việc báo cáo tình hình thực hiện dự toán ngân sách",
        number_and_symbol=f"{next(_serial)}/STC-NS",
        document_date="2026-11-12",
        sender=pb.Party(name="Sở Tài chính", agency_code=PROVINCE_FINANCE),
        received_at="2026-11-13T18:30:00+07:00",  # Friday after office hours
    )
    for name, value in changes.items():
        setattr(document, name, value)
    return document


def _arrive(registry, agency: str, **changes) -> pb.Document:
    return registry.RegisterIncoming(
        pb.RegisterIncomingRequest(document=_incoming(agency, **changes), actor="văn thư")
    )


# -- outgoing numbering ------------------------------------------------------------------------


def test_numbers_run_from_01_per_book_with_symbols_from_type_and_agency(registry, agency):
    issued = []
    for _ in range(3):
        draft = registry.RegisterOutgoing(pb.RegisterOutgoingRequest(document=_outgoing(agency)))
        assert draft.status == pb.STATUS_DRAFT and draft.number == 0
        issued.append(
            registry.AssignNumber(
                pb.AssignNumberRequest(id=draft.id, issue_date="2026-11-20", actor="văn thư")
            )
        )
    assert [d.number_and_symbol for d in issued] == ["01/QĐ-UBND", "02/QĐ-UBND", "03/QĐ-UBND"]
    assert all(d.status == pb.STATUS_ISSUED and d.book == "outgoing" for d in issued)
    letter = registry.RegisterOutgoing(
        pb.RegisterOutgoingRequest(
            document=_outgoing(agency, document_type="cong_van", drafting_unit="VX"),
            issue_date="2026-11-21",
        )
    )
    assert letter.number_and_symbol == "04/UBND-VX", "công văn share the agency's outgoing book"
    normative = registry.RegisterOutgoing(
        pb.RegisterOutgoingRequest(
            document=_outgoing(agency, legal_normative=True), issue_date="2026-11-21"
        )
    )
    assert normative.number_and_symbol == "01/2026/QĐ-UBND"
    assert normative.book == "outgoing-legal-normative/quyet_dinh"


def test_a_numbered_document_is_never_renumbered(registry, agency):
    issued = registry.RegisterOutgoing(
        pb.RegisterOutgoingRequest(document=_outgoing(agency), issue_date="2026-11-20")
    )
    code, details, field = _error(
        lambda: registry.AssignNumber(pb.AssignNumberRequest(id=issued.id, issue_date="2026-11-21"))
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert "already numbered 01/QĐ-UBND" in details and field == "id"


def test_duplicate_document_id_is_already_exists(registry, agency):
    document = _outgoing(agency, document_id=f"{agency}.2026.QD.0001")
    registry.RegisterOutgoing(pb.RegisterOutgoingRequest(document=document))
    code, details, field = _error(
        lambda: registry.RegisterOutgoing(pb.RegisterOutgoingRequest(document=document))
    )
    assert code == grpc.StatusCode.ALREADY_EXISTS
    assert field == "document.document_id" and "already registered" in details


def test_a_number_already_in_the_book_is_refused_not_reused(registry, agency, engine):
    """The UNIQUE (agency, book, year, number) constraint is the last line of defence."""
    registry.RegisterOutgoing(
        pb.RegisterOutgoingRequest(document=_outgoing(agency), issue_date="2026-11-20")
    )
    with engine.begin() as conn:  # simulate a counter restored from an old backup
        conn.execute(
            sa.text("UPDATE registry.book_counters SET last_number = 0 WHERE agency_code = :a"),
            {"a": agency},
        )
    code, _, field = _error(
        lambda: registry.RegisterOutgoing(
            pb.RegisterOutgoingRequest(document=_outgoing(agency), issue_date="2026-11-20")
        )
    )
    assert code == grpc.StatusCode.ALREADY_EXISTS
    assert field in ("number", "number_and_symbol")
    with engine.connect() as conn:
        counter = conn.execute(
            sa.text("SELECT last_number FROM registry.book_counters WHERE agency_code = :a"),
            {"a": agency},
        ).scalar_one()
    assert counter == 0, "the refused allocation rolled back with its transaction"


def test_state_secrets_are_refused_for_electronic_registration(registry, agency):
    document = _outgoing(agency, electronic=True, confidentiality=pb.CONFIDENTIALITY_SECRET)
    code, details, field = _error(
        lambda: registry.RegisterOutgoing(pb.RegisterOutgoingRequest(document=document))
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert "state secret" in details and field == "confidentiality"


def test_attachments_are_stored_by_hash_and_a_missing_blob_is_refused(registry, agency):
    content = "Phụ lục kèm theo quyết định".encode()
    stored = registry.RegisterOutgoing(
        pb.RegisterOutgoingRequest(
            document=_outgoing(
                agency,
                attachments=[
                    pb.Attachment(file_name="phu-luc.pdf", media_type="application/pdf",
                                  content=content)
                ],
            )
        )
    )  # fmt: skip
    (attachment,) = stored.attachments
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert attachment.size_bytes == len(content)
    missing = hashlib.sha256(b"never uploaded").hexdigest()
    code, details, field = _error(
        lambda: registry.RegisterOutgoing(
            pb.RegisterOutgoingRequest(
                document=_outgoing(
                    agency,
                    attachments=[pb.Attachment(file_name="x.pdf", media_type="application/pdf",
                                               sha256=missing)],
                )
            )
        )
    )  # fmt: skip
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert field == "document.attachments[0].sha256" and missing in details
    code, _, field = _error(
        lambda: registry.RegisterOutgoing(
            pb.RegisterOutgoingRequest(
                document=_outgoing(
                    agency,
                    attachments=[pb.Attachment(file_name="../etc/passwd", media_type="text/plain",
                                               content=b"x")],
                )
            )
        )
    )  # fmt: skip
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "document.attachments[0].file_name")


# -- bad inputs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"subject": "x" * 1001}, grpc.StatusCode.INVALID_ARGUMENT, "subject"),
        ({"subject": "   "}, grpc.StatusCode.INVALID_ARGUMENT, "subject"),
        ({"document_type": "sac_lenh"}, grpc.StatusCode.INVALID_ARGUMENT, "document.document_type"),
        ({"agency_code": "H56"}, grpc.StatusCode.INVALID_ARGUMENT, "document.agency_code"),
        ({"agency_code": "999.99.99.Z00"}, grpc.StatusCode.FAILED_PRECONDITION,
         "document.agency_code"),
        ({"dossier_code": "d" * 101}, grpc.StatusCode.INVALID_ARGUMENT, "dossier_code"),
        ({"page_count": -3}, grpc.StatusCode.INVALID_ARGUMENT, "page_count"),
        ({"due_date": "20/11/2026"}, grpc.StatusCode.INVALID_ARGUMENT, "document.due_date"),
        ({"sent_at": "2026-11-20 10:00"}, grpc.StatusCode.INVALID_ARGUMENT, "document.sent_at"),
    ],
)  # fmt: skip
def test_bad_outgoing_inputs_name_the_field(registry, agency, change, status, field):
    code, details, error_field = _error(
        lambda: registry.RegisterOutgoing(
            pb.RegisterOutgoingRequest(document=_outgoing(agency, **change))
        )
    )
    assert (code, error_field) == (status, field), details


def test_wrong_year_and_bad_dates_when_numbering(registry, agency):
    draft = registry.RegisterOutgoing(pb.RegisterOutgoingRequest(document=_outgoing(agency)))
    code, details, field = _error(
        lambda: registry.AssignNumber(pb.AssignNumberRequest(id=draft.id, issue_date="2025-12-31"))
    )
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "issue_date")
    assert "2025 register books are closed" in details
    code, details, field = _error(
        lambda: registry.AssignNumber(pb.AssignNumberRequest(id=draft.id, issue_date="2099-01-02"))
    )
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "issue_date")
    assert "after today" in details
    assert registry.Get(pb.GetRequest(id=draft.id)).status == pb.STATUS_DRAFT
    code, _, field = _error(
        lambda: registry.AssignNumber(pb.AssignNumberRequest(id=draft.id, issue_date="2026-13-01"))
    )
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "issue_date")
    code, _, field = _error(
        lambda: registry.AssignNumber(
            pb.AssignNumberRequest(id="not-a-uuid", issue_date="2026-11-20")
        )
    )
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "id")


def test_incoming_document_dated_after_its_arrival_is_refused(registry, agency):
    code, details, field = _error(lambda: _arrive(registry, agency, document_date="2026-11-25"))
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "document_date"), details


def test_unknown_record_is_not_found(registry):
    code, _, field = _error(
        lambda: registry.Get(pb.GetRequest(id="00000000-0000-4000-8000-000000000000"))
    )
    assert (code, field) == (grpc.StatusCode.NOT_FOUND, "id")


# -- incoming: arrival and the state machine -----------------------------------------------------


def test_arrival_numbers_are_continuous_and_count_from_the_next_working_period(registry, agency):
    first = _arrive(registry, agency)
    second = _arrive(registry, agency, received_at="2026-11-16T09:00:00+07:00")
    assert (first.arrival_number, second.arrival_number) == (1, 2)
    assert first.book == "incoming" and first.status == pb.STATUS_ARRIVED
    # Friday 18:30 counts from Monday 07:30 (QĐ 36/2013 Long An Điều 9 khoản 2).
    assert first.effective_received_at == "2026-11-16T07:30:00+07:00"
    assert second.effective_received_at == "2026-11-16T09:00:00+07:00"


def test_the_same_document_arriving_twice_is_already_exists(registry, agency):
    document = _arrive(registry, agency)
    code, details, _ = _error(
        lambda: _arrive(registry, agency, number_and_symbol=document.number_and_symbol)
    )
    assert code == grpc.StatusCode.ALREADY_EXISTS
    assert f"số đến {document.arrival_number}" in details


_S = ProcessingStatus
_PATH_TO = {
    _S.ARRIVED: [],
    _S.ACCEPTED: [_S.ACCEPTED],
    _S.ASSIGNED: [_S.ACCEPTED, _S.ASSIGNED],
    _S.IN_PROGRESS: [_S.ACCEPTED, _S.ASSIGNED, _S.IN_PROGRESS],
    _S.COMPLETED: [_S.ACCEPTED, _S.ASSIGNED, _S.IN_PROGRESS, _S.COMPLETED],
    _S.REJECTED: [_S.REJECTED],
    _S.RECALLED: [_S.RECALLED],
    _S.DELETED: [_S.RECALLED, _S.DELETED],
}


def _move(registry, document_id: str, target: ProcessingStatus) -> pb.Document:
    return registry.Transition(
        pb.TransitionRequest(
            id=document_id, target=STATUS_TO_PB[target.value], actor="chuyên viên",
            note="sai nơi nhận" if target is _S.REJECTED else "",
        )
    )  # fmt: skip


def test_every_transition_through_grpc_legal_ones_pass_illegal_ones_fail(registry, agency, engine):
    checked = 0
    for source, path in _PATH_TO.items():
        for target in ProcessingStatus:
            document = _arrive(registry, agency)
            for step in path:
                _move(registry, document.id, step)
            if target in TRANSITIONS[source]:
                moved = _move(registry, document.id, target)
                assert moved.status == STATUS_TO_PB[target.value]
            else:
                code, details, field = _error(lambda: _move(registry, document.id, target))  # noqa: B023
                assert code == grpc.StatusCode.FAILED_PRECONDITION, (source, target, details)
                assert field == "status"
                assert (
                    registry.Get(pb.GetRequest(id=document.id)).status == STATUS_TO_PB[source.value]
                )
            checked += 1
    assert checked == 64
    # The history is exactly the path, and the database refuses to edit it.
    document = _arrive(registry, agency)
    for step in _PATH_TO[_S.COMPLETED]:
        _move(registry, document.id, step)
    history = registry.GetHistory(pb.HistoryRequest(id=document.id)).entries
    assert [e.to_status for e in history] == [
        pb.STATUS_ARRIVED, pb.STATUS_ACCEPTED, pb.STATUS_ASSIGNED, pb.STATUS_IN_PROGRESS,
        pb.STATUS_COMPLETED,
    ]  # fmt: skip
    assert [e.from_status for e in history[1:]] == [e.to_status for e in history[:-1]]
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE registry.history SET note = 'sửa' WHERE document_uuid = :d"),
            {"d": document.id},
        )


def test_a_refusal_needs_its_reason(registry, agency):
    document = _arrive(registry, agency)
    code, details, _ = _error(
        lambda: registry.Transition(
            pb.TransitionRequest(id=document.id, target=pb.STATUS_REJECTED, actor="văn thư")
        )
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "reason" in details


def test_outgoing_documents_have_no_processing_transitions(registry, agency):
    issued = registry.RegisterOutgoing(
        pb.RegisterOutgoingRequest(document=_outgoing(agency), issue_date="2026-11-20")
    )
    code, _, field = _error(
        lambda: registry.Transition(pb.TransitionRequest(id=issued.id, target=pb.STATUS_ACCEPTED))
    )
    assert (code, field) == (grpc.StatusCode.FAILED_PRECONDITION, "id")
    code, _, field = _error(
        lambda: registry.Transition(pb.TransitionRequest(id=issued.id, target=pb.STATUS_ISSUED))
    )
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "target")


def test_assignment_one_lead_due_in_working_days_and_version_check(registry, agency):
    document = _arrive(registry, agency)
    accepted = _move(registry, document.id, _S.ACCEPTED)
    code, details, _ = _error(
        lambda: registry.Assign(
            pb.AssignRequest(
                id=document.id,
                assignees=[
                    pb.Assignee(assignee_id="Phòng Ngân sách", role=pb.ASSIGNMENT_ROLE_SUPPORT)
                ],
            )
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "lead" in details
    assigned = registry.Assign(
        pb.AssignRequest(
            id=document.id,
            assignees=[
                pb.Assignee(assignee_id="Phòng Ngân sách", role=pb.ASSIGNMENT_ROLE_LEAD),
                pb.Assignee(assignee_id="Phòng Tin học", role=pb.ASSIGNMENT_ROLE_SUPPORT),
            ],
            due_in_working_days=5,
            instructions="Chủ trì tham mưu báo cáo UBND tỉnh",
            actor="lãnh đạo văn phòng",
        )
    )
    assert assigned.status == pb.STATUS_ASSIGNED
    # Effective arrival Monday 2026-11-16 07:30; 5 working days later is Monday 2026-11-23.
    assert assigned.due_date == "2026-11-23"
    assert [a.due_date for a in assigned.assignees] == ["2026-11-23", "2026-11-23"]
    code, _, field = _error(
        lambda: registry.Transition(
            pb.TransitionRequest(
                id=document.id, target=pb.STATUS_IN_PROGRESS, expected_version=accepted.version
            )
        )
    )
    assert (code, field) == (grpc.StatusCode.FAILED_PRECONDITION, "expected_version")


# -- reading -------------------------------------------------------------------------------------


def test_search_ignores_diacritics_and_pages_by_keyset(registry, agency):
    subjects = [f"Về việc đầu tư xây dựng trường học số {n}" for n in range(7)]
    for subject in subjects:
        registry.RegisterOutgoing(
            pb.RegisterOutgoingRequest(document=_outgoing(agency, subject=subject),
                                       issue_date="2026-11-20")
        )  # fmt: skip
    registry.RegisterOutgoing(
        pb.RegisterOutgoingRequest(document=_outgoing(agency, subject="Về việc khác hẳn"),
                                   issue_date="2026-11-20")
    )  # fmt: skip
    seen: list[str] = []
    token = ""
    while True:
        page = registry.List(
            pb.ListRequest(agency_code=agency, query="DAU TU xay dung", page_size=3,
                           page_token=token)
        )  # fmt: skip
        seen += [d.subject for d in page.documents]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(subjects), "every match once, no repeats, nothing else"
    numbers = registry.List(
        pb.ListRequest(agency_code=agency, number_from=2, number_to=4, book="outgoing", year=2026)
    )
    assert sorted(d.number for d in numbers.documents) == [2, 3, 4]


def test_statistics_count_sent_received_on_time_and_overdue(registry, agency):
    registry.RegisterOutgoing(
        pb.RegisterOutgoingRequest(document=_outgoing(agency), issue_date="2026-11-20")
    )
    on_time = _arrive(registry, agency)
    for step in _PATH_TO[_S.ACCEPTED]:
        _move(registry, on_time.id, step)
    registry.Assign(
        pb.AssignRequest(
            id=on_time.id,
            assignees=[pb.Assignee(assignee_id="P1", role=pb.ASSIGNMENT_ROLE_LEAD,
                                   due_date="2099-12-31")],
        )
    )  # fmt: skip
    _move(registry, on_time.id, _S.IN_PROGRESS)
    _move(registry, on_time.id, _S.COMPLETED)
    overdue = registry.RegisterIncoming(
        pb.RegisterIncomingRequest(document=_incoming(agency), due_in_working_days=1)
    )
    assert overdue.due_date == "2026-11-17"
    recalled = _arrive(registry, agency)
    _move(registry, recalled.id, _S.RECALLED)
    stats = registry.GetStatistics(
        pb.StatisticsRequest(agency_codes=[agency], date_from="2026-11-01", date_to="2026-11-30",
                             today="2026-12-01")
    ).agencies  # fmt: skip
    (row,) = stats
    assert (row.sent, row.received) == (1, 3)
    assert (row.completed_on_time, row.completed_late, row.overdue, row.withdrawn) == (1, 0, 1, 1)
    assert row.pending == 0


def test_export_book_through_grpc(registry, agency):
    registry.RegisterOutgoing(
        pb.RegisterOutgoingRequest(document=_outgoing(agency), issue_date="2026-11-20")
    )
    exported = registry.ExportBook(
        pb.ExportBookRequest(agency_code=agency, kind=pb.DIRECTION_OUTGOING, month="2026-11",
                             format=pb.BOOK_FORMAT_CSV)
    )  # fmt: skip
    assert exported.rows == 1
    text = exported.content.decode("utf-8-sig")
    assert "01/QĐ-UBND" in text and "Về việc phê duyệt kế hoạch chuyển đổi số năm 2027" in text
    code, _, field = _error(
        lambda: registry.ExportBook(
            pb.ExportBookRequest(agency_code=agency, kind=pb.DIRECTION_OUTGOING, month="11/2026",
                                 format=pb.BOOK_FORMAT_PDF)
        )
    )  # fmt: skip
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "month")


def test_every_change_publishes_its_event_in_the_outbox(registry, agency, engine):
    issued = registry.RegisterOutgoing(
        pb.RegisterOutgoingRequest(document=_outgoing(agency), issue_date="2026-11-09", actor="vt")
    )
    arrived = _arrive(registry, agency)
    _move(registry, arrived.id, _S.RECALLED)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT key, type, payload FROM registry.outbox WHERE key IN (:a, :b) "
                    "ORDER BY seq"),
            {"a": issued.id, "b": arrived.id},
        ).all()  # fmt: skip
    prefix = "vn.lienthong.registry.document."
    assert [(r.key, r.type.removeprefix(prefix)) for r in rows] == [
        (issued.id, "registered"),
        (issued.id, "number_assigned"),
        (arrived.id, "registered"),
        (arrived.id, "number_assigned"),
        (arrived.id, "recalled"),
    ]
    # number_assigned is completed by the database (number and symbol appended to the
    # client's fields): it must parse as a whole, correct message.
    outgoing = pb.NumberAssigned.FromString(rows[1].payload)
    assert (outgoing.number, outgoing.number_and_symbol) == (1, "01/QĐ-UBND")
    assert (outgoing.id, outgoing.agency_code, outgoing.book, outgoing.year) == (
        issued.id, agency, "outgoing", 2026,
    )  # fmt: skip
    assert (outgoing.issue_date, outgoing.actor) == ("2026-11-09", "vt")
    incoming = pb.NumberAssigned.FromString(rows[3].payload)
    assert (incoming.number, incoming.number_and_symbol, incoming.direction) == (
        1, arrived.number_and_symbol, pb.DIRECTION_INCOMING,
    )  # fmt: skip
    registered = pb.DocumentRegistered.FromString(rows[0].payload)
    assert registered.document.subject == issued.subject
    recalled = pb.StatusChanged.FromString(rows[4].payload)
    assert (recalled.entry.from_status, recalled.entry.to_status) == (
        pb.STATUS_ARRIVED, pb.STATUS_RECALLED,
    )  # fmt: skip
