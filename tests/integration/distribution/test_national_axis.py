"""The national axis (local simulator) both ways, through the real distribution service.

Inbound: documents from outside the province are imported as deliveries like any other,
verified, landed, and their statuses go back to the axis signed with the agency's HSM key.
Outbound: the axis's agency list is copied into the identifiers directory; a send to an outside
agency is forwarded to the axis (not landed in an inbox), the outside receiver's statuses on the
axis come back to the sender's delivery once each, and an agency the axis does not know makes
the delivery undeliverable with the axis's reason.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

from distribution_helpers import Province, wait_for
from lienthong.distribution.v1 import distribution_pb2 as pb
from lienthong.identifiers.v1 import identifiers_pb2 as ipb

from services.distribution.adapters.sample_packages import make_package, software_signer
from services.distribution.domain.routing import AXIS_AGENCY_KIND
from services.distribution.edxml import dsig
from services.distribution.edxml.build import build
from services.distribution.edxml.parse import parse
from services.distribution.service_layer.use_cases import AXIS_ACTOR

OUTSIDE = "000.00.00.G22"  # Văn phòng Chính phủ: not in the province directory
STATUS_SAMPLE = Path("/work/shared/conformance/edxml/status_acceptance_03.edxml").read_bytes()


def _outside_code() -> str:
    """A ministry-level code no earlier run is likely to have put in the directory."""
    rng = random.SystemRandom()
    return f"000.{rng.randint(10, 99)}.{rng.randint(10, 99)}.G{rng.randint(10, 99)}"


def _status(package: bytes, reporter: str, code: str) -> bytes:
    """What the outside agency's system puts on the axis: a signed edXML status package."""
    answer = parse(STATUS_SAMPLE).package
    header = parse(package).package.header  # type: ignore[union-attr]
    answer = dataclasses.replace(
        answer,
        from_=dataclasses.replace(answer.from_, organ_id=reporter),  # type: ignore[union-attr]
        response_for=dataclasses.replace(answer.response_for, document_id=header.document_id),  # type: ignore[union-attr]
        status_code=code,
        signature=None,
    )
    return dsig.sign(build(answer, include_signature=False), software_signer())


def test_axis_document_lands_and_its_statuses_go_back_signed(
    distribution, distribution_container, province: Province, axis_signer_role
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
    document = axis.get(axis_id)
    assert document.statuses == ("01", "03")
    checked = dsig.verify(document.last_status_package)
    assert checked.valid, checked.problems
    assert checked.certificate_der == axis_signer_role.certificate_der, "the agency's HSM key"


def test_a_send_outside_the_province_goes_through_the_axis_and_its_statuses_come_back(
    distribution, distribution_container, identifiers, province: Province
):
    axis = distribution_container.instance.axis
    axis.require_signed = True
    outside = _outside_code()
    axis.known_agencies[outside] = "Bộ Thử Nghiệm"
    synced = distribution.SyncAxisAgencies(pb.SyncAxisAgenciesRequest())
    assert synced.listed == len(axis.known_agencies) and synced.added >= 1
    in_directory = identifiers.GetAgency(ipb.GetAgencyRequest(code=outside))
    assert in_directory.kind == AXIS_AGENCY_KIND and in_directory.name == "Bộ Thử Nghiệm"
    assert distribution.SyncAxisAgencies(pb.SyncAxisAgenciesRequest()).added == 0

    sender, local = province.departments[20], province.departments[21]
    package = make_package(sender, [local, outside], subject="Về việc gửi ra ngoài tỉnh")
    sent = distribution.Send(pb.SendRequest(package=package, receivers=[local, outside]))

    def states() -> dict[str, pb.DeliveryView]:
        view = distribution.Tracking(pb.TrackingRequest(dispatch_id=sent.dispatch_id))
        return {d.receiver_code: d for d in view.deliveries}

    wait_for(lambda: states()[local].state == "arrived", what="01 from the local receiver")
    handed = wait_for(lambda: axis.list_sent(sender), what="the package on the axis")
    assert [(d.to_code, d.package) for d in handed] == [(outside, package)]
    outside_inbox = distribution.ListInbox(pb.ListInboxRequest(receiver_code=outside))
    assert not outside_inbox.entries, "an outside receiver has no inbox here"
    assert states()[outside].state == "queued"

    axis.update_status(_status(package, outside, "01"))
    axis.update_status(_status(package, outside, "03"))
    applied = distribution.SyncNationalAxis(pb.SyncNationalAxisRequest())
    assert applied.statuses_applied == 2
    assert distribution.SyncNationalAxis(pb.SyncNationalAxisRequest()).statuses_applied == 0
    far = states()[outside]
    assert far.state == "accepted" and [h.code for h in far.history] == ["01", "03"]
    assert {h.actor for h in far.history} == {AXIS_ACTOR}


def test_an_outside_agency_the_axis_does_not_know_is_undeliverable_with_the_reason(
    distribution, identifiers, province: Province
):
    unknown = _outside_code()
    identifiers.UpsertAgency(
        ipb.UpsertAgencyRequest(
            agency=ipb.Agency(code=unknown, name="Cơ quan đã giải thể", kind=AXIS_AGENCY_KIND)
        )
    )
    sender = province.departments[22]
    sent = distribution.Send(
        pb.SendRequest(package=make_package(sender, [unknown]), receivers=[unknown])
    )

    def refused() -> pb.DeliveryView | None:
        view = distribution.Tracking(pb.TrackingRequest(dispatch_id=sent.dispatch_id))
        (delivery,) = view.deliveries
        return delivery if delivery.state == "undeliverable" else None

    delivery = wait_for(refused, what="the axis's refusal")
    assert "not on the axis" in delivery.history[-1].note
