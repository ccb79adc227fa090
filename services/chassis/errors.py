"""Errors a service raises on purpose, and the status each one means on the wire.

Pure Python (no grpc import) so domain code may raise them. The gRPC interceptor maps
``status`` to ``grpc.StatusCode`` and the gateway maps it to an HTTP problem response; both show
``field`` and ``reason`` so a caller learns which input was wrong and why.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every deliberate error. ``status`` is a gRPC status code name."""

    status = "INTERNAL"

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.reason = reason
        self.field = field


class InvalidArgument(ServiceError):
    status = "INVALID_ARGUMENT"


class NotFound(ServiceError):
    status = "NOT_FOUND"


class AlreadyExists(ServiceError):
    status = "ALREADY_EXISTS"


class FailedPrecondition(ServiceError):
    status = "FAILED_PRECONDITION"


class PermissionDenied(ServiceError):
    status = "PERMISSION_DENIED"


class Unauthenticated(ServiceError):
    status = "UNAUTHENTICATED"


class ResourceExhausted(ServiceError):
    status = "RESOURCE_EXHAUSTED"


class Unavailable(ServiceError):
    status = "UNAVAILABLE"


class ConfigError(RuntimeError):
    """A required setting is missing or malformed; raised at start-up, never per request."""
