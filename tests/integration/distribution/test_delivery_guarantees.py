"""Kafka guarantees of the hub: idempotent arrival, retries then dead-letter with the reason,
express overtaking a normal backlog, per-receiver order, signed webhooks with retries."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import grpc
import pytest
import sqlalchemy as sa
from distribution_helpers import Province, wait_for
from kafka import KafkaConsumer
from lienthong.distribution.v1 import distribution_pb2 as pb
from lienthong.identifiers.v1 import identifiers_pb2_grpc

from services.chassis.clients import channel_to
from services.chassis.consumer import EventConsumer, dead_letter_topic
from services.chassis.db import Database
from services.chassis.events import Event
from services.chassis.kafka import bootstrap, make_consumer, make_producer
from services.chassis.testing import worker_factory
from services.distribution.adapters import orm
from services.distribution.adapters.peers import GrpcDirectory
from services.distribution.adapters.sample_packages import make_package
from services.distribution.adapters.webhooks import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    check_signature,
)
from services.distribution.edxml.codes import Priority
from services.distribution.service_layer import use_cases


@pytest.fixture(scope="module")
def database(engine: sa.Engine, distribution_schema: str) -> Database:
    db = Database(orm.SCHEMA, orm.metadata)
    db.engine = engine
    db.setup("distribution-test")
    return db


def _dispatched_events(engine: sa.Engine, dispatch_id: str) -> list[Event]:
    """The DeliveryDispatched events of one send, as the relay would publish them."""
    o = orm.outbox
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(o).where(o.c.type == use_cases.DISPATCHED).order_by(o.c.seq.desc()).limit(500)
        ).all()
    events = []
    for row in rows:
        payload = pb.DeliveryDispatched.FromString(row.payload)
        if payload.dispatch_id == dispatch_id:
            events.append(
                Event(
                    row.topic,
                    row.type,
                    row.source,
                    row.key,
                    row.payload,
                    row.dataschema,
                    str(row.id),
                    row.time,
                )
            )
    return events


def _inbox_count(engine: sa.Engine, delivery_id: str) -> int:
    e = orm.inbox_entries
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(e).where(e.c.delivery_id == delivery_id)
        ).scalar_one()


def test_the_same_delivery_twice_lands_once(
    distribution, engine, distribution_container, province: Province
):
    sender, receiver = province.root, province.departments[1]
    sent = distribution.Send(
        pb.SendRequest(package=make_package(sender, [receiver]), receivers=[receiver])
    )
    (delivery,) = sent.deliveries
    wait_for(lambda: _inbox_count(engine, delivery.delivery_id), what="the first arrival")
    (event,) = _dispatched_events(engine, sent.dispatch_id)
    producer = make_producer()
    # The relay's redelivery (same event id) and a re-publication under a new event id.
    for event_id in (event.id, str(uuid.uuid4())):
        copy = Event(
            event.topic,
            event.type,
            event.source,
            event.subject,
            event.data,
            event.dataschema,
            event_id,
            event.time,
        )
        producer.send(
            copy.topic, key=copy.subject.encode(), value=copy.data, headers=copy.headers()
        ).get(timeout=30)
    producer.close()
    # A later send to the same receiver proves both copies were consumed before it.
    marker = distribution.Send(
        pb.SendRequest(package=make_package(sender, [receiver]), receivers=[receiver])
    )
    wait_for(lambda: _inbox_count(engine, marker.deliveries[0].delivery_id), what="the marker")
    assert _inbox_count(engine, delivery.delivery_id) == 1
    view = distribution.Tracking(pb.TrackingRequest(dispatch_id=sent.dispatch_id))
    assert [h.code for h in view.deliveries[0].history] == ["01"]


def test_receiver_down_is_retried_then_dead_lettered_and_the_sender_sees_why(
    engine, database, identifiers_container, province: Province, kafka_topic, monkeypatch
):
    from services.distribution.entrypoints.grpc import DistributionService

    sender, receiver = province.root, province.departments[2]
    directory = GrpcDirectory(
        identifiers_pb2_grpc.IdentifiersStub(
            channel_to("identifiers", f"127.0.0.1:{identifiers_container.port}")
        )
    )
    # A send whose events this test keeps for itself (the running service never sees them).
    with database.unit_of_work() as uow:
        result = use_cases.send(
            uow,
            directory,
            pb.SendRequest(package=make_package(sender, [receiver]), receivers=[receiver]),
        )
        uow.execute(
            sa.update(orm.outbox)
            .where(orm.outbox.c.published_at.is_(None), orm.outbox.c.key == receiver)
            .values(published_at=sa.func.now())
        )
        uow.commit()
    (event,) = _dispatched_events(engine, result.dispatch_id)
    # The verification service is down: nothing listens on this port.
    dead = channel_to("verification", "127.0.0.1:9")
    from lienthong.verification.v1 import verification_pb2_grpc

    monkeypatch.setenv("LT_DISTRIBUTION_VERIFIER", "grpc")
    service = worker_factory(
        DistributionService,
        uow=database.unit_of_work,
        verification=verification_pb2_grpc.VerificationStub(dead),
    )
    producer = make_producer()
    producer.send(
        kafka_topic, key=receiver.encode(), value=event.data, headers=event.headers()
    ).get(timeout=30)
    attempts: list[int] = []

    def counting(ev, uow):
        attempts.append(1)
        return service.on_normal_delivery(ev, uow)

    consumer = EventConsumer(
        topic=kafka_topic,
        group=f"test-{kafka_topic}",
        handler=counting,
        database=database,
        consumer_factory=make_consumer,
        dead_letter_producer=producer,
        max_attempts=3,
        backoff_base=0.05,
    )
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    wait_for(lambda: consumer.dead_lettered, what="the dead letter")
    stop.set()
    thread.join(timeout=10)
    assert len(attempts) == 3 and consumer.processed == 0
    assert _inbox_count(engine, result.delivery_ids[0]) == 0, "nothing stored, nothing acked"

    parked = KafkaConsumer(
        dead_letter_topic(kafka_topic),
        bootstrap_servers=bootstrap(),
        auto_offset_reset="earliest",
        consumer_timeout_ms=15000,
    )
    record = next(iter(parked))
    parked.close()
    reason = dict(record.headers)["lt_dlt_reason"].decode()
    assert "verification unavailable" in reason

    # The dead-letter handler tells the sender.
    dlt_event = Event.from_record(record.topic, record.headers, record.value)
    with database.unit_of_work() as uow:
        service.on_dead_letter(dlt_event, uow)
        uow.commit()
    with database.unit_of_work() as uow:
        _, _, deliveries, _ = use_cases.tracking(uow, result.dispatch_id)
        history = use_cases.history_of(uow, [str(deliveries[0].id)])[str(deliveries[0].id)]
    assert deliveries[0].state == "undeliverable"
    assert "dead-lettered" in history[-1].note
    producer.close()


def test_express_overtakes_a_normal_backlog_and_each_receiver_keeps_its_order(
    distribution, engine, province: Province
):
    sender = province.root
    receivers = province.departments[:30]
    backlog = []
    for _ in range(10):  # 300 normal deliveries
        sent = distribution.Send(
            pb.SendRequest(package=make_package(sender, receivers), receivers=receivers)
        )
        backlog.append(sent.dispatch_id)
    express = distribution.Send(
        pb.SendRequest(
            package=make_package(sender, [receivers[-1]], priority=Priority.EXPRESS),
            receivers=[receivers[-1]],
        )
    )
    e = orm.inbox_entries

    def sequence_of(dispatch_id: str) -> int | None:
        with engine.connect() as conn:
            return conn.execute(
                sa.select(e.c.sequence).where(e.c.dispatch_id == dispatch_id)
            ).scalar_one_or_none()

    express_sequence = wait_for(lambda: sequence_of(express.dispatch_id), what="hỏa tốc")

    def normal_done() -> int:
        with engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count()).select_from(e).where(e.c.dispatch_id.in_(backlog))
            ).scalar_one()

    wait_for(lambda: normal_done() == 300, timeout=180, what="the normal backlog")
    with engine.connect() as conn:
        before = conn.execute(
            sa.select(sa.func.count())
            .select_from(e)
            .where(e.c.dispatch_id.in_(backlog), e.c.sequence < express_sequence)
        ).scalar_one()
        # One receiver's deliveries arrive in the order they were sent (key = receiver).
        order = (
            conn.execute(
                sa.select(e.c.dispatch_id)
                .where(e.c.dispatch_id.in_(backlog), e.c.receiver_code == receivers[0])
                .order_by(e.c.sequence)
            )
            .scalars()
            .all()
        )
    assert before < 300 * 0.8, f"hỏa tốc landed behind {before} of 300 normal deliveries"
    assert [str(d) for d in order] == backlog


class _Hook(BaseHTTPRequestHandler):
    secret = "bí-mật-webhook-liên-thông"
    failures_left = 2
    received: ClassVar[list[tuple[dict, str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if _Hook.failures_left > 0:
            _Hook.failures_left -= 1
            self.send_response(503)
            self.end_headers()
            return
        check_signature(self.secret, body, self.headers[SIGNATURE_HEADER])
        _Hook.received.append((json.loads(body), self.headers[DELIVERY_HEADER]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/lienthong"
    server.shutdown()


def test_external_system_gets_a_signed_webhook_after_retries(
    distribution, engine, province: Province, webhook_server: str
):
    sender, receiver = province.root, province.offline
    with pytest.raises(grpc.RpcError) as caught:
        distribution.RegisterWebhook(
            pb.RegisterWebhookRequest(receiver_code=receiver, url=webhook_server, secret="ngắn")
        )
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "secret" in caught.value.details()
    registered = distribution.RegisterWebhook(
        pb.RegisterWebhookRequest(receiver_code=receiver, url=webhook_server, secret=_Hook.secret)
    )
    assert registered.active
    sent = distribution.Send(
        pb.SendRequest(package=make_package(sender, [receiver]), receivers=[receiver])
    )
    wait_for(lambda: _Hook.received, what="the webhook")
    body, delivery_header = _Hook.received[0]
    assert body["dispatch_id"] == sent.dispatch_id
    assert delivery_header == sent.deliveries[0].delivery_id
    assert body["paper_copy"] is True and body["package"]
    assert _Hook.failures_left == 0, "the two 503s were retried"
    removed = distribution.RegisterWebhook(pb.RegisterWebhookRequest(receiver_code=receiver))
    assert not removed.active
