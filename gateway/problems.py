"""RFC 9457 problem details: every error the gateway returns, and gRPC status → HTTP status.

A problem names the offending ``field`` (from the service's ``lt-error-field`` trailer or the
request validation) and carries the ``correlation_id`` to quote to support. Problem types are
URIs under ``https://lienthong.gov.vn/problems/`` whose last segment is the gRPC status name in
kebab case, so a client can branch on them without parsing prose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc

from services.chassis.grpc_server import CORRELATION_HEADER, ERROR_FIELD_HEADER

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://lienthong.gov.vn/problems/"

# Why 422 and not 400 for INVALID_ARGUMENT: the request was well-formed JSON but a value broke a
# rule (the service names the field); 400 is kept for bodies the gateway cannot even parse.
# FAILED_PRECONDITION is 409: the resource's state forbids the change (e.g. a recalled document);
# 412 is kept for an If-Match version mismatch.
GRPC_TO_HTTP: dict[grpc.StatusCode, tuple[int, str]] = {
    grpc.StatusCode.INVALID_ARGUMENT: (422, "Invalid argument"),
    grpc.StatusCode.OUT_OF_RANGE: (422, "Out of range"),
    grpc.StatusCode.NOT_FOUND: (404, "Not found"),
    grpc.StatusCode.ALREADY_EXISTS: (409, "Already exists"),
    grpc.StatusCode.FAILED_PRECONDITION: (409, "Failed precondition"),
    grpc.StatusCode.ABORTED: (409, "Conflict"),
    grpc.StatusCode.PERMISSION_DENIED: (403, "Permission denied"),
    grpc.StatusCode.UNAUTHENTICATED: (401, "Unauthenticated"),
    grpc.StatusCode.RESOURCE_EXHAUSTED: (429, "Resource exhausted"),
    grpc.StatusCode.UNAVAILABLE: (503, "Service unavailable"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (504, "Deadline exceeded"),
    grpc.StatusCode.UNIMPLEMENTED: (501, "Not implemented"),
    grpc.StatusCode.CANCELLED: (499, "Cancelled"),
}


def type_uri(slug: str) -> str:
    return TYPE_BASE + slug


@dataclass
class Problem(Exception):
    """An error response. Raise it anywhere in a request; the app renders it."""

    status: int
    title: str
    detail: str
    slug: str = "about-blank"
    field: str | None = None
    correlation_id: str | None = None
    headers: dict[str, str] | None = None
    # RFC 9457 §3.2 extension members, e.g. the id of a draft registered before a step failed.
    extensions: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        Exception.__init__(self, f"{self.status} {self.title}: {self.detail}")

    def body(self, instance: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            **(self.extensions or {}),
            "type": type_uri(self.slug),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        }
        if self.field:
            body["field"] = self.field
        if self.correlation_id:
            body["correlation_id"] = self.correlation_id
        return body


def bad_request(detail: str, field: str | None = None) -> Problem:
    return Problem(400, "Bad request", detail, "bad-request", field)


def invalid(detail: str, field: str) -> Problem:
    return Problem(422, "Invalid argument", detail, "invalid-argument", field)


def unauthenticated(detail: str) -> Problem:
    return Problem(
        401,
        "Unauthenticated",
        detail,
        "unauthenticated",
        headers={"WWW-Authenticate": 'Bearer realm="lienthong"'},
    )


def forbidden(detail: str, field: str | None = None) -> Problem:
    return Problem(403, "Permission denied", detail, "permission-denied", field)


def not_found(detail: str, field: str | None = None) -> Problem:
    return Problem(404, "Not found", detail, "not-found", field)


def conflict(detail: str, field: str | None = None) -> Problem:
    return Problem(409, "Already exists", detail, "already-exists", field)


def too_many(detail: str, retry_after_s: int) -> Problem:
    return Problem(
        429,
        "Too many requests",
        detail,
        "resource-exhausted",
        headers={"Retry-After": str(max(retry_after_s, 1))},
    )


def too_large(detail: str, limit: int) -> Problem:
    return Problem(413, "Content too large", f"{detail} (limit {limit} bytes)", "content-too-large")


def from_rpc_error(error: grpc.RpcError, service: str) -> Problem:
    """The problem a failed gRPC call becomes, keeping the service's field and correlation id."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    status, title = GRPC_TO_HTTP.get(code, (502, "Bad gateway"))
    trailers: dict[str, str] = {}
    try:
        trailers = {k: str(v) for k, v in (error.trailing_metadata() or ())}  # type: ignore[attr-defined]
    except Exception:  # a channel-level failure has no trailers
        trailers = {}
    details = error.details() if hasattr(error, "details") else None  # type: ignore[attr-defined]
    if status == 502:
        detail = f"the {service} service failed ({code.name})"
    elif code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        detail = f"the {service} service did not answer ({code.name.lower()})"
    else:
        detail = details or title
    slug = code.name.lower().replace("_", "-") if status != 502 else "bad-gateway"
    problem = Problem(
        status,
        title,
        detail,
        slug,
        field=trailers.get(ERROR_FIELD_HEADER),
        correlation_id=trailers.get(CORRELATION_HEADER),
    )
    if status == 503:
        problem.headers = {"Retry-After": "5"}
    return problem
