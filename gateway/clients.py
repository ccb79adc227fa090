"""gRPC clients of the services, with the gateway's deadline, the end user and error mapping.

One channel per service and process (``services.chassis.clients.channel_to`` forwards the
request's correlation id); a failed call becomes the matching RFC 9457 problem. A call made on
behalf of a user (``who=``) carries the user in the signed ``lt-caller`` metadata entry
(:mod:`services.chassis.caller`), so the service checks agency scope again itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

import grpc
from lienthong.distribution.v1 import distribution_pb2_grpc
from lienthong.identifiers.v1 import identifiers_pb2, identifiers_pb2_grpc
from lienthong.registry.v1 import registry_pb2_grpc
from lienthong.signing.v1 import signing_pb2, signing_pb2_grpc
from lienthong.verification.v1 import verification_pb2_grpc

from gateway.accounts.domain import Principal
from gateway.problems import from_rpc_error
from services.chassis.caller import CALLER_HEADER, Caller, encode_caller
from services.chassis.clients import channel_to

STUBS: dict[str, type] = {
    "identifiers": identifiers_pb2_grpc.IdentifiersStub,
    "registry": registry_pb2_grpc.RegistryStub,
    "verification": verification_pb2_grpc.VerificationStub,
    "distribution": distribution_pb2_grpc.DistributionStub,
    "signing": signing_pb2_grpc.SigningStub,
}


def caller_metadata(who: Principal | None) -> tuple[tuple[str, str], ...]:
    """The ``lt-caller`` entry for ``who``; none for a call by the gateway itself."""
    if who is None:
        return ()
    caller = Caller(who.username, who.agency_code, frozenset(r.value for r in who.roles))
    return ((CALLER_HEADER, encode_caller(caller)),)


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
        self,
        service: str,
        method: str,
        request: Any,
        *,
        timeout_s: float | None = None,
        who: Principal | None = None,
    ) -> Any:
        """A unary call (or a client-streaming one, ``request`` being an iterator of messages)
        for ``who``; a gRPC failure is raised as the matching problem."""
        try:
            return getattr(self.stub(service), method)(
                request, timeout=timeout_s or self.timeout_s, metadata=caller_metadata(who)
            )
        except grpc.RpcError as error:
            raise from_rpc_error(error, service) from error

    def stream(
        self,
        service: str,
        method: str,
        request: Any,
        *,
        timeout_s: float | None = None,
        who: Principal | None = None,
    ) -> Iterator[Any]:
        """The replies of a server-streaming call, one by one; a failure at any point —
        before the first reply or in the middle — is raised as the matching problem."""
        replies = getattr(self.stub(service), method)(
            request, timeout=timeout_s or self.timeout_s, metadata=caller_metadata(who)
        )
        try:
            yield from replies
        except grpc.RpcError as error:
            raise from_rpc_error(error, service) from error
        finally:
            replies.cancel()  # a reader that stops early must not leave the call open

    def agency_is_registered(self, code: str) -> bool:
        answer = self.call(
            "identifiers",
            "ValidateAgencyCode",
            identifiers_pb2.ValidateAgencyCodeRequest(code=code),
        )
        return bool(answer.valid and answer.registered)

    def signing_keys(self, who: Principal | None = None) -> Iterable[signing_pb2.SigningKey]:
        """The keys on the HSM token as the signing service lists them."""
        return list(self.call("signing", "ListKeys", signing_pb2.ListKeysRequest(), who=who).keys)

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()
        self._stubs.clear()
