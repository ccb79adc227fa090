"""gRPC status → RFC 9457 problem: status, type, field and correlation id from the trailers."""

from __future__ import annotations

import grpc
import pytest

from gateway.problems import GRPC_TO_HTTP, from_rpc_error


class FakeRpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str, trailers=()) -> None:  # type: ignore[no-untyped-def]
        self._code, self._details, self._trailers = code, details, trailers

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self):  # type: ignore[no-untyped-def]
        return self._trailers


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, 422),
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.ALREADY_EXISTS, 409),
        (grpc.StatusCode.FAILED_PRECONDITION, 409),
        (grpc.StatusCode.PERMISSION_DENIED, 403),
        (grpc.StatusCode.UNAUTHENTICATED, 401),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
        (grpc.StatusCode.UNAVAILABLE, 503),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
    ],
)
def test_the_issues_status_table(code: grpc.StatusCode, status: int) -> None:
    assert GRPC_TO_HTTP[code][0] == status
    assert from_rpc_error(FakeRpcError(code, "x"), "registry").status == status


def test_problem_keeps_the_services_field_reason_and_correlation_id() -> None:
    error = FakeRpcError(
        grpc.StatusCode.INVALID_ARGUMENT,
        "page_size: must be 1..500",
        (("x-correlation-id", "abc123def456"), ("lt-error-field", "page_size")),
    )
    body = from_rpc_error(error, "registry").body("/v1/documents")
    assert body == {
        "type": "https://lienthong.gov.vn/problems/invalid-argument",
        "title": "Invalid argument",
        "status": 422,
        "detail": "page_size: must be 1..500",
        "instance": "/v1/documents",
        "field": "page_size",
        "correlation_id": "abc123def456",
    }


def test_internal_errors_do_not_leak_the_services_message() -> None:
    problem = from_rpc_error(
        FakeRpcError(grpc.StatusCode.INTERNAL, "Traceback: psycopg.OperationalError"), "registry"
    )
    assert problem.status == 502
    assert "Traceback" not in problem.detail and "registry" in problem.detail


def test_unavailable_asks_to_retry() -> None:
    problem = from_rpc_error(FakeRpcError(grpc.StatusCode.UNAVAILABLE, "conn refused"), "x")
    assert problem.headers == {"Retry-After": "5"}
