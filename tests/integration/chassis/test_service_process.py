"""`lienthong serve identifiers` as a real process: health, events, SIGTERM, multi-process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from kafka import KafkaConsumer
from lienthong.identifiers.v1 import identifiers_pb2 as pb
from lienthong.identifiers.v1 import identifiers_pb2_grpc

from services.chassis.kafka import bootstrap
from tests.integration.conftest import free_port

TOPIC = "lienthong.identifiers.agency.v1"


def _start(port: int, log: Path, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "LT_IDENTIFIERS_PORT": str(port), **env}
    return subprocess.Popen(
        [sys.executable, "-m", "services.chassis.cli", "serve", "identifiers"],
        env=environment,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _wait_serving(port: int, process: subprocess.Popen, timeout: float = 60) -> grpc.Channel:
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    health = health_pb2_grpc.HealthStub(channel)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "service exited during start-up"
        try:
            if health.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                return channel
        except grpc.RpcError:
            time.sleep(0.2)
    raise AssertionError("service never became SERVING")


def _terminate(process: subprocess.Popen) -> float:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=15)
    return time.monotonic() - started


def test_served_process_publishes_events_and_stops_cleanly_on_sigterm(identifiers_schema, tmp_path):
    port = free_port()
    log = tmp_path / "identifiers.log"
    process = _start(port, log)
    try:
        channel = _wait_serving(port, process)
        stub = identifiers_pb2_grpc.IdentifiersStub(channel)
        consumer = KafkaConsumer(TOPIC, bootstrap_servers=bootstrap(), auto_offset_reset="latest")
        consumer.poll(timeout_ms=2000)  # join and take the current end as the start
        code = f"000.00.{int(time.time()) % 90 + 10:02d}.P42"
        stub.UpsertAgency(
            pb.UpsertAgencyRequest(agency=pb.Agency(code=code, name="Phường Hòa Bình")),
            metadata=[("x-correlation-id", "corr-42")],
            timeout=10,
        )
        # The process's own relay ships the event: CloudEvents headers, protobuf payload.
        deadline = time.monotonic() + 30
        found = None
        while found is None and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                found = next((r for r in records if r.key == code.encode()), found)
        consumer.close()
        assert found is not None, "event never reached Kafka"
        headers = {k: v.decode() for k, v in found.headers}
        assert headers["ce_type"] == "vn.lienthong.identifiers.agency.created"
        assert headers["ce_source"] == "/lienthong/identifiers"
        assert headers["ce_subject"] == code
        assert headers["ce_time"].endswith("+07:00")
        assert headers["content-type"] == "application/protobuf"
        change = pb.AgencyChanged.FromString(found.value)
        assert change.agency.name == "Phường Hòa Bình"
        channel.close()
    finally:
        elapsed = _terminate(process)
    assert process.returncode == 0
    assert elapsed < 10
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    rpc = [e for e in lines if e.get("method", "").endswith("UpsertAgency")]
    assert rpc and rpc[0]["correlation_id"] == "corr-42" and rpc[0]["code"] == "OK"
    assert any(e["msg"] == "service stopped" for e in lines)


def test_in_flight_call_finishes_during_graceful_shutdown(identifiers_schema, tmp_path):
    port = free_port()
    process = _start(port, tmp_path / "log")
    try:
        channel = _wait_serving(port, process)
        stub = identifiers_pb2_grpc.IdentifiersStub(channel)
        future = stub.ExportAgencies.future(
            pb.ExportAgenciesRequest(format=pb.DIRECTORY_FORMAT_CSV), timeout=20
        )
        process.send_signal(signal.SIGTERM)
        assert future.result().content.startswith(b"code,name")
        with pytest.raises(grpc.RpcError):  # and new calls are refused afterwards
            time.sleep(0.5)
            stub.GetAgency(pb.GetAgencyRequest(code="000.00.00.H56"), timeout=2)
        channel.close()
    finally:
        process.wait(timeout=15)
    assert process.returncode == 0


def test_multi_process_mode_shares_one_port(identifiers_schema, tmp_path):
    port = free_port()
    process = _start(port, tmp_path / "log", LT_PROCESSES="2")
    try:
        channel = _wait_serving(port, process)
        stub = identifiers_pb2_grpc.IdentifiersStub(channel)
        children = subprocess.run(
            ["pgrep", "-P", str(process.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        assert len(children) == 2
        reply = stub.ParseDossierCode(
            pb.ParseDossierCodeRequest(text="000.00.01.H56.2026.01-VP"), timeout=5
        )
        assert reply.year == 2026
        channel.close()
    finally:
        elapsed = _terminate(process)
    assert process.returncode == 0 and elapsed < 10
    for pid in children:
        assert not Path(f"/proc/{pid}").exists()


def test_every_process_sees_a_change_made_through_another(identifiers_schema, tmp_path):
    """Per-process caches are invalidated by the agency events (broadcast subscription)."""
    port = free_port()
    process = _start(port, tmp_path / "log", LT_PROCESSES="2")
    code = "000.00.03.C33"
    try:
        channel = _wait_serving(port, process)
        stubs = [  # separate channels so both processes receive calls and fill their caches
            identifiers_pb2_grpc.IdentifiersStub(
                grpc.insecure_channel(
                    f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)]
                )
            )
            for _ in range(8)
        ]
        stubs[0].UpsertAgency(
            pb.UpsertAgencyRequest(agency=pb.Agency(code=code, name="Tên cũ")), timeout=10
        )
        for stub in stubs:
            stub.GetAgency(pb.GetAgencyRequest(code=code), timeout=5)
        stubs[0].UpsertAgency(
            pb.UpsertAgencyRequest(agency=pb.Agency(code=code, name="Tên mới")), timeout=10
        )
        deadline = time.monotonic() + 20
        names: set[str] = set()
        while time.monotonic() < deadline:
            names = {s.GetAgency(pb.GetAgencyRequest(code=code), timeout=5).name for s in stubs}
            if names == {"Tên mới"}:
                break
            time.sleep(0.2)
        assert names == {"Tên mới"}
        channel.close()
    finally:
        _terminate(process)
