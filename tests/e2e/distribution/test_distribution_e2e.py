"""Issue #6 end to end, across separate service processes (``lienthong serve …``).

identifiers, registry and distribution each run as their own process on real PostgreSQL and
Kafka. A province of 50 agencies; a document sent to 20 receivers; every receiver verifies and
acknowledges (01); some accept (03, registered with a số đến) and finish (06); a tampered copy
comes back 02 with the reason; a recall is answered 15 and 16. Then the fault test: the
distribution process is killed with SIGKILL in the middle of 2,000 deliveries and restarted;
every delivery lands in exactly one inbox once and every sender status is right.

Not covered here (see docs/distribution.md): the verification service runs in-process as the
package's XML-DSig check (LT_DISTRIBUTION_VERIFIER=dsig) because the test's software key is not
in its trust store, and Kafka itself is not restarted (the dev profile is shared).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from grpc_health.v1 import health_pb2, health_pb2_grpc
from lienthong.distribution.v1 import distribution_pb2 as pb
from lienthong.distribution.v1 import distribution_pb2_grpc
from lienthong.identifiers.v1 import identifiers_pb2 as ipb
from lienthong.identifiers.v1 import identifiers_pb2_grpc

from services.chassis.db import make_engine
from services.chassis.migrations import upgrade
from services.distribution.adapters import orm
from services.distribution.adapters.sample_packages import make_package, tamper
from services.distribution.adapters.topics import create_topics


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Service processes started with ``python -m services.chassis.cli serve <name>``."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.ports: dict[str, int] = {}
        self.running: dict[str, subprocess.Popen] = {}
        self.env: dict[str, str] = {}

    def start(self, name: str, **extra: str) -> None:
        port = self.ports.setdefault(name, _free_port())
        env = {**os.environ, **self.env, f"LT_{name.upper()}_PORT": str(port), **extra}
        log = (self.log_dir / f"{name}.log").open("ab")
        self.running[name] = subprocess.Popen(
            [sys.executable, "-m", "services.chassis.cli", "serve", name],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.env[f"LT_{name.upper()}_ADDR"] = f"127.0.0.1:{port}"
        self._wait_serving(name)

    def _wait_serving(self, name: str, timeout: float = 90) -> None:
        channel = grpc.insecure_channel(f"127.0.0.1:{self.ports[name]}")
        health = health_pb2_grpc.HealthStub(channel)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.running[name].poll() is None, f"{name} exited; see {self.log_dir}"
            try:
                if health.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                    channel.close()
                    return
            except grpc.RpcError:
                time.sleep(0.3)
        raise AssertionError(f"{name} never became SERVING; see {self.log_dir}")

    def kill(self, name: str) -> None:
        process = self.running.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.running.values():
            process.send_signal(signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.running.clear()


@pytest.fixture(scope="module")
def stack(infra_env: dict[str, str], tmp_path_factory) -> Iterator[Processes]:
    for service in ("identifiers", "registry", "distribution"):
        upgrade(service)
    create_topics()
    processes = Processes(tmp_path_factory.mktemp("e2e-logs"))
    processes.env["LT_VAR_DIR"] = str(tmp_path_factory.mktemp("e2e-var"))
    processes.env["LT_DISTRIBUTION_VERIFIER"] = "dsig"
    processes.env["LT_OUTBOX_POLL_S"] = "0.2"
    try:
        processes.start("identifiers")
        processes.start("registry")
        processes.start("distribution")
        yield processes
    finally:
        processes.stop_all()


def _stub(stack: Processes, name: str, stub_class: type) -> object:
    return stub_class(grpc.insecure_channel(f"127.0.0.1:{stack.ports[name]}"))


def _province(identifiers, size: int) -> list[str]:
    """A province root and ``size - 1`` agencies under it, with a fresh suffix."""
    rng = random.SystemRandom()
    suffix = f"{rng.choice('ABCDEFGIKLMNPQRSTUVXY')}{rng.randint(10, 99)}"
    first = rng.randint(100, 999)
    root = f"{first}.00.00.{suffix}"
    codes = [root] + [f"{first}.{i // 100:02d}.{i % 100:02d}.{suffix}" for i in range(1, size)]
    identifiers.UpsertAgency(
        ipb.UpsertAgencyRequest(
            agency=ipb.Agency(
                code=root, name="UBND tỉnh Thử Nghiệm", abbreviation="UBND", kind="province"
            )
        )
    )
    for code in codes[1:]:
        identifiers.UpsertAgency(
            ipb.UpsertAgencyRequest(
                agency=ipb.Agency(
                    code=code,
                    name=f"Cơ quan {code}",
                    abbreviation="UBND",
                    parent_code=root,
                    kind="department",
                    exchanges_electronically=True,
                )
            )
        )
    return codes


def _wait(condition: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def _states(distribution, dispatch_id: str) -> dict[str, pb.DeliveryView]:
    view = distribution.Tracking(pb.TrackingRequest(dispatch_id=dispatch_id))
    return {d.receiver_code: d for d in view.deliveries}


def test_province_send_acknowledge_accept_finish_return_recall(stack: Processes):
    identifiers = _stub(stack, "identifiers", identifiers_pb2_grpc.IdentifiersStub)
    distribution = _stub(stack, "distribution", distribution_pb2_grpc.DistributionStub)
    codes = _province(identifiers, 50)
    sender, receivers = codes[0], codes[1:21]

    sent = distribution.Send(
        pb.SendRequest(
            package=make_package(sender, receivers, subject="Về việc triển khai liên thông"),
            receivers=receivers,
            actor="Văn thư UBND tỉnh",
        )
    )
    assert len(sent.deliveries) == 20
    _wait(
        lambda: all(d.state == "arrived" for d in _states(distribution, sent.dispatch_id).values()),
        90,
        "20 × 01",
    )
    ids = {code: d.delivery_id for code, d in _states(distribution, sent.dispatch_id).items()}

    finishing, refusing, agreeing = receivers[:5], receivers[5], receivers[6]
    for code in [*finishing, refusing]:
        accepted = distribution.Accept(pb.AcceptRequest(delivery_id=ids[code], actor="văn thư"))
        assert accepted.arrival_number >= 1 and accepted.registry_id
    for code in finishing:
        distribution.Assign(
            pb.AssignRequest(delivery_id=ids[code], actor="lãnh đạo", assignee="Phòng chuyên môn")
        )
        distribution.UpdateStatus(
            pb.UpdateStatusRequest(delivery_id=ids[code], status_code="05", actor="cv")
        )
        distribution.UpdateStatus(
            pb.UpdateStatusRequest(delivery_id=ids[code], status_code="06", actor="cv")
        )

    # One receiver is sent a tampered copy: returned automatically with the report's reason.
    tampered_to = codes[30]
    bad = distribution.Send(
        pb.SendRequest(package=tamper(make_package(sender, [tampered_to])), receivers=[tampered_to])
    )
    returned = _wait(
        lambda: (
            (d := _states(distribution, bad.dispatch_id)[tampered_to]).state == "returned" and d
        ),
        60,
        "02 on the tampered copy",
    )
    assert returned.status_code == "02" and "digest" in returned.history[-1].note

    _wait(
        lambda: all(
            _states(distribution, sent.dispatch_id)[c].state == "completed" for c in finishing
        ),
        60,
        "06 at the sender",
    )
    distribution.Recall(
        pb.RecallRequest(dispatch_id=sent.dispatch_id, actor="Chánh VP", reason="ban hành nhầm")
    )
    _wait(
        lambda: _states(distribution, sent.dispatch_id)[agreeing].state == "notice_pending",
        60,
        "13 acknowledged",
    )
    distribution.AnswerRecall(
        pb.AnswerRecallRequest(delivery_id=ids[agreeing], agreed=True, actor="văn thư")
    )
    distribution.AnswerRecall(
        pb.AnswerRecallRequest(
            delivery_id=ids[refusing], agreed=False, actor="văn thư", reason="đã vào sổ, đang xử lý"
        )
    )
    final = _wait(
        lambda: (
            (s := _states(distribution, sent.dispatch_id))[agreeing].state == "recalled"
            and s[refusing].state == "accepted"
            and s
        ),
        60,
        "15 and 16",
    )
    assert [h.code for h in final[agreeing].history] == ["01", "13", "15"]
    assert [h.code for h in final[refusing].history] == ["01", "03", "13", "16"]
    assert [h.code for h in final[finishing[0]].history] == ["01", "03", "04", "05", "06", "13"]
    view = distribution.Tracking(pb.TrackingRequest(dispatch_id=sent.dispatch_id))
    assert view.frozen and [e.kind for e in view.events] == ["sent", "recall"]


def test_kill_9_of_the_distribution_process_during_2000_deliveries(stack: Processes):
    identifiers = _stub(stack, "identifiers", identifiers_pb2_grpc.IdentifiersStub)
    distribution = _stub(stack, "distribution", distribution_pb2_grpc.DistributionStub)
    codes = _province(identifiers, 101)
    sender, receivers = codes[0], codes[1:]
    dispatches = [
        distribution.Send(
            pb.SendRequest(package=make_package(sender, receivers), receivers=receivers)
        ).dispatch_id
        for _ in range(20)
    ]  # 2,000 deliveries
    engine = make_engine(pool_size=2)
    e, d, h = orm.inbox_entries, orm.deliveries, orm.delivery_history

    def landed() -> int:
        with engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count()).select_from(e).where(e.c.dispatch_id.in_(dispatches))
            ).scalar_one()

    _wait(lambda: landed() >= 300, 120, "the first 300 arrivals")
    stack.kill("distribution")
    at_kill = landed()
    stack.start("distribution")
    _wait(lambda: landed() == 2000, 300, "all 2,000 arrivals after the restart")

    def sender_arrived() -> int:
        with engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count())
                .select_from(d)
                .where(d.c.dispatch_id.in_(dispatches), d.c.state == "arrived")
            ).scalar_one()

    _wait(lambda: sender_arrived() == 2000, 300, "2,000 sender statuses 01")
    with engine.connect() as conn:
        per_delivery = conn.execute(
            sa.select(e.c.delivery_id, sa.func.count())
            .where(e.c.dispatch_id.in_(dispatches))
            .group_by(e.c.delivery_id)
        ).all()
        histories = conn.execute(
            sa.select(h.c.code, sa.func.count())
            .join(d, d.c.id == h.c.delivery_id)
            .where(d.c.dispatch_id.in_(dispatches))
            .group_by(h.c.code)
        ).all()
        receivers_per_delivery = conn.execute(
            sa.select(sa.func.count(sa.distinct(e.c.receiver_code))).where(
                e.c.dispatch_id == dispatches[0]
            )
        ).scalar_one()
    engine.dispose()
    assert len(per_delivery) == 2000 and {n for _, n in per_delivery} == {1}
    assert dict(histories) == {"01": 2000}, "one 01 per delivery, nothing twice"
    assert receivers_per_delivery == 100
    assert 0 < at_kill < 2000, f"the kill happened mid-run ({at_kill} landed)"
