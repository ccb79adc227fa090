"""Fixtures over the real infrastructure that `make test` starts (PostgreSQL, Kafka, SoftHSM)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import grpc
import pytest
import sqlalchemy as sa
from kafka.admin import KafkaAdminClient, NewTopic
from lienthong.identifiers.v1 import identifiers_pb2_grpc

from services.chassis.container import ServiceContainer
from services.chassis.db import make_engine
from services.chassis.kafka import bootstrap
from services.chassis.migrations import upgrade


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def engine(infra_env: dict[str, str]) -> Iterator[sa.Engine]:
    engine = make_engine(infra_env["LT_DATABASE_URL"], pool_size=5)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def identifiers_schema(engine: sa.Engine, infra_env: dict[str, str]) -> str:
    """Migrated to head, and emptied when running on the test profile's own database."""
    upgrade("identifiers")
    if infra_env.get("LT_PROFILE") == "test":
        with engine.begin() as conn:
            conn.execute(
                sa.text("TRUNCATE identifiers.agencies, identifiers.outbox, identifiers.inbox")
            )
    return "identifiers"


@pytest.fixture(scope="session")
def identifiers_container(identifiers_schema: str) -> Iterator[ServiceContainer]:
    """The real service on a real gRPC port. Its relay is off: relay tests drive their own."""
    from services.identifiers.entrypoints.grpc import IdentifiersService

    container = ServiceContainer(IdentifiersService, address="127.0.0.1:0", run_relay=False)
    container.start()
    yield container
    container.stop(grace=1)


@pytest.fixture(scope="session")
def identifiers(
    identifiers_container: ServiceContainer,
) -> Iterator[identifiers_pb2_grpc.IdentifiersStub]:
    channel = grpc.insecure_channel(f"127.0.0.1:{identifiers_container.port}")
    yield identifiers_pb2_grpc.IdentifiersStub(channel)
    channel.close()


@pytest.fixture
def kafka_topic(infra_env: dict[str, str]) -> Iterator[str]:
    """A fresh topic (and its dead-letter twin) of 3 partitions, deleted afterwards."""
    name = f"lienthong.test.{uuid.uuid4().hex[:10]}.v1"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap())
    admin.create_topics([NewTopic(name, 3, 1), NewTopic(f"{name}.dlt", 1, 1)], timeout_ms=20000)
    yield name
    admin.delete_topics([name, f"{name}.dlt"], timeout_ms=20000)
    admin.close()
