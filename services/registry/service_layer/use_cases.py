"""Use cases of the registry. Each runs in one unit of work: state, history and events together.

Numbering (NĐ 30/2020 Điều 15 khoản 1, Điều 22 khoản 2): the counter row of the
(agency, book, year) is locked with ``SELECT … FOR UPDATE`` in the same transaction that writes
the document's number and publishes its event, as late as possible in that transaction so the
lock is held briefly. A rollback (error, crash, killed process) leaves the counter untouched, so
numbers stay continuous; the UNIQUE (agency, book, year, number) constraint refuses a duplicate
even if the counter were ever reset by hand.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from lienthong.registry.v1 import registry_pb2 as pb
from sqlalchemy.exc import IntegrityError

from services.chassis.caller import current_caller
from services.chassis.db import UnitOfWork
from services.chassis.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from services.chassis.events import Event, topic_name
from services.chassis.text import nfc
from services.chassis.timeutil import iso
from services.registry.adapters.blobs import BlobStore
from services.registry.adapters.repository import DocumentRepository, is_unique_violation
from services.registry.domain.assignment import Assignee, Assignment, AssignmentRole
from services.registry.domain.calendar import HolidayCalendar
from services.registry.domain.classification import Confidentiality
from services.registry.domain.errors import InvalidField, WrongYear
from services.registry.domain.record import Attachment, DocumentRecord
from services.registry.domain.register_books import (
    VIETNAM,
    Direction,
    NumberingRule,
    RegisterBookKey,
    check_agency_code,
)
from services.registry.domain.status import (
    ACTOR_MAX_LENGTH,
    HistoryEntry,
    ProcessingStatus,
    initial_entry,
    transition,
)
from services.registry.domain.symbols import DocumentSymbol, format_number
from services.registry.service_layer import messages
from services.registry.service_layer.directory import AgencyDirectory
from services.registry.service_layer.office_hours import calendar_for

SERVICE = "registry"
DOCUMENT_TOPIC = topic_name(SERVICE, "document")
_TYPE = "vn.lienthong.registry.document."
RULE = NumberingRule()
# Draft outgoing records are validated with the rules of a numbered one; the placeholder
# stands for the number and symbol the clerk gives later and is never stored.
_DRAFT_PLACEHOLDER = "0/DRAFT"
# Arrival times a little ahead of this server's clock are tolerated (another replica's clock).
_CLOCK_SKEW = timedelta(minutes=5)


def _event(kind: str, subject: str, payload: Any) -> Event:
    return Event.of(DOCUMENT_TOPIC, _TYPE + kind, SERVICE, subject, payload)


def book_text(book: RegisterBookKey) -> str:
    """The stored book name: the series, plus the type for legal normative books."""
    series = book.series.value
    return f"{series}/{book.document_type_key}" if book.document_type_key else series


def store_attachments(blobs: BlobStore, items: Sequence[pb.Attachment]) -> tuple[Attachment, ...]:
    """Put given content in the blob store (or check a referenced blob is there) first.

    The record is committed only after its blobs are durable, so it never points at nothing.
    """
    stored = []
    for index, item in enumerate(items):
        field = f"document.attachments[{index}]"
        if item.content:
            ref = blobs.put(item.content)
            if item.sha256 and item.sha256 != ref.sha256:
                raise InvalidArgument(
                    f"content hashes to {ref.sha256}, not {item.sha256}", field=f"{field}.sha256"
                )
            item = pb.Attachment(
                file_name=item.file_name,
                media_type=item.media_type,
                size_bytes=ref.size_bytes,
                sha256=ref.sha256,
            )
        else:
            if not item.sha256:
                raise InvalidArgument(
                    "give the content or the sha256 of a stored blob", field=field
                )
            if not blobs.exists(item.sha256):
                raise FailedPrecondition(
                    f"no blob {item.sha256} in the store; upload the content first",
                    field=f"{field}.sha256",
                )
            actual = blobs.size(item.sha256)
            if item.size_bytes and item.size_bytes != actual:
                raise InvalidArgument(
                    f"the stored blob is {actual} bytes, not {item.size_bytes}",
                    field=f"{field}.size_bytes",
                )
            item = pb.Attachment(
                file_name=item.file_name,
                media_type=item.media_type,
                size_bytes=actual,
                sha256=item.sha256,
            )
        try:
            stored.append(messages.attachment_of(item))
        except InvalidField as exc:  # name the position: document.attachments[2].file_name
            name = (exc.field or "").removeprefix("attachment.")
            raise InvalidArgument(exc.reason, field=f"{field}.{name}") from None
    return tuple(stored)


def _check_unique(
    repo: DocumentRepository, record: DocumentRecord, own: str | None, *, symbol: bool = True
) -> None:
    key = messages.uniqueness_text(record) if symbol else None
    if key is not None:
        found = repo.find_by_uniqueness(record.agency_code, record.direction.value, key)
        if found is not None and str(found.id) != own:
            if record.direction is Direction.OUTGOING:
                raise AlreadyExists(
                    f"{record.agency_code} already issued {record.number_and_symbol} in "
                    f"{record.year} (record {found.id}); số and ký hiệu are unique per agency and "
                    "year (NĐ 30/2020 Điều 15 khoản 1)",
                    field="number_and_symbol",
                )
            raise AlreadyExists(
                f"{record.number_and_symbol} from {record.sender.name if record.sender else '?'} "
                f"is already registered as số đến {found.number} (record {found.id}); the same "
                "document arriving again (e.g. on paper after the electronic copy) is not "
                "registered twice",
                field="document.number_and_symbol",
            )
    if record.document_id:
        found = repo.find_by_document_id(
            record.agency_code, record.direction.value, record.document_id
        )
        if found is not None and str(found.id) != own:
            raise AlreadyExists(
                f"document id {record.document_id} is already registered (record {found.id})",
                field="document.document_id",
            )


def _integrity_to_error(exc: IntegrityError, record: DocumentRecord) -> Exception:
    if is_unique_violation(exc, "documents_book_number"):
        return AlreadyExists(
            "the number is already used in this register book (the counter and the book "
            "disagree; numbers are never reused)",
            field="number",
        )
    if is_unique_violation(exc, "documents_uniqueness"):
        return AlreadyExists(
            f"{record.number_and_symbol} is already registered for {record.agency_code} in "
            f"{record.year}",
            field="number_and_symbol",
        )
    if is_unique_violation(exc, "documents_document_id"):
        return AlreadyExists(
            f"document id {record.document_id} is already registered", field="document.document_id"
        )
    return exc


@dataclass(frozen=True, slots=True)
class PendingInsert:
    """A new document to insert already numbered (registered and numbered at once)."""

    row: dict[str, Any]
    attachments: tuple[Attachment, ...] = ()
    history: tuple[HistoryEntry, ...] = ()


def _draft_view(row: dict[str, Any]) -> SimpleNamespace:
    """A not-yet-written row as the attribute view the pb mapping reads."""
    return SimpleNamespace(**{**_UNNUMBERED, **row})


_UNNUMBERED: dict[str, Any] = {
    "book": None, "year": None, "number": None, "assignees": [], "completed_at": None,
}  # fmt: skip


def _allocate(
    repo: DocumentRepository,
    book: RegisterBookKey,
    document_uuid: str,
    head: pb.NumberAssigned,
    *,
    symbol_suffix: str | None = None,
    document_date: date | None = None,
    status: str | None = None,
    now: datetime,
    pending: PendingInsert | None = None,
) -> tuple[int, str | None]:
    """Number the document in its book, with its event, under the book's counter lock.

    ``head`` is the event without number and symbol (the database adds them). With
    ``pending`` the document is not written yet and is inserted numbered; otherwise the
    stored draft is numbered. Returns the number and the symbol the database wrote.
    """
    event = _event("number_assigned", document_uuid, head)
    if pending is not None:
        allocation = repo.register_numbered(
            pending.row,
            pending.attachments,
            pending.history,
            book_text(book),
            book.year,
            symbol_suffix=symbol_suffix,
            event_head=event,
        )
        RULE.check_allocation(book, allocation.previous, allocation.number)
        return allocation.number, allocation.number_and_symbol
    allocation = repo.allocate_number(
        document_uuid,
        book.agency_code,
        book_text(book),
        book.year,
        symbol_suffix=symbol_suffix,
        document_date=document_date,
        status=status,
        updated_at=now,
        event_head=event,
    )
    RULE.check_allocation(book, allocation.previous, allocation.number)
    return allocation.number, allocation.number_and_symbol


def check_issue_date(issue_date: date, now: datetime) -> None:
    """The clerk dates and numbers a document when it is signed: today or earlier this year.

    A date in an earlier year would append to a closed book (its numbers are final on 31
    December); a later date would number a document not yet signed.
    """
    today = now.astimezone(VIETNAM).date()
    if issue_date > today:
        raise InvalidArgument(
            f"{issue_date.isoformat()} is after today ({today.isoformat()}); a document is "
            "numbered and dated when it is signed",
            field="issue_date",
        )
    if issue_date.year != today.year:
        raise WrongYear(
            "issue_date",
            f"{issue_date.isoformat()} is in {issue_date.year}; the {issue_date.year} register "
            f"books are closed (numbers run from 01 on 1 January to 31 December, NĐ 30/2020 "
            f"Điều 15 khoản 1) and today is in {today.year}",
        )


# -- outgoing ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Registered:
    id: str
    number: int | None  # set when the document was numbered in the same transaction


def register_outgoing(
    uow: UnitOfWork,
    directory: AgencyDirectory,
    message: pb.Document,
    attachments: tuple[Attachment, ...],
    *,
    actor: str,
    now: datetime,
    issue_date: date | None = None,
) -> Registered:
    """Record an outgoing draft; with ``issue_date`` also number it in the same transaction."""
    check_agency_code("document.agency_code", message.agency_code)
    if issue_date is not None:
        check_issue_date(issue_date, now)
    agency = directory.get(message.agency_code, "document.agency_code")
    record = messages.record_from_pb(
        message,
        Direction.OUTGOING,
        attachments=attachments,
        number_and_symbol=_DRAFT_PLACEHOLDER,
        document_date=issue_date or now.date(),
    )
    if record.document_type.abbreviation is None and not message.drafting_unit:
        raise InvalidArgument(
            "a công văn's symbol is agency + drafting unit (e.g. UBND-VX); give drafting_unit",
            field="document.drafting_unit",
        )
    repo = DocumentRepository(uow.session)
    row = messages.record_to_row(record)
    row.update(number_and_symbol=None, document_date=None, uniqueness_key=None)
    document_uuid = str(uuid.uuid4())
    _check_unique(repo, record, None, symbol=False)
    row.update(
        id=document_uuid,
        status=messages.DRAFT,
        drafting_unit=message.drafting_unit or None,
        registered_at=now,
        updated_at=now,
        version=1,
        assignees=[],
    )
    registered = _event(
        "registered",
        document_uuid,
        pb.DocumentRegistered(
            document=messages.row_to_pb(_draft_view(row), list(record.attachments))
        ),
    )
    if issue_date is None:
        try:
            repo.insert(row)
            repo.add_attachments(document_uuid, record.attachments)
        except IntegrityError as exc:
            raise _integrity_to_error(exc, record) from exc
        uow.publish(registered)
        return Registered(document_uuid, None)
    # Signed already: written once, numbered, under the counter lock (registry_0004).
    uow.publish(registered)
    row.update(status=messages.ISSUED, document_date=issue_date)
    pending = PendingInsert(row, record.attachments)
    try:
        number = _number(
            uow, repo, agency.abbreviation, _draft_view(row), issue_date, actor, now, pending
        )
    except IntegrityError as exc:
        raise _integrity_to_error(exc, record) from exc
    return Registered(document_uuid, number)


def attachments_rows(repo: DocumentRepository, document_uuid: str) -> list[Any]:
    return repo.attachments_of([document_uuid])[document_uuid]


def assign_number(
    uow: UnitOfWork,
    directory: AgencyDirectory,
    document_uuid: str,
    issue_date: date,
    *,
    actor: str,
    now: datetime,
) -> int:
    """The clerk numbers and dates a signed outgoing document (NĐ 30/2020 Điều 15)."""
    repo = DocumentRepository(uow.session)
    row = _locked(repo, document_uuid)
    if row.direction != "outgoing":
        raise FailedPrecondition(
            "only outgoing documents get a number; incoming ones get a số đến on arrival",
            field="id",
        )
    _refuse_if_recalled(row)
    if row.status != messages.DRAFT:
        raise FailedPrecondition(
            f"already numbered {row.number_and_symbol} on {row.document_date}; numbers are never "
            "changed — issue a correction as a new document (NĐ 30/2020 Điều 18 khoản 3)",
            field="id",
        )
    check_issue_date(issue_date, now)
    agency = directory.get(row.agency_code, "agency_code")
    return _number(uow, repo, agency.abbreviation, row, issue_date, actor, now)


def _number(
    uow: UnitOfWork,
    repo: DocumentRepository,
    agency_abbreviation: str,
    row: Any,
    issue_date: date,
    actor: str,
    now: datetime,
    pending: PendingInsert | None = None,
) -> int:
    """Number the draft ``row`` (written in this transaction, or ``pending`` to be inserted
    numbered); returns the number."""
    document_uuid = str(row.id)
    document_type = messages.CATALOGUE.by_key(row.document_type)
    confidentiality = Confidentiality(row.confidentiality)
    book = RULE.book_for_outgoing(
        row.agency_code,
        document_type,
        issue_date,
        legal_normative=row.legal_normative,
        confidentiality=confidentiality,
    )
    RULE.check_in_book_year(book, issue_date, "issue_date")
    if not agency_abbreviation:
        raise FailedPrecondition(
            f"{row.agency_code} has no abbreviation in the agency directory; the ký hiệu needs it",
            field="agency_code",
        )

    def symbol_for(number: int) -> DocumentSymbol:
        if document_type.abbreviation is None:
            return DocumentSymbol.for_official_letter(
                number, agency_abbreviation, row.drafting_unit or ""
            )
        return DocumentSymbol.for_typed_document(
            number,
            document_type.abbreviation,
            agency_abbreviation,
            legal_normative_year=book.year if row.legal_normative else None,
        )

    symbol_for(1)  # refuse a bad abbreviation before taking the counter lock
    # Everything that can fail on input is checked; now the short critical section.
    first = symbol_for(1).text
    suffix = first[len(format_number(1)) :]  # "/QĐ-UBND", "/2026/QĐ-UBND", "/UBND-VX"
    head = pb.NumberAssigned(
        id=document_uuid,
        agency_code=row.agency_code,
        book=book_text(book),
        year=book.year,
        issue_date=issue_date.isoformat(),
        actor=actor,
        direction=pb.DIRECTION_OUTGOING,
    )
    try:
        number, written = _allocate(
            repo,
            book,
            document_uuid,
            head,
            symbol_suffix=suffix,
            document_date=issue_date,
            status=messages.ISSUED,
            now=now,
            pending=pending,
        )
    except IntegrityError as exc:
        if is_unique_violation(exc, "documents_uniqueness"):
            raise AlreadyExists(
                f"{row.agency_code} already issued this số/ký hiệu in {book.year}",
                field="number_and_symbol",
            ) from exc
        if is_unique_violation(exc, "documents_book_number"):
            raise AlreadyExists(
                f"the next number of book {book} is already used (the counter and the book "
                "disagree; numbers are never reused)",
                field="number",
            ) from exc
        raise
    if written != symbol_for(number).text:  # the database and the domain must agree
        raise RuntimeError(f"symbol {written!r} written, {symbol_for(number).text!r} expected")
    return number


# -- incoming ------------------------------------------------------------------------------------


def register_incoming(
    uow: UnitOfWork,
    directory: AgencyDirectory,
    holidays: HolidayCalendar,
    message: pb.Document,
    attachments: tuple[Attachment, ...],
    *,
    due_in_working_days: int,
    actor: str,
    now: datetime,
) -> str:
    """Arrival registration: số đến, effective arrival time, đã đến, one transaction.

    The effective arrival and the due date follow the receiving agency's office hours and own
    days off (``registry.office_hours``) on top of Vietnam's public holidays.
    """
    check_agency_code("document.agency_code", message.agency_code)
    directory.get(message.agency_code, "document.agency_code")
    calendar = calendar_for(uow, holidays, message.agency_code)
    received_at = messages.parse_time(message.received_at, "document.received_at") or now
    if received_at > now.replace(microsecond=0) + _CLOCK_SKEW:
        raise InvalidArgument(f"{iso(received_at)} is in the future", field="document.received_at")
    effective = calendar.effective_arrival(received_at)
    due = None
    if due_in_working_days:
        if not 0 < due_in_working_days <= 3650:
            raise InvalidArgument("must be 1..3650 working days", field="due_in_working_days")
        due = calendar.add_working_days(received_at, due_in_working_days)
    first = initial_entry(actor, received_at)
    # Validate the full record first (arrival number 1 stands for the one allocated below).
    incoming = messages.record_from_pb(
        _with_received(message, received_at),
        Direction.INCOMING,
        attachments=attachments,
        arrival_number=1,
        effective_received_at=effective,
        history=(first,),
        due_date=due,
    )
    repo = DocumentRepository(uow.session)
    _check_unique(repo, incoming, None)
    book = RULE.book_for_incoming(
        incoming.agency_code, received_at, confidentiality=incoming.confidentiality
    )
    document_uuid = str(uuid.uuid4())
    row = messages.record_to_row(incoming)
    row.update(
        id=document_uuid,
        status=ProcessingStatus.ARRIVED.value,
        drafting_unit=None,
        registered_at=now,
        updated_at=now,
        version=1,
        assignees=[],
    )
    # The registration event carries the record; the số đến follows in number_assigned.
    uow.publish(
        _event(
            "registered",
            document_uuid,
            pb.DocumentRegistered(
                document=messages.row_to_pb(_draft_view(row), list(incoming.attachments))
            ),
        )
    )
    head = pb.NumberAssigned(
        id=document_uuid,
        agency_code=incoming.agency_code,
        book=book_text(book),
        year=book.year,
        issue_date=received_at.astimezone(VIETNAM).date().isoformat(),
        actor=actor,
        direction=pb.DIRECTION_INCOMING,
    )
    pending = PendingInsert(row, incoming.attachments, (first,))
    try:
        _allocate(repo, book, document_uuid, head, now=now, pending=pending)
    except IntegrityError as exc:
        raise _integrity_to_error(exc, incoming) from exc
    return document_uuid


def _with_received(message: pb.Document, received_at: datetime) -> pb.Document:
    copy = pb.Document()
    copy.CopyFrom(message)
    copy.received_at = iso(received_at)
    return copy


# -- processing ----------------------------------------------------------------------------------


def _status_event(row: Any, entry: Any, version: int) -> Event:
    kind = "recalled" if entry.to_status is ProcessingStatus.RECALLED else "status_changed"
    payload = pb.StatusChanged(
        id=str(row.id),
        agency_code=row.agency_code,
        entry=pb.HistoryEntry(
            from_status=messages.STATUS_TO_PB[entry.from_status.value],
            to_status=messages.STATUS_TO_PB[entry.to_status.value],
            actor=entry.actor,
            at=iso(entry.at),
            note=entry.note or "",
        ),
        version=version,
    )
    return _event(kind, str(row.id), payload)


def require_visible(agency_code: str, document_uuid: str) -> None:
    """Another agency's record is answered exactly like a missing one — same status, field
    and message — so its ids cannot be probed. Province admins and the platform see all."""
    caller = current_caller()
    if caller is not None and not caller.may_act_for(agency_code):
        raise NotFound(f"no document {document_uuid}", field="id")


def _locked(repo: DocumentRepository, document_uuid: str) -> Any:
    """The record under its row lock, in the caller's scope: another agency's record is
    NOT_FOUND like a missing one, decided in the transaction that would change it."""
    row = repo.get(document_uuid, for_update=True)
    if row is None:
        raise NotFound(f"no document {document_uuid}", field="id")
    require_visible(row.agency_code, document_uuid)
    return row


def _incoming_for_update(repo: DocumentRepository, document_uuid: str) -> Any:
    row = _locked(repo, document_uuid)
    _refuse_if_recalled(row)
    if row.direction != "incoming":
        raise FailedPrecondition(
            "processing statuses belong to received documents; this one is outgoing", field="id"
        )
    return row


def _refuse_if_recalled(row: Any) -> None:
    """A recalled outgoing document is frozen: it stays in the sender's records as it was."""
    if row.direction == "outgoing" and row.status == RECALLED:
        raise FailedPrecondition(
            f"{row.number_and_symbol} was recalled by its sender on "
            f"{iso(row.updated_at)}; the record is frozen (see its history)",
            field="id",
        )


# -- recall by the sender ------------------------------------------------------------------------

RECALLED = ProcessingStatus.RECALLED.value
RECALL_REASON_MAX = 2000


def recall_outgoing(
    uow: UnitOfWork,
    document_uuid: str,
    *,
    reason: str,
    actor: str,
    now: datetime,
    expected_version: int = 0,
) -> None:
    """The sender recalls an issued document (QĐ 28/2018 Điều 8 khoản 2; NĐ 30/2020 Điều 18
    khoản 4 điểm b): status thu hồi, the recall in the history, the ``recalled`` event — one
    transaction. The record stays in the sender's register, frozen: its number is never reused.
    """
    reason = nfc(reason or "")
    if not reason:
        raise InvalidArgument(
            "is required: the receivers are told why the document is recalled", field="reason"
        )
    if len(reason) > RECALL_REASON_MAX:
        raise InvalidArgument(f"at most {RECALL_REASON_MAX} characters", field="reason")
    if len(actor) > ACTOR_MAX_LENGTH:
        raise InvalidArgument(f"at most {ACTOR_MAX_LENGTH} characters", field="actor")
    repo = DocumentRepository(uow.session)
    row = _locked(repo, document_uuid)
    if row.direction != "outgoing":
        raise FailedPrecondition(
            "only the sender recalls its outgoing documents; a received document is recalled "
            "by Transition to thu hồi when the sender's notice arrives",
            field="id",
        )
    _refuse_if_recalled(row)
    if row.status != messages.ISSUED:
        raise FailedPrecondition(
            "only an issued document is recalled; a draft was never sent (it has no number)",
            field="status",
        )
    if expected_version and row.version != expected_version:
        raise FailedPrecondition(
            f"the document is at version {row.version}, not {expected_version}; reload and retry",
            field="expected_version",
        )
    version = row.version + 1
    repo.append_outgoing_history(
        document_uuid, messages.ISSUED, RECALLED, actor=actor, at=now, note=reason
    )
    repo.update(document_uuid, {"status": RECALLED, "updated_at": now, "version": version})
    uow.publish(
        _event(
            "recalled",
            document_uuid,
            pb.StatusChanged(
                id=document_uuid,
                agency_code=row.agency_code,
                entry=pb.HistoryEntry(
                    from_status=pb.STATUS_ISSUED,
                    to_status=pb.STATUS_RECALLED,
                    actor=actor,
                    at=iso(now),
                    note=reason,
                ),
                version=version,
            ),
        )
    )


def change_status(
    uow: UnitOfWork,
    document_uuid: str,
    target: ProcessingStatus,
    *,
    actor: str,
    note: str | None,
    now: datetime,
    expected_version: int = 0,
) -> None:
    """One state-machine step, appended to the immutable history, with its event."""
    repo = DocumentRepository(uow.session)
    row = _incoming_for_update(repo, document_uuid)
    if expected_version and row.version != expected_version:
        raise FailedPrecondition(
            f"the document is at version {row.version}, not {expected_version}; reload and retry",
            field="expected_version",
        )
    entry = transition(ProcessingStatus(row.status), target, actor, note, now)
    repo.append_history(document_uuid, entry)
    values: dict[str, Any] = {"status": target.value, "updated_at": now, "version": row.version + 1}
    if target is ProcessingStatus.COMPLETED:
        values["completed_at"] = now
    repo.update(document_uuid, values)
    uow.publish(_status_event(row, entry, row.version + 1))


@dataclass(frozen=True, slots=True)
class AssigneeInput:
    assignee_id: str
    role: str
    due_date: date | None


def assign(
    uow: UnitOfWork,
    holidays: HolidayCalendar,
    document_uuid: str,
    assignees: Sequence[AssigneeInput],
    *,
    due_in_working_days: int,
    instructions: str | None,
    actor: str,
    now: datetime,
) -> None:
    """Distribution: one lead, supporting units, due dates in working days (Điều 23–24) of
    the agency's calendar."""
    repo = DocumentRepository(uow.session)
    row = _incoming_for_update(repo, document_uuid)
    status = ProcessingStatus(row.status)
    if status not in (ProcessingStatus.ACCEPTED, ProcessingStatus.ASSIGNED):
        raise FailedPrecondition(
            f"a document is assigned after it is accepted; it is {status.label!r}", field="status"
        )
    if due_in_working_days and not 0 < due_in_working_days <= 3650:
        raise InvalidArgument("must be 1..3650 working days", field="due_in_working_days")
    start = row.effective_received_at or row.received_at
    calendar = calendar_for(uow, holidays, row.agency_code)
    default_due = (
        calendar.add_working_days(start, due_in_working_days) if due_in_working_days else None
    )
    try:
        roles = [AssignmentRole(a.role) for a in assignees]
    except ValueError:
        raise InvalidArgument(
            "each assignee needs a role: lead, support or information", field="assignees"
        ) from None
    assignment = Assignment(
        tuple(
            Assignee(a.assignee_id, role, a.due_date or default_due)
            for a, role in zip(assignees, roles, strict=True)
        ),
        instructions,
    )
    version = row.version + 1
    values: dict[str, Any] = {
        "assignees": [
            {
                "assignee_id": a.assignee_id,
                "role": a.role.value,
                "due_date": a.due_date.isoformat() if a.due_date else None,
            }
            for a in assignment.assignees
        ],
        "distribution_instructions": assignment.instructions or row.distribution_instructions,
        "due_date": assignment.due_date or row.due_date,
        "updated_at": now,
        "version": version,
    }
    if status is ProcessingStatus.ACCEPTED:
        entry = transition(status, ProcessingStatus.ASSIGNED, actor, assignment.instructions, now)
        repo.append_history(document_uuid, entry)
        values["status"] = ProcessingStatus.ASSIGNED.value
        uow.publish(_status_event(row, entry, version))
    repo.update(document_uuid, values)
    uow.publish(
        _event(
            "assigned",
            document_uuid,
            pb.DocumentAssigned(
                id=document_uuid,
                agency_code=row.agency_code,
                assignees=[
                    pb.Assignee(
                        assignee_id=a["assignee_id"],
                        role=messages.ROLE_TO_PB[a["role"]],
                        due_date=a["due_date"] or "",
                    )
                    for a in values["assignees"]
                ],
                instructions=assignment.instructions or "",
                actor=actor,
            ),
        )
    )


# -- reading -------------------------------------------------------------------------------------


def load(uow: UnitOfWork, document_uuid: str) -> pb.Document:
    try:
        uuid.UUID(document_uuid)
    except ValueError:
        raise InvalidArgument(f"{document_uuid!r} is not a record id (UUID)", field="id") from None
    repo = DocumentRepository(uow.session)
    row = repo.get(document_uuid)
    if row is None:
        raise NotFound(f"no document {document_uuid}", field="id")
    require_visible(row.agency_code, document_uuid)
    return messages.row_to_pb(
        row,
        attachments_rows(repo, document_uuid),
        repo.files_of([document_uuid])[document_uuid],
    )
