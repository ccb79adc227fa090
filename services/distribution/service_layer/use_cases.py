"""Use cases of the distribution hub: send, arrive, receiver actions, statuses, recall.

Two sides share this service but only talk through Kafka, as two agencies on the national axis
would: the **sender's side** (dispatches, deliveries, their history) and the **receiver's side**
(inbox entries). Every state change and the event it causes are one transaction (outbox).

- ``send``: stores the package once, plans one delivery per receiver, publishes one
  ``DeliveryDispatched`` per receiver on its lane's topic (key: receiver code).
- ``arrive`` (lane consumer): verifies the package; failed → inbox entry closed as returned and
  status 02 with the report's reason; passed → inbox entry and status 01 at once.
- Receiver actions (accept 03 with registration, return 02, assign 04, processing 05,
  completed 06, answer 15/16) change the inbox entry and publish ``StatusReported``.
- ``record_status`` (status consumer): the sender's delivery follows, history appended.
- ``recall``: freezes the dispatch and sends a ``DeliveryNotice`` on each delivery's lane
  (never overtaking the delivery itself); the receiver acknowledges with 13, then answers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from lienthong.distribution.v1 import distribution_pb2 as pb
from sqlalchemy.dialects.postgresql import insert

from services.chassis.db import UnitOfWork
from services.chassis.errors import FailedPrecondition, InvalidArgument, NotFound
from services.chassis.events import Event, topic_name
from services.chassis.timeutil import iso, now
from services.distribution.adapters import orm
from services.distribution.domain.errors import DocumentFrozen, IllegalDeliveryTransition
from services.distribution.domain.model import (
    STATE_CODES,
    UNDELIVERABLE_CODE,
    Delivery,
    DeliveryState,
    advance,
)
from services.distribution.domain.routing import Lane, ReceiverInfo, Route, normalise_code, plan
from services.distribution.edxml.build import build
from services.distribution.edxml.codes import BussinessDocType, Priority, StatusCode
from services.distribution.edxml.dsig import XmlSigner
from services.distribution.edxml.dsig import sign as sign_package
from services.distribution.edxml.errors import EdxmlError
from services.distribution.edxml.model import Bussiness, DocumentPackage, TraceHeaderList
from services.distribution.edxml.parse import parse
from services.distribution.service_layer.ports import (
    Directory,
    IncomingDocument,
    PackageSigner,
    RecordSource,
    Registrar,
    Verdict,
    Verifier,
)
from services.distribution.service_layer.record_package import (
    SEALED_KIND,
    RecordParties,
    check_sendable,
    package_from_record,
    priority_of,
)
from services.registry.domain.calendar import WorkingCalendar

log = logging.getLogger(__name__)

SERVICE = "distribution"
LANE_TOPICS: dict[Lane, str] = {
    Lane.EXPRESS: topic_name(SERVICE, "deliveries.express"),
    Lane.NORMAL: topic_name(SERVICE, "deliveries.normal"),
}
STATUS_TOPIC = topic_name(SERVICE, "statuses")
DISPATCHED = "vn.lienthong.distribution.delivery.dispatched"
NOTICE = "vn.lienthong.distribution.delivery.recalled"
STATUS_REPORTED = "vn.lienthong.distribution.status.reported"
#: registry.v1 CorrectionKind.REPLACEMENT: the record replaces (thay thế) the one it corrects.
CORRECTION_KIND_REPLACEMENT = 2
NOTICE_KINDS = {
    BussinessDocType.RECALL: "recall",
    BussinessDocType.UPDATE: "update",
    BussinessDocType.REPLACE: "replace",
}


# -- helpers -----------------------------------------------------------------------------------
def _uuid(text: str, field: str) -> str:
    try:
        return str(uuid.UUID(text))
    except (ValueError, AttributeError, TypeError):
        raise InvalidArgument(f"{text!r} is not a UUID", field=field) from None


def _time(text: str, field: str) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(f"{text!r} is not ISO 8601", field=field) from None
    if value.tzinfo is None:
        raise InvalidArgument("must carry a UTC offset, e.g. +07:00", field=field)
    return value


def _actor(text: str) -> str:
    return " ".join(text.split())[:255] or "hệ thống"


def read_package(content: bytes, field: str = "package") -> DocumentPackage:
    if not content:
        raise InvalidArgument("is empty", field=field)
    try:
        result = parse(content)
    except EdxmlError as error:
        raise InvalidArgument(str(error), field=field) from error
    if not isinstance(result.package, DocumentPackage):
        raise InvalidArgument("is a status package; send a document package", field=field)
    return result.package


def _kind_of(package: DocumentPackage) -> BussinessDocType:
    bussiness = package.trace_header_list.bussiness if package.trace_header_list else None
    kind = bussiness.bussiness_doc_type if bussiness else None
    return kind if kind is not None else BussinessDocType.NEW


def _priority_of(package: DocumentPackage) -> Priority:
    info = package.header.other_info
    return info.priority if info and info.priority is not None else Priority.NORMAL


def _status_event(
    uow: UnitOfWork, entry: Any, code: str, actor: str, note: str, at: datetime
) -> None:
    payload = pb.StatusReported(
        delivery_id=entry.delivery_id,
        dispatch_id=entry.dispatch_id,
        sender_code=entry.sender_code,
        receiver_code=entry.receiver_code,
        status_code=code,
        actor=actor,
        note=note,
        at=iso(at),
    )
    uow.publish(Event.of(STATUS_TOPIC, STATUS_REPORTED, SERVICE, entry.receiver_code, payload))


# -- sender: send --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SendResult:
    dispatch_id: str
    delivery_ids: tuple[str, ...]


def send(
    uow: UnitOfWork,
    directory: Directory,
    request: pb.SendRequest,
    *,
    paper_types: frozenset[str] = frozenset(),
    at: datetime | None = None,
    authorize_sender: Callable[[str], None] | None = None,
) -> SendResult:
    """Store the package, plan routes, publish one delivery per receiver (one transaction).

    A receiver that already has this very package is not sent it again (its earlier delivery
    stands), so a retried Send does not duplicate anything. ``authorize_sender`` is called with
    the package's From before anything else (the caller's agency scope).
    """
    at = at or now()
    package = read_package(request.package)
    sender = package.header.from_.organ_id or ""
    if authorize_sender is not None:
        authorize_sender(sender)
    kind = _kind_of(package)
    if kind is BussinessDocType.RECALL:
        raise InvalidArgument(
            "a recall is made with Recall, not sent as a package",
            field="package.Bussiness.BussinessDocType",
        )
    supersedes = None
    if kind in (BussinessDocType.UPDATE, BussinessDocType.REPLACE):
        if not request.supersedes_dispatch_id:
            raise InvalidArgument(
                "an update/replacement names the send it supersedes", field="supersedes_dispatch_id"
            )
        supersedes = _uuid(request.supersedes_dispatch_id, "supersedes_dispatch_id")
        original = uow.execute(
            sa.select(orm.dispatches.c.sender_code).where(orm.dispatches.c.id == supersedes)
        ).first()
        if original is None or original.sender_code != sender:
            raise NotFound("no send of this sender with that id", field="supersedes_dispatch_id")
    priority = _priority_of(package)
    deliver_at = _time(request.deliver_at, "deliver_at")
    receivers = []
    for index, code in enumerate(request.receivers):
        try:
            receivers.append(directory.receiver(normalise_code(code, f"receivers[{index}]")))
        except NotFound as error:
            raise NotFound(
                f"{code} is not in the directory", field=f"receivers[{index}]"
            ) from error
    groups = {}
    for index, group in enumerate(request.groups):
        root = normalise_code(group.root_code, f"groups[{index}].root_code")
        try:
            groups[root] = directory.resolve_group(root, list(group.kinds), group.recursive)
        except NotFound as error:
            raise NotFound(
                f"{root} is not in the directory", field=f"groups[{index}].root_code"
            ) from error
    document_type = ""
    if package.header.document_type:
        document_type = package.header.document_type.type_name or ""
    routes = plan(
        sender_code=sender,
        receivers=receivers,
        group_members=groups,
        priority=priority,
        deliver_at=deliver_at,
        document_type=document_type,
        paper_types=paper_types,
    )
    sha = hashlib.sha256(request.package).hexdigest()
    uow.execute(
        insert(orm.packages)
        .values(
            sha256=sha,
            sender_code=sender,
            document_id=package.header.document_id or "",
            subject=package.header.subject or "",
            document_type=document_type,
            priority=int(priority),
            kind=int(kind),
            content=request.package,
        )
        .on_conflict_do_nothing()
    )
    already = {
        row.receiver_code
        for row in uow.execute(
            sa.select(orm.deliveries.c.receiver_code).where(orm.deliveries.c.package_sha256 == sha)
        )
    }
    dispatch_id = str(uuid.uuid4())
    actor = _actor(request.actor)
    uow.execute(
        orm.dispatches.insert().values(
            id=dispatch_id,
            package_sha256=sha,
            sender_code=sender,
            priority=int(priority),
            kind=int(kind),
            deliver_at=deliver_at,
            supersedes_dispatch_id=supersedes,
            sent_at=at,
            actor=actor,
        )
    )
    uow.execute(
        orm.dispatch_events.insert().values(
            dispatch_id=dispatch_id,
            kind=NOTICE_KINDS.get(kind, "sent"),
            actor=actor,
            at=at,
            note=f"{len(routes) - len(already)} receivers",
        )
    )
    fresh = [r for r in routes if r.receiver_code not in already]
    ids = _insert_deliveries(uow, dispatch_id, sha, sender, priority, kind, fresh, at)
    for route, delivery_id in zip(fresh, ids, strict=True):
        payload = pb.DeliveryDispatched(
            delivery_id=delivery_id,
            dispatch_id=dispatch_id,
            sender_code=sender,
            receiver_code=route.receiver_code,
            priority=int(priority),
            kind=int(kind),
            package_sha256=sha,
            deliver_at=iso(route.deliver_at) if route.deliver_at else "",
            paper_copy=route.paper_copy,
            supersedes_dispatch_id=supersedes or "",
            sent_at=iso(at),
            via_axis=route.via_axis,
        )
        event = Event.of(LANE_TOPICS[route.lane], DISPATCHED, SERVICE, route.receiver_code, payload)
        if route.deliver_at is not None and route.deliver_at > at:
            schedule_event(uow, event, delivery_id, route.deliver_at, at)
        else:
            uow.publish(event)
    return SendResult(dispatch_id, tuple(ids))


# -- hỏa tốc hẹn giờ: events held until their time -----------------------------------------------
#: How many due events one transaction of the schedule worker publishes.
SCHEDULE_BATCH = 500


def schedule_event(
    uow: UnitOfWork, event: Event, delivery_id: str, due_at: datetime, at: datetime
) -> None:
    """Hold ``event`` until ``due_at``; :func:`publish_due` puts it in the outbox then."""
    uow.execute(
        orm.scheduled_events.insert().values(
            event_id=event.id,
            delivery_id=delivery_id,
            due_at=due_at,
            topic=event.topic,
            type=event.type,
            source=event.source,
            subject=event.subject,
            dataschema=event.dataschema,
            payload=event.data,
            scheduled_at=at,
        )
    )


def publish_due(
    uow: UnitOfWork, *, at: datetime | None = None, limit: int = SCHEDULE_BATCH
) -> list[str]:
    """Publish the held events whose time has come, oldest first; returns their event ids.

    The rows are locked (``SKIP LOCKED``: two workers never take the same row) and marked
    published in the transaction that writes them to the outbox, so each is published once,
    whatever crashes; the event keeps the id it was given when held, so a consumer's inbox
    would also recognise it.
    """
    at = at or now()
    s = orm.scheduled_events
    due = uow.execute(
        sa.select(s)
        .where(s.c.published_at.is_(None), s.c.due_at <= at)
        .order_by(s.c.due_at, s.c.seq)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for row in due:
        uow.publish(
            Event(
                topic=row.topic,
                type=row.type,
                source=row.source,
                subject=row.subject,
                data=row.payload,
                dataschema=row.dataschema,
                id=str(row.event_id),
            )
        )
    if due:
        uow.execute(
            sa.update(s).where(s.c.seq.in_([row.seq for row in due])).values(published_at=at)
        )
    return [str(row.event_id) for row in due]


def next_due(uow: UnitOfWork) -> datetime | None:
    """When the earliest held event is due (None: nothing held)."""
    s = orm.scheduled_events
    return uow.execute(
        sa.select(sa.func.min(s.c.due_at)).where(s.c.published_at.is_(None))
    ).scalar_one_or_none()


def _held_until(uow: UnitOfWork, delivery_id: str) -> datetime | None:
    """The time a delivery's own event is still held until (None: already published)."""
    s = orm.scheduled_events
    # FOR UPDATE waits for a worker publishing it right now; afterwards it reads as published.
    return uow.execute(
        sa.select(s.c.due_at)
        .where(s.c.delivery_id == delivery_id, s.c.type == DISPATCHED, s.c.published_at.is_(None))
        .with_for_update()
    ).scalar_one_or_none()


def document_package(
    records: RecordSource,
    directory: Directory,
    keys: PackageSigner,
    request: pb.SendDocumentRequest,
    *,
    type_names: dict[str, str],
    authorize_agency: Callable[[str], None] | None = None,
    at: datetime | None = None,
    supersedes_document_id: str = "",
) -> bytes:
    """SendDocument's package: the issued record as edXML, signed with its agency's HSM key.

    Refuses (field ``registry_id``) a record that is not outgoing, not issued or has no sealed
    main file; ``authorize_agency`` is called with the record's agency before its files are
    read. The receivers' names come from the directory (``To``, ``ToPlaces``).

    The same request gives the same bytes (the trace timestamp is the sealing time, and the
    RSA PKCS#1 v1.5 signature is deterministic), so a retried SendDocument is a retried Send
    of the same package: no receiver gets it twice (``deliveries_once``).
    """
    registry_id = _uuid(request.registry_id, "registry_id")
    record = records.record(registry_id)
    if authorize_agency is not None:
        authorize_agency(record.agency_code)
    check_sendable(record)
    if at is None:
        sealed = [v for v in record.files if v.kind == SEALED_KIND][-1]
        try:
            at = _time(sealed.created_at, "registry_id.files.created_at")
        except InvalidArgument:
            at = None
        at = at or now()
    priority = priority_of(record, request.priority)
    kind = BussinessDocType.NEW
    if request.supersedes_dispatch_id:
        replacement = record.corrects.kind == CORRECTION_KIND_REPLACEMENT
        kind = BussinessDocType.REPLACE if replacement else BussinessDocType.UPDATE
    main_file = records.file(registry_id, kind=SEALED_KIND)
    attachments = [
        _attachment_file(records, registry_id, index, attachment)
        for index, attachment in enumerate(record.attachments)
    ]
    receivers: list[ReceiverInfo] = []
    for index, code in enumerate(request.receivers):
        try:
            receivers.append(directory.receiver(normalise_code(code, f"receivers[{index}]")))
        except NotFound as error:
            raise NotFound(
                f"{code} is not in the directory", field=f"receivers[{index}]"
            ) from error
    for index, group in enumerate(request.groups):
        root = normalise_code(group.root_code, f"groups[{index}].root_code")
        try:
            receivers.append(directory.receiver(root))
        except NotFound as error:
            raise NotFound(
                f"{root} is not in the directory", field=f"groups[{index}].root_code"
            ) from error
    try:
        sender_name = directory.receiver(record.agency_code).name
    except NotFound:
        sender_name = record.sender.name
    package = package_from_record(
        record,
        main_file,
        attachments,
        RecordParties(sender_name=sender_name, receivers=receivers),
        priority=priority,
        kind=kind,
        at=at,
        type_names=type_names,
        supersedes_document_id=supersedes_document_id if kind is not BussinessDocType.NEW else "",
    )
    return sign_package(
        build(package, include_signature=False), keys.signer_for(record.agency_code)
    )


def dispatch_document_id(uow: UnitOfWork, dispatch_id: str, field: str) -> str:
    """The DocumentId of the package a send carried (NOT_FOUND names ``field``)."""
    found = uow.execute(
        sa.select(orm.packages.c.document_id)
        .join(orm.dispatches, orm.dispatches.c.package_sha256 == orm.packages.c.sha256)
        .where(orm.dispatches.c.id == _uuid(dispatch_id, field))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("no such send", field=field)
    return str(found)


def _attachment_file(records: RecordSource, registry_id: str, index: int, attachment: Any) -> Any:
    if not attachment.sha256:
        raise FailedPrecondition(
            "has no SHA-256 in the registry", field=f"registry_id.attachments[{index}]"
        )
    found = records.file(registry_id, sha256=attachment.sha256)
    return dataclasses.replace(
        found,
        file_name=attachment.file_name or found.file_name,
        media_type=attachment.media_type or found.media_type,
    )


def _insert_deliveries(
    uow: UnitOfWork,
    dispatch_id: str,
    sha: str,
    sender: str,
    priority: Priority,
    kind: BussinessDocType,
    routes: Sequence[Route],
    at: datetime,
) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in routes]
    if routes:
        uow.execute(
            orm.deliveries.insert(),
            [
                {
                    "id": delivery_id,
                    "dispatch_id": dispatch_id,
                    "package_sha256": sha,
                    "sender_code": sender,
                    "receiver_code": route.receiver_code,
                    "lane": route.lane.value,
                    "priority": int(priority),
                    "kind": int(kind),
                    "state": DeliveryState.QUEUED.value,
                    "paper_copy": route.paper_copy,
                    "updated_at": at,
                }
                for route, delivery_id in zip(routes, ids, strict=True)
            ],
        )
    return ids


# -- receiver: arrival ---------------------------------------------------------------------------
class VerdictCache:
    """Verdicts by (package SHA-256, sender) kept ``ttl_s`` seconds in one process.

    A broadcast to 1,000 agencies carries the same bytes 1,000 times; their verdict cannot
    differ except through time (a certificate revoked or expired meanwhile), which the short
    TTL bounds. Each receiver still gets its own 01/02 and its own inbox entry.
    """

    def __init__(self, ttl_s: float = 300.0, max_entries: int = 4096) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[tuple[str, str], tuple[float, Verdict]] = {}
        self._lock = threading.Lock()

    def get(self, sha: str, sender: str) -> Verdict | None:
        with self._lock:
            found = self._entries.get((sha, sender))
        if found is None or time.monotonic() - found[0] > self.ttl_s:
            return None
        return found[1]

    def put(self, sha: str, sender: str, verdict: Verdict) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()  # rare; a simple bound beats an LRU here
            self._entries[(sha, sender)] = (time.monotonic(), verdict)


def arrive(
    uow: UnitOfWork,
    dispatched: pb.DeliveryDispatched,
    verifier: Verifier,
    calendar: WorkingCalendar,
    *,
    at: datetime | None = None,
    verdicts: VerdictCache | None = None,
) -> str:
    """Land one delivery at its receiver; returns the status code reported (01 or 02).

    Idempotent: a delivery already in the inbox is left alone (returns "").
    """
    at = at or now()
    entries = orm.inbox_entries
    exists = uow.execute(
        sa.select(entries.c.delivery_id).where(entries.c.delivery_id == dispatched.delivery_id)
    ).first()
    if exists is not None:
        return ""
    sha, sender = dispatched.package_sha256, dispatched.sender_code
    verdict = verdicts.get(sha, sender) if verdicts is not None else None
    if verdict is None:
        content = uow.execute(
            sa.select(orm.packages.c.content).where(orm.packages.c.sha256 == sha)
        ).scalar_one_or_none()
        if content is None:
            verdict = Verdict(False, "gói tin không còn trên trục (package missing)")
        else:
            verdict = verifier.verify_package(content, sender)
            if verdicts is not None:
                verdicts.put(sha, sender, verdict)
    verdict_passed, reason = verdict.passed, verdict.reason
    deliver_at = _time(dispatched.deliver_at, "deliver_at")
    visible_from = max(at, deliver_at) if deliver_at else at
    code = StatusCode.ARRIVED.value if verdict_passed else StatusCode.REJECTED.value
    state = DeliveryState.ARRIVED if verdict_passed else DeliveryState.RETURNED
    values = {
        "delivery_id": dispatched.delivery_id,
        "dispatch_id": dispatched.dispatch_id,
        "package_sha256": dispatched.package_sha256,
        "receiver_code": dispatched.receiver_code,
        "sender_code": dispatched.sender_code,
        "priority": dispatched.priority,
        "kind": dispatched.kind,
        "state": state.value,
        "supersedes_dispatch_id": dispatched.supersedes_dispatch_id or None,
        "received_at": visible_from,
        # QĐ 36/2013 Điều 9 khoản 2 via the registry's calendar: outside office hours a
        # document counts as received at the start of the next working period.
        "effective_received_at": calendar.effective_arrival(visible_from),
        "visible_from": visible_from,
        "paper_copy": dispatched.paper_copy,
        "verification": reason,
        "sent_at": _time(dispatched.sent_at, "sent_at"),
        "updated_at": at,
    }
    inserted = uow.execute(
        insert(entries).values(**values).on_conflict_do_nothing().returning(entries.c.delivery_id)
    ).first()
    if inserted is None:
        return ""
    entry = _entry_row(uow, dispatched.delivery_id)
    _status_event(uow, entry, code, "hệ thống", "" if verdict_passed else reason, visible_from)
    if verdict_passed and dispatched.supersedes_dispatch_id:
        _notice_on_superseded(uow, entry, dispatched, at)
    return code


def _notice_on_superseded(
    uow: UnitOfWork, entry: Any, dispatched: pb.DeliveryDispatched, at: datetime
) -> None:
    """An update/replacement arrived: the receiver's earlier copy awaits its answer (15/16)."""
    kind = NOTICE_KINDS.get(BussinessDocType(dispatched.kind), "update")
    earlier = uow.execute(
        sa.select(orm.inbox_entries)
        .where(
            orm.inbox_entries.c.dispatch_id == dispatched.supersedes_dispatch_id,
            orm.inbox_entries.c.receiver_code == dispatched.receiver_code,
        )
        .with_for_update()
    ).first()
    if earlier is not None:
        _receive_notice(uow, earlier, kind, "hệ thống", f"{kind}: {entry.delivery_id}", at)


def receive_notice(
    uow: UnitOfWork, notice: pb.DeliveryNotice, *, at: datetime | None = None
) -> bool:
    """The sender's recall reached the receiver: acknowledge with 13, await 15/16."""
    at = at or now()
    row = uow.execute(
        sa.select(orm.inbox_entries)
        .where(orm.inbox_entries.c.delivery_id == notice.delivery_id)
        .with_for_update()
    ).first()
    if row is None:
        # The delivery never landed (dead-lettered): nothing to recall at this receiver.
        log.warning(
            "recall for a delivery not in the inbox", extra={"delivery": notice.delivery_id}
        )
        return False
    return _receive_notice(uow, row, notice.kind or "recall", notice.actor, notice.reason, at)


def _receive_notice(
    uow: UnitOfWork, row: Any, kind: str, actor: str, note: str, at: datetime
) -> bool:
    current = _as_delivery(row)
    if not current.can(StatusCode.RECALLED):
        log.info("notice for a closed delivery ignored", extra={"delivery": row.delivery_id})
        return False
    moved = advance(current, StatusCode.RECALLED, actor=_actor(actor), at=at, note=note)
    uow.execute(
        sa.update(orm.inbox_entries)
        .where(orm.inbox_entries.c.delivery_id == row.delivery_id)
        .values(
            state=moved.state.value,
            state_before_notice=moved.state_before_notice.value
            if moved.state_before_notice
            else None,
            pending_notice=kind,
            updated_at=at,
        )
    )
    _status_event(uow, row, StatusCode.RECALLED.value, _actor(actor), note, at)
    return True


def _as_delivery(row: Any) -> Delivery:
    return Delivery(
        id=str(row.delivery_id),
        dispatch_id=str(row.dispatch_id),
        sender_code=row.sender_code,
        receiver_code=row.receiver_code,
        priority=Priority(row.priority),
        kind=BussinessDocType(row.kind),
        state=DeliveryState(row.state),
        state_before_notice=DeliveryState(row.state_before_notice)
        if row.state_before_notice
        else None,
    )


def _entry_row(uow: UnitOfWork, delivery_id: str, *, lock: bool = False) -> Any:
    query = sa.select(orm.inbox_entries).where(orm.inbox_entries.c.delivery_id == delivery_id)
    if lock:
        query = query.with_for_update()
    row = uow.execute(query).first()
    if row is None:
        raise NotFound("no such delivery in any inbox", field="delivery_id")
    return row


# -- receiver: actions ---------------------------------------------------------------------------
def receiver_action(
    uow: UnitOfWork,
    delivery_id: str,
    code: str,
    *,
    actor: str,
    note: str = "",
    registrar: Registrar | None = None,
    due_in_working_days: int = 0,
    assignee: str = "",
    at: datetime | None = None,
) -> Any:
    """Accept (03), return (02), assign (04), processing (05), completed (06), answer 15/16.

    Each checks the state machine, updates the inbox entry and reports the status to the
    sender in the same transaction. Accepting registers the document in the receiver's arrival
    book first (registry ``RegisterIncoming``) and keeps its số đến.
    """
    at = at or now()
    delivery_id = _uuid(delivery_id, "delivery_id")
    row = _entry_row(uow, delivery_id, lock=True)
    if row.visible_from > at:
        raise FailedPrecondition("scheduled; not delivered yet", field="delivery_id")
    current = _as_delivery(row)
    actor = _actor(actor)
    moved = advance(current, code, actor=actor, at=at, note=note)
    values: dict[str, Any] = {
        "state": moved.state.value,
        "state_before_notice": moved.state_before_notice.value
        if moved.state_before_notice
        else None,
        "updated_at": at,
    }
    if code in (StatusCode.RECALL_AGREED, StatusCode.RECALL_REFUSED):
        values["pending_notice"] = ""
    if code == StatusCode.ASSIGNED:
        values["assignee"] = " ".join(assignee.split())[:255]
    if code == StatusCode.ACCEPTED and registrar is not None:
        registration = registrar.register_incoming(
            _incoming_document(uow, row), actor, due_in_working_days
        )
        values["registry_id"] = registration.registry_id
        values["arrival_number"] = registration.arrival_number
    uow.execute(
        sa.update(orm.inbox_entries)
        .where(orm.inbox_entries.c.delivery_id == delivery_id)
        .values(**values)
    )
    _status_event(uow, row, code, actor, moved.history[-1].note, at)
    return _entry_row(uow, delivery_id)


def _incoming_document(uow: UnitOfWork, row: Any) -> IncomingDocument:
    content = uow.execute(
        sa.select(orm.packages.c.content).where(orm.packages.c.sha256 == row.package_sha256)
    ).scalar_one()
    header = read_package(content).header
    code = header.code
    number_and_symbol = ""
    if code and (code.code_number or code.code_notation):
        number_and_symbol = "/".join(p for p in (code.code_number, code.code_notation) if p)
    promulgated = header.promulgation_info.promulgation_date if header.promulgation_info else None
    signer = header.signer_info
    return IncomingDocument(
        receiver_code=row.receiver_code,
        sender_code=row.sender_code,
        sender_name=header.from_.organ_name or "",
        document_id=header.document_id or "",
        number_and_symbol=number_and_symbol,
        document_date=promulgated.isoformat() if promulgated else "",
        document_type_name=(header.document_type.type_name or "") if header.document_type else "",
        subject=header.subject or "",
        priority=row.priority,
        received_at=iso(row.received_at),
        sent_at=iso(row.sent_at) if row.sent_at else "",
        signer_title=(signer.position or "") if signer else "",
        signer_name=(signer.full_name or "") if signer else "",
    )


# -- sender: statuses, undeliverable, recall ---------------------------------------------------
def record_status(uow: UnitOfWork, status: pb.StatusReported) -> bool:
    """The sender's delivery follows a status its receiver reported; history appended.

    A status the sender's state machine cannot take (which the per-receiver ordering of the
    topic should make impossible) is logged and dropped rather than retried forever.
    """
    return _advance_sender_side(
        uow,
        status.delivery_id,
        status.status_code,
        actor=status.actor,
        note=status.note,
        at=_time(status.at, "at") or now(),
    )


def _advance_sender_side(
    uow: UnitOfWork, delivery_id: str, code: str, *, actor: str, note: str, at: datetime
) -> bool:
    d = orm.deliveries
    row = uow.execute(sa.select(d).where(d.c.id == delivery_id).with_for_update()).first()
    if row is None:
        log.warning("status for an unknown delivery", extra={"delivery": delivery_id})
        return False
    current = Delivery(
        id=str(row.id),
        dispatch_id=str(row.dispatch_id),
        sender_code=row.sender_code,
        receiver_code=row.receiver_code,
        priority=Priority(row.priority),
        state=DeliveryState(row.state),
        state_before_notice=DeliveryState(row.state_before_notice)
        if row.state_before_notice
        else None,
    )
    try:
        moved = advance(current, code, actor=_actor(actor), at=at, note=note or "")
    except IllegalDeliveryTransition as error:
        log.warning(
            "status out of order dropped",
            extra={"delivery": delivery_id, "code": code, "reason": str(error)},
        )
        return False
    entry = moved.history[-1]
    uow.execute(
        sa.update(d)
        .where(d.c.id == delivery_id)
        .values(
            state=moved.state.value,
            state_before_notice=moved.state_before_notice.value
            if moved.state_before_notice
            else None,
            status_code=code,
            updated_at=at,
        )
    )
    uow.execute(
        orm.delivery_history.insert().values(
            delivery_id=delivery_id,
            code=code,
            from_state=entry.from_state.value,
            to_state=entry.to_state.value,
            actor=entry.actor,
            at=at,
            note=entry.note,
        )
    )
    return True


def mark_undeliverable(uow: UnitOfWork, dispatched: pb.DeliveryDispatched, reason: str) -> bool:
    """A delivery dead-lettered after every attempt: the sender sees it and why."""
    return _advance_sender_side(
        uow, dispatched.delivery_id, UNDELIVERABLE_CODE, actor="hệ thống", note=reason, at=now()
    )


def recall(
    uow: UnitOfWork,
    dispatch_id: str,
    *,
    actor: str,
    reason: str,
    at: datetime | None = None,
    authorize_sender: Callable[[str], None] | None = None,
) -> int:
    """Freeze the dispatch and send each reachable receiver a recall notice (13).

    Returns how many receivers were notified. The dispatch stays in the sender's records with
    the recall in its history (QĐ 28/2018 Điều 8 khoản 2; NĐ 30/2020 Điều 18 khoản 4).
    """
    at = at or now()
    dispatch_id = _uuid(dispatch_id, "dispatch_id")
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidArgument("a recall gives its reason", field="reason")
    row = uow.execute(
        sa.select(orm.dispatches).where(orm.dispatches.c.id == dispatch_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound("no such send", field="dispatch_id")
    if authorize_sender is not None:
        authorize_sender(row.sender_code)
    if row.frozen:
        raise DocumentFrozen("already recalled", field="dispatch_id")
    actor = _actor(actor)
    uow.execute(
        sa.update(orm.dispatches).where(orm.dispatches.c.id == dispatch_id).values(frozen=True)
    )
    uow.execute(
        orm.dispatch_events.insert().values(
            dispatch_id=dispatch_id, kind="recall", actor=actor, at=at, note=reason
        )
    )
    d = orm.deliveries
    targets = uow.execute(
        sa.select(d.c.id, d.c.receiver_code, d.c.lane, d.c.state).where(
            d.c.dispatch_id == dispatch_id
        )
    ).all()
    notified = 0
    for target in targets:
        if DeliveryState(target.state).is_final:
            continue
        payload = pb.DeliveryNotice(
            delivery_id=str(target.id),
            dispatch_id=dispatch_id,
            receiver_code=target.receiver_code,
            kind="recall",
            actor=actor,
            reason=reason,
        )
        # Same lane and key as the delivery: the notice cannot overtake what it recalls; a
        # delivery still held for its time gets its notice held until then too, just after it.
        event = Event.of(
            LANE_TOPICS[Lane(target.lane)], NOTICE, SERVICE, target.receiver_code, payload
        )
        held_until = _held_until(uow, str(target.id))
        if held_until is not None:
            schedule_event(uow, event, str(target.id), held_until, at)
        else:
            uow.publish(event)
        notified += 1
    return notified


def ensure_not_frozen(uow: UnitOfWork, dispatch_id: str) -> None:
    frozen = uow.execute(
        sa.select(orm.dispatches.c.frozen).where(orm.dispatches.c.id == dispatch_id)
    ).scalar_one_or_none()
    if frozen:
        raise DocumentFrozen("the sender recalled this document", field="dispatch_id")


# -- national axis -------------------------------------------------------------------------------
AXIS_ACTOR = "Trục liên thông văn bản quốc gia"


def import_from_axis(uow: UnitOfWork, directory: Directory, axis: Any, agency_code: str) -> int:
    """Bring what the national axis holds for ``agency_code`` into the hub as deliveries.

    Each document goes the way of any other (lane, verification, inbox, 01); a document already
    imported for this agency is skipped (same package, same receiver). A recall (1) recalls the
    earlier import of that document, once; an update or replacement (2/3) supersedes the
    earlier import it names (:func:`_axis_earlier_dispatch`), whose copy then awaits 15/16.
    Returns how many new deliveries (and recalls) were made. Statuses of these deliveries go
    back to the axis (:func:`status_for_axis`).
    """
    created = 0
    for document in axis.list_received(agency_code):
        try:
            package = read_package(document.package)
        except InvalidArgument as error:
            log.warning("unreadable package on the axis skipped", extra={"reason": str(error)})
            continue
        kind = _kind_of(package)
        supersedes = ""
        if kind is not BussinessDocType.NEW:
            earlier = _axis_earlier_dispatch(uow, package, kind, agency_code)
            if earlier is None:
                log.warning(
                    "axis notice for a document never imported",
                    extra={"document": package.header.document_id, "agency": agency_code},
                )
                continue
            if kind is BussinessDocType.RECALL:
                if not earlier.frozen:
                    bussiness = package.trace_header_list.bussiness  # type: ignore[union-attr]
                    reason = (bussiness.bussiness_doc_reason if bussiness else None) or "Thu hồi"
                    created += recall(uow, str(earlier.id), actor=AXIS_ACTOR, reason=reason)
                continue
            supersedes = str(earlier.id)
        result = send(
            uow,
            directory,
            pb.SendRequest(
                package=document.package,
                receivers=[agency_code],
                actor=AXIS_ACTOR,
                supersedes_dispatch_id=supersedes,
            ),
        )
        created += len(result.delivery_ids)
    return created


def _axis_earlier_dispatch(
    uow: UnitOfWork, package: DocumentPackage, kind: BussinessDocType, agency_code: str
) -> Any:
    """The import from the axis that a recall/update/replace package refers to, or None.

    A recall carries the recalled document's ``DocumentId``; an update or replacement names
    the earlier one in ``ReplacementInfoList`` (else an update keeps the ``DocumentId``).
    """
    bussiness = package.trace_header_list.bussiness if package.trace_header_list else None
    earlier_ids = {
        info.document_id
        for info in (bussiness.replacement_info_list if bussiness else ())
        if info.document_id
    }
    if kind is BussinessDocType.RECALL or not earlier_ids:
        earlier_ids = {package.header.document_id or ""}
    d, p = orm.dispatches, orm.packages
    return uow.execute(
        sa.select(d.c.id, d.c.frozen)
        .join(p, p.c.sha256 == d.c.package_sha256)
        .join(orm.deliveries, orm.deliveries.c.dispatch_id == d.c.id)
        .where(
            d.c.actor == AXIS_ACTOR,
            d.c.sender_code == (package.header.from_.organ_id or ""),
            p.c.document_id.in_(sorted(earlier_ids)),
            p.c.kind == int(BussinessDocType.NEW),
            orm.deliveries.c.receiver_code == agency_code,
        )
        .order_by(d.c.sent_at.desc())
        .limit(1)
    ).first()


def axis_delivery(uow: UnitOfWork, axis: Any, delivery_id: str) -> Any:
    """The sender's delivery if it went out through the axis (no inbox here), else None."""
    landed = uow.execute(
        sa.select(orm.inbox_entries.c.delivery_id).where(
            orm.inbox_entries.c.delivery_id == delivery_id
        )
    ).first()
    if landed is not None:
        return None
    row = uow.execute(sa.select(orm.deliveries).where(orm.deliveries.c.id == delivery_id)).first()
    if row is None or row.receiver_code not in {agency.code for agency in axis.agencies()}:
        return None
    return row


def notice_package(
    original: bytes, kind: BussinessDocType, reason: str, signer: XmlSigner | None
) -> bytes:
    """The recall package of ``original`` for the axis: its header, BussinessDocType 1.

    As the axis's sample ``edoc_revocation.edxml``: the recalled document's own header and
    ``DocumentId``, no attachments; XML-signed with ``signer`` when one is given.
    """
    package = read_package(original)
    trace = package.trace_header_list or TraceHeaderList()
    bussiness = trace.bussiness or Bussiness()
    trace = dataclasses.replace(
        trace,
        bussiness=dataclasses.replace(
            bussiness, bussiness_doc_type=kind, bussiness_doc_reason=reason or kind.vietnamese
        ),
    )
    recall_package = dataclasses.replace(
        package, trace_header_list=trace, signature=None, attachments=(), manifest=()
    )
    unsigned = build(recall_package, include_signature=False)
    return unsigned if signer is None else sign_package(unsigned, signer)


def recall_on_axis(
    uow: UnitOfWork, axis: Any, delivery: Any, notice: pb.DeliveryNotice, signer: XmlSigner | None
) -> None:
    """Send the recall of a delivery that went out through the axis, to the axis.

    The outside receiver's 13 and 15/16 come back on the original document's statuses
    (:func:`apply_axis_statuses`). An axis refusing it leaves the delivery as it is, with the
    refusal in the log; an unreachable axis raises (the event is retried).
    """
    from services.distribution.adapters.national_axis import AxisError

    content = package_of(uow, delivery.package_sha256)
    recall_bytes = notice_package(content, BussinessDocType.RECALL, notice.reason, signer)
    try:
        axis.send(recall_bytes, [delivery.receiver_code])
    except AxisError as error:
        log.warning(
            "the national axis refused a recall",
            extra={"delivery": notice.delivery_id, "reason": str(error)},
        )


def forward_to_axis(uow: UnitOfWork, axis: Any, dispatched: pb.DeliveryDispatched) -> str:
    """Hand a delivery to a receiver outside the province over to the national axis.

    Called from the lane consumer instead of :func:`arrive`. The axis is idempotent per
    (package, receiver), so a redelivered event hands nothing over twice. The axis refusing the
    package (receiver not on the axis, package rejected) is final: the sender's delivery becomes
    undeliverable with the axis's reason; an unreachable axis raises and the event is retried.
    Returns the axis's document id ("" when refused). The receiver's statuses come back with
    :func:`apply_axis_statuses`.
    """
    from services.distribution.adapters.national_axis import AxisError

    content = package_of(uow, dispatched.package_sha256)
    try:
        (document_id,) = axis.send(content, [dispatched.receiver_code])
    except AxisError as error:
        _advance_sender_side(
            uow,
            dispatched.delivery_id,
            UNDELIVERABLE_CODE,
            actor=AXIS_ACTOR,
            note=f"trục liên thông quốc gia từ chối: {error}",
            at=now(),
        )
        return ""
    log.info(
        "delivery handed to the national axis",
        extra={"delivery": dispatched.delivery_id, "axis_document": document_id},
    )
    return str(document_id)


def apply_axis_statuses(uow: UnitOfWork, axis: Any) -> int:
    """Take the statuses outside receivers gave on the axis into the senders' deliveries.

    Outbound deliveries are the open ones whose receiver is on the axis's agency list; each is
    matched to the axis's document by (package SHA-256, receiver). A delivery's own history
    says how many of the axis's statuses it already has, so polling again applies nothing
    twice. Returns how many statuses were applied.
    """
    d = orm.deliveries
    axis_codes = [agency.code for agency in axis.agencies()]
    if not axis_codes:
        return 0
    final = [state.value for state in DeliveryState if state.is_final]
    senders = uow.execute(
        sa.select(d.c.sender_code)
        .where(d.c.receiver_code.in_(axis_codes), d.c.state.not_in(final))
        .distinct()
    ).scalars()
    applied = 0
    for sender in list(senders):
        for document in axis.list_sent(sender):
            if not document.statuses:
                continue
            sha = hashlib.sha256(document.package).hexdigest()
            delivery = uow.execute(
                sa.select(d.c.id).where(
                    d.c.package_sha256 == sha,
                    d.c.receiver_code == document.to_code,
                    d.c.sender_code == sender,
                )
            ).first()
            if delivery is None:
                continue
            known = uow.execute(
                sa.select(sa.func.count())
                .select_from(orm.delivery_history)
                .where(orm.delivery_history.c.delivery_id == delivery.id)
            ).scalar_one()
            for index, code in enumerate(document.statuses[known:], start=known):
                note = document.notes[index] if index < len(document.notes) else ""
                if code in (StatusCode.REJECTED, StatusCode.RECALL_REFUSED) and not note:
                    note = "trục liên thông quốc gia không nêu lý do"  # 02/16 need a reason
                applied += _advance_sender_side(
                    uow, str(delivery.id), code, actor=AXIS_ACTOR, note=note, at=now()
                )
    return applied


def sync_axis_agencies(directory: Any, axis: Any) -> tuple[int, int]:
    """Add the axis's agencies the directory lacks (as outside agencies); (listed, added)."""
    listed = axis.agencies()
    added = sum(1 for agency in listed if directory.add_axis_agency(agency.code, agency.name))
    return len(listed), added


def status_for_axis(
    uow: UnitOfWork, status: pb.StatusReported, signer: XmlSigner | None = None
) -> bytes | None:
    """The edXML status package to send to the axis for a delivery that came from it.

    Signed (enveloped XML-DSig) with ``signer``, the agency's key, when one is given.
    """
    from services.distribution.edxml.model import Organization, ResponseFor, StatusPackage

    row = uow.execute(
        sa.select(orm.dispatches.c.actor, orm.packages.c.content)
        .join(orm.packages, orm.packages.c.sha256 == orm.dispatches.c.package_sha256)
        .where(orm.dispatches.c.id == status.dispatch_id)
    ).first()
    if row is None or row.actor != AXIS_ACTOR:
        return None
    header = read_package(row.content).header
    code = header.code
    symbol = "/".join(p for p in (code.code_number, code.code_notation) if p) if code else None
    package = StatusPackage(
        from_=Organization(organ_id=status.receiver_code),
        response_for=ResponseFor(
            organ_id=header.from_.organ_id,
            code=symbol or None,
            promulgation_date=header.promulgation_info.promulgation_date
            if header.promulgation_info
            else None,
            document_id=header.document_id,
        ),
        status_code=StatusCode(status.status_code),
        description=status.note or StatusCode(status.status_code).vietnamese,
        timestamp=_time(status.at, "at") or now(),
    )
    unsigned = build(package, include_signature=False)
    return unsigned if signer is None else sign_package(unsigned, signer)


# -- external systems ----------------------------------------------------------------------------
MIN_WEBHOOK_SECRET = 16


def register_webhook(uow: UnitOfWork, receiver_code: str, url: str, secret: str) -> bool:
    """Set (or with an empty secret, remove) a receiver's webhook; returns whether one is set."""
    w = orm.webhooks
    if not secret:
        uow.execute(sa.delete(w).where(w.c.receiver_code == receiver_code))
        return False
    if len(secret) < MIN_WEBHOOK_SECRET:
        raise InvalidArgument(f"must be at least {MIN_WEBHOOK_SECRET} characters", field="secret")
    if not url.startswith(("https://", "http://")) or len(url) > 2000:
        raise InvalidArgument("must be an http(s) URL of at most 2,000 characters", field="url")
    uow.execute(
        insert(w)
        .values(receiver_code=receiver_code, url=url, secret=secret)
        .on_conflict_do_update(
            index_elements=[w.c.receiver_code], set_={"url": url, "secret": secret}
        )
    )
    return True


# -- queries -------------------------------------------------------------------------------------
def history_of(uow: UnitOfWork, delivery_ids: Iterable[str]) -> dict[str, list[Any]]:
    ids = list(delivery_ids)
    found: dict[str, list[Any]] = {i: [] for i in ids}
    if not ids:
        return found
    h = orm.delivery_history
    for row in uow.execute(
        sa.select(h).where(h.c.delivery_id.in_(ids)).order_by(h.c.delivery_id, h.c.seq)
    ):
        found[str(row.delivery_id)].append(row)
    return found


def tracking(uow: UnitOfWork, dispatch_id: str) -> tuple[Any, Any, list[Any], list[Any]]:
    dispatch_id = _uuid(dispatch_id, "dispatch_id")
    dispatch = uow.execute(
        sa.select(orm.dispatches).where(orm.dispatches.c.id == dispatch_id)
    ).first()
    if dispatch is None:
        raise NotFound("no such send", field="dispatch_id")
    package = uow.execute(
        sa.select(orm.packages.c.document_id, orm.packages.c.subject).where(
            orm.packages.c.sha256 == dispatch.package_sha256
        )
    ).first()
    deliveries = uow.execute(
        sa.select(orm.deliveries)
        .where(orm.deliveries.c.dispatch_id == dispatch_id)
        .order_by(orm.deliveries.c.receiver_code)
    ).all()
    events = uow.execute(
        sa.select(orm.dispatch_events)
        .where(orm.dispatch_events.c.dispatch_id == dispatch_id)
        .order_by(orm.dispatch_events.c.seq)
    ).all()
    return dispatch, package, deliveries, events


def state_code(state: str) -> str:
    return STATE_CODES[DeliveryState(state)]


def inbox_page(
    uow: UnitOfWork,
    receiver_code: str,
    *,
    states: Sequence[str],
    after_sequence: int,
    limit: int,
    at: datetime | None = None,
) -> list[Any]:
    e = orm.inbox_entries
    query = (
        sa.select(e, orm.packages.c.document_id, orm.packages.c.subject)
        .join(orm.packages, orm.packages.c.sha256 == e.c.package_sha256)
        .where(
            e.c.receiver_code == receiver_code,
            e.c.sequence > after_sequence,
            e.c.visible_from <= (at or now()),
        )
        .order_by(e.c.sequence)
        .limit(limit)
    )
    if states:
        for index, state in enumerate(states):
            try:
                DeliveryState(state)
            except ValueError:
                raise InvalidArgument(
                    f"{state!r} is not a delivery state", field=f"states[{index}]"
                ) from None
        query = query.where(e.c.state.in_(list(states)))
    return uow.execute(query).all()


def package_of(uow: UnitOfWork, sha: str) -> bytes:
    return uow.execute(
        sa.select(orm.packages.c.content).where(orm.packages.c.sha256 == sha)
    ).scalar_one()


def entry_with_package_fields(uow: UnitOfWork, delivery_id: str) -> Any:
    e = orm.inbox_entries
    row = uow.execute(
        sa.select(e, orm.packages.c.document_id, orm.packages.c.subject)
        .join(orm.packages, orm.packages.c.sha256 == e.c.package_sha256)
        .where(e.c.delivery_id == _uuid(delivery_id, "delivery_id"))
    ).first()
    if row is None:
        raise NotFound("no such delivery in any inbox", field="delivery_id")
    return row
