"""Hỏa tốc hẹn giờ published at its time by the schedule worker (real PostgreSQL and Kafka).

The hub holds the delivery (``distribution.scheduled_events``) and publishes it through the
outbox when due: nothing reaches the receiver before, a recall made meanwhile follows it, a
stopped worker's held deliveries are published by the next one, and two workers never publish
the same event.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import sqlalchemy as sa
from distribution_helpers import Province, wait_for
from lienthong.distribution.v1 import distribution_pb2 as pb

from services.chassis.timeutil import iso, now
from services.distribution.adapters.sample_packages import make_package
from services.distribution.adapters.schedule import ScheduleWorker
from services.distribution.edxml.codes import Priority
from services.distribution.entrypoints.grpc import DistributionService
from services.distribution.service_layer import use_cases


def _send_at(distribution, sender: str, receiver: str, seconds: float) -> tuple[str, str, datetime]:  # type: ignore[no-untyped-def]
    at = (now() + timedelta(seconds=seconds)).replace(microsecond=0)
    sent = distribution.Send(
        pb.SendRequest(
            package=make_package(sender, [receiver], priority=Priority.EXPRESS_SCHEDULED),
            receivers=[receiver],
            deliver_at=iso(at),
        )
    )
    return sent.dispatch_id, sent.deliveries[0].delivery_id, at


def _held(engine: sa.Engine, delivery_id: str) -> list[sa.Row]:
    with engine.connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT type, due_at, published_at FROM distribution.scheduled_events "
                "WHERE delivery_id = :id ORDER BY seq"
            ),
            {"id": delivery_id},
        ).all()


def _landed(engine: sa.Engine, delivery_id: str) -> int:
    with engine.connect() as connection:
        return connection.execute(
            sa.text("SELECT count(*) FROM distribution.inbox_entries WHERE delivery_id = :id"),
            {"id": delivery_id},
        ).scalar_one()


def _tracking(distribution, dispatch_id: str) -> pb.TrackingView:  # type: ignore[no-untyped-def]
    return distribution.Tracking(pb.TrackingRequest(dispatch_id=dispatch_id))


def test_held_until_its_time_then_delivered_once(
    distribution, engine: sa.Engine, province: Province
) -> None:  # type: ignore[no-untyped-def]
    sender, receiver = province.root, province.departments[31]
    dispatch_id, delivery_id, at = _send_at(distribution, sender, receiver, 4)
    held = _held(engine, delivery_id)
    assert [(row.type, row.published_at) for row in held] == [
        ("vn.lienthong.distribution.delivery.dispatched", None)
    ]
    assert held[0].due_at == at
    assert _landed(engine, delivery_id) == 0
    assert _tracking(distribution, dispatch_id).deliveries[0].state == "queued"

    wait_for(
        lambda: _tracking(distribution, dispatch_id).deliveries[0].state == "arrived",
        what="the 01 of the scheduled delivery",
    )
    assert now() >= at
    published_at = _held(engine, delivery_id)[0].published_at
    assert published_at is not None and published_at >= at
    assert _landed(engine, delivery_id) == 1
    history = _tracking(distribution, dispatch_id).deliveries[0].history
    assert [h.code for h in history] == ["01"]
    assert datetime.fromisoformat(history[0].at) >= at


def test_a_recall_before_the_time_follows_the_held_delivery(
    distribution, engine: sa.Engine, province: Province
) -> None:  # type: ignore[no-untyped-def]
    sender, receiver = province.root, province.departments[32]
    dispatch_id, delivery_id, at = _send_at(distribution, sender, receiver, 4)
    distribution.Recall(pb.RecallRequest(dispatch_id=dispatch_id, reason="gửi nhầm giờ"))
    held = _held(engine, delivery_id)
    assert [row.type for row in held] == [
        "vn.lienthong.distribution.delivery.dispatched",
        "vn.lienthong.distribution.delivery.recalled",
    ]
    assert {row.due_at for row in held} == {at}
    assert _landed(engine, delivery_id) == 0
    view = wait_for(
        lambda: (
            (v := _tracking(distribution, dispatch_id)).deliveries[0].state == "notice_pending"
            and v
        ),
        what="01 then 13 at the scheduled time",
    )
    assert [h.code for h in view.deliveries[0].history] == ["01", "13"]  # type: ignore[union-attr]


def _event_ids(engine: sa.Engine, delivery_ids: list[str]) -> set[str]:
    with engine.connect() as connection:
        return {
            str(value)
            for value in connection.execute(
                sa.text(
                    "SELECT event_id FROM distribution.scheduled_events "
                    "WHERE delivery_id = ANY(CAST(:ids AS uuid[]))"
                ),
                {"ids": delivery_ids},
            ).scalars()
        }


def test_two_workers_never_publish_the_same_held_event(
    distribution, engine: sa.Engine, province: Province
) -> None:  # type: ignore[no-untyped-def]
    """Worker A holds its rows locked while worker B looks: B takes none of them (SKIP LOCKED).

    Both look a few seconds ahead of the clock, so the rows are theirs before any other
    process's worker (tests of other suites share this database) finds them due.
    """
    sender, receivers = province.root, province.departments[33:36]
    sent = [_send_at(distribution, sender, receiver, 3) for receiver in receivers]
    mine = _event_ids(engine, [delivery_id for _, delivery_id, _ in sent])
    ahead = max(at for _, _, at in sent) + timedelta(seconds=1)
    database = DistributionService.uow
    a_locked, b_done = threading.Event(), threading.Event()
    taken: dict[str, list[str]] = {}

    def worker_a() -> None:
        with database.unit_of_work() as uow:  # type: ignore[attr-defined]
            taken["a"] = use_cases.publish_due(uow, at=ahead, limit=2)
            a_locked.set()
            b_done.wait(timeout=30)
            uow.commit()

    def worker_b() -> None:
        a_locked.wait(timeout=30)
        with database.unit_of_work() as uow:  # type: ignore[attr-defined]
            taken["b"] = use_cases.publish_due(uow, at=ahead)
            uow.commit()
        b_done.set()

    threads = [threading.Thread(target=worker_a), threading.Thread(target=worker_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert taken["a"] and taken["b"]
    assert not set(taken["a"]) & set(taken["b"]), "an event published by both workers"
    assert mine <= set(taken["a"]) | set(taken["b"])
    for dispatch_id, delivery_id, _ in sent:
        wait_for(
            lambda d=dispatch_id: _tracking(distribution, d).deliveries[0].state == "arrived",
            what="the held delivery landed",
        )
        assert _landed(engine, delivery_id) == 1


def test_what_a_stopped_worker_held_is_published_by_a_new_one(
    distribution, distribution_container, engine: sa.Engine, province: Province
) -> None:  # type: ignore[no-untyped-def]
    service_worker = distribution_container.instance.schedule
    service_worker.stop()  # this process's worker is gone, as after kill -9
    try:
        dispatch_id, delivery_id, at = _send_at(
            distribution, province.root, province.departments[36], 3
        )
        restarted = ScheduleWorker(DistributionService.uow)  # type: ignore[arg-type]
        restarted.run_once()  # not due yet: stays held, in the database
        assert _held(engine, delivery_id)[0].published_at is None
        wait_for(lambda: now() > at, what="the time")
        # Another suite's process may also run a worker on this database: either publishes.
        wait_for(
            lambda: (
                restarted.run_once() is not None
                and _held(engine, delivery_id)[0].published_at is not None
            ),
            what="published by the new worker",
        )
    finally:
        service_worker.setup("distribution")
    wait_for(
        lambda: _tracking(distribution, dispatch_id).deliveries[0].state == "arrived",
        what="the held delivery landed after the restart",
    )
    assert _landed(engine, delivery_id) == 1
    assert [h.code for h in _tracking(distribution, dispatch_id).deliveries[0].history] == ["01"]
