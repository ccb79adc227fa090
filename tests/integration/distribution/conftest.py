"""Fixtures: the real distribution service (gRPC, consumers, relay) over real PostgreSQL and
Kafka, the real identifiers service as its directory, the real registry for acceptance, and a
fresh province of agencies per test session."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from distribution_helpers import Province
from lienthong.distribution.v1 import distribution_pb2_grpc
from lienthong.identifiers.v1 import identifiers_pb2 as ipb

from services.chassis.container import ServiceContainer
from services.chassis.migrations import upgrade
from services.distribution.adapters.topics import create_topics


@pytest.fixture(scope="session")
def distribution_schema(engine: sa.Engine, infra_env: dict[str, str]) -> str:
    upgrade("distribution")
    create_topics()
    return "distribution"


@pytest.fixture(scope="session")
def province(identifiers) -> Province:
    """A province of 50 agencies with a suffix no earlier run used (probably)."""
    rng = random.SystemRandom()
    suffix = f"{rng.choice('ABCDEFGIKLMNPQRSTUVXY')}{rng.randint(10, 99)}"
    first = f"{rng.randint(100, 999)}"
    root = f"{first}.00.00.{suffix}"
    departments = [f"{first}.00.{i:02d}.{suffix}" for i in range(1, 40)]
    district = f"{first}.00.40.{suffix}"
    communes = [f"{first}.{i:02d}.40.{suffix}" for i in range(1, 10)]
    offline = f"{first}.00.41.{suffix}"

    def upsert(code: str, name: str, parent: str, kind: str, electronic: bool = True) -> None:
        identifiers.UpsertAgency(
            ipb.UpsertAgencyRequest(
                agency=ipb.Agency(
                    code=code,
                    name=name,
                    abbreviation="UBND",
                    parent_code=parent,
                    kind=kind,
                    exchanges_electronically=electronic,
                )
            )
        )

    upsert(root, "Ủy ban nhân dân tỉnh Thử Nghiệm", "", "province")
    for code in departments:
        upsert(code, f"Sở số {code[7:9]}", root, "department")
    upsert(district, "Khu vực Đông", root, "area")
    for code in communes:
        upsert(code, f"Xã số {code[4:6]}", district, "commune")
    upsert(offline, "Ban chưa kết nối", root, "unit", electronic=False)
    return Province(root, departments, district, communes, offline)


@pytest.fixture(scope="session")
def registry_for_distribution(
    engine: sa.Engine, identifiers_container: ServiceContainer, tmp_path_factory
) -> Iterator[ServiceContainer]:
    """The real registry service: acceptance registers the document and takes its số đến."""
    from services.registry.entrypoints.grpc import RegistryService

    upgrade("registry")
    previous = {k: os.environ.get(k) for k in ("LT_IDENTIFIERS_ADDR", "LT_VAR_DIR")}
    os.environ["LT_IDENTIFIERS_ADDR"] = f"127.0.0.1:{identifiers_container.port}"
    os.environ["LT_VAR_DIR"] = str(tmp_path_factory.mktemp("registry-var"))
    container = ServiceContainer(RegistryService, address="127.0.0.1:0", run_relay=False)
    container.start()
    yield container
    container.stop(grace=1)
    _restore(previous)


def _restore(previous: dict[str, str | None]) -> None:
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def axis_signer_role(infra_env: dict[str, str]):  # type: ignore[no-untyped-def]
    """The dev PKI's organisation signer: its HSM key signs the statuses sent to the axis."""
    from services.certificates.devpki import ORGANISATION_ROLE, ensure_dev_pki
    from services.signing.adapters.hsm import process_hsm

    pki = ensure_dev_pki(process_hsm(), Path(infra_env["LT_VAR_DIR"]))
    return pki.signer(ORGANISATION_ROLE)


@pytest.fixture(scope="session")
def distribution_container(
    distribution_schema: str,
    identifiers_container: ServiceContainer,
    registry_for_distribution: ServiceContainer,
    axis_signer_role,  # type: ignore[no-untyped-def]
) -> Iterator[ServiceContainer]:
    from services.distribution.entrypoints.grpc import DistributionService

    settings = {
        "LT_IDENTIFIERS_ADDR": f"127.0.0.1:{identifiers_container.port}",
        "LT_REGISTRY_ADDR": f"127.0.0.1:{registry_for_distribution.port}",
        # Signature integrity in-process: the verification service's trust store does not
        # know the test's software key. tests/e2e runs the real verification service.
        "LT_DISTRIBUTION_VERIFIER": "dsig",
        "LT_OUTBOX_POLL_S": "0.2",
        "LT_DISTRIBUTION_AXIS": "simulator",
        # The tests call SyncNationalAxis themselves and count what it did; the scheduled
        # sync is tested with its own worker (test_axis_sync_worker.py).
        "LT_DISTRIBUTION_AXIS_SYNC_S": "0",
        "LT_DISTRIBUTION_AXIS_KEY_ID": axis_signer_role.key_id.hex(),
    }
    previous = {k: os.environ.get(k) for k in settings}
    os.environ.update(settings)
    container = ServiceContainer(DistributionService, address="127.0.0.1:0", run_relay=True)
    container.start()
    yield container
    container.stop(grace=1)
    _restore(previous)


@pytest.fixture(scope="session")
def distribution(
    distribution_container: ServiceContainer,
) -> Iterator[distribution_pb2_grpc.DistributionStub]:
    channel = grpc.insecure_channel(f"127.0.0.1:{distribution_container.port}")
    yield distribution_pb2_grpc.DistributionStub(channel)
    channel.close()
