"""The scheduled national-axis sync and recalls of outside deliveries never acknowledged.

Real distribution service, PostgreSQL, Kafka, identifiers; the axis is the service's own
:class:`LocalAxisSimulator`. The session's service runs with ``LT_DISTRIBUTION_AXIS_SYNC_S=0``
(the other tests count what their SyncNationalAxis calls did), so these tests start their own
:class:`AxisSyncWorker` over the same database, service objects and axis, each with a leader
lock name of its own (another suite's distribution service on the profile cannot take it).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator

import pytest
from distribution_helpers import Province, wait_for
from lienthong.distribution.v1 import distribution_pb2 as pb
from lienthong.identifiers.v1 import identifiers_pb2 as ipb

from services.distribution.adapters.axis_sync import SYNC_ENV, AxisSyncWorker
from services.distribution.adapters.sample_packages import make_package
from services.distribution.domain.routing import AXIS_AGENCY_KIND
from services.distribution.edxml.codes import BussinessDocType
from services.distribution.edxml.parse import parse
from services.distribution.service_layer.axis_sync import AxisSynchronizer, AxisSyncReport
from services.distribution.service_layer.use_cases import AXIS_ACTOR


def _outside_code() -> str:
    rng = random.SystemRandom()
    return f"000.{rng.randint(10, 99)}.{rng.randint(10, 99)}.G{rng.randint(10, 99)}"


@pytest.fixture
def make_worker(distribution_container, monkeypatch: pytest.MonkeyPatch) -> Iterator:  # type: ignore[no-untyped-def]
    """Workers over the service's database, polling every 0.2 s; stopped after the test."""
    monkeypatch.setenv(SYNC_ENV, "0.2")
    lock_name = f"test.axis_sync.{uuid.uuid4()}"
    workers: list[AxisSyncWorker] = []

    def make() -> AxisSyncWorker:
        worker = AxisSyncWorker(distribution_container.providers["uow"], lock_name=lock_name)
        worker.setup("distribution")
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.stop()


def test_a_document_put_on_the_axis_lands_in_the_inbox_with_no_rpc_call(
    distribution, distribution_container, identifiers, province: Province, make_worker
) -> None:  # type: ignore[no-untyped-def]
    service = distribution_container.instance
    axis = service.axis
    receiver, outside = province.departments[26], _outside_code()
    axis.known_agencies.update({outside: "Bộ Gửi Theo Lịch", receiver: "Sở số 27"})
    worker = make_worker()
    assert worker.start(AxisSynchronizer(service.uow, service.directory, axis))

    subject = f"Về việc đồng bộ theo lịch {uuid.uuid4().hex[:8]}"
    (axis_id,) = axis.send(make_package(outside, [receiver], subject=subject))

    def entries() -> list[pb.InboxEntry]:
        page = distribution.ListInbox(pb.ListInboxRequest(receiver_code=receiver, page_size=500))
        return [e for e in page.entries if e.subject == subject]

    (landed,) = wait_for(entries, what="the axis document in the receiver's inbox")
    assert landed.state == "arrived" and landed.sender_code == outside
    wait_for(lambda: axis.get(axis_id).status_code == "01", what="its 01 back on the axis")
    # The first round as leader synced the agency list: the sender is now a known outsider.
    assert identifiers.GetAgency(ipb.GetAgencyRequest(code=outside)).kind == AXIS_AGENCY_KIND
    rounds = worker.rounds
    wait_for(lambda: worker.rounds >= rounds + 3, what="three more rounds")
    assert len(entries()) == 1, "later rounds import nothing twice"
    assert worker.leading and worker.last_report is not None and worker.last_report.ok


def test_one_worker_leads_and_another_takes_over_when_it_stops(make_worker) -> None:  # type: ignore[no-untyped-def]
    class Counting:
        def __init__(self) -> None:
            self.calls: list[bool] = []

        def run(self, *, agencies: bool) -> AxisSyncReport:
            self.calls.append(agencies)
            return AxisSyncReport()

    first_job, second_job = Counting(), Counting()
    first, second = make_worker(), make_worker()
    assert first.start(first_job)
    wait_for(lambda: first.leading, what="the first worker leading")
    assert second.start(second_job)
    wait_for(lambda: len(first_job.calls) >= 5, what="rounds of the leader")
    assert not second.leading and second_job.calls == [], "only the leader polls the axis"

    first.stop()
    wait_for(lambda: second.leading and second_job.calls, what="the standby taking over")
    assert second_job.calls[0] is True, "a new leader syncs the agency list first"
    calls = len(first_job.calls)
    wait_for(lambda: len(second_job.calls) >= 3, what="rounds of the new leader")
    assert len(first_job.calls) == calls


def _views(distribution, dispatch_id: str) -> dict[str, pb.DeliveryView]:  # type: ignore[no-untyped-def]
    view = distribution.Tracking(pb.TrackingRequest(dispatch_id=dispatch_id))
    return {d.receiver_code: d for d in view.deliveries}


def test_recalling_outside_deliveries_that_never_got_01_ends_recalled_or_shows_16(
    distribution, distribution_container, province: Province
) -> None:  # type: ignore[no-untyped-def]
    from test_national_axis import _status

    axis = distribution_container.instance.axis
    agrees, refuses = _outside_code(), _outside_code()
    axis.known_agencies.update({agrees: "Bộ Chưa Nhận", refuses: "Bộ Đã Xử Lý"})
    reason = "văn bản đã được chuyển xử lý"
    axis.refuse_notices[refuses] = reason
    distribution.SyncAxisAgencies(pb.SyncAxisAgenciesRequest())
    sender = province.departments[27]
    package = make_package(sender, [agrees, refuses], subject="Về việc thu hồi khi chưa đến")
    sent = distribution.Send(pb.SendRequest(package=package, receivers=[agrees, refuses]))
    wait_for(lambda: len(axis.list_sent(sender)) == 2, what="both handed to the axis")
    assert {v.state for v in _views(distribution, sent.dispatch_id).values()} == {"queued"}

    recalled = distribution.Recall(
        pb.RecallRequest(dispatch_id=sent.dispatch_id, reason="Gửi nhầm", actor="văn thư")
    )
    assert recalled.notified == 2, "queued deliveries are recalled too"

    def recall_packages() -> list:  # type: ignore[type-arg]
        return [d for d in axis.list_sent(sender) if d.package != package]

    asked = wait_for(lambda: len(recall_packages()) == 2 and recall_packages(), what="recalls")
    assert {d.to_code for d in asked} == {agrees, refuses}  # type: ignore[union-attr]
    for document in asked:  # type: ignore[union-attr]
        bussiness = parse(document.package).package.trace_header_list.bussiness  # type: ignore[union-attr]
        assert bussiness.bussiness_doc_type is BussinessDocType.RECALL
        assert bussiness.bussiness_doc_reason == "Gửi nhầm"

    def answered() -> dict[str, pb.DeliveryView]:
        distribution.SyncNationalAxis(pb.SyncNationalAxisRequest())
        views = _views(distribution, sent.dispatch_id)
        done = views[agrees].state == "recalled" and views[refuses].status_code == "16"
        return views if done else {}

    views = wait_for(answered, what="the axis's 13 and 15/16 applied")
    assert [h.code for h in views[agrees].history] == ["13", "15"]  # type: ignore[index]
    assert views[agrees].status_code == "15"  # type: ignore[index]
    refused = views[refuses]  # type: ignore[index]
    assert refused.state == "queued" and [h.code for h in refused.history] == ["13", "16"]
    assert refused.history[-1].note == reason and refused.history[-1].actor == AXIS_ACTOR

    # The refusing receiver still has the document: its 01 later moves the delivery on.
    axis.update_status(_status(package, refuses, "01"))
    assert distribution.SyncNationalAxis(pb.SyncNationalAxisRequest()).statuses_applied == 1
    later = _views(distribution, sent.dispatch_id)
    assert later[refuses].state == "arrived" and later[agrees].state == "recalled"
    assert distribution.SyncNationalAxis(pb.SyncNationalAxisRequest()).statuses_applied == 0
