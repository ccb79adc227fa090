"""Send → Kafka → arrival → receiver actions → statuses back to the sender, over real services.

Everything is real: the distribution service (gRPC, lane/status consumers, outbox relay) on
PostgreSQL and Kafka, the identifiers service resolving groups, the registry allocating số đến.
"""

from __future__ import annotations

import grpc
import pytest
from distribution_helpers import Province, wait_for
from lienthong.distribution.v1 import distribution_pb2 as pb

from services.distribution.adapters.sample_packages import make_package, tamper
from services.distribution.edxml.codes import BussinessDocType, Priority


def _tracking(distribution, dispatch_id: str) -> pb.TrackingView:
    return distribution.Tracking(pb.TrackingRequest(dispatch_id=dispatch_id))


def _states(view: pb.TrackingView) -> dict[str, str]:
    return {d.receiver_code: d.state for d in view.deliveries}


def _wait_states(distribution, dispatch_id: str, expected: dict[str, str], what: str):
    def reached() -> pb.TrackingView | None:
        view = _tracking(distribution, dispatch_id)
        states = _states(view)
        return view if all(states.get(k) == v for k, v in expected.items()) else None

    return wait_for(reached, what=what)


def _inbox_entry(distribution, receiver: str, dispatch_id: str) -> pb.InboxEntry:
    page = distribution.ListInbox(pb.ListInboxRequest(receiver_code=receiver, page_size=500))
    found = [e for e in page.entries if e.dispatch_id == dispatch_id]
    assert len(found) == 1, f"{receiver} holds {len(found)} entries of {dispatch_id}"
    return found[0]


def test_send_to_agencies_and_a_group_arrives_once_each_with_status_01(
    distribution, province: Province
):
    sender = province.root
    receivers = province.departments[:3]
    package = make_package(sender, receivers)
    sent = distribution.Send(
        pb.SendRequest(
            package=package,
            receivers=[*receivers, receivers[0], sender, province.offline],
            groups=[pb.ReceiverGroup(root_code=province.district, kinds=["commune"])],
            actor="Văn thư UBND tỉnh",
        )
    )
    expected = [*receivers, province.offline, *province.communes]
    assert sorted(d.receiver_code for d in sent.deliveries) == sorted(expected)
    paper = {d.receiver_code for d in sent.deliveries if d.paper_copy}
    assert paper == {province.offline}
    view = _wait_states(
        distribution, sent.dispatch_id, dict.fromkeys(expected, "arrived"), "every 01"
    )
    for delivery in view.deliveries:
        assert [h.code for h in delivery.history] == ["01"]
        assert delivery.history[0].at.endswith("+07:00")
    assert view.counts["arrived"] == len(expected)
    entry = _inbox_entry(distribution, province.communes[0], sent.dispatch_id)
    assert entry.state == "arrived" and entry.sender_code == sender
    assert entry.effective_received_at >= entry.received_at[:16]

    # The same package sent again: nobody gets a second copy.
    again = distribution.Send(pb.SendRequest(package=package, receivers=receivers))
    assert list(again.deliveries) == []
    for code in receivers:
        _inbox_entry(distribution, code, sent.dispatch_id)


def test_tampered_package_is_returned_with_02_and_the_reason(distribution, province: Province):
    sender, receiver = province.departments[5], province.departments[6]
    package = tamper(make_package(sender, [receiver]))
    sent = distribution.Send(pb.SendRequest(package=package, receivers=[receiver]))
    view = _wait_states(distribution, sent.dispatch_id, {receiver: "returned"}, "automatic 02")
    (delivery,) = view.deliveries
    assert delivery.status_code == "02"
    assert "digest mismatch" in delivery.history[-1].note
    page = distribution.ListInbox(
        pb.ListInboxRequest(receiver_code=receiver, states=["arrived"], page_size=500)
    )
    assert sent.dispatch_id not in {e.dispatch_id for e in page.entries}


def test_receiver_accepts_registers_assigns_processes_finishes(distribution, province: Province):
    sender, receiver = province.root, province.departments[10]
    sent = distribution.Send(
        pb.SendRequest(package=make_package(sender, [receiver]), receivers=[receiver])
    )
    _wait_states(distribution, sent.dispatch_id, {receiver: "arrived"}, "01")
    (delivery,) = _tracking(distribution, sent.dispatch_id).deliveries
    accepted = distribution.Accept(
        pb.AcceptRequest(
            delivery_id=delivery.delivery_id, actor="Văn thư Sở", due_in_working_days=5
        )
    )
    assert accepted.state == "accepted"
    assert accepted.registry_id and accepted.arrival_number >= 1
    distribution.Assign(
        pb.AssignRequest(
            delivery_id=delivery.delivery_id, actor="Giám đốc", assignee="Phòng Tổng hợp"
        )
    )
    distribution.UpdateStatus(
        pb.UpdateStatusRequest(delivery_id=delivery.delivery_id, status_code="05", actor="cv")
    )
    done = distribution.UpdateStatus(
        pb.UpdateStatusRequest(delivery_id=delivery.delivery_id, status_code="06", actor="cv")
    )
    assert done.state == "completed" and done.assignee == "Phòng Tổng hợp"
    view = _wait_states(distribution, sent.dispatch_id, {receiver: "completed"}, "06")
    assert [h.code for h in view.deliveries[0].history] == ["01", "03", "04", "05", "06"]

    with pytest.raises(grpc.RpcError) as caught:
        distribution.Return(
            pb.ReturnRequest(delivery_id=delivery.delivery_id, actor="x", reason="muộn")
        )
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION


def test_return_needs_a_reason_and_reaches_the_sender(distribution, province: Province):
    sender, receiver = province.root, province.departments[11]
    sent = distribution.Send(
        pb.SendRequest(package=make_package(sender, [receiver]), receivers=[receiver])
    )
    _wait_states(distribution, sent.dispatch_id, {receiver: "arrived"}, "01")
    delivery_id = _tracking(distribution, sent.dispatch_id).deliveries[0].delivery_id
    with pytest.raises(grpc.RpcError) as caught:
        distribution.Return(pb.ReturnRequest(delivery_id=delivery_id, actor="văn thư"))
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "reason" in caught.value.details()
    distribution.Return(
        pb.ReturnRequest(delivery_id=delivery_id, actor="văn thư", reason="gửi sai nơi nhận")
    )
    view = _wait_states(distribution, sent.dispatch_id, {receiver: "returned"}, "02")
    assert view.deliveries[0].history[-1].note == "gửi sai nơi nhận"


def test_recall_is_answered_15_and_16_and_the_send_stays_frozen(distribution, province: Province):
    sender = province.root
    agreeing, refusing, finished = province.departments[20:23]
    sent = distribution.Send(
        pb.SendRequest(
            package=make_package(sender, [agreeing, refusing, finished]),
            receivers=[agreeing, refusing, finished],
        )
    )
    _wait_states(
        distribution,
        sent.dispatch_id,
        dict.fromkeys((agreeing, refusing, finished), "arrived"),
        "01 ×3",
    )
    ids = {
        d.receiver_code: d.delivery_id for d in _tracking(distribution, sent.dispatch_id).deliveries
    }
    distribution.Accept(pb.AcceptRequest(delivery_id=ids[refusing], actor="văn thư"))

    recalled = distribution.Recall(
        pb.RecallRequest(dispatch_id=sent.dispatch_id, actor="Chánh VP", reason="sai trích yếu")
    )
    assert recalled.notified == 3
    _wait_states(
        distribution,
        sent.dispatch_id,
        dict.fromkeys((agreeing, refusing, finished), "notice_pending"),
        "13 acknowledged",
    )
    entry = _inbox_entry(distribution, agreeing, sent.dispatch_id)
    assert entry.pending_notice == "recall"
    distribution.AnswerRecall(
        pb.AnswerRecallRequest(delivery_id=ids[agreeing], agreed=True, actor="văn thư")
    )
    with pytest.raises(grpc.RpcError):
        distribution.AnswerRecall(
            pb.AnswerRecallRequest(delivery_id=ids[refusing], agreed=False, actor="văn thư")
        )
    distribution.AnswerRecall(
        pb.AnswerRecallRequest(
            delivery_id=ids[refusing], agreed=False, actor="văn thư", reason="đã phân công xử lý"
        )
    )
    view = _wait_states(
        distribution, sent.dispatch_id, {agreeing: "recalled", refusing: "accepted"}, "15/16"
    )
    assert view.frozen
    assert [e.kind for e in view.events] == ["sent", "recall"]
    by_receiver = {d.receiver_code: d for d in view.deliveries}
    assert [h.code for h in by_receiver[agreeing].history] == ["01", "13", "15"]
    assert [h.code for h in by_receiver[refusing].history] == ["01", "03", "13", "16"]
    assert by_receiver[refusing].history[-1].note == "đã phân công xử lý"
    with pytest.raises(grpc.RpcError) as caught:
        distribution.Recall(
            pb.RecallRequest(dispatch_id=sent.dispatch_id, actor="x", reason="lần nữa")
        )
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION


def test_replacement_puts_the_earlier_copy_up_for_an_answer(distribution, province: Province):
    sender, receiver = province.root, province.departments[25]
    first = distribution.Send(
        pb.SendRequest(package=make_package(sender, [receiver]), receivers=[receiver])
    )
    _wait_states(distribution, first.dispatch_id, {receiver: "arrived"}, "01")
    second = distribution.Send(
        pb.SendRequest(
            package=make_package(sender, [receiver], kind=BussinessDocType.REPLACE),
            receivers=[receiver],
            supersedes_dispatch_id=first.dispatch_id,
        )
    )
    _wait_states(distribution, first.dispatch_id, {receiver: "notice_pending"}, "13 on the first")
    _wait_states(distribution, second.dispatch_id, {receiver: "arrived"}, "01 on the second")
    entry = _inbox_entry(distribution, receiver, first.dispatch_id)
    assert entry.pending_notice == "replace"
    distribution.AnswerRecall(
        pb.AnswerRecallRequest(delivery_id=entry.delivery_id, agreed=True, actor="văn thư")
    )
    _wait_states(distribution, first.dispatch_id, {receiver: "recalled"}, "15 on the first")


def test_scheduled_express_lands_at_its_time(distribution, province: Province):
    from datetime import timedelta

    from services.chassis.timeutil import iso, now

    sender, receiver = province.root, province.departments[30]
    at = (now() + timedelta(seconds=4)).replace(microsecond=0)
    sent = distribution.Send(
        pb.SendRequest(
            package=make_package(sender, [receiver], priority=Priority.EXPRESS_SCHEDULED),
            receivers=[receiver],
            deliver_at=iso(at),
        )
    )
    assert sent.deliveries[0].lane == "express"

    def visible() -> bool:
        page = distribution.ListInbox(pb.ListInboxRequest(receiver_code=receiver, page_size=500))
        return any(e.dispatch_id == sent.dispatch_id for e in page.entries)

    wait_for(
        lambda: _tracking(distribution, sent.dispatch_id).deliveries[0].state == "arrived",
        what="01 recorded",
    )
    if now() < at - timedelta(seconds=1):
        assert not visible(), "a scheduled document must not show before its time"
    wait_for(visible, what="the scheduled document at its time")
    assert now() >= at


def test_pull_streams_the_inbox_for_external_systems(distribution, province: Province):
    sender, receiver = province.root, province.departments[35]
    sent = [
        distribution.Send(
            pb.SendRequest(package=make_package(sender, [receiver]), receivers=[receiver])
        )
        for _ in range(3)
    ]
    for s in sent:
        _wait_states(distribution, s.dispatch_id, {receiver: "arrived"}, "01")
    pulled = list(distribution.Pull(pb.PullRequest(receiver_code=receiver)))
    assert {e.dispatch_id for e in pulled} >= {s.dispatch_id for s in sent}
    assert all(e.package.startswith(b"<?xml") or b"edXML" in e.package[:300] for e in pulled)
    cursor = pulled[-2].sequence
    rest = list(distribution.Pull(pb.PullRequest(receiver_code=receiver, after_sequence=cursor)))
    assert [e.sequence for e in rest] == [pulled[-1].sequence]


def test_bad_requests_name_the_field(distribution, province: Province):
    with pytest.raises(grpc.RpcError) as caught:
        distribution.Send(pb.SendRequest(package=b"<not-edxml/>", receivers=[province.root]))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "package" in caught.value.details()
    with pytest.raises(grpc.RpcError) as caught:
        distribution.Send(
            pb.SendRequest(package=make_package(province.root, []), receivers=["1.2.3"])
        )
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "receivers[0]" in caught.value.details()
    with pytest.raises(grpc.RpcError) as caught:
        distribution.Send(
            pb.SendRequest(
                package=make_package(province.root, []), receivers=[province.root[:-3] + "Z00"]
            )
        )
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert "receivers[0]" in caught.value.details()
    with pytest.raises(grpc.RpcError) as caught:
        distribution.Tracking(pb.TrackingRequest(dispatch_id="nope"))
    assert "dispatch_id" in caught.value.details()
