"""Arrival verified by the real verification service (gRPC ``VerifyEdxml``).

The verification service runs on a real port with a trust directory of a test PKI (root,
issuing CA, CRL); the sending agency is in the real identifiers directory. A package signed by
the agency's certificate passes (01); the same package with one changed byte fails (02) and the
report's Vietnamese summary is the reason kept for the sender.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import grpc
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.serialization import Encoding
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError
from lienthong.distribution.v1 import distribution_pb2 as pb
from lienthong.identifiers.v1 import identifiers_pb2 as ipb
from lienthong.identifiers.v1 import identifiers_pb2_grpc
from lienthong.verification.v1 import verification_pb2_grpc

from services.chassis.clients import channel_to
from services.chassis.container import ServiceContainer
from services.chassis.db import Database
from services.chassis.kafka import bootstrap
from services.chassis.migrations import upgrade
from services.distribution.adapters import orm
from services.distribution.adapters.peers import GrpcDirectory, GrpcVerifier
from services.distribution.adapters.sample_packages import make_package, tamper
from services.distribution.service_layer import use_cases
from services.registry.domain.calendar import WorkingCalendar


@pytest.fixture(scope="module")
def test_pki(tmp_path_factory):  # type: ignore[no-untyped-def]
    from services.verification.corpus import SoftPki

    pki = SoftPki.create()
    trust = tmp_path_factory.mktemp("trust")
    (trust / "root.pem").write_bytes(pki.root.public_bytes(Encoding.PEM))
    (trust / "intermediate.pem").write_bytes(pki.intermediate.public_bytes(Encoding.PEM))
    (trust / "intermediate.crl").write_bytes(pki.crl_der())
    return pki, trust


@pytest.fixture(scope="module")
def verification_container(
    test_pki, identifiers_container: ServiceContainer, identifiers
) -> Iterator[ServiceContainer]:
    from services.verification.corpus import AGENCY
    from services.verification.entrypoints.grpc import VerificationService
    from services.verification.service_layer.trust_anchors import TRUSTSTORE_TOPIC

    upgrade("verification")
    admin = KafkaAdminClient(bootstrap_servers=bootstrap())
    try:
        admin.create_topics([NewTopic(TRUSTSTORE_TOPIC, 3, 1)], timeout_ms=20000)
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()
    identifiers.UpsertAgency(
        ipb.UpsertAgencyRequest(
            agency=ipb.Agency(
                code=AGENCY.code, name=AGENCY.name, abbreviation="STTTT", kind="department"
            )
        )
    )
    _, trust = test_pki
    settings = {
        "LT_TRUST_DIR": str(trust),
        "LT_VERIFICATION_WORKERS": "0",
        "LT_IDENTIFIERS_ADDR": f"127.0.0.1:{identifiers_container.port}",
    }
    previous = {k: os.environ.get(k) for k in settings}
    os.environ.update(settings)
    container = ServiceContainer(VerificationService, address="127.0.0.1:0", run_relay=False)
    container.start()
    yield container
    container.stop(grace=1)
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _signed(pki, sender: str, receiver: str) -> bytes:  # type: ignore[no-untyped-def]
    from services.verification.corpus import signed_edxml

    return signed_edxml(pki, make_package(sender, [receiver]))


def _land(
    engine: sa.Engine, identifiers_port: int, package: bytes, receiver: str, verifier: GrpcVerifier
) -> tuple[str, str]:
    """Send (events kept back from Kafka) and land the delivery through ``arrive``."""
    database = Database(orm.SCHEMA, orm.metadata)
    database.engine = engine
    database.setup("verification-wiring-test")
    directory = GrpcDirectory(
        identifiers_pb2_grpc.IdentifiersStub(
            channel_to("identifiers", f"127.0.0.1:{identifiers_port}")
        )
    )
    with database.unit_of_work() as uow:
        result = use_cases.send(
            uow, directory, pb.SendRequest(package=package, receivers=[receiver])
        )
        rows = (
            uow.execute(
                sa.select(orm.outbox.c.payload).where(
                    orm.outbox.c.published_at.is_(None), orm.outbox.c.key == receiver
                )
            )
            .scalars()
            .all()
        )
        uow.execute(
            sa.update(orm.outbox)
            .where(orm.outbox.c.published_at.is_(None), orm.outbox.c.key == receiver)
            .values(published_at=sa.func.now())
        )
        uow.commit()
    (dispatched,) = [
        m
        for m in (pb.DeliveryDispatched.FromString(r) for r in rows)
        if m.dispatch_id == result.dispatch_id
    ]
    with database.unit_of_work() as uow:
        code = use_cases.arrive(uow, dispatched, verifier, WorkingCalendar.default())
        uow.commit()
    with engine.connect() as conn:
        reason = conn.execute(
            sa.select(orm.inbox_entries.c.verification).where(
                orm.inbox_entries.c.delivery_id == dispatched.delivery_id
            )
        ).scalar_one()
    return code, reason


def test_real_verification_passes_the_signed_package_and_fails_the_tampered_one(
    engine,
    distribution_schema,
    identifiers_container,
    verification_container,
    test_pki,
    province,
):
    from services.verification.corpus import AGENCY

    pki, _ = test_pki
    verifier = GrpcVerifier(
        verification_pb2_grpc.VerificationStub(
            grpc.insecure_channel(f"127.0.0.1:{verification_container.port}")
        )
    )
    receiver = province.departments[37]
    package = _signed(pki, AGENCY.code, receiver)
    assert verifier.verify_package(package, AGENCY.code).passed

    code, reason = _land(engine, identifiers_container.port, package, receiver, verifier)
    assert (code, reason) == ("01", "")
    code, reason = _land(
        engine,
        identifiers_container.port,
        tamper(_signed(pki, AGENCY.code, receiver)),
        receiver,
        verifier,
    )
    assert code == "02"
    assert reason and reason != "không xác thực được", "the report's own summary is kept"


def test_an_unknown_signer_fails_with_the_reports_reason(verification_container, province):
    verifier = GrpcVerifier(
        verification_pb2_grpc.VerificationStub(
            grpc.insecure_channel(f"127.0.0.1:{verification_container.port}")
        )
    )
    # Signed with the test's own software key, which no trust anchor vouches for.
    verdict = verifier.verify_package(
        make_package(province.root, [province.departments[0]]), province.root
    )
    assert not verdict.passed and verdict.reason
