"""Reading and writing registry records in PostgreSQL (one session = one unit of work)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.chassis.events import Event
from services.chassis.text import fold
from services.registry.adapters.orm import (
    attachments,
    documents,
    file_versions,
    history,
    office_hours,
)
from services.registry.domain.record import Attachment
from services.registry.domain.status import HistoryEntry, ProcessingStatus

OPEN_STATUSES = (
    ProcessingStatus.ARRIVED.value,
    ProcessingStatus.ACCEPTED.value,
    ProcessingStatus.ASSIGNED.value,
    ProcessingStatus.IN_PROGRESS.value,
)
WITHDRAWN_STATUSES = (
    ProcessingStatus.REJECTED.value,
    ProcessingStatus.RECALLED.value,
    ProcessingStatus.DELETED.value,
)
# Built once: constructing a 40-column INSERT per call costs more CPU than executing it.
_INSERT_DOCUMENT = documents.insert().returning(documents)
_ALLOCATE_NUMBER = sa.text(
    "SELECT previous, allocated, number_and_symbol FROM registry.allocate_number("
    ":document, :agency, :book, :year, :suffix, :document_date, :status, :updated_at, "
    ":event_id, :topic, :type, :source, :dataschema, :time, :payload_head)"
)


_REGISTER_NUMBERED = sa.text(
    "SELECT previous, allocated, number_and_symbol FROM registry.register_numbered("
    "CAST(:document AS jsonb), CAST(:attachments AS jsonb), CAST(:history AS jsonb), "
    ":book, :year, :suffix, :event_id, :topic, :type, :source, :dataschema, :time, "
    ":payload_head)"
)


def _json_default(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a document row")


@dataclass(frozen=True, slots=True)
class Allocation:
    previous: int  # the counter before this allocation
    number: int
    number_and_symbol: str | None


# Newest-document windows a text search scans before it asks the trigram index (see search).
SEARCH_WINDOWS = (2_000, 50_000)
# The arrival date in Vietnam: what "received in the period" means.
_ARRIVAL_DAY = sa.cast(sa.func.timezone("Asia/Ho_Chi_Minh", documents.c.received_at), sa.Date)
_COMPLETED_DAY = sa.cast(sa.func.timezone("Asia/Ho_Chi_Minh", documents.c.completed_at), sa.Date)


@dataclass(frozen=True, slots=True)
class DocumentFilter:
    agency_code: str
    direction: str | None = None
    book: str | None = None
    year: int | None = None
    document_type: str | None = None
    number_from: int | None = None
    number_to: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    statuses: Sequence[str] = ()
    urgencies: Sequence[int] = ()
    overdue_on: date | None = None  # only documents overdue on that day
    query: str = ""


def _window(spec: DocumentFilter) -> list[Any]:
    """What the newest-documents windows walk: the agency, or one year of it (both indexed)."""
    conditions = [documents.c.agency_code == spec.agency_code]
    if spec.year:
        conditions.append(documents.c.year == spec.year)
    return conditions


def _before(source: Any, seq: int | None) -> list[Any]:
    return [] if seq is None else [source.c.seq < seq]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class DocumentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- documents ---------------------------------------------------------------------------

    def insert(self, values: dict[str, Any]) -> Any:
        """Insert one document; returns the stored row (defaults and ``seq`` filled in)."""
        return self.session.execute(_INSERT_DOCUMENT, values).one()

    def update(self, document_uuid: str, values: dict[str, Any]) -> None:
        self.session.execute(
            documents.update().where(documents.c.id == document_uuid).values(**values)
        )

    def get(self, document_uuid: str, *, for_update: bool = False) -> Any:
        query = sa.select(documents).where(documents.c.id == document_uuid)
        if for_update:
            query = query.with_for_update()
        return self.session.execute(query).first()

    def find_by_uniqueness(self, agency_code: str, direction: str, key: str) -> Any:
        return self.session.execute(
            sa.select(documents.c.id, documents.c.number, documents.c.number_and_symbol).where(
                documents.c.agency_code == agency_code,
                documents.c.direction == direction,
                documents.c.uniqueness_key == key,
            )
        ).first()

    def find_by_document_id(self, agency_code: str, direction: str, document_id: str) -> Any:
        return self.session.execute(
            sa.select(documents.c.id).where(
                documents.c.agency_code == agency_code,
                documents.c.direction == direction,
                documents.c.document_id == document_id,
            )
        ).first()

    # -- attachments and history -------------------------------------------------------------

    def add_attachments(self, document_uuid: str, items: Sequence[Attachment]) -> None:
        if not items:
            return
        self.session.execute(
            attachments.insert(),
            [
                {
                    "document_uuid": document_uuid,
                    "position": position,
                    "file_name": a.file_name,
                    "media_type": a.media_type,
                    "size_bytes": a.size_bytes,
                    "sha256": a.sha256,
                }
                for position, a in enumerate(items)
            ],
        )

    def attachments_of(self, document_uuids: Sequence[str]) -> dict[str, list[Any]]:
        found: dict[str, list[Any]] = {u: [] for u in document_uuids}
        if not document_uuids:
            return found
        rows = self.session.execute(
            sa.select(attachments)
            .where(attachments.c.document_uuid.in_(list(document_uuids)))
            .order_by(attachments.c.document_uuid, attachments.c.position)
        )
        for row in rows:
            found[str(row.document_uuid)].append(row)
        return found

    def files_of(self, document_uuids: Sequence[str]) -> dict[str, list[Any]]:
        """The main-file versions of several records, oldest first — one query for a page."""
        found: dict[str, list[Any]] = {u: [] for u in document_uuids}
        if not document_uuids:
            return found
        rows = self.session.execute(
            sa.select(file_versions)
            .where(file_versions.c.document_uuid.in_(list(document_uuids)))
            .order_by(file_versions.c.document_uuid, file_versions.c.position)
        )
        for row in rows:
            found[str(row.document_uuid)].append(row)
        return found

    def add_file_version(self, document_uuid: str, position: int, values: dict[str, Any]) -> None:
        """Append one version; the caller holds the document row's lock (so ``position`` is
        the next free one — the primary key refuses a duplicate all the same)."""
        self.session.execute(
            file_versions.insert().values(document_uuid=document_uuid, position=position, **values)
        )

    def append_history(self, document_uuid: str, entry: HistoryEntry) -> None:
        self.session.execute(
            history.insert().values(
                document_uuid=document_uuid,
                from_status=entry.from_status.value if entry.from_status else None,
                to_status=entry.to_status.value,
                actor=entry.actor,
                at=entry.at,
                note=entry.note,
            )
        )

    def append_outgoing_history(
        self,
        document_uuid: str,
        from_status: str,
        to_status: str,
        *,
        actor: str,
        at: datetime,
        note: str | None,
    ) -> None:
        """A history line of an outgoing document (issued → recalled), outside the receiver's
        state machine that :class:`HistoryEntry` checks."""
        self.session.execute(
            history.insert().values(
                document_uuid=document_uuid,
                from_status=from_status,
                to_status=to_status,
                actor=actor,
                at=at,
                note=note,
            )
        )

    def append_note(
        self, document_uuid: str, status: str, *, actor: str, at: datetime, note: str
    ) -> None:
        """A history line that records a change without a status change (a file version)."""
        self.session.execute(
            history.insert().values(
                document_uuid=document_uuid,
                from_status=status,
                to_status=status,
                actor=actor,
                at=at,
                note=note,
            )
        )

    def history_of(self, document_uuid: str) -> list[Any]:
        return list(
            self.session.execute(
                sa.select(history)
                .where(history.c.document_uuid == document_uuid)
                .order_by(history.c.seq)
            )
        )

    # -- numbering ---------------------------------------------------------------------------

    def allocate_number(
        self,
        document_uuid: str,
        agency_code: str,
        book: str,
        year: int,
        *,
        symbol_suffix: str | None,
        document_date: date | None,
        status: str | None,
        updated_at: datetime,
        event_head: Event,
    ) -> Allocation:
        """Take the book's next number and record it — one call, see migration registry_0002.

        ``SELECT … FOR UPDATE`` on the (agency, book, year) counter row (created at 0 on first
        use) queues concurrent allocators of the same book — in this process or another
        replica — until this transaction ends; a rollback releases the lock without having
        moved the counter, so there is no gap and no duplicate. The same call writes the number
        (and, for outgoing documents, ``số/ký hiệu`` = number + ``symbol_suffix``) on the
        document and the ``number_assigned`` event, whose payload is ``event_head.data``
        followed by the number and symbol fields.
        """
        row = self.session.execute(
            _ALLOCATE_NUMBER,
            {
                "document": document_uuid,
                "agency": agency_code,
                "book": book,
                "year": year,
                "suffix": symbol_suffix,
                "document_date": document_date,
                "status": status,
                "updated_at": updated_at,
                "event_id": event_head.id,
                "topic": event_head.topic,
                "type": event_head.type,
                "source": event_head.source,
                "dataschema": event_head.dataschema,
                "time": event_head.time,
                "payload_head": event_head.data,
            },
        ).one()
        return Allocation(row.previous, row.allocated, row.number_and_symbol)

    def register_numbered(
        self,
        row: dict[str, Any],
        attachment_items: Sequence[Attachment],
        history_entries: Sequence[HistoryEntry],
        book: str,
        year: int,
        *,
        symbol_suffix: str | None,
        event_head: Event,
    ) -> Allocation:
        """Insert a new document already numbered — one call, see migration registry_0004.

        The counter lock is taken first, then the document (with its number, and for outgoing
        documents ``số/ký hiệu`` = number + ``symbol_suffix``), its attachments and history and
        the ``number_assigned`` event are written: every index is written once, and the lock is
        held for this call and the COMMIT.
        """
        attachments_json = [
            {"position": i, "file_name": a.file_name, "media_type": a.media_type,
             "size_bytes": a.size_bytes, "sha256": a.sha256}
            for i, a in enumerate(attachment_items)
        ]  # fmt: skip
        history_json = [
            {"from_status": e.from_status.value if e.from_status else None,
             "to_status": e.to_status.value, "actor": e.actor, "at": e.at.isoformat(),
             "note": e.note}
            for e in history_entries
        ]  # fmt: skip
        found = self.session.execute(
            _REGISTER_NUMBERED,
            {
                "document": json.dumps(row, default=_json_default, ensure_ascii=False),
                "attachments": json.dumps(attachments_json, ensure_ascii=False),
                "history": json.dumps(history_json, ensure_ascii=False),
                "book": book,
                "year": year,
                "suffix": symbol_suffix,
                "event_id": event_head.id,
                "topic": event_head.topic,
                "type": event_head.type,
                "source": event_head.source,
                "dataschema": event_head.dataschema,
                "time": event_head.time,
                "payload_head": event_head.data,
            },
        ).one()
        return Allocation(found.previous, found.allocated, found.number_and_symbol)

    # -- reading -----------------------------------------------------------------------------

    def search(self, spec: DocumentFilter, *, before_seq: int | None, limit: int) -> list[Any]:
        """Newest first, keyset-paginated on ``seq`` (stable under concurrent inserts).

        Without words the (agency, seq) index walk is the plan. With words, PostgreSQL
        multiplies the words' selectivities and, expecting a handful of rows, takes the
        trigram index, fetches every match and sorts them — half a second for a common subject
        in a million documents. So a text search first scans the newest documents in growing
        windows (a bounded index walk that finds common words at once) and only then asks the
        trigram index for older matches (cheap exactly when words are rare).
        """
        words = fold(spec.query).split()
        if not words:
            return self._page(documents, spec, words, before_seq, limit)
        found: list[Any] = []
        boundary = before_seq
        for window in SEARCH_WINDOWS:
            newest = (
                sa.select(documents)
                .where(*_window(spec), *_before(documents, boundary))
                .order_by(documents.c.seq.desc())
                .limit(window)
                .subquery("newest")
            )
            found += self._page(newest, spec, words, None, limit - len(found))
            if len(found) >= limit:
                return found
            edge = self.session.execute(
                sa.select(sa.func.min(sa.column("seq")), sa.func.count()).select_from(
                    sa.select(documents.c.seq)
                    .where(*_window(spec), *_before(documents, boundary))
                    .order_by(documents.c.seq.desc())
                    .limit(window)
                    .subquery()
                )
            ).one()
            if edge[1] < window:
                return found  # the window held every older document it could walk
            boundary = edge[0]
        return found + self._page(documents, spec, words, boundary, limit - len(found))

    def _page(
        self, source: Any, spec: DocumentFilter, words: list[str], before: int | None, limit: int
    ) -> list[Any]:
        c = source.c
        query = sa.select(source).where(c.agency_code == spec.agency_code)
        if spec.direction:
            query = query.where(c.direction == spec.direction)
        if spec.book:
            query = query.where(c.book == spec.book)
        if spec.year:
            query = query.where(c.year == spec.year)
        if spec.document_type:
            query = query.where(c.document_type == spec.document_type)
        if spec.number_from:
            query = query.where(c.number >= spec.number_from)
        if spec.number_to:
            query = query.where(c.number <= spec.number_to)
        arrival_day = sa.cast(sa.func.timezone("Asia/Ho_Chi_Minh", c.received_at), sa.Date)
        day = sa.func.coalesce(arrival_day, c.document_date)
        if spec.date_from:
            query = query.where(day >= spec.date_from)
        if spec.date_to:
            query = query.where(day <= spec.date_to)
        if spec.statuses:
            query = query.where(c.status.in_(list(spec.statuses)))
        if spec.urgencies:
            query = query.where(c.urgency.in_(list(spec.urgencies)))
        if spec.overdue_on:
            query = query.where(c.status.in_(OPEN_STATUSES), c.due_date < spec.overdue_on)
        for word in words:
            query = query.where(c.subject_folded.like(f"%{_escape_like(word)}%", escape="\\"))
        query = query.where(*_before(source, before))
        return list(self.session.execute(query.order_by(c.seq.desc()).limit(limit)))

    def book_rows(self, agency_code: str, book: str, first: date, last: date) -> list[Any]:
        """The rows of a register book for a period, in number order."""
        d = documents.c
        day = _ARRIVAL_DAY if book.startswith("incoming") else d.document_date
        return list(
            self.session.execute(
                sa.select(documents)
                .where(d.agency_code == agency_code, d.book == book, day >= first, day <= last)
                .order_by(d.year, d.number)
            )
        )

    def statistics(
        self, agency_codes: Sequence[str], first: date, last: date, today: date
    ) -> list[Any]:
        d = documents.c
        outgoing_in_period = sa.and_(
            # A recalled document was sent all the same: it stays in the count of its period.
            d.direction == "outgoing",
            d.status.in_(("issued", "recalled")),
            d.document_date.between(first, last),
        )
        incoming_in_period = sa.and_(d.direction == "incoming", _ARRIVAL_DAY.between(first, last))
        completed = sa.and_(incoming_in_period, d.status == ProcessingStatus.COMPLETED.value)
        is_open = sa.and_(incoming_in_period, d.status.in_(OPEN_STATUSES))

        def count(condition: Any) -> Any:
            return sa.func.count().filter(condition)

        query = (
            sa.select(
                d.agency_code,
                count(outgoing_in_period).label("sent"),
                count(incoming_in_period).label("received"),
                count(
                    sa.and_(completed, sa.or_(d.due_date.is_(None), d.due_date >= _COMPLETED_DAY))
                ).label("completed_on_time"),
                count(sa.and_(completed, d.due_date < _COMPLETED_DAY)).label("completed_late"),
                count(sa.and_(is_open, d.due_date < today)).label("overdue"),
                count(sa.and_(is_open, sa.or_(d.due_date.is_(None), d.due_date >= today))).label(
                    "pending"
                ),
                count(sa.and_(incoming_in_period, d.status.in_(WITHDRAWN_STATUSES))).label(
                    "withdrawn"
                ),
            )
            .where(sa.or_(outgoing_in_period, incoming_in_period))
            .group_by(d.agency_code)
            .order_by(d.agency_code)
        )
        if agency_codes:
            query = query.where(d.agency_code.in_(list(agency_codes)))
        return list(self.session.execute(query))


class OfficeHoursRepository:
    """Per-agency office hours (configuration rows, one per agency, registry_0005)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, agency_code: str) -> Any:
        return self.session.execute(
            sa.select(office_hours).where(office_hours.c.agency_code == agency_code)
        ).first()

    def put(self, values: dict[str, Any]) -> None:
        """Insert or replace the agency's row."""
        statement = pg_insert(office_hours).values(**values)
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[office_hours.c.agency_code],
                set_={k: statement.excluded[k] for k in values if k != "agency_code"},
            )
        )


def is_unique_violation(exc: Exception, constraint: str) -> bool:
    """Whether ``exc`` (an IntegrityError) broke the named unique constraint or index."""
    diag = getattr(getattr(exc, "orig", None), "diag", None)
    return getattr(diag, "constraint_name", None) == constraint
