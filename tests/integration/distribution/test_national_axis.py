"""Documents from outside the province arrive through the national axis (local simulator):
imported as deliveries like any other, verified, landed, and their statuses go back."""

from __future__ import annotations

from distribution_helpers import Province, wait_for
from lienthong.distribution.v1 import distribution_pb2 as pb

from services.distribution.adapters.sample_packages import make_package

OUTSIDE = "000.00.00.G22"  # Văn phòng Chính phủ: not in the province directory


def test_axis_document_lands_and_its_statuses_go_back(
    distribution, distribution_container, province: Province
):
    axis = distribution_container.instance.axis
    receiver = province.departments[38]
    axis.known_agencies.update({OUTSIDE: "Văn phòng Chính phủ", receiver: "Sở số 39"})
    package = make_package(OUTSIDE, [receiver], subject="Về việc từ trung ương")
    (axis_id,) = axis.send(package)

    imported = distribution.SyncNationalAxis(pb.SyncNationalAxisRequest(agency_codes=[receiver]))
    assert imported.imported == 1
    again = distribution.SyncNationalAxis(pb.SyncNationalAxisRequest(agency_codes=[receiver]))
    assert again.imported == 0, "a document is imported once"

    def entry() -> pb.InboxEntry | None:
        page = distribution.ListInbox(pb.ListInboxRequest(receiver_code=receiver, page_size=500))
        found = [e for e in page.entries if e.sender_code == OUTSIDE]
        return found[0] if found else None

    landed = wait_for(entry, what="the axis document in the inbox")
    assert landed.state == "arrived" and landed.subject == "Về việc từ trung ương"
    wait_for(lambda: axis.get(axis_id).status_code == "01", what="01 back on the axis")
    distribution.Accept(pb.AcceptRequest(delivery_id=landed.delivery_id, actor="văn thư"))
    wait_for(lambda: axis.get(axis_id).status_code == "03", what="03 back on the axis")
