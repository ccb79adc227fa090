"""Agencies as the registry needs them: does the agency exist, and what is its abbreviation.

The agency directory belongs to the identifiers service; the registry asks it over gRPC
(:class:`GrpcAgencyDirectory`). Tests and the bench's worker processes use
:class:`StaticAgencyDirectory`. An unknown agency is FAILED_PRECONDITION (:class:`UnknownAgency`):
the request is well formed, but the directory does not (yet) hold the agency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import grpc

from services.chassis.errors import FailedPrecondition, Unavailable


class UnknownAgency(FailedPrecondition):
    """An agency code that the directory does not hold (or holds as merged/dissolved)."""


@dataclass(frozen=True, slots=True)
class AgencyInfo:
    code: str
    name: str
    abbreviation: str
    active: bool = True


class AgencyDirectory(Protocol):
    def get(self, code: str, field: str = "agency_code") -> AgencyInfo: ...


class StaticAgencyDirectory:
    """A fixed directory (tests, bench workers, offline tools)."""

    def __init__(self, agencies: dict[str, AgencyInfo]) -> None:
        self._agencies = dict(agencies)

    def get(self, code: str, field: str = "agency_code") -> AgencyInfo:
        info = self._agencies.get(code)
        if info is None:
            raise UnknownAgency(f"{code} is not in the agency directory", field=field)
        return info


class GrpcAgencyDirectory:
    """The identifiers service's ``GetAgency`` (which caches per process on its side)."""

    def __init__(self, stub: Any, timeout: float = 5.0) -> None:
        self._stub = stub
        self._timeout = timeout

    def get(self, code: str, field: str = "agency_code") -> AgencyInfo:
        from lienthong.identifiers.v1 import identifiers_pb2 as ipb

        try:
            agency = self._stub.GetAgency(ipb.GetAgencyRequest(code=code), timeout=self._timeout)
        except grpc.RpcError as exc:
            status = exc.code() if hasattr(exc, "code") else None
            if status in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                raise UnknownAgency(f"{code} is not in the agency directory", field=field) from None
            raise Unavailable(
                f"the agency directory (identifiers service) did not answer: {status}",
                field=field,
            ) from None
        active = agency.status in (ipb.AGENCY_STATUS_ACTIVE, ipb.AGENCY_STATUS_UNSPECIFIED)
        if not active:
            raise UnknownAgency(
                f"{code} ({agency.name}) is no longer active in the agency directory", field=field
            )
        return AgencyInfo(agency.code, agency.name, agency.abbreviation, active)
