"""The signing service over gRPC: sign one document (streamed), sign a batch, read the audit log.

Shaped like :mod:`services.identifiers.entrypoints.grpc`: declared dependencies (the database
schema ``signing`` and the process's HSM/engine), one thin method per RPC over
:class:`services.signing.service_layer.workflow.SigningService`. Every refusal is written to the
audit log and becomes its own gRPC status (the refusal classes carry ``grpc_status``) with the
request field it is about in the ``lt-error-field`` trailer; nothing a caller sends can end the
worker. With an end user in ``lt-caller``, SignDocument and SignBatch also check the user's
role for the step and the key's agency (service_layer/scope.py). See docs/signing.md,
"gRPC API".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import grpc
from lienthong.signing.v1 import signing_pb2 as pb

from services.chassis.db import UnitOfWork
from services.chassis.entrypoints import Grpc
from services.chassis.errors import InvalidArgument, NotFound, ServiceError
from services.chassis.timeutil import iso
from services.signing.adapters.hsm import HsmError
from services.signing.domain.audit import AuditChainBroken, verify_chain
from services.signing.domain.errors import SigningRefused
from services.signing.service_layer.grpc_support import (
    DEFAULT_BATCH_CONCURRENCY,
    MAX_BATCH_CONCURRENCY,
    AuditLogProvider,
    AuditStore,
    RecordingAuditLog,
    SignerDirectory,
    SigningCallRefused,
    SigningRuntime,
    SigningRuntimeProvider,
    SignRequest,
    UploadBuffer,
    as_completed_results,
    audit_refusal,
    audit_to_pb,
    operation_name,
    parse_header,
    refusal_error,
    refusal_statuses,
    reply_chunks,
    signing_database,
    step_action,
)
from services.signing.service_layer.scope import check_caller_scope
from services.signing.service_layer.workflow import SignedResult
from services.signing.service_layer.workflow import SigningService as SigningWorkflow

rpc = Grpc.implementing(pb, "Signing")


class SigningService:
    name = "signing"
    uow: Callable[[], UnitOfWork] = signing_database()  # type: ignore[assignment]
    # Audit records and their events are written through the units of work above.
    audit_log: AuditStore = AuditLogProvider(uow)  # type: ignore[arg-type, assignment]
    runtime: SigningRuntime = SigningRuntimeProvider()  # type: ignore[assignment]
    error_statuses: ClassVar[dict[type[Exception], str]] = refusal_statuses()

    # -- helpers ----------------------------------------------------------------------------
    def _audit_log(self) -> RecordingAuditLog:
        """A per-call view of the audit log that remembers the record it wrote last."""
        return RecordingAuditLog(self.audit_log)

    def _sign(self, request: SignRequest, data: bytes) -> SignedResult:
        """Run one step with its audit trail; raise the on-the-wire error of a refusal."""
        audit_log = self._audit_log()
        key_hex = request.key_id.hex() if request.key_id else ""
        signers: SignerDirectory = self.runtime.signers
        try:
            signer = signers.profile(request.key_id) if request.key_id else None
        except HsmError as exc:
            record = audit_refusal(
                audit_log, request.operation, request.requested_by, key_hex, data, exc
            )
            raise refusal_error(exc, record) from None
        workflow = SigningWorkflow(self.runtime.engine, audit_log)
        try:
            return asyncio.run(_awaited(step_action(workflow, request, signer, data)))
        except (SigningRefused, HsmError) as exc:
            raise refusal_error(exc, audit_log.last) from None

    def _check_scope(self, request: SignRequest) -> None:
        """The end user's role and the key's agency (scope.py); a refusal is audited."""
        try:
            check_caller_scope(request, self.runtime.signers)
        except (ServiceError, HsmError) as exc:
            record = audit_refusal(
                self._audit_log(),
                request.operation,
                request.requested_by,
                request.key_id.hex() if request.key_id else "",
                b"",
                exc,
            )
            raise refusal_error(exc, record) from None

    # -- RPCs -------------------------------------------------------------------------------
    @rpc
    def SignDocument(
        self, request_iterator: Iterator[pb.SignChunk], context: grpc.ServicerContext
    ) -> Iterator[pb.SignedChunk]:
        first = next(request_iterator, None)
        if first is None or first.WhichOneof("part") != "header":
            error = InvalidArgument("the first message must be the header", field="header")
            record = audit_refusal(self._audit_log(), "sign_document", "", "", b"", error)
            raise refusal_error(error, record)
        header = first.header
        try:
            request = parse_header(header)
        except InvalidArgument as exc:
            record = audit_refusal(
                self._audit_log(),
                operation_name(header),
                header.requested_by,
                header.key_id_hex,
                b"",
                exc,
            )
            raise refusal_error(exc, record) from None
        self._check_scope(request)  # before the upload: a refused caller sends nothing more
        upload = UploadBuffer(self.runtime.engine.max_document_bytes)
        key_hex = request.key_id.hex() if request.key_id else ""
        try:
            for chunk in request_iterator:
                if chunk.WhichOneof("part") == "header":
                    raise InvalidArgument(
                        "sent twice; only the first message is a header", field="header"
                    )
                upload.add(chunk.data)
            if not context.is_active():
                # The stream ended because the caller went away, not because it was complete.
                raise SigningCallRefused(
                    "the caller cancelled the upload", status="CANCELLED", field="document"
                )
            if not len(upload):
                raise InvalidArgument("no bytes received", field="document")
        except ServiceError as exc:
            record = audit_refusal(
                self._audit_log(),
                request.operation,
                request.requested_by,
                key_hex,
                upload.bytes(),
                exc,
            )
            raise refusal_error(exc, record) from None
        result = self._sign(request, upload.bytes())
        yield pb.SignedChunk(audit=audit_to_pb(result.audit))
        for part in reply_chunks(result.document):
            yield pb.SignedChunk(data=part)

    @rpc
    def SignBatch(
        self, request: pb.BatchRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.BatchResult]:
        try:
            sign_request = parse_header(request.header)
        except InvalidArgument as exc:
            record = audit_refusal(
                self._audit_log(),
                operation_name(request.header),
                request.header.requested_by,
                request.header.key_id_hex,
                b"",
                exc,
            )
            raise refusal_error(exc, record) from None
        self._check_scope(sign_request)  # once for the batch, before any item
        if not request.items:
            raise InvalidArgument("no documents given", field="items")
        if not 0 <= request.concurrency <= MAX_BATCH_CONCURRENCY:
            raise InvalidArgument(f"must be 0..{MAX_BATCH_CONCURRENCY}", field="concurrency")
        concurrency = request.concurrency or DEFAULT_BATCH_CONCURRENCY
        items = list(request.items)

        def job(item: pb.BatchItem) -> Callable[[], Any]:
            async def run() -> pb.BatchResult:
                # The engine's work is synchronous; a thread per job lets jobs overlap.
                return await asyncio.to_thread(self._batch_item, sign_request, item)

            return run

        loop = asyncio.new_event_loop()
        results = as_completed_results([job(item) for item in items], concurrency)
        try:
            while context.is_active():
                try:
                    index, result = loop.run_until_complete(anext(results))
                except StopAsyncIteration:
                    break
                assert isinstance(result, pb.BatchResult)
                result.index = index
                yield result
        finally:
            loop.run_until_complete(results.aclose())
            # Wait for jobs already in a thread (they cannot be interrupted mid-signature).
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def _batch_item(self, request: SignRequest, item: pb.BatchItem) -> pb.BatchResult:
        """One document of a batch; a refusal is a result, never the end of the stream."""
        if len(item.document) > self.runtime.engine.max_document_bytes:
            limit = self.runtime.engine.max_document_bytes
            error: ServiceError = SigningCallRefused(
                f"more than {limit} bytes", status="INVALID_ARGUMENT", field="document"
            )
            record = audit_refusal(
                self._audit_log(),
                request.operation,
                request.requested_by,
                request.key_id.hex() if request.key_id else "",
                item.document,
                error,
            )
            error = refusal_error(error, record)
            return pb.BatchResult(
                id=item.id,
                error_code=error.status,
                error=error.reason,
                error_field=f"items[].{error.field}",
            )
        try:
            signed = self._sign(request, item.document)
        except ServiceError as exc:
            return pb.BatchResult(
                id=item.id,
                error_code=exc.status,
                error=exc.reason,
                error_field=_item_field(exc.field),
            )
        return pb.BatchResult(id=item.id, document=signed.document, audit=audit_to_pb(signed.audit))

    @rpc
    def GetAuditRecord(
        self, request: pb.GetAuditRecordRequest, context: grpc.ServicerContext
    ) -> pb.AuditRecord:
        if request.sequence < 1:
            raise InvalidArgument("must be 1 or more", field="sequence")
        try:
            record = self.audit_log.get(request.sequence)
        except KeyError:
            raise NotFound(f"no audit record {request.sequence}", field="sequence") from None
        return audit_to_pb(record)

    @rpc
    def VerifyAuditChain(
        self, request: pb.VerifyAuditChainRequest, context: grpc.ServicerContext
    ) -> pb.VerifyAuditChainResponse:
        try:
            count = verify_chain(self.audit_log.records())
        except AuditChainBroken as exc:
            raise SigningCallRefused(str(exc), status="DATA_LOSS", field="sequence") from None
        return pb.VerifyAuditChainResponse(records=count)

    @rpc
    def ListKeys(
        self, request: pb.ListKeysRequest, context: grpc.ServicerContext
    ) -> pb.ListKeysResponse:
        try:
            prefix = bytes.fromhex(request.key_id_prefix_hex)
        except ValueError:
            raise InvalidArgument("is not hexadecimal", field="key_id_prefix_hex") from None
        runtime = self.runtime
        try:
            keys = runtime.hsm.list_keys(prefix)
        except HsmError as exc:
            raise refusal_error(exc) from None
        listed = []
        for info in keys:
            entry = pb.SigningKey(
                key_id_hex=info.key_id_hex,
                label=info.label,
                algorithm=str(info.algorithm),
                has_certificate=info.has_certificate,
            )
            if info.has_certificate:
                try:
                    profile = runtime.signers.profile(info.key_id)
                except (HsmError, ValueError) as exc:
                    # One unreadable certificate must not hide the other keys.
                    entry.common_name = f"(certificate unreadable: {type(exc).__name__})"
                    listed.append(entry)
                    continue
                subject = profile.subject
                entry.common_name = subject.common_name or ""
                entry.title = subject.title or ""
                entry.agency_code = subject.agency_code or ""
                entry.not_after = iso(profile.certificate.not_valid_after)
            listed.append(entry)
        return pb.ListKeysResponse(keys=listed)


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def _item_field(field: str | None) -> str:
    return f"items[].{field}" if field and not field.startswith("header") else field or ""
