"""The gRPC layer refuses bad requests before any database or peer is touched."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest
from lienthong.distribution.v1 import distribution_pb2 as pb

from services.chassis.errors import InvalidArgument
from services.chassis.testing import FakeContext, worker_factory
from services.distribution.domain.errors import InvalidRoute
from services.distribution.entrypoints.grpc import DistributionService


@pytest.fixture
def service() -> DistributionService:
    uow = MagicMock(side_effect=AssertionError("no database for a bad request"))
    return worker_factory(DistributionService, uow=uow)


@pytest.mark.parametrize("code", ["01", "03", "13", "15", "7", ""])
def test_update_status_takes_only_05_and_06(service: DistributionService, code: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        service.UpdateStatus(
            pb.UpdateStatusRequest(delivery_id="x", status_code=code), FakeContext()
        )
    assert caught.value.field == "status_code"


def test_assign_names_the_assignee(service: DistributionService) -> None:
    with pytest.raises(InvalidArgument) as caught:
        service.Assign(pb.AssignRequest(delivery_id="x", assignee="  "), FakeContext())
    assert caught.value.field == "assignee"


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (pb.ListInboxRequest(receiver_code="000.00.01.H56", page_size=501), "page_size"),
        (pb.ListInboxRequest(receiver_code="000.00.01.H56", page_token="abc"), "page_token"),
        (pb.ListInboxRequest(receiver_code="H56"), "receiver_code"),
    ],
)
def test_list_inbox_checks_its_arguments(service, request_, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((InvalidArgument, InvalidRoute)) as caught:
        service.ListInbox(request_, FakeContext())
    assert caught.value.field == field


def test_verifier_and_registry_follow_the_settings(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LT_DISTRIBUTION_VERIFIER", "dsig")
    monkeypatch.setenv("LT_DISTRIBUTION_REGISTRY", "off")
    monkeypatch.setenv("LT_DISTRIBUTION_PAPER_TYPES", "Bằng khen, Giấy khen")
    service = worker_factory(DistributionService)
    assert type(service.verifier).__name__ == "DsigVerifier"
    assert service.registrar is None
    assert service.paper_types == frozenset({"Bằng khen", "Giấy khen"})
    monkeypatch.setenv("LT_DISTRIBUTION_VERIFIER", "grpc")
    monkeypatch.delenv("LT_DISTRIBUTION_REGISTRY")
    service = worker_factory(DistributionService)
    assert type(service.verifier).__name__ == "GrpcVerifier"
    assert type(service.registrar).__name__ == "GrpcRegistrar"
