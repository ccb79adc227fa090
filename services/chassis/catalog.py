"""The platform's services: where each one's class lives and which port it listens on."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass

from services.chassis import config


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str
    index: int  # port = LT_GRPC_PORT_BASE + index
    target: str  # "module:Class"
    summary: str

    @property
    def port(self) -> int:
        explicit = os.environ.get(f"LT_{self.name.upper()}_PORT")
        return int(explicit) if explicit else config.get_int(config.GRPC_PORT_BASE) + self.index

    @property
    def address(self) -> str:
        """Where clients reach it: ``LT_<NAME>_ADDR`` or the local bind address."""
        explicit = os.environ.get(f"LT_{self.name.upper()}_ADDR")
        return explicit or f"{config.get(config.GRPC_HOST)}:{self.port}"

    @property
    def available(self) -> bool:
        module = self.target.partition(":")[0]
        try:
            return importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:  # a parent package (the service itself) does not exist yet
            return False

    def load(self) -> type:
        module, _, cls = self.target.partition(":")
        return getattr(importlib.import_module(module), cls)


SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in [
        ServiceSpec(
            "identifiers",
            1,
            "services.identifiers.entrypoints.grpc:IdentifiersService",
            "agency directory, codes, document ids",
        ),
        ServiceSpec(
            "registry",
            2,
            "services.registry.entrypoints.grpc:RegistryService",
            "document records, numbering, register books",
        ),
        ServiceSpec(
            "signing",
            3,
            "services.signing.entrypoints.grpc:SigningService",
            "HSM-backed PAdES signatures",
        ),
        ServiceSpec(
            "verification",
            4,
            "services.verification.entrypoints.grpc:VerificationService",
            "signature verification reports",
        ),
        ServiceSpec(
            "distribution",
            5,
            "services.distribution.entrypoints.grpc:DistributionService",
            "edXML sending, receiving, statuses",
        ),
        ServiceSpec(
            "archive",
            6,
            "services.archive.entrypoints.grpc:ArchiveService",
            "long-term archive",
        ),
        ServiceSpec(
            "certificates",
            7,
            "services.certificates.entrypoints.grpc:CertificatesService",
            "signing certificates lifecycle",
        ),
        ServiceSpec(
            "notifications",
            8,
            "services.notifications.entrypoints.grpc:NotificationsService",
            "notifications to people and systems",
        ),
    ]
}


def available_services() -> list[ServiceSpec]:
    return [spec for spec in SERVICES.values() if spec.available]
