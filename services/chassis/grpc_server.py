"""gRPC plumbing: handlers built from service classes, the interceptor, health and reflection.

The interceptor gives every call a correlation id (from ``x-correlation-id`` metadata or new),
logs it once with its status and duration, refuses calls whose deadline has already passed,
exposes the remaining deadline to the database layer, and turns deliberate errors
(:class:`services.chassis.errors.ServiceError`) into the matching status with a precise message.
Anything else becomes INTERNAL with the correlation id to quote — never a stack trace on the wire.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.chassis import caller as callers
from services.chassis import logs
from services.chassis.db import deadline_remaining
from services.chassis.entrypoints import GrpcMethod
from services.chassis.errors import ServiceError

log = logging.getLogger("lienthong.grpc")

CORRELATION_HEADER = "x-correlation-id"
ERROR_FIELD_HEADER = "lt-error-field"
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
NO_DEADLINE = 7 * 24 * 3600.0


def _status_of(exc: ServiceError) -> grpc.StatusCode:
    return getattr(grpc.StatusCode, exc.status, grpc.StatusCode.INTERNAL)


class ServiceInterceptor(grpc.ServerInterceptor):
    def __init__(self, error_statuses: dict[type[Exception], str] | None = None) -> None:
        self.error_statuses = error_statuses or {}

    def intercept_service(
        self, continuation: Callable[[Any], Any], details: grpc.HandlerCallDetails
    ) -> Any:
        handler = continuation(details)
        if handler is None:
            return None
        method = details.method
        metadata = dict(details.invocation_metadata or ())
        cid = metadata.get(CORRELATION_HEADER) or logs.new_correlation_id()
        who = metadata.get(callers.CALLER_HEADER)
        if handler.unary_unary:
            return handler._replace(
                unary_unary=self._wrap_unary(handler.unary_unary, method, cid, who)
            )
        if handler.unary_stream:
            return handler._replace(
                unary_stream=self._wrap_stream(handler.unary_stream, method, cid, who)
            )
        if handler.stream_unary:
            return handler._replace(
                stream_unary=self._wrap_unary(handler.stream_unary, method, cid, who)
            )
        if handler.stream_stream:
            return handler._replace(
                stream_stream=self._wrap_stream(handler.stream_stream, method, cid, who)
            )
        return handler

    # -- wrapping ---------------------------------------------------------------------------
    def _enter(
        self, context: grpc.ServicerContext, cid: str, who: str | None
    ) -> tuple[Any, Any, Any]:
        remaining = context.time_remaining()
        if remaining is not None and remaining > NO_DEADLINE:
            remaining = None  # grpcio reports "no deadline" as an enormous number
        if remaining is not None and remaining <= 0:
            context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline passed before the call")
        caller = None
        if who:
            try:
                caller = callers.decode_caller(who)
            except callers.CallerError as exc:
                context.set_trailing_metadata(
                    ((CORRELATION_HEADER, cid), (ERROR_FIELD_HEADER, callers.CALLER_HEADER))
                )
                context.abort(grpc.StatusCode.UNAUTHENTICATED, str(exc))
        return (
            logs.correlation_id.set(cid),
            deadline_remaining.set(remaining),
            callers.enter(caller, who),
        )

    def _wrap_unary(
        self, behaviour: Callable[..., Any], method: str, cid: str, who: str | None = None
    ) -> Callable[..., Any]:
        def wrapped(request: Any, context: grpc.ServicerContext) -> Any:
            tokens = self._enter(context, cid, who)
            started = time.perf_counter()
            code = "OK"
            try:
                return behaviour(request, context)
            except Exception as exc:
                code = self._abort(exc, context, method, cid)
                raise
            finally:
                self._leave(tokens, method, code, started)

        return wrapped

    def _wrap_stream(
        self, behaviour: Callable[..., Any], method: str, cid: str, who: str | None = None
    ) -> Callable[..., Any]:
        def wrapped(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            tokens = self._enter(context, cid, who)
            started = time.perf_counter()
            code = "OK"
            try:
                yield from behaviour(request, context)
            except Exception as exc:
                code = self._abort(exc, context, method, cid)
                raise
            finally:
                self._leave(tokens, method, code, started)

        return wrapped

    def _leave(self, tokens: tuple[Any, Any, Any], method: str, code: str, started: float) -> None:
        # Health probes arrive every few seconds from Kubernetes; keep them out of the log.
        if not method.startswith("/grpc.health"):
            logs.access(method, code, round((time.perf_counter() - started) * 1e3, 2))
        logs.correlation_id.reset(tokens[0])
        deadline_remaining.reset(tokens[1])
        callers.leave(tokens[2])

    def _abort(self, exc: Exception, context: grpc.ServicerContext, method: str, cid: str) -> str:
        """Turn ``exc`` into a status; returns the status name. ``context.abort`` raises."""
        if isinstance(exc, grpc.RpcError) or type(exc).__name__ == "_AbortedError":
            return str(context.code() or "ABORTED")  # already aborted deliberately
        status_name = None
        field = None
        if isinstance(exc, ServiceError):
            status_name, field = exc.status, exc.field
        else:
            for klass in type(exc).__mro__:
                if klass in self.error_statuses:
                    status_name = self.error_statuses[klass]
                    field = getattr(exc, "field", None)
                    break
        if status_name is None:
            context.set_trailing_metadata(((CORRELATION_HEADER, cid),))
            if _is_deadline_error(exc):
                context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded")
            log.exception("unhandled error", extra={"method": method})
            context.abort(grpc.StatusCode.INTERNAL, f"internal error; quote correlation id {cid}")
        # Errors carry the correlation id (to quote to support) and the offending field.
        trailers = [(CORRELATION_HEADER, cid)]
        if field:
            trailers.append((ERROR_FIELD_HEADER, str(field)))
        context.set_trailing_metadata(tuple(trailers))
        context.abort(getattr(grpc.StatusCode, status_name), str(exc))
        return status_name  # pragma: no cover — abort raised


def _is_deadline_error(exc: Exception) -> bool:
    # psycopg raises QueryCanceled when statement_timeout (set from the deadline) fires.
    return "QueryCanceled" in type(exc).__name__ or "QueryCanceled" in repr(
        getattr(exc, "orig", None)
    )


def method_handlers(service: Any, methods: dict[str, GrpcMethod]) -> list[grpc.GenericRpcHandler]:
    """Build grpcio generic handlers (one per protobuf service) for a service instance."""
    by_service: dict[str, dict[str, grpc.RpcMethodHandler]] = {}
    for attr, spec in methods.items():
        behaviour = getattr(service, attr)
        deserialize = spec.request_class.FromString
        serialize = spec.response_class.SerializeToString
        m = spec.method
        if m.client_streaming and m.server_streaming:
            factory = grpc.stream_stream_rpc_method_handler
        elif m.client_streaming:
            factory = grpc.stream_unary_rpc_method_handler
        elif m.server_streaming:
            factory = grpc.unary_stream_rpc_method_handler
        else:
            factory = grpc.unary_unary_rpc_method_handler
        by_service.setdefault(spec.full_service_name, {})[m.name] = factory(
            behaviour, request_deserializer=deserialize, response_serializer=serialize
        )
    return [grpc.method_handlers_generic_handler(name, h) for name, h in by_service.items()]


def build_server(
    *,
    handlers: list[grpc.GenericRpcHandler],
    service_names: list[str],
    address: str,
    threads: int,
    error_statuses: dict[type[Exception], str] | None = None,
    reuse_port: bool = False,
) -> tuple[grpc.Server, health.HealthServicer, int]:
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="grpc"),
        interceptors=[ServiceInterceptor(error_statuses)],
        options=[
            ("grpc.so_reuseport", 1 if reuse_port else 0),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    server.add_generic_rpc_handlers(handlers)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        [
            *service_names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ],
        server,
    )
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot bind gRPC server to {address} (port in use?)")
    return server, health_servicer, port
