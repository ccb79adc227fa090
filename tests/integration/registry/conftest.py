"""Fixtures for the registry over real PostgreSQL, Kafka and the real identifiers service."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator

import grpc
import pytest
import sqlalchemy as sa
from lienthong.identifiers.v1 import identifiers_pb2 as ipb
from lienthong.registry.v1 import registry_pb2_grpc

from services.chassis.container import ServiceContainer
from services.chassis.migrations import upgrade


@pytest.fixture(scope="session")
def registry_schema(engine: sa.Engine, infra_env: dict[str, str]) -> str:
    upgrade("registry")
    if infra_env.get("LT_PROFILE") == "test":
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "TRUNCATE registry.attachments, registry.file_versions, registry.history, "
                    "registry.documents, "
                    "registry.book_counters, registry.outbox, registry.inbox"
                )
            )
    return "registry"


def fresh_agency_code() -> str:
    """A code no earlier run used, so every book of this run starts at 01."""
    rng = random.SystemRandom()
    first, second, third = rng.randint(100, 999), rng.randint(10, 99), rng.randint(10, 99)
    return f"{first}.{second}.{third}.Z{rng.randint(10, 99)}"


@pytest.fixture(scope="session")
def registry_container(
    registry_schema: str, identifiers_container: ServiceContainer, tmp_path_factory
) -> Iterator[ServiceContainer]:
    from services.registry.entrypoints.grpc import RegistryService

    previous = {k: os.environ.get(k) for k in ("LT_IDENTIFIERS_ADDR", "LT_VAR_DIR")}
    os.environ["LT_IDENTIFIERS_ADDR"] = f"127.0.0.1:{identifiers_container.port}"
    os.environ["LT_VAR_DIR"] = str(tmp_path_factory.mktemp("registry-var"))
    container = ServiceContainer(RegistryService, address="127.0.0.1:0", run_relay=False)
    container.start()
    yield container
    container.stop(grace=1)
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def registry(registry_container: ServiceContainer) -> Iterator[registry_pb2_grpc.RegistryStub]:
    channel = grpc.insecure_channel(f"127.0.0.1:{registry_container.port}")
    yield registry_pb2_grpc.RegistryStub(channel)
    channel.close()


@pytest.fixture
def agency(identifiers) -> str:
    """A fresh provincial committee (abbreviation UBND) in the real directory."""
    code = fresh_agency_code()
    identifiers.UpsertAgency(
        ipb.UpsertAgencyRequest(
            agency=ipb.Agency(
                code=code,
                name="Ủy ban nhân dân tỉnh Thử Nghiệm",
                abbreviation="UBND",
                kind="province",
            )
        )
    )
    return code
