"""Clients of other services, declared as dependencies.

``identifiers = RpcClient("identifiers", identifiers_pb2_grpc.IdentifiersStub)`` injects a stub
on one shared channel per process; the correlation id of the current call is forwarded so one
request can be followed through every service's logs.
"""

from __future__ import annotations

from typing import Any

import grpc

from services.chassis import caller as callers
from services.chassis import logs
from services.chassis.catalog import SERVICES
from services.chassis.dependencies import DependencyProvider
from services.chassis.grpc_server import CORRELATION_HEADER


class _CorrelationForwarder(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Forwards the correlation id and the end user's signed identity of the current call."""

    def _with_cid(self, details: Any) -> Any:
        cid = logs.correlation_id.get()
        who = callers.current_token()
        if not cid and not who:
            return details
        present = {name for name, _ in (details.metadata or ())}
        metadata = list(details.metadata or ())
        if cid and CORRELATION_HEADER not in present:
            metadata.append((CORRELATION_HEADER, cid))
        if who and callers.CALLER_HEADER not in present:
            metadata.append((callers.CALLER_HEADER, who))
        return (
            details._replace(metadata=metadata)
            if hasattr(details, "_replace")
            else _Details(
                details.method,
                details.timeout,
                metadata,
                details.credentials,
                getattr(details, "wait_for_ready", None),
                getattr(details, "compression", None),
            )
        )

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._with_cid(details), request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._with_cid(details), request)

    def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return continuation(self._with_cid(details), requests)

    def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return continuation(self._with_cid(details), requests)


class _Details(grpc.ClientCallDetails):
    def __init__(self, method, timeout, metadata, credentials, wait_for_ready, compression):  # type: ignore[no-untyped-def]
        self.method = method
        self.timeout = timeout
        self.metadata = metadata
        self.credentials = credentials
        self.wait_for_ready = wait_for_ready
        self.compression = compression


def channel_to(service: str, address: str | None = None) -> grpc.Channel:
    target = address or SERVICES[service].address
    channel = grpc.insecure_channel(
        target, options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)]
    )
    return grpc.intercept_channel(channel, _CorrelationForwarder())


class RpcClient(DependencyProvider[Any]):
    def __init__(self, service: str, stub_class: type) -> None:
        self.service = service
        self.stub_class = stub_class
        self._channel: grpc.Channel | None = None

    def setup(self, service_name: str) -> None:
        self._channel = channel_to(self.service)
        self._stub = self.stub_class(self._channel)

    def get_dependency(self) -> Any:
        return self._stub

    def stop(self) -> None:
        if self._channel is not None:
            self._channel.close()
