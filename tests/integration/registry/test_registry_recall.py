"""Recall of an outgoing document by its sender, through gRPC on the real PostgreSQL."""

from __future__ import annotations

import grpc
import pytest
import sqlalchemy as sa
from lienthong.registry.v1 import registry_pb2 as pb

from services.chassis.grpc_server import ERROR_FIELD_HEADER

PROVINCE_FINANCE = "000.00.03.H56"
RECALLED_TYPE = "vn.lienthong.registry.document.recalled"
REASON = "Văn bản ban hành sai thẩm quyền, thu hồi để ban hành lại"


def _error(call) -> tuple[grpc.StatusCode, str, str]:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    error = caught.value
    field = dict(error.trailing_metadata() or ()).get(ERROR_FIELD_HEADER, "")
    return error.code(), error.details(), field


def _outgoing(agency: str) -> pb.Document:
    return pb.Document(
        agency_code=agency,
        document_type="quyet_dinh",
        subject="Về việc phê duyệt danh mục dự án đầu tư công năm 2027",
        signer=pb.Signer(title="CHỦ TỊCH", full_name="Trần Thị Bình"),
        receivers=[pb.Party(name="Sở Tài chính", agency_code=PROVINCE_FINANCE)],
    )


def _issue(registry, agency: str) -> pb.Document:
    return registry.RegisterOutgoing(
        pb.RegisterOutgoingRequest(
            document=_outgoing(agency), issue_date="2026-11-10", actor="văn thư"
        )
    )


def _recall(registry, document_id: str, reason: str = REASON, **extra) -> pb.Document:
    return registry.Recall(
        pb.RecallRequest(id=document_id, reason=reason, actor="chánh văn phòng", **extra)
    )


def _recalled_events(engine, document_id: str) -> list:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT type, payload FROM registry.outbox WHERE key = :k AND type = :t"),
            {"k": document_id, "t": RECALLED_TYPE},
        ).all()


def test_recall_freezes_the_record_with_its_history_and_event(registry, agency, engine):
    issued = _issue(registry, agency)
    recalled = _recall(registry, issued.id, expected_version=issued.version)
    assert recalled.status == pb.STATUS_RECALLED
    assert recalled.version == issued.version + 1
    # It stays in the sender's records with its number.
    assert (recalled.number, recalled.number_and_symbol) == (1, "01/QĐ-UBND")
    history = registry.GetHistory(pb.HistoryRequest(id=issued.id)).entries
    assert [(e.from_status, e.to_status, e.actor, e.note) for e in history] == [
        (pb.STATUS_ISSUED, pb.STATUS_RECALLED, "chánh văn phòng", REASON),
    ]  # fmt: skip
    events = _recalled_events(engine, issued.id)
    assert len(events) == 1
    payload = pb.StatusChanged.FromString(events[0].payload)
    assert (payload.id, payload.agency_code, payload.version) == (
        issued.id, agency, recalled.version,
    )  # fmt: skip
    assert (payload.entry.from_status, payload.entry.to_status, payload.entry.note) == (
        pb.STATUS_ISSUED, pb.STATUS_RECALLED, REASON,
    )  # fmt: skip
    # Frozen: every further change is refused and nothing is written.
    attempts = {
        "Recall": lambda: _recall(registry, issued.id),
        "AssignNumber": lambda: registry.AssignNumber(
            pb.AssignNumberRequest(id=issued.id, issue_date="2026-11-11")
        ),
        "Transition": lambda: registry.Transition(
            pb.TransitionRequest(id=issued.id, target=pb.STATUS_DELETED)
        ),
        "Assign": lambda: registry.Assign(
            pb.AssignRequest(
                id=issued.id,
                assignees=[pb.Assignee(assignee_id="VP", role=pb.ASSIGNMENT_ROLE_LEAD)],
            )
        ),
    }
    for name, attempt in attempts.items():
        code, details, _ = _error(attempt)
        assert code == grpc.StatusCode.FAILED_PRECONDITION, name
        assert "frozen" in details, (name, details)
    after = registry.Get(pb.GetRequest(id=issued.id))
    assert (after.status, after.version) == (pb.STATUS_RECALLED, recalled.version)
    assert len(registry.GetHistory(pb.HistoryRequest(id=issued.id)).entries) == 1
    assert len(_recalled_events(engine, issued.id)) == 1


def test_a_recalled_document_still_counts_as_sent(registry, agency):
    issued = _issue(registry, agency)
    _recall(registry, issued.id)
    stats = registry.GetStatistics(
        pb.StatisticsRequest(agency_codes=[agency], date_from="2026-11-01", date_to="2026-11-30")
    )
    assert [(s.agency_code, s.sent) for s in stats.agencies] == [(agency, 1)]


def test_recall_needs_a_reason_an_issued_outgoing_document_and_the_current_version(
    registry, agency, engine
):
    issued = _issue(registry, agency)
    draft = registry.RegisterOutgoing(pb.RegisterOutgoingRequest(document=_outgoing(agency)))
    arrived = registry.RegisterIncoming(
        pb.RegisterIncomingRequest(
            document=pb.Document(
                agency_code=agency,
                document_type="cong_van",
                subject="Về việc góp ý dự thảo",
                number_and_symbol="77/STC-NS",
                document_date="2026-11-12",
                sender=pb.Party(name="Sở Tài chính", agency_code=PROVINCE_FINANCE),
                received_at="2026-11-13T09:00:00+07:00",
            )
        )
    )
    cases = [
        (lambda: _recall(registry, issued.id, reason="  "),
         grpc.StatusCode.INVALID_ARGUMENT, "reason"),
        (lambda: _recall(registry, issued.id, reason="x" * 2001),
         grpc.StatusCode.INVALID_ARGUMENT, "reason"),
        (lambda: _recall(registry, draft.id), grpc.StatusCode.FAILED_PRECONDITION, "status"),
        (lambda: _recall(registry, arrived.id), grpc.StatusCode.FAILED_PRECONDITION, "id"),
        (lambda: _recall(registry, issued.id, expected_version=issued.version + 5),
         grpc.StatusCode.FAILED_PRECONDITION, "expected_version"),
        (lambda: _recall(registry, "not-a-uuid"), grpc.StatusCode.INVALID_ARGUMENT, "id"),
        (lambda: _recall(registry, "00000000-0000-4000-8000-000000000000"),
         grpc.StatusCode.NOT_FOUND, "id"),
    ]  # fmt: skip
    for call, status, field in cases:
        code, details, named = _error(call)
        assert (code, named) == (status, field), details
    # None of the refusals changed anything.
    assert registry.Get(pb.GetRequest(id=issued.id)).status == pb.STATUS_ISSUED
    assert registry.Get(pb.GetRequest(id=draft.id)).status == pb.STATUS_DRAFT
    assert registry.Get(pb.GetRequest(id=arrived.id)).status == pb.STATUS_ARRIVED
    assert _recalled_events(engine, issued.id) == []
