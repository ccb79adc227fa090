"""The registry service over gRPC: one thin method per RPC, each a use case in one unit of work.

Agency scope (issue #7: checked again by the service, not only at the gateway): with an end
user in ``lt-caller``, a record looked up or changed by id belongs to the user's agency or is
NOT_FOUND (checked in the transaction that reads or changes it); a request naming an agency
(List, statistics, book export, office hours, registrations) names the user's own or is
PERMISSION_DENIED. Province admins act for every agency; a call without ``lt-caller`` is the
platform itself (distribution's consumers registering incoming documents, the CLI).

Errors (docs/registry.md): malformed input → INVALID_ARGUMENT naming the field; unknown agency,
illegal status change, state secret, wrong state → FAILED_PRECONDITION; duplicate number,
symbol or document id → ALREADY_EXISTS; unknown record → NOT_FOUND.
"""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import Any, ClassVar

import grpc
from lienthong.identifiers.v1 import identifiers_pb2_grpc
from lienthong.registry.v1 import registry_pb2 as pb

from services.chassis.caller import current_caller, require_agency
from services.chassis.clients import RpcClient
from services.chassis.db import Database, UnitOfWork
from services.chassis.entrypoints import Grpc
from services.chassis.errors import InvalidArgument, PermissionDenied
from services.chassis.timeutil import now
from services.registry import config as registry_config
from services.registry.adapters import orm
from services.registry.adapters.blobs import Blobs, BlobStore
from services.registry.adapters.repository import DocumentFilter, DocumentRepository
from services.registry.domain.calendar import HolidayCalendar
from services.registry.domain.register_books import VIETNAM
from services.registry.service_layer import books, files, messages, office_hours, use_cases
from services.registry.service_layer.directory import GrpcAgencyDirectory

rpc = Grpc.implementing(pb, "Registry")
MAX_PAGE = 500
ACTOR_DEFAULT = "system"


def _actor(text: str) -> str:
    return text or ACTOR_DEFAULT


def parse_month(text: str, field: str = "month") -> tuple[date, date]:
    """``2026-11`` → (2026-11-01, 2026-11-30)."""
    try:
        year, month = (int(part) for part in text.split("-"))
        first = date(year, month, 1)
    except ValueError:
        raise InvalidArgument(f"{text!r} must be a month yyyy-MM", field=field) from None
    return first, first.replace(day=month_calendar.monthrange(year, month)[1])


def _require_named_agency(agency_code: str, field: str) -> None:
    """The request's agency is the caller's; an empty code is left to the field's validation
    (INVALID_ARGUMENT "is required" says more than a refusal)."""
    if agency_code:
        require_agency(agency_code, field=field)


def _require_statistics_scope(agency_codes: Sequence[str]) -> None:
    """An end user sees the statistics of the agencies they act for; "every agency" (no code)
    is the province's view."""
    caller = current_caller()
    if caller is None or caller.is_province_admin:
        return
    if not agency_codes:
        raise PermissionDenied(
            f"{caller.username} of {caller.agency_code} sees only that agency's statistics; "
            "give agency_codes",
            field="agency_codes",
        )
    for index, code in enumerate(agency_codes):
        require_agency(code, field=f"agency_codes[{index}]")


class RegistryService:
    name = "registry"
    uow: Callable[[], UnitOfWork] = Database(schema=orm.SCHEMA, metadata=orm.metadata)  # type: ignore[assignment]
    blobs: BlobStore = Blobs()  # type: ignore[assignment]
    identifiers: Any = RpcClient("identifiers", identifiers_pb2_grpc.IdentifiersStub)
    error_statuses: ClassVar[dict[type[Exception], str]] = {}

    def setup(self) -> None:
        self.directory = GrpcAgencyDirectory(self.identifiers)
        # Vietnam's public holidays 2025–2027; each agency's office hours and own days off
        # are read from registry.office_hours in the transaction that uses them.
        self.holidays = HolidayCalendar.load_default()

    def _document(self, document_uuid: str) -> pb.Document:
        with self.uow() as uow:
            return use_cases.load(uow, document_uuid)

    # -- writing -----------------------------------------------------------------------------
    @rpc
    def RegisterOutgoing(
        self, request: pb.RegisterOutgoingRequest, context: grpc.ServicerContext
    ) -> pb.Document:
        _require_named_agency(request.document.agency_code, "document.agency_code")
        issue_date = messages.parse_date(request.issue_date, "issue_date")
        attachments = use_cases.store_attachments(self.blobs, request.document.attachments)
        with self.uow() as uow:
            registered = use_cases.register_outgoing(
                uow,
                self.directory,
                request.document,
                attachments,
                actor=_actor(request.actor),
                now=now(),
                issue_date=issue_date,
            )
            uow.commit()
        return self._document(registered.id)

    @rpc
    def AssignNumber(
        self, request: pb.AssignNumberRequest, context: grpc.ServicerContext
    ) -> pb.Document:
        issue_date = messages.parse_date(request.issue_date, "issue_date")
        if issue_date is None:
            raise InvalidArgument("is required (yyyy-MM-dd)", field="issue_date")
        self._document(request.id)  # NOT_FOUND / bad id before any lock
        with self.uow() as uow:
            use_cases.assign_number(
                uow, self.directory, request.id, issue_date, actor=_actor(request.actor), now=now()
            )
            uow.commit()
        return self._document(request.id)

    @rpc
    def RegisterIncoming(
        self, request: pb.RegisterIncomingRequest, context: grpc.ServicerContext
    ) -> pb.Document:
        # Before any blob is written. No caller: distribution's consumer registering a
        # document delivered to this agency (the platform itself).
        _require_named_agency(request.document.agency_code, "document.agency_code")
        attachments = use_cases.store_attachments(self.blobs, request.document.attachments)
        with self.uow() as uow:
            document_uuid = use_cases.register_incoming(
                uow,
                self.directory,
                self.holidays,
                request.document,
                attachments,
                due_in_working_days=request.due_in_working_days,
                actor=_actor(request.actor),
                now=now(),
            )
            uow.commit()
        return self._document(document_uuid)

    @rpc
    def Transition(
        self, request: pb.TransitionRequest, context: grpc.ServicerContext
    ) -> pb.Document:
        target = messages.processing_status_of(request.target, "target")
        self._document(request.id)
        with self.uow() as uow:
            use_cases.change_status(
                uow,
                request.id,
                target,
                actor=_actor(request.actor),
                note=request.note or None,
                now=now(),
                expected_version=request.expected_version,
            )
            uow.commit()
        return self._document(request.id)

    @rpc
    def Assign(self, request: pb.AssignRequest, context: grpc.ServicerContext) -> pb.Document:
        assignees = [
            use_cases.AssigneeInput(
                assignee_id=a.assignee_id,
                role=messages.PB_TO_ROLE.get(a.role, ""),
                due_date=messages.parse_date(a.due_date, f"assignees[{i}].due_date"),
            )
            for i, a in enumerate(request.assignees)
        ]
        self._document(request.id)
        with self.uow() as uow:
            use_cases.assign(
                uow,
                self.holidays,
                request.id,
                assignees,
                due_in_working_days=request.due_in_working_days,
                instructions=request.instructions or None,
                actor=_actor(request.actor),
                now=now(),
            )
            uow.commit()
        return self._document(request.id)

    @rpc
    def Recall(self, request: pb.RecallRequest, context: grpc.ServicerContext) -> pb.Document:
        self._document(request.id)
        with self.uow() as uow:
            use_cases.recall_outgoing(
                uow,
                request.id,
                reason=request.reason,
                actor=_actor(request.actor),
                now=now(),
                expected_version=request.expected_version,
            )
            uow.commit()
        return self._document(request.id)

    # -- reading -----------------------------------------------------------------------------
    @rpc
    def Get(self, request: pb.GetRequest, context: grpc.ServicerContext) -> pb.Document:
        return self._document(request.id)

    @rpc
    def List(self, request: pb.ListRequest, context: grpc.ServicerContext) -> pb.DocumentPage:
        if not request.agency_code:
            raise InvalidArgument("is required", field="agency_code")
        require_agency(request.agency_code)
        size = request.page_size or 50
        if not 1 <= size <= MAX_PAGE:
            raise InvalidArgument(f"must be 1..{MAX_PAGE}", field="page_size")
        before = None
        if request.page_token:
            if not request.page_token.isdigit():
                raise InvalidArgument("is not a token this service gave", field="page_token")
            before = int(request.page_token)
        statuses = []
        for index, value in enumerate(request.statuses):
            name = messages.PB_TO_STATUS.get(value)
            if name is None:
                raise InvalidArgument(f"{value} is not a status", field=f"statuses[{index}]")
            statuses.append(name)
        direction = None
        if request.direction:
            direction = messages.direction_of(request.direction).value
        spec = DocumentFilter(
            agency_code=request.agency_code,
            direction=direction,
            book=request.book or None,
            year=request.year or None,
            document_type=request.document_type or None,
            number_from=request.number_from or None,
            number_to=request.number_to or None,
            date_from=messages.parse_date(request.date_from, "date_from"),
            date_to=messages.parse_date(request.date_to, "date_to"),
            statuses=statuses,
            urgencies=[
                messages.urgency_of(u, f"urgencies[{i}]").value
                for i, u in enumerate(request.urgencies)
            ],
            overdue_on=now().astimezone(VIETNAM).date() if request.overdue_only else None,
            query=request.query,
        )
        with self.uow() as uow:
            repo = DocumentRepository(uow.session)
            rows = repo.search(spec, before_seq=before, limit=size + 1)
            shown = rows[:size]
            shown_ids = [str(r.id) for r in shown]
            attached = repo.attachments_of(shown_ids)
            versions = repo.files_of(shown_ids)  # one query for the page
        page = pb.DocumentPage(
            documents=[
                messages.row_to_pb(r, attached[str(r.id)], versions[str(r.id)]) for r in shown
            ]
        )
        if len(rows) > size:
            page.next_page_token = str(shown[-1].seq)
        return page

    @rpc
    def GetHistory(self, request: pb.HistoryRequest, context: grpc.ServicerContext) -> pb.History:
        self._document(request.id)
        with self.uow() as uow:
            rows = DocumentRepository(uow.session).history_of(request.id)
        return pb.History(entries=[messages.history_entry_pb(r) for r in rows])

    @rpc
    def GetStatistics(
        self, request: pb.StatisticsRequest, context: grpc.ServicerContext
    ) -> pb.Statistics:
        first = messages.parse_date(request.date_from, "date_from")
        last = messages.parse_date(request.date_to, "date_to")
        if first is None or last is None:
            raise InvalidArgument("date_from and date_to are required", field="date_from")
        if last < first:
            raise InvalidArgument("is before date_from", field="date_to")
        today = messages.parse_date(request.today, "today") or now().date()
        _require_statistics_scope(request.agency_codes)
        with self.uow() as uow:
            rows = DocumentRepository(uow.session).statistics(
                list(request.agency_codes), first, last, today
            )
        return pb.Statistics(
            agencies=[
                pb.AgencyStatistics(
                    agency_code=r.agency_code,
                    sent=r.sent,
                    received=r.received,
                    completed_on_time=r.completed_on_time,
                    completed_late=r.completed_late,
                    overdue=r.overdue,
                    pending=r.pending,
                    withdrawn=r.withdrawn,
                )
                for r in rows
            ]
        )

    @rpc
    def ExportBook(
        self, request: pb.ExportBookRequest, context: grpc.ServicerContext
    ) -> pb.ExportBookResponse:
        if not request.agency_code:
            raise InvalidArgument("is required", field="agency_code")
        require_agency(request.agency_code)
        kind = messages.direction_of(request.kind, "kind")
        first, last = parse_month(request.month)
        agency_name = request.agency_name or self.directory.get(request.agency_code).name
        fmt = {pb.BOOK_FORMAT_PDF: "pdf", pb.BOOK_FORMAT_CSV: "csv", pb.BOOK_FORMAT_XLSX: "xlsx"}
        if request.format not in fmt:
            raise InvalidArgument("must be PDF, CSV or XLSX", field="format")
        with self.uow() as uow:
            rows = DocumentRepository(uow.session).book_rows(
                request.agency_code, kind.value, first, last
            )
        book = books.RegisterBook.of(kind, request.agency_code, agency_name, first, rows)
        content = books.render(book, fmt[request.format])
        return pb.ExportBookResponse(
            content=content, media_type=books.MEDIA_TYPES[fmt[request.format]], rows=len(rows)
        )

    # -- the main file -----------------------------------------------------------------------
    @rpc
    def PutFileVersion(
        self, request_iterator: Iterator[pb.FileChunk], context: grpc.ServicerContext
    ) -> pb.Document:
        chunks = iter(request_iterator)
        header = files.parse_header(files.first_header(chunks), default_actor=ACTOR_DEFAULT)
        with self.uow() as uow:  # refuse before any byte is transferred
            files.check_upload(uow, header)
        ref = files.store_upload(self.blobs, chunks, max_bytes=registry_config.max_file_bytes())
        with self.uow() as uow:
            files.add_file_version(uow, header, ref, now=now())
            uow.commit()
        return self._document(header.document_uuid)

    @rpc
    def GetFile(
        self, request: pb.GetFileRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.FileChunk]:
        with self.uow() as uow:  # no connection is held while the bytes stream
            version = files.find_file(uow, request.id, request.kind, request.sha256)
        yield from files.file_chunks(self.blobs, version)

    # -- configuration -----------------------------------------------------------------------
    @rpc
    def SetOfficeHours(
        self, request: pb.SetOfficeHoursRequest, context: grpc.ServicerContext
    ) -> pb.OfficeHours:
        _require_named_agency(request.office_hours.agency_code, "office_hours.agency_code")
        with self.uow() as uow:
            hours = office_hours.set_office_hours(
                uow,
                self.directory,
                request.office_hours,
                actor=_actor(request.actor),
                now=now(),
            )
            uow.commit()
        return office_hours.hours_to_pb(hours)

    @rpc
    def GetOfficeHours(
        self, request: pb.GetOfficeHoursRequest, context: grpc.ServicerContext
    ) -> pb.OfficeHours:
        if not request.agency_code:
            raise InvalidArgument("is required", field="agency_code")
        require_agency(request.agency_code)
        with self.uow() as uow:
            return office_hours.hours_to_pb(office_hours.hours_of(uow, request.agency_code))
