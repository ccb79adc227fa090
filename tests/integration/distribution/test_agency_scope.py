"""Agency scope over real gRPC: the end user in ``lt-caller`` acts for their own agency only.

A clerk of another agency gets PERMISSION_DENIED where the agency is in the request (inbox,
pull, webhook, send) and NOT_FOUND — exactly as for an unknown id — where a delivery or a send
is looked up by id; nothing of the document leaks in either answer, and nothing changes. A call
without ``lt-caller`` (the platform itself) and a province administrator still work.
"""

from __future__ import annotations

import grpc
import pytest
from distribution_helpers import Province, wait_for
from lienthong.distribution.v1 import distribution_pb2 as pb

from services.chassis.caller import CALLER_HEADER, Caller, encode_caller
from services.distribution.adapters.sample_packages import make_package

SUBJECT = "Về việc kiểm tra phạm vi cơ quan"


def _as(agency: str, *roles: str) -> tuple[tuple[str, str], ...]:
    token = encode_caller(Caller(f"user-{agency}", agency, frozenset(roles or {"clerk"})))
    return ((CALLER_HEADER, token),)


def _refused(call, request, metadata, code: grpc.StatusCode, field: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        result = call(request, metadata=metadata)
        if not isinstance(result, pb.InboxEntry | pb.InboxPage | pb.TrackingView):
            list(result)  # a stream: the refusal comes with the first read
    error = caught.value
    assert error.code() is code, f"{call}: {error.code()} {error.details()}"
    assert SUBJECT not in (error.details() or "")
    trailers = dict(error.trailing_metadata() or ())
    assert trailers.get("lt-error-field") == field


@pytest.fixture(scope="module")
def sent(distribution, province: Province) -> tuple[str, str, str, str]:
    sender, receiver = province.departments[20], province.departments[21]
    result = distribution.Send(
        pb.SendRequest(
            package=make_package(sender, [receiver], subject=SUBJECT), receivers=[receiver]
        ),
        metadata=_as(sender),
    )
    delivery = result.deliveries[0].delivery_id

    def arrived() -> bool:
        view = distribution.Tracking(pb.TrackingRequest(dispatch_id=result.dispatch_id))
        return view.deliveries[0].state == "arrived"

    wait_for(arrived, what="the 01 of the scoped send")
    return sender, receiver, result.dispatch_id, delivery


def test_another_agency_is_refused_where_the_agency_is_in_the_request(
    distribution, province: Province, sent
) -> None:  # type: ignore[no-untyped-def]
    sender, receiver, _, _ = sent
    outsider = _as(province.departments[22])
    denied = grpc.StatusCode.PERMISSION_DENIED
    _refused(
        distribution.ListInbox,
        pb.ListInboxRequest(receiver_code=receiver),
        outsider,
        denied,
        "receiver_code",
    )
    _refused(
        distribution.Pull,
        pb.PullRequest(receiver_code=receiver),
        outsider,
        denied,
        "receiver_code",
    )
    _refused(
        distribution.RegisterWebhook,
        pb.RegisterWebhookRequest(
            receiver_code=receiver, url="https://evil.example/hook", secret="s" * 20
        ),
        outsider,
        denied,
        "receiver_code",
    )
    _refused(
        distribution.Send,
        pb.SendRequest(package=make_package(sender, [receiver]), receivers=[receiver]),
        outsider,
        denied,
        "package.From.OrganId",
    )
    _refused(
        distribution.SyncAxisAgencies, pb.SyncAxisAgenciesRequest(), outsider, denied, "caller"
    )


def test_another_agency_finds_nothing_by_id_and_changes_nothing(
    distribution, province: Province, sent
) -> None:  # type: ignore[no-untyped-def]
    _, receiver, dispatch_id, delivery = sent
    outsider = _as(province.departments[22], "clerk", "officer", "agency_admin")
    hidden = grpc.StatusCode.NOT_FOUND
    for call, request in [
        (distribution.GetInboxEntry, pb.GetInboxEntryRequest(delivery_id=delivery)),
        (distribution.Accept, pb.AcceptRequest(delivery_id=delivery)),
        (distribution.Return, pb.ReturnRequest(delivery_id=delivery, reason="không phải")),
        (distribution.Assign, pb.AssignRequest(delivery_id=delivery, assignee="P.TH")),
        (
            distribution.UpdateStatus,
            pb.UpdateStatusRequest(delivery_id=delivery, status_code="05"),
        ),
        (distribution.AnswerRecall, pb.AnswerRecallRequest(delivery_id=delivery, agreed=True)),
    ]:
        _refused(call, request, outsider, hidden, "delivery_id")
    for call, request in [
        (distribution.Tracking, pb.TrackingRequest(dispatch_id=dispatch_id)),
        (distribution.Recall, pb.RecallRequest(dispatch_id=dispatch_id, reason="thử")),
    ]:
        _refused(call, request, outsider, hidden, "dispatch_id")
    # Nothing moved: the receiver's entry is as it arrived, the send is not frozen.
    entry = distribution.GetInboxEntry(
        pb.GetInboxEntryRequest(delivery_id=delivery), metadata=_as(receiver)
    )
    assert entry.state == "arrived" and entry.subject == SUBJECT
    view = distribution.Tracking(pb.TrackingRequest(dispatch_id=dispatch_id))
    assert not view.frozen and [h.code for h in view.deliveries[0].history] == ["01"]


def test_own_agency_province_admin_and_the_platform_are_served(
    distribution, province: Province, sent
) -> None:  # type: ignore[no-untyped-def]
    sender, receiver, dispatch_id, delivery = sent
    page = distribution.ListInbox(
        pb.ListInboxRequest(receiver_code=receiver), metadata=_as(receiver)
    )
    assert delivery in [e.delivery_id for e in page.entries]
    tracked = distribution.Tracking(
        pb.TrackingRequest(dispatch_id=dispatch_id), metadata=_as(sender)
    )
    assert tracked.sender_code == sender
    admin = _as(province.root, "province_admin")
    assert distribution.GetInboxEntry(
        pb.GetInboxEntryRequest(delivery_id=delivery), metadata=admin
    ).package
    pulled = list(
        distribution.Pull(pb.PullRequest(receiver_code=receiver, max_entries=500), metadata=admin)
    )
    assert delivery in [e.delivery_id for e in pulled]
    platform = distribution.Accept(pb.AcceptRequest(delivery_id=delivery, actor="văn thư"))
    assert platform.state == "accepted"
