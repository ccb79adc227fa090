"""The ASGI app without infrastructure: problems, authentication, limits, correlation ids,
the OpenAPI document. Services are unreachable on purpose (their errors are part of the test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from gateway.accounts.domain import Principal, Role
from gateway.accounts.tokens import issue_access_token
from gateway.app import create_app
from gateway.clients import ServiceClients
from gateway.config import GatewaySettings

SECRET = "s" * 40
UNREACHABLE = {name: "127.0.0.1:1" for name in ("identifiers", "registry", "verification")}


@pytest.fixture(scope="module")
def settings() -> GatewaySettings:
    return GatewaySettings.from_env(
        {"LT_GATEWAY_TOKEN_SECRET": SECRET, "LT_GATEWAY_MAX_BODY_BYTES": "2000"}
    )


@pytest.fixture(scope="module")
def client(settings: GatewaySettings) -> Iterator[TestClient]:
    # Never connected: the routes under test do not reach the database.
    engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    app = create_app(
        settings, clients=ServiceClients(2.0, UNREACHABLE), engine=engine, start_feed=False
    )
    with TestClient(app) as test_client:
        yield test_client


def bearer(settings: GatewaySettings, agency: str = "000.00.03.H56") -> dict[str, str]:
    principal = Principal("u1", "vanthu.stc", agency, frozenset({Role.CLERK}))
    token, _ = issue_access_token(principal, settings.token_secret, 60)
    return {"Authorization": f"Bearer {token}"}


def test_openapi_is_3_1_and_lists_the_routes(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    for path in ["/v1/auth/login", "/v1/agencies", "/v1/documents", "/v1/events"]:
        assert path in document["paths"]
    assert client.get("/docs").status_code == 200


def test_missing_token_is_a_401_problem(client: TestClient) -> None:
    response = client.get("/v1/agencies")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["type"].endswith("/unauthenticated") and body["instance"] == "/v1/agencies"


def test_garbage_token_is_401(client: TestClient) -> None:
    response = client.get("/v1/me", headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 401


def test_me_reads_the_token(client: TestClient, settings: GatewaySettings) -> None:
    body = client.get("/v1/me", headers=bearer(settings)).json()
    assert body["agency_code"] == "000.00.03.H56" and body["role_labels"] == ["Văn thư"]


def test_validation_error_names_the_field(client: TestClient, settings: GatewaySettings) -> None:
    response = client.get("/v1/agencies?page_size=0", headers=bearer(settings))
    assert response.status_code == 422
    assert response.json()["field"] == "page_size"


def test_other_agency_listing_is_forbidden_before_any_call(
    client: TestClient, settings: GatewaySettings
) -> None:
    response = client.get("/v1/documents?agency_code=000.00.01.H56", headers=bearer(settings))
    assert response.status_code == 403
    assert response.json()["field"] == "agency_code"


def test_an_unreachable_service_is_503_with_retry_after(
    client: TestClient, settings: GatewaySettings
) -> None:
    response = client.get("/v1/agencies", headers=bearer(settings))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "identifiers" in response.json()["detail"]


def test_oversized_body_is_413_from_content_length(client: TestClient) -> None:
    response = client.post(
        "/v1/auth/login",
        content=b"{" + b" " * 5000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["status"] == 413


def test_oversized_streamed_body_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * 500

    response = client.post(
        "/v1/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_malformed_json_is_a_400_or_422_problem(client: TestClient) -> None:
    response = client.post(
        "/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == "application/problem+json"


def test_correlation_id_is_echoed_or_made(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Correlation-Id": "demo-request-0001"})
    assert given.headers["x-correlation-id"] == "demo-request-0001"
    hostile = client.get("/healthz", headers={"X-Correlation-Id": "a\tb"})
    assert hostile.headers["x-correlation-id"] != "a\tb"
    assert len(hostile.headers["x-correlation-id"]) == 32


def test_unknown_route_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_config_refuses_bad_settings() -> None:
    from services.chassis.errors import ConfigError

    with pytest.raises(ConfigError, match="AUTH_MODE"):
        GatewaySettings.from_env({"LT_GATEWAY_AUTH_MODE": "ldap"})
    with pytest.raises(ConfigError, match="32 bytes"):
        GatewaySettings.from_env({"LT_GATEWAY_TOKEN_SECRET": "short"})
    with pytest.raises(ConfigError, match="OIDC_ISSUER"):
        GatewaySettings.from_env({"LT_GATEWAY_AUTH_MODE": "oidc"})
