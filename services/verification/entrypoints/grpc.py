"""The verification service over gRPC: reports on PDFs and edXML packages, the trust store.

Shaped like :mod:`services.identifiers.entrypoints.grpc`: declared dependencies, one thin method
per RPC. Verifications never touch the database except to refresh the API-managed anchors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc
from lienthong.identifiers.v1 import identifiers_pb2, identifiers_pb2_grpc
from lienthong.verification.v1 import verification_pb2 as pb

from services.chassis.clients import RpcClient
from services.chassis.db import Database, UnitOfWork
from services.chassis.entrypoints import Grpc, event_handler
from services.chassis.errors import InvalidArgument, NotFound, ResourceExhausted
from services.chassis.events import Event
from services.identifiers.service_layer.use_cases import AGENCY_TOPIC
from services.verification.adapters import orm
from services.verification.service_layer import trust_anchors
from services.verification.service_layer.directory import (
    AgencyState,
    CachedLookup,
    directory_checks,
)
from services.verification.service_layer.messages import report_to_pb
from services.verification.service_layer.trust import TrustedVerifier, TrustedVerifierProvider
from services.verification.service_layer.verifier import Verifier

rpc = Grpc.implementing(pb, "Verification")
DIRECTORY_TIMEOUT_SECONDS = 2.0


class VerificationService:
    name = "verification"
    uow: Callable[[], UnitOfWork] = Database(schema=orm.SCHEMA, metadata=orm.metadata)  # type: ignore[assignment]
    trusted: TrustedVerifier = TrustedVerifierProvider()  # type: ignore[assignment]
    identifiers: identifiers_pb2_grpc.IdentifiersStub = RpcClient(  # type: ignore[assignment]
        "identifiers", identifiers_pb2_grpc.IdentifiersStub
    )

    def _agency_state(self, code: str) -> AgencyState:
        try:
            agency = self.identifiers.GetAgency(
                identifiers_pb2.GetAgencyRequest(code=code), timeout=DIRECTORY_TIMEOUT_SECONDS
            )
        except grpc.RpcError as exc:
            if exc.code() is grpc.StatusCode.NOT_FOUND:
                return AgencyState.UNKNOWN
            return AgencyState.UNAVAILABLE
        if agency.status == identifiers_pb2.AGENCY_STATUS_ACTIVE:
            return AgencyState.ACTIVE
        return AgencyState.INACTIVE

    @property
    def _directory(self) -> CachedLookup:
        lookup = self.__dict__.get("_directory_lookup")
        if lookup is None:
            lookup = CachedLookup(self._agency_state)
            self.__dict__["_directory_lookup"] = lookup
        return lookup

    def _verifier(self) -> Verifier:
        if self.trusted.stale:
            with self.uow() as uow:
                anchors = trust_anchors.list_anchors(uow)
            self.trusted.refresh(anchors)
        return self.trusted.verifier

    def _verify(self, data: bytes, kind: str, sender: str) -> pb.Report:
        self._verifier()  # refresh the trust store if due
        report = self.trusted.verify(data, kind=kind, sender=self._sender(sender))
        return report_to_pb(directory_checks(report, self._directory))

    @staticmethod
    def _sender(text: str) -> str | None:
        return text.strip() or None

    # -- verification ------------------------------------------------------------------------
    @rpc
    def VerifyPdf(self, request: pb.VerifyPdfRequest, context: grpc.ServicerContext) -> pb.Report:
        if not request.document:
            raise InvalidArgument("is empty", field="document")
        return self._verify(request.document, "pdf", request.sender)

    @rpc
    def VerifyPdfStream(
        self, request_iterator: Iterator[pb.DocumentChunk], context: grpc.ServicerContext
    ) -> pb.Report:
        verifier = self._verifier()
        limit = verifier.policy.max_document_bytes
        parts: list[bytes] = []
        size = 0
        sender = ""
        for chunk in request_iterator:
            sender = sender or chunk.sender
            size += len(chunk.data)
            if size > limit:
                # Refuse while streaming: a hostile client cannot make us buffer without bound.
                raise ResourceExhausted(f"more than {limit} bytes", field="document")
            parts.append(chunk.data)
        if not size:
            raise InvalidArgument("no bytes received", field="document")
        return self._verify(b"".join(parts), "pdf", sender)

    @rpc
    def VerifyEdxml(
        self, request: pb.VerifyEdxmlRequest, context: grpc.ServicerContext
    ) -> pb.Report:
        if not request.package:
            raise InvalidArgument("is empty", field="package")
        return self._verify(request.package, "edxml", request.sender)

    # -- trust store -------------------------------------------------------------------------
    @rpc
    def ListTrustAnchors(
        self, request: pb.ListTrustAnchorsRequest, context: grpc.ServicerContext
    ) -> pb.TrustAnchorList:
        with self.uow() as uow:
            stored = trust_anchors.list_anchors(uow)
        store = self.trusted.refresh(stored)
        configured = [
            trust_anchors.anchor_to_pb(trust_anchors.parse_anchor(c.dump()), "directory")
            for c in self.trusted.base.anchors
        ]
        from_db = [trust_anchors.anchor_to_pb(a) for a in stored]
        return pb.TrustAnchorList(anchors=[*configured, *from_db], version=store.version)

    @rpc
    def AddTrustAnchor(
        self, request: pb.AddTrustAnchorRequest, context: grpc.ServicerContext
    ) -> pb.AddTrustAnchorResponse:
        candidate = trust_anchors.parse_anchor(request.certificate, request.note)
        with self.uow() as uow:
            stored, created = trust_anchors.add_anchor(uow, candidate)
            uow.commit()
        self.trusted.invalidate()
        return pb.AddTrustAnchorResponse(
            anchor=trust_anchors.anchor_to_pb(stored),
            created=created,
            version=self._verifier().trust.version,
        )

    @rpc
    def RemoveTrustAnchor(
        self, request: pb.RemoveTrustAnchorRequest, context: grpc.ServicerContext
    ) -> pb.RemoveTrustAnchorResponse:
        with self.uow() as uow:
            removed = trust_anchors.remove_anchor(uow, request.fingerprint)
            uow.commit()
        if not removed:
            raise NotFound(f"{request.fingerprint} is not a managed anchor", field="fingerprint")
        self.trusted.invalidate()
        return pb.RemoveTrustAnchorResponse(removed=True, version=self._verifier().trust.version)

    @event_handler(AGENCY_TOPIC, broadcast=True)
    def on_agency_changed(self, event: Event, uow: UnitOfWork | None) -> None:
        """An agency changed (merged, dissolved, created): ask the directory again."""
        self._directory.invalidate(event.subject)

    @event_handler(trust_anchors.TRUSTSTORE_TOPIC, broadcast=True)
    def on_trust_store_changed(self, event: Event, uow: UnitOfWork | None) -> None:
        """Any replica changed the anchors: reload them before the next verification."""
        self.trusted.invalidate()
