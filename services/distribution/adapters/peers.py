"""Adapters to the other services (gRPC) and a local XML-DSig verifier.

- :class:`GrpcVerifier` asks the verification service (``VerifyEdxml``) for a full report.
- :class:`DsigVerifier` checks only the package's enveloped signature (integrity and the
  signature value) in-process; the fallback when ``LT_DISTRIBUTION_VERIFIER=dsig``.
- :class:`GrpcDirectory` reads receivers and groups from the identifiers service.
- :class:`GrpcRegistrar` registers an accepted document in the receiver's arrival book
  (registry ``RegisterIncoming``), which allocates its số đến.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import grpc
from lienthong.identifiers.v1 import identifiers_pb2 as ipb
from lienthong.registry.v1 import registry_pb2 as rpb
from lienthong.verification.v1 import verification_pb2 as vpb

from services.chassis.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from services.distribution.domain.routing import AXIS_AGENCY_KIND, ReceiverInfo
from services.distribution.edxml import dsig
from services.distribution.edxml.errors import EdxmlError
from services.distribution.service_layer.ports import (
    IncomingDocument,
    RecordFile,
    Registration,
    Verdict,
)

RPC_TIMEOUT_S = 30.0
_RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


def _unavailable(service: str, error: grpc.RpcError) -> Exception:
    code = error.code() if hasattr(error, "code") else None
    details = error.details() if hasattr(error, "details") else str(error)
    if code in _RETRYABLE:
        # Raised out of a Kafka handler this is retried with backoff, then dead-lettered.
        return Unavailable(f"{service} unavailable: {details}", field=service)
    if code is grpc.StatusCode.NOT_FOUND:
        return NotFound(details or "not found", field=service)
    return InvalidArgument(
        f"{service} refused: {code.name if code else '?'} {details}", field=service
    )


class GrpcVerifier:
    def __init__(self, stub: Any) -> None:
        self.stub = stub

    def verify_package(self, package: bytes, sender_code: str) -> Verdict:
        try:
            report = self.stub.VerifyEdxml(
                vpb.VerifyEdxmlRequest(package=package, sender=sender_code),
                timeout=RPC_TIMEOUT_S,
            )
        except grpc.RpcError as error:
            raise _unavailable("verification", error) from error
        if report.indication == vpb.TOTAL_PASSED:
            return Verdict(True)
        return Verdict(False, report.summary_vi or report.reason or "không xác thực được")


class DsigVerifier:
    """Integrity of the enveloped XML-DSig only (no trust chain, no revocation)."""

    def verify_package(self, package: bytes, sender_code: str) -> Verdict:
        try:
            result = dsig.verify(package)
        except EdxmlError as error:
            return Verdict(False, f"gói tin không hợp lệ: {error}")
        if result.valid:
            return Verdict(True)
        problems = "; ".join(getattr(result, "problems", ()) or ()) or "chữ ký không khớp"
        return Verdict(False, f"chữ ký số không hợp lệ: {problems}")


class GrpcDirectory:
    def __init__(self, stub: Any) -> None:
        self.stub = stub

    def receiver(self, code: str) -> ReceiverInfo:
        try:
            agency = self.stub.GetAgency(ipb.GetAgencyRequest(code=code), timeout=RPC_TIMEOUT_S)
        except grpc.RpcError as error:
            raise _unavailable("identifiers", error) from error
        return ReceiverInfo(
            agency.code,
            agency.exchanges_electronically,
            agency.kind == AXIS_AGENCY_KIND,
            agency.name,
        )

    def add_axis_agency(self, code: str, name: str) -> bool:
        """Add an agency of the national axis unless the directory knows the code already."""
        try:
            self.stub.GetAgency(ipb.GetAgencyRequest(code=code), timeout=RPC_TIMEOUT_S)
            return False
        except grpc.RpcError as error:
            if error.code() is not grpc.StatusCode.NOT_FOUND:
                raise _unavailable("identifiers", error) from error
        try:
            self.stub.UpsertAgency(
                ipb.UpsertAgencyRequest(
                    agency=ipb.Agency(
                        code=code,
                        name=name,
                        kind=AXIS_AGENCY_KIND,
                        exchanges_electronically=True,
                    )
                ),
                timeout=RPC_TIMEOUT_S,
            )
        except grpc.RpcError as error:
            raise _unavailable("identifiers", error) from error
        return True

    def resolve_group(
        self, root_code: str, kinds: Sequence[str], recursive: bool
    ) -> list[ReceiverInfo]:
        try:
            found = self.stub.ResolveGroup(
                ipb.ResolveGroupRequest(
                    root_code=root_code, kinds=list(kinds), recursive=recursive
                ),
                timeout=RPC_TIMEOUT_S,
            )
        except grpc.RpcError as error:
            raise _unavailable("identifiers", error) from error
        return [
            ReceiverInfo(a.code, a.exchanges_electronically, a.kind == AXIS_AGENCY_KIND, a.name)
            for a in found.agencies
        ]


class GrpcRegistrar:
    def __init__(self, stub: Any, document_type_key: Any) -> None:
        self.stub = stub
        # edXML carries the type's name ("Quyết định"); the registry wants its catalogue key.
        self.document_type_key = document_type_key

    def register_incoming(
        self, document: IncomingDocument, actor: str, due_in_working_days: int
    ) -> Registration:
        message = rpb.Document(
            agency_code=document.receiver_code,
            document_id=document.document_id,
            number_and_symbol=document.number_and_symbol,
            document_date=document.document_date,
            document_type=self.document_type_key(document.document_type_name),
            subject=document.subject or "(không có trích yếu)",
            urgency=document.priority + 1,  # proto value = edXML priority + 1
            sender=rpb.Party(
                name=document.sender_name or document.sender_code, agency_code=document.sender_code
            ),
            sent_at=document.sent_at,
            received_at=document.received_at,
            electronic=True,
        )
        if document.signer_name:
            message.signer.CopyFrom(
                rpb.Signer(
                    title=document.signer_title or "Người ký", full_name=document.signer_name
                )
            )
        try:
            stored = self.stub.RegisterIncoming(
                rpb.RegisterIncomingRequest(
                    document=message, due_in_working_days=due_in_working_days, actor=actor
                ),
                timeout=RPC_TIMEOUT_S,
            )
        except grpc.RpcError as error:
            raise _unavailable("registry", error) from error
        return Registration(stored.id, stored.arrival_number or stored.number)


def document_type_key(name: str) -> str:
    """The registry catalogue key of an edXML type name; công văn when unknown."""
    from services.registry.domain.document_types import DocumentTypeCatalogue

    catalogue = DocumentTypeCatalogue.load_default()
    try:
        return catalogue.by_name(name).key if name else "cong_van"
    except Exception:  # unknown name: the clerk corrects the type in the register
        return "cong_van"


class GrpcRecordSource:
    """Registry ``Get`` and ``GetFile`` (a ``FileVersion`` first, then the bytes in chunks)."""

    def __init__(self, stub: Any) -> None:
        self.stub = stub

    def record(self, registry_id: str) -> Any:
        try:
            return self.stub.Get(rpb.GetRequest(id=registry_id), timeout=RPC_TIMEOUT_S)
        except grpc.RpcError as error:
            if error.code() is grpc.StatusCode.NOT_FOUND:
                raise NotFound("no such record in the registry", field="registry_id") from error
            raise _unavailable("registry", error) from error

    def file(self, registry_id: str, *, kind: str = "", sha256: str = "") -> RecordFile:
        what = f"file {sha256}" if sha256 else f"main file ({kind or 'newest'})"
        version = None
        parts: list[bytes] = []
        try:
            for chunk in self.stub.GetFile(
                rpb.GetFileRequest(id=registry_id, kind=kind, sha256=sha256),
                timeout=RPC_TIMEOUT_S,
            ):
                part = chunk.WhichOneof("part")
                if part == "version" and version is None:
                    version = chunk.version
                elif part == "data" and version is not None:
                    parts.append(chunk.data)
                else:
                    raise Unavailable(
                        f"registry GetFile sent {part or 'an empty chunk'} out of order",
                        field="registry",
                    )
        except grpc.RpcError as error:
            if error.code() is grpc.StatusCode.NOT_FOUND:
                raise FailedPrecondition(
                    f"the record has no {what} in the registry", field="registry_id"
                ) from error
            if error.code() is grpc.StatusCode.UNIMPLEMENTED:
                raise FailedPrecondition(
                    "the registry does not serve files (GetFile unimplemented)", field="registry"
                ) from error
            raise _unavailable("registry", error) from error
        if version is None:
            raise Unavailable(f"registry GetFile sent no version for the {what}", field="registry")
        data = b"".join(parts)
        if version.sha256 and hashlib.sha256(data).hexdigest() != version.sha256:
            raise Unavailable(
                f"registry GetFile: the {what} does not match its SHA-256", field="registry"
            )
        return RecordFile(
            file_name=version.file_name,
            media_type=version.media_type or "application/octet-stream",
            sha256=version.sha256 or hashlib.sha256(data).hexdigest(),
            data=data,
            kind=version.kind,
        )
