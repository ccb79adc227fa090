"""The distribution service: gRPC ``Distribution`` and its Kafka handlers.

Shaped like the identifiers exemplar: dependencies declared, one thin method per RPC or topic.

Kafka (docs/distribution.md lists partitions and payloads):

- ``lienthong.distribution.deliveries.express.v1`` and ``.normal.v1`` (key: receiver code) —
  one consumer group each, so a backlog on the normal lane never delays the express lane;
- ``lienthong.distribution.statuses.v1`` (key: receiver code) — the sender's side follows;
  a second group posts signed webhooks to external systems;
- ``<lane>.dlt`` — a delivery dead-lettered after ``LT_CONSUMER_MAX_ATTEMPTS`` attempts shows
  as undeliverable to its sender.

Settings: ``LT_DISTRIBUTION_VERIFIER`` = ``grpc`` (verification service, default) or ``dsig``
(the package's XML-DSig only); ``LT_DISTRIBUTION_REGISTRY`` = ``grpc`` (default) or ``off``;
``LT_DISTRIBUTION_PAPER_TYPES`` = comma-separated edXML type names that also go on paper;
``LT_DISTRIBUTION_VERDICT_TTL_S`` = how long a package's verdict is reused (default 300);
``LT_DISTRIBUTION_SCHEDULE_POLL_S`` = the schedule worker's longest sleep (default 1, 0: off);
``LT_DISTRIBUTION_AXIS_SYNC_S`` / ``LT_DISTRIBUTION_AXIS_AGENCY_SYNC_S`` = how often the axis
sync worker polls the axis (default 30) / syncs its agency list (default daily); 0: off.

Agency scope: a call with an end user (``lt-caller``) acts for that user's agency only
(``services/chassis/caller.py``; the table is in docs/distribution.md).
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import grpc
import sqlalchemy as sa
from lienthong.distribution.v1 import distribution_pb2 as pb
from lienthong.identifiers.v1 import identifiers_pb2_grpc
from lienthong.registry.v1 import registry_pb2_grpc
from lienthong.verification.v1 import verification_pb2_grpc

from services.chassis import config
from services.chassis.caller import PROVINCE_ADMIN_ROLE, require_agency, require_role
from services.chassis.clients import RpcClient
from services.chassis.consumer import dead_letter_topic
from services.chassis.db import Database, UnitOfWork
from services.chassis.entrypoints import Grpc, event_handler
from services.chassis.errors import FailedPrecondition, InvalidArgument
from services.chassis.events import Event
from services.chassis.timeutil import iso
from services.distribution.adapters import orm
from services.distribution.adapters.agency_keys import AgencyKeyRing
from services.distribution.adapters.axis_sync import AxisSyncWorker
from services.distribution.adapters.national_axis import LocalAxisSimulator
from services.distribution.adapters.peers import (
    DsigVerifier,
    GrpcDirectory,
    GrpcRecordSource,
    GrpcRegistrar,
    GrpcVerifier,
    document_type_key,
)
from services.distribution.adapters.schedule import ScheduleWorker
from services.distribution.adapters.webhooks import WebhookSender
from services.distribution.domain.routing import Lane, normalise_code
from services.distribution.edxml.codes import StatusCode, recall_answer
from services.distribution.edxml.dsig import XmlSigner
from services.distribution.service_layer import use_cases
from services.distribution.service_layer.axis_sync import AxisSynchronizer
from services.distribution.service_layer.ports import Registrar, Verifier
from services.identifiers.domain.codes import CodeError
from services.registry.domain.calendar import WorkingCalendar

rpc = Grpc.implementing(pb, "Distribution")
MAX_PAGE = 500
PULL_POLL_S = 0.5
EXPRESS_TOPIC = use_cases.LANE_TOPICS[Lane.EXPRESS]
NORMAL_TOPIC = use_cases.LANE_TOPICS[Lane.NORMAL]


def _history_pb(rows: list[Any]) -> list[pb.HistoryEntry]:
    return [
        pb.HistoryEntry(
            code=r.code,
            from_state=r.from_state,
            to_state=r.to_state,
            actor=r.actor,
            at=iso(r.at),
            note=r.note,
        )
        for r in rows
    ]


def _entry_pb(row: Any, package: bytes = b"") -> pb.InboxEntry:
    return pb.InboxEntry(
        delivery_id=str(row.delivery_id),
        dispatch_id=str(row.dispatch_id),
        receiver_code=row.receiver_code,
        sender_code=row.sender_code,
        document_id=getattr(row, "document_id", "") or "",
        subject=getattr(row, "subject", "") or "",
        priority=row.priority,
        kind=row.kind,
        state=row.state,
        received_at=iso(row.received_at),
        effective_received_at=iso(row.effective_received_at),
        paper_copy=row.paper_copy,
        registry_id=row.registry_id,
        arrival_number=row.arrival_number,
        pending_notice=row.pending_notice,
        assignee=row.assignee,
        package=package,
        supersedes_dispatch_id=str(row.supersedes_dispatch_id or ""),
        sequence=row.sequence,
    )


#: CKA_ID (hex) of the agency key in the HSM that signs status packages sent to the national
#: axis. Unset: they go unsigned (the simulator accepts that unless ``require_signed``).
AXIS_KEY_ID_ENV = config.DISTRIBUTION_AXIS_KEY_ID.name


def axis_key_id(environ: dict[str, str] | None = None) -> bytes | None:
    """The hub key's CKA_ID from ``LT_DISTRIBUTION_AXIS_KEY_ID`` (None when unset)."""
    env = os.environ if environ is None else environ
    key_hex = env.get(AXIS_KEY_ID_ENV, "").strip()
    if not key_hex:
        return None
    try:
        return bytes.fromhex(key_hex)
    except ValueError:
        raise InvalidArgument(
            f"{key_hex!r} is not hexadecimal (the key's CKA_ID)", field=AXIS_KEY_ID_ENV
        ) from None


def axis_status_signer(environ: dict[str, str] | None = None) -> XmlSigner | None:
    """The HSM signer of the hub key ``LT_DISTRIBUTION_AXIS_KEY_ID`` (None when unset)."""
    key_id = axis_key_id(environ)
    if key_id is None:
        return None
    from services.distribution.adapters.hsm_signer import HsmXmlSigner
    from services.signing.adapters.hsm import process_hsm

    return HsmXmlSigner(process_hsm(), key_id)


def _scope(field: str, *, hide: bool = False) -> Callable[[str], None]:
    """The caller's agency scope check for an agency found inside the request's data."""

    def check(agency_code: str) -> None:
        require_agency(agency_code, field=field, hide=hide)

    return check


class DistributionService:
    name = "distribution"
    uow: Callable[[], UnitOfWork] = Database(schema=orm.SCHEMA, metadata=orm.metadata)  # type: ignore[assignment]
    schedule: Any = ScheduleWorker(uow)  # type: ignore[arg-type]
    axis_sync: Any = AxisSyncWorker(uow)  # type: ignore[arg-type]
    identifiers: Any = RpcClient("identifiers", identifiers_pb2_grpc.IdentifiersStub)
    verification: Any = RpcClient("verification", verification_pb2_grpc.VerificationStub)
    registry: Any = RpcClient("registry", registry_pb2_grpc.RegistryStub)
    error_statuses: ClassVar[dict[type[Exception], str]] = {CodeError: "INVALID_ARGUMENT"}

    def setup(self) -> None:
        self.calendar = WorkingCalendar.default()
        self.directory = GrpcDirectory(self.identifiers)
        verifier_kind = config.get(config.DISTRIBUTION_VERIFIER)
        self.verifier: Verifier = (
            DsigVerifier() if verifier_kind == "dsig" else GrpcVerifier(self.verification)
        )
        registry_kind = config.get(config.DISTRIBUTION_REGISTRY)
        self.registrar: Registrar | None = (
            None if registry_kind == "off" else GrpcRegistrar(self.registry, document_type_key)
        )
        self.paper_types = frozenset(
            t.strip()
            for t in (config.DISTRIBUTION_PAPER_TYPES.value() or "").split(",")
            if t.strip()
        )
        self.webhooks = WebhookSender()
        # The national axis: "simulator" binds the in-memory LocalAxisSimulator (tests, dev);
        # production binds the axis SDK client here. Unset: no axis.
        axis_kind = config.DISTRIBUTION_AXIS.value() or ""
        self.axis: LocalAxisSimulator | None = (
            LocalAxisSimulator() if axis_kind == "simulator" else None
        )
        self.axis_key_id = axis_key_id()
        self.axis_signer: XmlSigner | None = axis_status_signer()
        self.records = GrpcRecordSource(self.registry)
        self._key_ring: AgencyKeyRing | None = None
        from services.registry.domain.document_types import DocumentTypeCatalogue

        self.type_names = {t.key: t.name for t in DocumentTypeCatalogue.load_default()}
        self.verdicts = use_cases.VerdictCache(
            ttl_s=config.get_float(config.DISTRIBUTION_VERDICT_TTL_S)
        )
        if self.axis is not None:
            # Poll the axis on a schedule (LT_DISTRIBUTION_AXIS_SYNC_S), one replica at a time.
            self.axis_sync.start(AxisSynchronizer(self.uow, self.directory, self.axis))

    def key_ring(self) -> AgencyKeyRing:
        """The agencies' keys on the HSM token (opened on first use: it needs the settings)."""
        if self._key_ring is None:
            from services.signing.adapters.hsm import process_hsm

            try:
                hsm = process_hsm()
            except Exception as error:  # any token setup failure, named
                raise FailedPrecondition(
                    f"the HSM token cannot be opened: {error}", field="LT_PKCS11_MODULE"
                ) from error
            self._key_ring = AgencyKeyRing(hsm, self.axis_key_id)
        return self._key_ring

    def axis_signer_for(self, agency_code: str) -> XmlSigner | None:
        """The receiving agency's own key for its statuses to the axis, else the hub key."""
        try:
            return self.key_ring().signer_or_fallback(agency_code)
        except FailedPrecondition:
            return self.axis_signer  # no token configured: the hub key's signer, if any

    # -- sender ----------------------------------------------------------------------------
    @rpc
    def Send(self, request: pb.SendRequest, context: grpc.ServicerContext) -> pb.SendResponse:
        with self.uow() as uow:
            result = use_cases.send(
                uow,
                self.directory,
                request,
                paper_types=self.paper_types,
                authorize_sender=_scope("package.From.OrganId"),
            )
            uow.commit()
        if request.deliver_at:
            self.schedule.wake()  # held until its time: the worker re-reads the earliest due
        view = self._tracking(result.dispatch_id)
        return pb.SendResponse(dispatch_id=result.dispatch_id, deliveries=view.deliveries)

    @rpc
    def SendDocument(
        self, request: pb.SendDocumentRequest, context: grpc.ServicerContext
    ) -> pb.SendResponse:
        """Build the package from the issued registry record, sign it, send it as Send does."""
        supersedes_document_id = ""
        if request.supersedes_dispatch_id:
            with self.uow() as uow:
                supersedes_document_id = use_cases.dispatch_document_id(
                    uow, request.supersedes_dispatch_id, "supersedes_dispatch_id"
                )
        package = use_cases.document_package(
            self.records,
            self.directory,
            self.key_ring(),
            request,
            type_names=self.type_names,
            authorize_agency=_scope("registry_id", hide=True),
            supersedes_document_id=supersedes_document_id,
        )
        return self.Send(
            pb.SendRequest(
                package=package,
                receivers=request.receivers,
                groups=request.groups,
                deliver_at=request.deliver_at,
                actor=request.actor,
                supersedes_dispatch_id=request.supersedes_dispatch_id,
            ),
            context,
        )

    @rpc
    def Tracking(
        self, request: pb.TrackingRequest, context: grpc.ServicerContext
    ) -> pb.TrackingView:
        return self._tracking(request.dispatch_id, authorize=True)

    def _tracking(self, dispatch_id: str, *, authorize: bool = False) -> pb.TrackingView:
        with self.uow() as uow:
            dispatch, package, deliveries, events = use_cases.tracking(uow, dispatch_id)
            if authorize:
                require_agency(dispatch.sender_code, field="dispatch_id", hide=True)
            histories = use_cases.history_of(uow, [str(d.id) for d in deliveries])
        view = pb.TrackingView(
            dispatch_id=str(dispatch.id),
            sender_code=dispatch.sender_code,
            document_id=package.document_id,
            subject=package.subject,
            priority=dispatch.priority,
            kind=dispatch.kind,
            frozen=dispatch.frozen,
            sent_at=iso(dispatch.sent_at),
            deliver_at=iso(dispatch.deliver_at) if dispatch.deliver_at else "",
            events=[
                pb.DispatchEvent(kind=e.kind, actor=e.actor, at=iso(e.at), note=e.note)
                for e in events
            ],
        )
        for d in deliveries:
            view.deliveries.append(
                pb.DeliveryView(
                    delivery_id=str(d.id),
                    receiver_code=d.receiver_code,
                    state=d.state,
                    status_code=d.status_code,
                    paper_copy=d.paper_copy,
                    lane=d.lane,
                    updated_at=iso(d.updated_at),
                    history=_history_pb(histories[str(d.id)]),
                )
            )
            view.counts[d.state] = view.counts.get(d.state, 0) + 1
        return view

    @rpc
    def Recall(self, request: pb.RecallRequest, context: grpc.ServicerContext) -> pb.RecallResponse:
        with self.uow() as uow:
            notified = use_cases.recall(
                uow,
                request.dispatch_id,
                actor=request.actor,
                reason=request.reason,
                authorize_sender=_scope("dispatch_id", hide=True),
            )
            uow.commit()
        return pb.RecallResponse(dispatch_id=request.dispatch_id, notified=notified)

    # -- receiver --------------------------------------------------------------------------
    @rpc
    def ListInbox(
        self, request: pb.ListInboxRequest, context: grpc.ServicerContext
    ) -> pb.InboxPage:
        receiver = normalise_code(request.receiver_code, "receiver_code")
        require_agency(receiver, field="receiver_code")
        size = request.page_size or 50
        if not 1 <= size <= MAX_PAGE:
            raise InvalidArgument(f"must be 1..{MAX_PAGE}", field="page_size")
        try:
            after = int(request.page_token or 0)
        except ValueError:
            raise InvalidArgument("is not a token of this API", field="page_token") from None
        with self.uow() as uow:
            rows = use_cases.inbox_page(
                uow, receiver, states=list(request.states), after_sequence=after, limit=size + 1
            )
        page = pb.InboxPage(entries=[_entry_pb(r) for r in rows[:size]])
        if len(rows) > size:
            page.next_page_token = str(rows[size - 1].sequence)
        return page

    @rpc
    def GetInboxEntry(
        self, request: pb.GetInboxEntryRequest, context: grpc.ServicerContext
    ) -> pb.InboxEntry:
        with self.uow() as uow:
            row = use_cases.entry_with_package_fields(uow, request.delivery_id)
            require_agency(row.receiver_code, field="delivery_id", hide=True)
            content = use_cases.package_of(uow, row.package_sha256)
        return _entry_pb(row, content)

    def _act(self, delivery_id: str, code: str, **kwargs: Any) -> pb.InboxEntry:
        with self.uow() as uow:
            row = use_cases.entry_with_package_fields(uow, delivery_id)
            require_agency(row.receiver_code, field="delivery_id", hide=True)
            use_cases.receiver_action(uow, delivery_id, code, **kwargs)
            uow.commit()
        with self.uow() as uow:
            return _entry_pb(use_cases.entry_with_package_fields(uow, delivery_id))

    @rpc
    def Accept(self, request: pb.AcceptRequest, context: grpc.ServicerContext) -> pb.InboxEntry:
        return self._act(
            request.delivery_id,
            StatusCode.ACCEPTED,
            actor=request.actor,
            registrar=self.registrar,
            due_in_working_days=request.due_in_working_days,
        )

    @rpc
    def Return(self, request: pb.ReturnRequest, context: grpc.ServicerContext) -> pb.InboxEntry:
        return self._act(
            request.delivery_id, StatusCode.REJECTED, actor=request.actor, note=request.reason
        )

    @rpc
    def Assign(self, request: pb.AssignRequest, context: grpc.ServicerContext) -> pb.InboxEntry:
        if not request.assignee.strip():
            raise InvalidArgument("names the unit or person", field="assignee")
        return self._act(
            request.delivery_id,
            StatusCode.ASSIGNED,
            actor=request.actor,
            note=request.note,
            assignee=request.assignee,
        )

    @rpc
    def UpdateStatus(
        self, request: pb.UpdateStatusRequest, context: grpc.ServicerContext
    ) -> pb.InboxEntry:
        allowed = {StatusCode.PROCESSING.value, StatusCode.COMPLETED.value}
        if request.status_code not in allowed:
            raise InvalidArgument(
                "must be 05 or 06 (the other statuses have their own calls)", field="status_code"
            )
        return self._act(
            request.delivery_id, request.status_code, actor=request.actor, note=request.note
        )

    @rpc
    def AnswerRecall(
        self, request: pb.AnswerRecallRequest, context: grpc.ServicerContext
    ) -> pb.InboxEntry:
        return self._act(
            request.delivery_id,
            recall_answer(request.agreed),
            actor=request.actor,
            note=request.reason,
        )

    @rpc
    def Pull(
        self, request: pb.PullRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.InboxEntry]:
        """Every visible entry after the cursor, oldest first; with ``follow``, keep streaming."""
        receiver = normalise_code(request.receiver_code, "receiver_code")
        require_agency(receiver, field="receiver_code")
        cursor = request.after_sequence
        sent = 0
        while context.is_active():
            with self.uow() as uow:
                rows = use_cases.inbox_page(
                    uow, receiver, states=[], after_sequence=cursor, limit=100
                )
                packages = {
                    r.package_sha256: use_cases.package_of(uow, r.package_sha256) for r in rows
                }
            for row in rows:
                yield _entry_pb(row, packages[row.package_sha256])
                cursor = row.sequence
                sent += 1
                if request.max_entries and sent >= request.max_entries:
                    return
            if not rows and not request.follow:
                return
            if not rows:
                time.sleep(PULL_POLL_S)

    @rpc
    def RegisterWebhook(
        self, request: pb.RegisterWebhookRequest, context: grpc.ServicerContext
    ) -> pb.RegisterWebhookResponse:
        receiver = normalise_code(request.receiver_code, "receiver_code")
        require_agency(receiver, field="receiver_code")
        with self.uow() as uow:
            active = use_cases.register_webhook(uow, receiver, request.url, request.secret)
            uow.commit()
        return pb.RegisterWebhookResponse(receiver_code=receiver, active=active)

    @rpc
    def SyncNationalAxis(
        self, request: pb.SyncNationalAxisRequest, context: grpc.ServicerContext
    ) -> pb.SyncNationalAxisResponse:
        require_role(PROVINCE_ADMIN_ROLE)
        if self.axis is None:
            raise FailedPrecondition("no national axis is configured", field="LT_DISTRIBUTION_AXIS")
        response = pb.SyncNationalAxisResponse()
        for index, code in enumerate(request.agency_codes):
            receiver = normalise_code(code, f"agency_codes[{index}]")
            with self.uow() as uow:
                response.imported += use_cases.import_from_axis(
                    uow, self.directory, self.axis, receiver
                )
                uow.commit()
        with self.uow() as uow:
            response.statuses_applied = use_cases.apply_axis_statuses(uow, self.axis)
            uow.commit()
        return response

    @rpc
    def SyncAxisAgencies(
        self, request: pb.SyncAxisAgenciesRequest, context: grpc.ServicerContext
    ) -> pb.SyncAxisAgenciesResponse:
        require_role(PROVINCE_ADMIN_ROLE)
        if self.axis is None:
            raise FailedPrecondition("no national axis is configured", field="LT_DISTRIBUTION_AXIS")
        listed, added = use_cases.sync_axis_agencies(self.directory, self.axis)
        return pb.SyncAxisAgenciesResponse(listed=listed, added=added)

    # -- Kafka -----------------------------------------------------------------------------
    @event_handler(EXPRESS_TOPIC)
    def on_express_delivery(self, event: Event, uow: UnitOfWork | None) -> None:
        self._on_lane(event, uow)

    @event_handler(NORMAL_TOPIC)
    def on_normal_delivery(self, event: Event, uow: UnitOfWork | None) -> None:
        self._on_lane(event, uow)

    def _on_lane(self, event: Event, uow: UnitOfWork | None) -> None:
        assert uow is not None
        if event.type == use_cases.NOTICE:
            notice = event.parse(pb.DeliveryNotice)
            if self.axis is not None:
                delivery = use_cases.axis_delivery(uow, self.axis, notice.delivery_id)  # type: ignore[attr-defined]
                if delivery is not None:  # an outside receiver: the recall goes on the axis
                    signer = self.axis_signer_for(delivery.sender_code)
                    use_cases.recall_on_axis(uow, self.axis, delivery, notice, signer)  # type: ignore[arg-type]
                    return
            use_cases.receive_notice(uow, notice)  # type: ignore[arg-type]
            return
        dispatched = event.parse(pb.DeliveryDispatched)
        if dispatched.via_axis:  # type: ignore[attr-defined]
            if self.axis is None:
                # Retried, then dead-lettered: the sender sees it undeliverable with the reason.
                raise FailedPrecondition(
                    "a delivery to the national axis, but no axis is configured",
                    field="LT_DISTRIBUTION_AXIS",
                )
            use_cases.forward_to_axis(uow, self.axis, dispatched)  # type: ignore[arg-type]
            return
        use_cases.arrive(
            uow,
            dispatched,  # type: ignore[arg-type]
            self.verifier,
            self.calendar,
            verdicts=self.verdicts,
        )

    @event_handler(
        dead_letter_topic(EXPRESS_TOPIC), group="distribution.dlt.express", dead_letter=False
    )
    @event_handler(
        dead_letter_topic(NORMAL_TOPIC), group="distribution.dlt.normal", dead_letter=False
    )
    def on_dead_letter(self, event: Event, uow: UnitOfWork | None) -> None:
        """Every attempt failed: the sender sees the delivery as undeliverable."""
        assert uow is not None
        if event.type == use_cases.DISPATCHED:
            use_cases.mark_undeliverable(
                uow,
                event.parse(pb.DeliveryDispatched),  # type: ignore[arg-type]
                f"không chuyển được sau nhiều lần thử (dead-lettered from {event.topic[:-4]})",
            )

    @event_handler(use_cases.STATUS_TOPIC)
    def on_status(self, event: Event, uow: UnitOfWork | None) -> None:
        assert uow is not None
        status = event.parse(pb.StatusReported)
        use_cases.record_status(uow, status)  # type: ignore[arg-type]
        if self.axis is not None:
            # A document that came from the national axis: its sender learns there. A failed
            # call rolls the record back too, and the event is retried (then dead-lettered).
            package = use_cases.status_for_axis(
                uow,
                status,  # type: ignore[arg-type]
                self.axis_signer_for(status.receiver_code),  # type: ignore[attr-defined]
            )
            if package is not None:
                self.axis.update_status(package)

    @event_handler(use_cases.STATUS_TOPIC, group="distribution.webhooks")
    def on_status_for_webhook(self, event: Event, uow: UnitOfWork | None) -> None:
        """Arrivals at receivers with a webhook are POSTed to them, signed."""
        assert uow is not None
        status = event.parse(pb.StatusReported)
        if status.status_code != StatusCode.ARRIVED:  # type: ignore[attr-defined]
            return
        hook = uow.execute(
            sa.select(orm.webhooks).where(orm.webhooks.c.receiver_code == status.receiver_code)  # type: ignore[attr-defined]
        ).first()
        if hook is None:
            return
        row = use_cases.entry_with_package_fields(uow, status.delivery_id)  # type: ignore[attr-defined]
        content = use_cases.package_of(uow, row.package_sha256)
        from google.protobuf.json_format import MessageToDict

        body = MessageToDict(_entry_pb(row), preserving_proto_field_name=True)
        body["package"] = base64.b64encode(content).decode()
        self.webhooks.post(
            hook.url,
            hook.secret,
            json.dumps(body, ensure_ascii=False).encode(),
            str(row.delivery_id),
        )
