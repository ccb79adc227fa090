"""`lienthong serve registry` as a real process: migrations at start, health, events on Kafka
through its own outbox relay, clean SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import grpc
import sqlalchemy as sa
from grpc_health.v1 import health_pb2, health_pb2_grpc
from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError
from lienthong.registry.v1 import registry_pb2 as pb
from lienthong.registry.v1 import registry_pb2_grpc

from services.chassis.kafka import bootstrap
from services.registry.service_layer.use_cases import DOCUMENT_TOPIC
from tests.integration.conftest import free_port


def _ensure_topic() -> None:
    """infra/local/topics.txt gets the registry topic from the lead; until then, make it."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap())
    try:
        admin.create_topics([NewTopic(DOCUMENT_TOPIC, 6, 1)], timeout_ms=20000)
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()


def _skip_backlog(engine: sa.Engine) -> None:
    """Events left unpublished by earlier tests (20,000 from the numbering test, which runs no
    relay) would be shipped first, in order; they are not this test's subject."""
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE registry.outbox SET published_at = now() WHERE published_at IS NULL")
        )


def test_served_registry_publishes_registration_and_number_events(
    registry_schema, identifiers_container, agency, engine, tmp_path
):
    _ensure_topic()
    _skip_backlog(engine)
    port = free_port()
    log = tmp_path / "registry.log"
    env = {
        **os.environ,
        "LT_REGISTRY_PORT": str(port),
        "LT_IDENTIFIERS_ADDR": f"127.0.0.1:{identifiers_container.port}",
        "LT_VAR_DIR": str(tmp_path),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "services.chassis.cli", "serve", "registry"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        health = health_pb2_grpc.HealthStub(channel)
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                if health.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                    break
            except grpc.RpcError:
                assert time.monotonic() < deadline, "registry never became SERVING"
                time.sleep(0.3)
        consumer = KafkaConsumer(
            DOCUMENT_TOPIC, bootstrap_servers=bootstrap(), auto_offset_reset="latest"
        )
        consumer.poll(timeout_ms=2000)
        stub = registry_pb2_grpc.RegistryStub(channel)
        issued = stub.RegisterOutgoing(
            pb.RegisterOutgoingRequest(
                document=pb.Document(
                    agency_code=agency, document_type="thong_bao",
                    subject="Thông báo lịch tiếp công dân tháng 12",
                    signer=pb.Signer(title="CHÁNH VĂN PHÒNG", full_name="Đỗ Minh Quân"),
                    receivers=[pb.Party(name="Các sở, ban, ngành")],
                ),
                issue_date="2026-11-20",
            ),
            timeout=20,
        )  # fmt: skip
        assert issued.number_and_symbol == "01/TB-UBND"
        found: dict[str, object] = {}
        deadline = time.monotonic() + 40
        while len(found) < 2 and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    if record.key == issued.id.encode():
                        headers = {k: v.decode() for k, v in record.headers}
                        found[headers["ce_type"]] = (headers, record.value)
        consumer.close()
        channel.close()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    assert process.returncode == 0
    prefix = "vn.lienthong.registry.document."
    assert set(found) == {prefix + "registered", prefix + "number_assigned"}
    headers, value = found[prefix + "number_assigned"]
    assert headers["ce_source"] == "/lienthong/registry"
    assert headers["ce_dataschema"] == "lienthong.registry.v1.NumberAssigned"
    event = pb.NumberAssigned.FromString(value)
    assert (event.number, event.number_and_symbol, event.agency_code) == (1, "01/TB-UBND", agency)
