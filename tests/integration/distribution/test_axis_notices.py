"""Recall and update across the national axis (local simulator), both ways, real services.

Outbound: a recall of a document sent outside the province goes to the axis as a
BussinessDocType 1 package; the outside receiver's 13 and 15 (or 16 with its reason) come back
to the sender's delivery. Inbound: a recall from the axis recalls the earlier import, our
receiver acknowledges 13 and answers on the axis; an update naming an earlier document puts
that copy up for an answer, which goes back to the axis too.
"""

from __future__ import annotations

import dataclasses
import random

from distribution_helpers import Province, wait_for
from lienthong.distribution.v1 import distribution_pb2 as pb

from services.distribution.adapters.sample_packages import make_package, software_signer
from services.distribution.edxml.build import build
from services.distribution.edxml.codes import BussinessDocType
from services.distribution.edxml.dsig import sign
from services.distribution.edxml.model import DocumentPackage, ReplacementInfo
from services.distribution.edxml.parse import parse
from services.distribution.service_layer.use_cases import notice_package


def _outside_code() -> str:
    rng = random.SystemRandom()
    return f"000.{rng.randint(10, 99)}.{rng.randint(10, 99)}.G{rng.randint(10, 99)}"


def _status_reply(package: bytes, reporter: str, code: str) -> bytes:
    from test_national_axis import _status

    return _status(package, reporter, code)


def _views(distribution, dispatch_id: str) -> dict[str, pb.DeliveryView]:  # type: ignore[no-untyped-def]
    view = distribution.Tracking(pb.TrackingRequest(dispatch_id=dispatch_id))
    return {d.receiver_code: d for d in view.deliveries}


def test_a_recall_reaches_outside_receivers_through_the_axis_and_their_answers_come_back(
    distribution, distribution_container, province: Province
) -> None:  # type: ignore[no-untyped-def]
    axis = distribution_container.instance.axis
    agrees, refuses = _outside_code(), _outside_code()
    axis.known_agencies.update({agrees: "Bộ Đồng Ý", refuses: "Bộ Từ Chối"})
    axis.refuse_notices[refuses] = "đã triển khai thực hiện văn bản"
    distribution.SyncAxisAgencies(pb.SyncAxisAgenciesRequest())
    sender = province.departments[23]
    package = make_package(sender, [agrees, refuses], subject="Về việc sẽ thu hồi")
    sent = distribution.Send(pb.SendRequest(package=package, receivers=[agrees, refuses]))
    wait_for(lambda: len(axis.list_sent(sender)) == 2, what="both handed to the axis")
    for outside in (agrees, refuses):
        axis.update_status(_status_reply(package, outside, "01"))
    assert distribution.SyncNationalAxis(pb.SyncNationalAxisRequest()).statuses_applied >= 2

    recalled = distribution.Recall(
        pb.RecallRequest(dispatch_id=sent.dispatch_id, reason="Ban hành nhầm", actor="văn thư")
    )
    assert recalled.notified == 2

    def answered() -> bool:
        documents = [d for d in axis.list_sent(sender) if d.package == package]
        return sorted(d.statuses for d in documents) == [("01", "13", "15"), ("01", "13", "16")]

    wait_for(answered, what="the recall on the axis and both answers")
    recall_on_axis = [d for d in axis.list_sent(sender) if d.package != package]
    assert {d.to_code for d in recall_on_axis} == {agrees, refuses}
    kinds = {
        parse(d.package).package.trace_header_list.bussiness.bussiness_doc_type  # type: ignore[union-attr]
        for d in recall_on_axis
    }
    assert kinds == {BussinessDocType.RECALL}

    distribution.SyncNationalAxis(pb.SyncNationalAxisRequest())
    views = _views(distribution, sent.dispatch_id)
    assert views[agrees].state == "recalled"
    assert [h.code for h in views[agrees].history] == ["01", "13", "15"]
    assert views[refuses].state == "arrived"  # 16: back where it was
    assert views[refuses].history[-1].code == "16"
    assert views[refuses].history[-1].note == "đã triển khai thực hiện văn bản"
    assert distribution.SyncNationalAxis(pb.SyncNationalAxisRequest()).statuses_applied == 0


def _landed(distribution, receiver: str, document_sender: str, subject: str) -> pb.InboxEntry:  # type: ignore[no-untyped-def]
    def entry() -> pb.InboxEntry | None:
        page = distribution.ListInbox(pb.ListInboxRequest(receiver_code=receiver, page_size=500))
        found = [
            e for e in page.entries if e.sender_code == document_sender and e.subject == subject
        ]
        return found[0] if found else None

    return wait_for(entry, what=f"{subject!r} in the inbox")  # type: ignore[return-value]


def _entry(distribution, delivery_id: str) -> pb.InboxEntry:  # type: ignore[no-untyped-def]
    return distribution.GetInboxEntry(pb.GetInboxEntryRequest(delivery_id=delivery_id))


def test_a_recall_from_the_axis_is_acknowledged_and_answered_on_the_axis(
    distribution, distribution_container, province: Province
) -> None:  # type: ignore[no-untyped-def]
    axis = distribution_container.instance.axis
    outside, receiver = _outside_code(), province.departments[24]
    axis.known_agencies.update({outside: "Bộ Gửi Thu Hồi", receiver: "Sở số 25"})
    axis.hub_agencies.add(receiver)
    package = make_package(outside, [receiver], subject="Văn bản sẽ bị thu hồi từ trục")
    (axis_id,) = axis.send(package)
    sync = pb.SyncNationalAxisRequest(agency_codes=[receiver])
    assert distribution.SyncNationalAxis(sync).imported == 1
    landed = _landed(distribution, receiver, outside, "Văn bản sẽ bị thu hồi từ trục")
    wait_for(lambda: axis.get(axis_id).statuses == ("01",), what="01 on the axis")

    axis.send(notice_package(package, BussinessDocType.RECALL, "Ban hành nhầm", software_signer()))
    assert distribution.SyncNationalAxis(sync).imported == 1  # the recall notice
    assert distribution.SyncNationalAxis(sync).imported == 0  # once
    wait_for(
        lambda: _entry(distribution, landed.delivery_id).pending_notice == "recall",
        what="the recall at the receiver",
    )
    wait_for(lambda: axis.get(axis_id).statuses == ("01", "13"), what="13 on the axis")
    distribution.AnswerRecall(
        pb.AnswerRecallRequest(delivery_id=landed.delivery_id, agreed=True, actor="văn thư")
    )
    wait_for(lambda: axis.get(axis_id).statuses == ("01", "13", "15"), what="15 on the axis")
    assert _entry(distribution, landed.delivery_id).state == "recalled"


def test_an_update_from_the_axis_puts_the_earlier_copy_up_for_an_answer(
    distribution, distribution_container, province: Province
) -> None:  # type: ignore[no-untyped-def]
    axis = distribution_container.instance.axis
    outside, receiver = _outside_code(), province.departments[25]
    axis.known_agencies.update({outside: "Bộ Cập Nhật", receiver: "Sở số 26"})
    axis.hub_agencies.add(receiver)
    first = make_package(outside, [receiver], subject="Bản đầu")
    (first_id,) = axis.send(first)
    sync = pb.SyncNationalAxisRequest(agency_codes=[receiver])
    distribution.SyncNationalAxis(sync)
    earlier = _landed(distribution, receiver, outside, "Bản đầu")

    update = parse(
        make_package(outside, [receiver], subject="Bản cập nhật", kind=BussinessDocType.UPDATE)
    ).package
    assert isinstance(update, DocumentPackage) and update.trace_header_list is not None
    first_header = parse(first).package.header  # type: ignore[union-attr]
    update = dataclasses.replace(
        update,
        trace_header_list=dataclasses.replace(
            update.trace_header_list,
            bussiness=dataclasses.replace(
                update.trace_header_list.bussiness,  # type: ignore[arg-type]
                replacement_info_list=(
                    ReplacementInfo(document_id=first_header.document_id, organ_ids=(receiver,)),
                ),
            ),
        ),
        signature=None,
    )
    axis.send(sign(build(update, include_signature=False), software_signer()))
    assert distribution.SyncNationalAxis(sync).imported == 1
    newer = _landed(distribution, receiver, outside, "Bản cập nhật")
    assert newer.kind == BussinessDocType.UPDATE
    assert newer.supersedes_dispatch_id == earlier.dispatch_id
    wait_for(
        lambda: _entry(distribution, earlier.delivery_id).pending_notice == "update",
        what="the earlier copy awaiting an answer",
    )
    distribution.AnswerRecall(
        pb.AnswerRecallRequest(
            delivery_id=earlier.delivery_id, agreed=False, reason="đang xử lý bản đầu"
        )
    )
    wait_for(
        lambda: axis.get(first_id).statuses[-2:] == ("13", "16"),
        what="13 and 16 for the earlier document on the axis",
    )
