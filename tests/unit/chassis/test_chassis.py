"""The chassis without infrastructure: declared dependencies, entrypoints, error mapping."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import MagicMock

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from lienthong.identifiers.v1 import identifiers_pb2 as pb
from lienthong.identifiers.v1 import identifiers_pb2_grpc

from services.chassis import config
from services.chassis.entrypoints import Grpc, grpc_methods
from services.chassis.events import Event, MalformedEvent
from services.chassis.grpc_server import (
    ERROR_FIELD_HEADER,
    ServiceInterceptor,
    build_server,
    method_handlers,
)
from services.chassis.testing import Aborted, FakeContext, worker_factory
from services.identifiers.adapters.cache import TtlCache
from services.identifiers.entrypoints.grpc import IdentifiersService

REPO = Path(__file__).resolve().parents[3]


def test_worker_factory_injects_mocks_and_given_values() -> None:
    service = worker_factory(IdentifiersService)
    assert isinstance(service.uow, MagicMock)
    doc = service.ParseDocumentId(
        pb.ParseDocumentIdRequest(text="000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"), FakeContext()
    )
    assert doc.number == "7816" and doc.promulgation_date == "2015-09-30"
    with pytest.raises(TypeError, match="no dependencies named"):
        worker_factory(IdentifiersService, nope=1)


def test_grpc_decorator_refuses_methods_the_contract_lacks() -> None:
    rpc = Grpc.implementing(pb, "Identifiers")
    with pytest.raises(LookupError, match="not an RPC"):

        @rpc
        def GetAgencyy(self, request, context):
            pass

    with pytest.raises(LookupError, match="no service"):
        Grpc.implementing(pb, "Nope")
    assert "GetAgency" in grpc_methods(IdentifiersService)


def test_every_rpc_of_the_contract_is_implemented() -> None:
    declared = set(pb.DESCRIPTOR.services_by_name["Identifiers"].methods_by_name)
    assert declared == set(grpc_methods(IdentifiersService))


@pytest.fixture
def pure_server():
    """The identifiers service on a real local gRPC server, with no database behind it."""
    service = worker_factory(IdentifiersService, cache=TtlCache())
    server, health_servicer, port = build_server(
        handlers=method_handlers(service, grpc_methods(IdentifiersService)),
        service_names=["lienthong.identifiers.v1.Identifiers"],
        address="127.0.0.1:0",
        threads=4,
        error_statuses=IdentifiersService.error_statuses,
    )
    server.start()
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield identifiers_pb2_grpc.IdentifiersStub(channel), channel
    channel.close()
    server.stop(0)


def test_domain_errors_become_invalid_argument_with_field(pure_server) -> None:
    stub, _ = pure_server
    with pytest.raises(grpc.RpcError) as err:
        stub.ParseDocumentId(pb.ParseDocumentIdRequest(text="000.00.1.H56,2026/01/01,1/X"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "level-2 group '1'" in err.value.details()
    trailers = dict(err.value.trailing_metadata())
    assert trailers[ERROR_FIELD_HEADER] == "text"
    assert trailers["x-correlation-id"]


def test_service_errors_keep_their_status_and_correlation_id_is_echoed(pure_server) -> None:
    stub, _ = pure_server
    with pytest.raises(grpc.RpcError) as err:
        stub.BuildDocumentId(
            pb.BuildDocumentIdRequest(organ_id="000.00.01.H56", promulgation_date="2026-01-01"),
            metadata=[("x-correlation-id", "abc123")],
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "number" in err.value.details()
    assert dict(err.value.trailing_metadata())["x-correlation-id"] == "abc123"


def test_unexpected_errors_are_internal_without_a_traceback(pure_server) -> None:
    stub, _ = pure_server
    # The mocked unit of work returns MagicMocks, which the repository cannot turn into an
    # Agency: an unexpected error inside the service.
    with pytest.raises(grpc.RpcError) as err:
        stub.GetAgency(pb.GetAgencyRequest(code="000.00.01.H56"))
    assert err.value.code() == grpc.StatusCode.INTERNAL
    assert "correlation id" in err.value.details()
    assert "Traceback" not in err.value.details()


def test_expired_deadline_is_refused_before_the_handler_runs() -> None:
    ran: list[bool] = []
    interceptor = ServiceInterceptor()
    wrapped = interceptor._wrap_unary(lambda request, context: ran.append(True), "/x/Y", "cid")
    with pytest.raises(Aborted) as err:
        wrapped(object(), FakeContext(timeout=0.0))
    assert err.value.code is grpc.StatusCode.DEADLINE_EXCEEDED
    assert ran == []


def test_remaining_deadline_reaches_the_database_layer() -> None:
    from services.chassis.db import deadline_remaining

    seen: list[float | None] = []
    interceptor = ServiceInterceptor()
    wrapped = interceptor._wrap_unary(
        lambda request, context: seen.append(deadline_remaining.get()), "/x/Y", "cid"
    )
    wrapped(object(), FakeContext(timeout=2.5))
    wrapped(object(), FakeContext(timeout=None))
    assert seen == [2.5, None]


def test_health_and_reflection_are_served(pure_server) -> None:
    _, channel = pure_server
    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    answers = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = {s.name for a in answers for s in a.list_services_response.service}
    assert "lienthong.identifiers.v1.Identifiers" in names


def test_fake_context_abort_raises() -> None:
    with pytest.raises(Aborted) as err:
        FakeContext().abort(grpc.StatusCode.NOT_FOUND, "x")
    assert err.value.code is grpc.StatusCode.NOT_FOUND


def test_cloudevents_headers_round_trip() -> None:
    payload = pb.AgencyChanged(change=pb.AgencyChanged.CHANGE_CREATED)
    event = Event.of("lienthong.identifiers.agency.v1", "vn.x.created", "identifiers", "k", payload)
    headers = dict(event.headers())
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_time"].decode().endswith("+07:00")
    back = Event.from_record(event.topic, event.headers(), event.data)
    assert back.id == event.id and back.subject == "k"
    assert back.parse(pb.AgencyChanged).change == pb.AgencyChanged.CHANGE_CREATED
    with pytest.raises(MalformedEvent, match="ce_id"):
        Event.from_record("t", [("ce_type", b"x")], b"")


def test_configuration_doc_lists_every_setting() -> None:
    from gateway import config as gateway_config

    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    hint = "regenerate with: lienthong config --markdown"
    assert config.markdown_table() in doc, hint
    assert config.markdown_table(gateway_config.SETTINGS) in doc, hint


def test_config_errors_are_clear(monkeypatch) -> None:
    monkeypatch.setenv("LT_GRPC_THREADS", "many")
    with pytest.raises(config.ConfigError, match="LT_GRPC_THREADS='many' is not an integer"):
        config.get_int(config.GRPC_THREADS)
