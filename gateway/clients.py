"""gRPC clients of the services, with the gateway's deadline and error mapping.

One channel per service and process (``services.chassis.clients.channel_to`` forwards the
request's correlation id); a failed call becomes the matching RFC 9457 problem.
"""

from __future__ import annotations

import threading
from typing import Any

import grpc
from lienthong.distribution.v1 import distribution_pb2_grpc
from lienthong.identifiers.v1 import identifiers_pb2, identifiers_pb2_grpc
from lienthong.registry.v1 import registry_pb2_grpc
from lienthong.verification.v1 import verification_pb2_grpc

from gateway.problems import from_rpc_error
from services.chassis.clients import channel_to

STUBS: dict[str, type] = {
    "identifiers": identifiers_pb2_grpc.IdentifiersStub,
    "registry": registry_pb2_grpc.RegistryStub,
    "verification": verification_pb2_grpc.VerificationStub,
    "distribution": distribution_pb2_grpc.DistributionStub,
}


class ServiceClients:
    """Lazily opened stubs; ``call`` applies the deadline and maps errors to problems."""

    def __init__(self, timeout_s: float, addresses: dict[str, str] | None = None) -> None:
        self.timeout_s = timeout_s
        self.addresses = addresses or {}
        self._channels: dict[str, grpc.Channel] = {}
        self._stubs: dict[str, Any] = {}
        self._lock = threading.Lock()

    def stub(self, service: str) -> Any:
        stub = self._stubs.get(service)
        if stub is None:
            with self._lock:
                if service not in self._stubs:
                    channel = channel_to(service, self.addresses.get(service))
                    self._channels[service] = channel
                    self._stubs[service] = STUBS[service](channel)
                stub = self._stubs[service]
        return stub

    def call(
        self, service: str, method: str, request: Any, *, timeout_s: float | None = None
    ) -> Any:
        try:
            return getattr(self.stub(service), method)(request, timeout=timeout_s or self.timeout_s)
        except grpc.RpcError as error:
            raise from_rpc_error(error, service) from error

    def agency_is_registered(self, code: str) -> bool:
        answer = self.call(
            "identifiers",
            "ValidateAgencyCode",
            identifiers_pb2.ValidateAgencyCodeRequest(code=code),
        )
        return bool(answer.valid and answer.registered)

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()
        self._stubs.clear()
