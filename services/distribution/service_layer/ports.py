"""What the distribution use cases need from other services, as small interfaces.

The gRPC adapters (services/distribution/adapters/peers.py) implement them over the identifiers,
verification and registry services; tests may pass other real implementations (the local
XML-DSig verifier, for one) but never mocks in integration tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from services.distribution.domain.routing import ReceiverInfo


@dataclass(frozen=True, slots=True)
class Verdict:
    passed: bool
    reason: str = ""  # the report's summary, quoted in the status-02 answer when failed


class Verifier(Protocol):
    def verify_package(self, package: bytes, sender_code: str) -> Verdict: ...


class Directory(Protocol):
    def receiver(self, code: str) -> ReceiverInfo: ...

    def resolve_group(
        self, root_code: str, kinds: Sequence[str], recursive: bool
    ) -> list[ReceiverInfo]: ...


@dataclass(frozen=True, slots=True)
class Registration:
    registry_id: str
    arrival_number: int


@dataclass(frozen=True, slots=True)
class IncomingDocument:
    """What the receiver's arrival register needs, read from the package."""

    receiver_code: str
    sender_code: str
    sender_name: str
    document_id: str
    number_and_symbol: str
    document_date: str
    document_type_name: str
    subject: str
    priority: int
    received_at: str
    sent_at: str
    signer_title: str
    signer_name: str


class Registrar(Protocol):
    def register_incoming(
        self, document: IncomingDocument, actor: str, due_in_working_days: int
    ) -> Registration: ...


@dataclass(frozen=True, slots=True)
class RecordFile:
    """One file of a registry record: the main file in one state, or an attachment."""

    file_name: str
    media_type: str
    sha256: str
    data: bytes
    kind: str = ""  # the main file's state (original … sealed); "" for an attachment


class RecordSource(Protocol):
    """The registry as SendDocument reads it: the record, then its files."""

    def record(self, registry_id: str) -> Any: ...  # registry.v1.Document

    def file(self, registry_id: str, *, kind: str = "", sha256: str = "") -> RecordFile: ...


class PackageSigner(Protocol):
    """Finds the HSM key that signs edXML for an agency (adapters/agency_keys.py)."""

    def signer_for(self, agency_code: str) -> Any: ...  # edxml.dsig.XmlSigner
