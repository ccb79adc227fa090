"""Issue #6 end to end, across separate service processes (``lienthong serve …``).

identifiers, registry, signing, verification and distribution each run as their own process on
real PostgreSQL, Kafka and the SoftHSM token. A province of 50 agencies; the document is issued
through the real chain — registered as a draft in the registry, signed by the person (signing
service, dev PKI key in the HSM), numbered by the registry, number and date filled in, sealed by
the organisation — packed as edXML with the sealed PDF and XML-signed with the agency's HSM key,
then sent to 20 receivers. Every arrival is verified by the real verification service (trust
store: the dev PKI of ``$LT_VAR_DIR/devpki``; the dev agency is in the identifiers directory
for its "who signed" check) and acknowledged (01); some accept (03, registered with a số đến)
and finish (06); a tampered copy comes back 02 with the report's reason; a recall is answered
15 and 16.

Then the fault test: in the middle of 2,000 deliveries the profile's Kafka broker is stopped and
started again (``infra/local/down.sh "$LT_PROFILE" kafka`` / ``up.sh``) under the running
distribution process, and then that process is killed with SIGKILL and restarted; every
delivery lands in exactly one inbox once and every sender status is right. The broker is left
running even when the test fails.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from grpc_health.v1 import health_pb2, health_pb2_grpc
from lienthong.distribution.v1 import distribution_pb2 as pb
from lienthong.distribution.v1 import distribution_pb2_grpc
from lienthong.identifiers.v1 import identifiers_pb2 as ipb
from lienthong.identifiers.v1 import identifiers_pb2_grpc
from lienthong.registry.v1 import registry_pb2 as rpb
from lienthong.registry.v1 import registry_pb2_grpc
from lienthong.signing.v1 import signing_pb2 as spb
from lienthong.signing.v1 import signing_pb2_grpc

from services.certificates.devpki import (
    DEV_AGENCY,
    DEV_PERSON,
    ORGANISATION_ROLE,
    PERSON_ROLE,
    DevPki,
    ensure_dev_pki,
)
from services.chassis.db import make_engine
from services.chassis.migrations import upgrade
from services.distribution.adapters import orm
from services.distribution.adapters.hsm_signer import HsmXmlSigner
from services.distribution.adapters.sample_packages import make_package, tamper
from services.distribution.adapters.topics import create_topics
from services.distribution.edxml.model import Attachment
from services.signing.adapters.hsm import process_hsm

REPO_ROOT = Path(__file__).resolve().parents[3]


def _infra(script: str, profile: str) -> None:
    """Run ``infra/local/<script> <profile> kafka``; its own readiness checks do the waiting."""
    completed = subprocess.run(
        [str(REPO_ROOT / "infra" / "local" / script), profile, "kafka"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, (
        f"infra/local/{script} {profile} kafka failed ({completed.returncode}): "
        f"{completed.stderr.strip() or completed.stdout.strip()}"
    )


@contextmanager
def broker_restart_guard(profile: str) -> Iterator[None]:
    """Whatever happens inside, the profile's broker is running (again) afterwards."""
    try:
        yield
    finally:
        _infra("up.sh", profile)


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


def _create_topic(name: str, partitions: int) -> None:
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    from services.chassis.kafka import bootstrap

    admin = KafkaAdminClient(bootstrap_servers=bootstrap())
    try:
        admin.create_topics([NewTopic(name, partitions, 1)], timeout_ms=20000)
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()


@pytest.fixture(scope="module")
def dev_pki(infra_env: dict[str, str]) -> DevPki:
    """The profile's dev PKI (``$LT_VAR_DIR/devpki``), keys in the profile's SoftHSM token."""
    return ensure_dev_pki(process_hsm(), Path(infra_env["LT_VAR_DIR"]))


@pytest.fixture(scope="module")
def stack(infra_env: dict[str, str], dev_pki: DevPki, tmp_path_factory) -> Iterator[Processes]:
    from services.signing.service_layer.grpc_support import DOCUMENT_TOPIC

    for service in ("identifiers", "registry", "signing", "verification", "distribution"):
        upgrade(service)
    create_topics()
    _create_topic(DOCUMENT_TOPIC, 6)
    processes = Processes(tmp_path_factory.mktemp("e2e-logs"))
    processes.env["LT_VAR_DIR"] = str(tmp_path_factory.mktemp("e2e-var"))
    processes.env["LT_OUTBOX_POLL_S"] = "0.2"
    # Signing and verification read the profile's dev PKI: the signer certificates that sit
    # next to the HSM keys, and its root (+ CRLs) as the trust store.
    profile_var = {"LT_VAR_DIR": infra_env["LT_VAR_DIR"]}
    try:
        processes.start("identifiers")
        processes.start("registry")
        processes.start("verification", LT_TRUST_DIR=str(dev_pki.directory), **profile_var)
        processes.start("signing", **profile_var)
        processes.start("distribution", LT_DISTRIBUTION_VERIFIER="grpc")
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


def _register_dev_agency(identifiers) -> str:  # type: ignore[no-untyped-def]
    """The dev PKI's agency in the directory: the verifier's "who signed" check looks it up."""
    identifiers.UpsertAgency(
        ipb.UpsertAgencyRequest(
            agency=ipb.Agency(
                code=DEV_AGENCY.code,
                name=DEV_AGENCY.name,
                abbreviation="STTTT",
                kind="department",
                exchanges_electronically=True,
            )
        )
    )
    return DEV_AGENCY.code


def _agency_signer(dev_pki: DevPki) -> HsmXmlSigner:
    return HsmXmlSigner(process_hsm(), dev_pki.signer(ORGANISATION_ROLE).key_id)


def _sign_step(signing, header: spb.SignHeader, document: bytes) -> bytes:  # type: ignore[no-untyped-def]
    def chunks() -> Iterator[spb.SignChunk]:
        yield spb.SignChunk(header=header)
        for start in range(0, len(document), 64 * 1024):
            yield spb.SignChunk(data=document[start : start + 64 * 1024])

    parts, outcome = [], ""
    for message in signing.SignDocument(chunks(), timeout=120):
        if message.WhichOneof("part") == "audit":
            outcome = message.audit.outcome
        else:
            parts.append(message.data)
    assert outcome == "signed", f"signing step {header.step}: audit outcome {outcome!r}"
    return b"".join(parts)


def _issue(
    stack: Processes, dev_pki: DevPki, subject: str, receivers: list[str]
) -> tuple[rpb.Document, bytes]:
    """Register, person signs, number, number and date filled in, organisation seals."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from services.signing.adapters.sample_document import default_content, generate_sample

    registry = _stub(stack, "registry", registry_pb2_grpc.RegistryStub)
    signing = _stub(stack, "signing", signing_pb2_grpc.SigningStub)
    draft = registry.RegisterOutgoing(
        rpb.RegisterOutgoingRequest(
            document=rpb.Document(
                agency_code=DEV_AGENCY.code,
                document_type="cong_van",
                drafting_unit="CNTT",
                subject=subject,
                signer=rpb.Signer(title=DEV_PERSON.title, full_name=DEV_PERSON.full_name),
                receivers=[rpb.Party(name=f"Cơ quan {c}", agency_code=c) for c in receivers],
            ),
            actor="chuyên viên soạn thảo",
        )
    )
    assert draft.status == rpb.STATUS_DRAFT and draft.number == 0
    pdf = generate_sample(default_content(DEV_PERSON))[0]
    person = dev_pki.signer(PERSON_ROLE).key_id.hex()
    organisation = dev_pki.signer(ORGANISATION_ROLE).key_id.hex()
    signed = _sign_step(
        signing, spb.SignHeader(step=spb.PERSON, key_id_hex=person, requested_by="lãnh đạo"), pdf
    )
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    issued = registry.AssignNumber(
        rpb.AssignNumberRequest(id=draft.id, issue_date=today.isoformat(), actor="văn thư")
    )
    assert issued.status == rpb.STATUS_ISSUED and issued.number >= 1
    place_and_date = f"Hà Giang, ngày {today.day} tháng {today.month} năm {today.year}"
    numbered = _sign_step(
        signing,
        spb.SignHeader(
            step=spb.NUMBER_AND_DATE,
            requested_by="văn thư",
            number=issued.number_and_symbol,
            place_and_date=place_and_date,
        ),
        signed,
    )
    sealed = _sign_step(
        signing,
        spb.SignHeader(step=spb.ORGANISATION, key_id_hex=organisation, requested_by="văn thư"),
        numbered,
    )
    return issued, sealed


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


def test_issue_send_verify_acknowledge_accept_finish_return_recall(
    stack: Processes, dev_pki: DevPki
):
    identifiers = _stub(stack, "identifiers", identifiers_pb2_grpc.IdentifiersStub)
    distribution = _stub(stack, "distribution", distribution_pb2_grpc.DistributionStub)
    codes = _province(identifiers, 50)
    sender, receivers = _register_dev_agency(identifiers), codes[1:21]
    subject = "Về việc triển khai liên thông văn bản điện tử"
    issued, sealed_pdf = _issue(stack, dev_pki, subject, receivers)
    number, notation = issued.number_and_symbol.split("/", 1)
    package = make_package(
        sender,
        receivers,
        subject=subject,
        number=int(number),
        notation=notation,
        signer=_agency_signer(dev_pki),
        attachments=(
            Attachment(
                content_id="van-ban",
                name=f"{issued.number_and_symbol.replace('/', '_')}.pdf",
                content_type="application/pdf",
                description=subject,
                data=sealed_pdf,
            ),
        ),
    )

    sent = distribution.Send(
        pb.SendRequest(package=package, receivers=receivers, actor="Văn thư Sở TTTT")
    )
    assert len(sent.deliveries) == 20

    def answered() -> dict[str, pb.DeliveryView] | None:
        states = _states(distribution, sent.dispatch_id)
        done = all(d.state in ("arrived", "returned") for d in states.values())
        return states if done else None

    arrived = _wait(answered, 120, "20 answers (01, or 02 if verification refused)")
    refused = {c: d.history[-1].note for c, d in arrived.items() if d.state != "arrived"}
    assert not refused, f"the verification service refused the issued document: {refused}"
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
    tampered = tamper(make_package(sender, [tampered_to], signer=_agency_signer(dev_pki)))
    bad = distribution.Send(pb.SendRequest(package=tampered, receivers=[tampered_to]))
    returned = _wait(
        lambda: (
            (d := _states(distribution, bad.dispatch_id)[tampered_to]).state == "returned" and d
        ),
        60,
        "02 on the tampered copy",
    )
    reason = returned.history[-1].note
    assert returned.status_code == "02" and reason and reason != "không xác thực được", reason

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
        lambda: (
            (s := _states(distribution, sent.dispatch_id))[agreeing].state == "notice_pending"
            and s[refusing].state == "notice_pending"
        ),
        60,
        "13 acknowledged by both answering receivers",
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


def test_kafka_restart_and_kill_9_during_2000_deliveries(stack: Processes, dev_pki: DevPki):
    profile = os.environ.get("LT_PROFILE", "")
    if not profile:
        pytest.fail(
            "LT_PROFILE is not set: the fault test restarts that profile's Kafka broker "
            '(run it under `make test` or after `eval "$(infra/local/env.sh test)"`)',
            pytrace=False,
        )
    identifiers = _stub(stack, "identifiers", identifiers_pb2_grpc.IdentifiersStub)
    distribution = _stub(stack, "distribution", distribution_pb2_grpc.DistributionStub)
    codes = _province(identifiers, 101)
    sender, receivers = _register_dev_agency(identifiers), codes[1:]
    signer = _agency_signer(dev_pki)
    dispatches = [
        distribution.Send(
            pb.SendRequest(
                package=make_package(sender, receivers, signer=signer), receivers=receivers
            )
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
    with broker_restart_guard(profile):
        # The broker goes away under a live process: its producers (outbox relay) and
        # consumers must ride out the outage and reconnect by themselves.
        _infra("down.sh", profile)
        at_broker_stop = landed()
        _infra("up.sh", profile)
    _wait(
        lambda: landed() >= min(at_broker_stop + 300, 1900),
        180,
        "arrivals resuming after the broker restart",
    )
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
    assert 0 < at_broker_stop < at_kill < 2000, (
        f"broker stopped at {at_broker_stop} and process killed at {at_kill} arrivals: mid-run"
    )
