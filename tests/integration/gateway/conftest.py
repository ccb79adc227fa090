"""A real gateway (uvicorn on a real port) over the real identifiers and registry services,
PostgreSQL and Kafka; two fresh agencies with one user per role each."""

from __future__ import annotations

import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from lienthong.identifiers.v1 import identifiers_pb2 as ipb
from lienthong.registry.v1 import registry_pb2_grpc

from gateway.accounts.domain import Role
from gateway.accounts.service import AccountService
from gateway.accounts.store import AccountStore
from gateway.app import create_app
from gateway.clients import ServiceClients
from gateway.config import GatewaySettings
from gateway.migrate import upgrade as upgrade_gateway
from services.chassis.container import ServiceContainer
from services.chassis.migrations import upgrade

PASSWORD = "Mật khẩu thử 2026!"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_code(prefix_letter: str = "Z") -> str:
    rng = random.SystemRandom()
    numbers = (rng.randint(100, 999), rng.randint(10, 99), rng.randint(10, 99))
    return "{}.{}.{}.".format(*numbers) + f"{prefix_letter}{rng.randint(10, 99)}"


@pytest.fixture(scope="session")
def gateway_registry(
    identifiers_container: ServiceContainer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceContainer]:
    from services.registry.entrypoints.grpc import RegistryService

    upgrade("registry")
    previous = {k: os.environ.get(k) for k in ("LT_IDENTIFIERS_ADDR", "LT_VAR_DIR")}
    os.environ["LT_IDENTIFIERS_ADDR"] = f"127.0.0.1:{identifiers_container.port}"
    os.environ["LT_VAR_DIR"] = str(tmp_path_factory.mktemp("gateway-registry-var"))
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
def gateway_distribution(
    identifiers_container: ServiceContainer, gateway_registry: ServiceContainer
) -> Iterator[ServiceContainer]:
    """The real distribution service (consumers and relay on), as its own tests start it."""
    from services.distribution.adapters.topics import create_topics
    from services.distribution.entrypoints.grpc import DistributionService

    upgrade("distribution")
    create_topics()
    settings = {
        "LT_IDENTIFIERS_ADDR": f"127.0.0.1:{identifiers_container.port}",
        "LT_REGISTRY_ADDR": f"127.0.0.1:{gateway_registry.port}",
        # Package signatures checked in-process: the verification service's trust store does
        # not know the sample packages' software key.
        "LT_DISTRIBUTION_VERIFIER": "dsig",
        "LT_OUTBOX_POLL_S": "0.2",
    }
    previous = {k: os.environ.get(k) for k in settings}
    os.environ.update(settings)
    container = ServiceContainer(DistributionService, address="127.0.0.1:0", run_relay=True)
    container.start()
    yield container
    container.stop(grace=1)
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def gateway_signing(infra_env: dict[str, str]) -> Iterator[ServiceContainer]:
    """The real signing service over the profile's SoftHSM token with the dev PKI's keys."""
    from services.certificates.devpki import ensure_dev_pki
    from services.signing.adapters.hsm import process_hsm
    from services.signing.entrypoints.grpc import SigningService

    upgrade("signing")
    var_dir = infra_env["LT_VAR_DIR"]
    ensure_dev_pki(process_hsm(), Path(var_dir))
    previous = {"LT_VAR_DIR": os.environ.get("LT_VAR_DIR")}
    os.environ["LT_VAR_DIR"] = var_dir  # the dev PKI lives in the profile's directory
    try:
        container = ServiceContainer(SigningService, address="127.0.0.1:0", run_relay=False)
        container.start()
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    yield container
    container.stop(grace=1)


@pytest.fixture(scope="session")
def registry_stub(gateway_registry: ServiceContainer) -> Iterator[registry_pb2_grpc.RegistryStub]:
    channel = grpc.insecure_channel(f"127.0.0.1:{gateway_registry.port}")
    yield registry_pb2_grpc.RegistryStub(channel)
    channel.close()


@dataclass(frozen=True)
class World:
    """Two sibling agencies under a test province, and their users by role."""

    province: str
    agency_a: str
    agency_b: str
    users: dict[str, str]  # "a.clerk" → username


@pytest.fixture(scope="session")
def world(identifiers, engine: sa.Engine, gateway_clients: ServiceClients) -> World:
    province, agency_a, agency_b = fresh_code("Y"), fresh_code(), fresh_code()
    for code, name, parent, kind in [
        (province, "Ủy ban nhân dân tỉnh Thử Cổng", "", "province"),
        (agency_a, "Sở Tài chính thử", province, "department"),
        (agency_b, "Sở Xây dựng thử", province, "department"),
    ]:
        identifiers.UpsertAgency(
            ipb.UpsertAgencyRequest(
                agency=ipb.Agency(
                    code=code,
                    name=name,
                    abbreviation="UBND" if not parent else "STH",
                    parent_code=parent,
                    kind=kind,
                    exchanges_electronically=True,
                )
            )
        )
    upgrade_gateway()
    accounts = accounts_service(engine, gateway_clients)
    suffix = uuid.uuid4().hex[:6]
    users: dict[str, str] = {}
    plan = [("p.admin", province, Role.PROVINCE_ADMIN)]
    for letter, code in (("a", agency_a), ("b", agency_b)):
        for role in (Role.CLERK, Role.SIGNER, Role.OFFICER, Role.AGENCY_ADMIN):
            plan.append((f"{letter}.{role.value}", code, role))
    for key, code, role in plan:
        username = f"t{suffix}.{key.replace('_', '')}"
        accounts.create_user(
            None,
            username=username,
            password=PASSWORD,
            full_name=f"Người thử {key}",
            agency_code=code,
            roles=frozenset({role}),
        )
        users[key] = username
    return World(province, agency_a, agency_b, users)


AGENCY_TOPIC = "lienthong.identifiers.agency.v1"


def ensure_topic(name: str) -> None:
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    from services.chassis.kafka import bootstrap

    admin = KafkaAdminClient(bootstrap_servers=bootstrap())
    try:
        if name not in admin.list_topics():
            admin.create_topics([NewTopic(name, 3, 1)], timeout_ms=20000)
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()


def gateway_settings(**overrides: str) -> GatewaySettings:
    env = {
        "LT_GATEWAY_TOKEN_SECRET": "integration-test-secret-" + "x" * 16,
        "LT_GATEWAY_LOGIN_MAX_FAILURES": "3",
        # Every test logs in from 127.0.0.1; the per-address limit would throttle later tests.
        "LT_GATEWAY_LOGIN_MAX_FAILURES_PER_CLIENT": "100000",
        "LT_GATEWAY_LIVE_HEARTBEAT_S": "1",
        **overrides,
    }
    return GatewaySettings.from_env(env)


def accounts_service(engine: sa.Engine, clients: ServiceClients) -> AccountService:
    return AccountService(
        AccountStore(engine), gateway_settings(), clients.agency_is_registered, clients.signing_keys
    )


@pytest.fixture(scope="session")
def gateway_clients(
    identifiers_container: ServiceContainer,
    gateway_registry: ServiceContainer,
    gateway_distribution: ServiceContainer,
    gateway_signing: ServiceContainer,
) -> ServiceClients:
    return ServiceClients(
        10.0,
        {
            "identifiers": f"127.0.0.1:{identifiers_container.port}",
            "registry": f"127.0.0.1:{gateway_registry.port}",
            "verification": "127.0.0.1:1",  # not started here: its routes answer 503
            "distribution": f"127.0.0.1:{gateway_distribution.port}",
            "signing": f"127.0.0.1:{gateway_signing.port}",
        },
    )


class RunningGateway:
    def __init__(self, app, port: int) -> None:  # type: ignore[no-untyped-def]
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=5,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> RunningGateway:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the gateway did not start within 20 s")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def gateway_url(
    world: World, engine: sa.Engine, gateway_clients: ServiceClients, infra_env
) -> Iterator[str]:
    ensure_topic(AGENCY_TOPIC)  # the live feed follows only topics that exist at its start
    app = create_app(gateway_settings(), clients=gateway_clients, engine=engine, start_feed=True)
    running = RunningGateway(app, free_port()).start()
    yield running.url
    running.stop()


@pytest.fixture(scope="session")
def http(gateway_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def tokens(http: httpx.Client, world: World) -> dict[str, str]:
    """An access token per user of the world (one real login each)."""
    result = {}
    for key, username in world.users.items():
        response = http.post("/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        result[key] = response.json()["access_token"]
    return result


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
