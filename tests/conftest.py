"""Suite-wide settings. Integration fixtures live in tests/integration/conftest.py."""

from __future__ import annotations

import os

import pytest

REQUIRED_FOR_INTEGRATION = ("LT_DATABASE_URL", "LT_KAFKA_BOOTSTRAP", "SOFTHSM2_CONF")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = str(item.path)
        if "/tests/integration/" in path:
            item.add_marker(pytest.mark.integration)
        elif "/tests/e2e/" in path:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def infra_env() -> dict[str, str]:
    """The infrastructure's environment; integration tests FAIL (never skip) without it."""
    missing = [name for name in REQUIRED_FOR_INTEGRATION if not os.environ.get(name)]
    if missing:
        pytest.fail(
            f"integration tests need {missing}: run them with `make test`, which starts "
            "PostgreSQL, Kafka and SoftHSM and exports their settings",
            pytrace=False,
        )
    return dict(os.environ)
