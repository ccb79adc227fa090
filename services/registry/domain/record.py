"""The document record: one outgoing (văn bản đi) or incoming (văn bản đến) document.

Fields follow QĐ 28/2018/QĐ-TTg Điều 10 khoản 2 (the information an e-document system must
show) and the input metadata of NĐ 30/2020/NĐ-CP Phụ lục VI, which QĐ 36/2013 Long An Điều 11
khoản 4 lists in the same way:

====================================  =========================================================
QĐ 28/2018 Điều 10 khoản 2            field
====================================  =========================================================
a) mã định danh cơ quan               ``agency_code`` (the agency whose register holds it)
b) mã định danh văn bản               ``document_id``
c) số và ký hiệu                      ``number_and_symbol``
d) ngày, tháng, năm văn bản           ``document_date``
đ) loại văn bản                       ``document_type``, ``legal_normative``
e) trích yếu nội dung                 ``subject``
g) hồ sơ, tài liệu gửi kèm            ``attachments``
h) trạng thái xử lý                   ``status`` (incoming)
i) chức vụ, họ tên người ký           ``signer``
k) mức độ khẩn                        ``urgency``
l) bên gửi                            ``sender``
m) bên nhận                           ``receivers``
n) thời gian gửi, nhận                ``sent_at``, ``received_at``, ``effective_received_at``
o) thời hạn xử lý                     ``due_date``
p) lịch sử gửi, nhận                  ``history``
q) thông tin khác                     ``extra``
====================================  =========================================================

From NĐ 30/2020 Phụ lục VI / QĐ 36/2013 Điều 11 khoản 4: ``arrival_number`` (số đến),
``confidentiality`` (độ mật), ``language`` (ngôn ngữ), ``page_count`` (số trang / số tờ),
``number_of_copies`` (số lượng bản phát hành), ``dossier_code`` (mã hồ sơ),
``distribution_instructions`` (ý kiến phân phối), ``note`` (ghi chú). ``corrects`` links an
amendment, replacement or erratum to the document it changes (NĐ 30/2020 Điều 18 khoản 3).

Lengths: where the project has no official length to quote, it uses the ones below and
documents them in ``docs/registry-domain.md`` — the DB schema uses the same constants.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import Enum
from types import MappingProxyType

from services.chassis.text import fold
from services.registry.domain.classification import (
    Confidentiality,
    Signer,
    Urgency,
    ensure_exchangeable,
)
from services.registry.domain.document_types import DocumentType
from services.registry.domain.errors import InvalidField
from services.registry.domain.fields import (
    optional_text,
    require_aware_datetime,
    require_date,
    require_int,
    require_text,
)
from services.registry.domain.register_books import (
    VIETNAM,
    Direction,
    check_agency_code,
)
from services.registry.domain.status import HistoryEntry, ProcessingStatus, replay
from services.registry.domain.symbols import NUMBER_AND_SYMBOL_MAX_LENGTH

DOCUMENT_ID_MAX = 100
SUBJECT_MAX = 1000
PARTY_NAME_MAX = 255
LANGUAGE_MAX = 100
DOSSIER_CODE_MAX = 100
NOTE_MAX = 2000
DISTRIBUTION_MAX = 2000
FILE_NAME_MAX = 255
MEDIA_TYPE_MAX = 127
EXTRA_KEY_MAX = 64
EXTRA_VALUE_MAX = 2000
EXTRA_MAX_ENTRIES = 50
PAGE_COUNT_MAX = 99_999
COPIES_MAX = 99_999
ARRIVAL_NUMBER_MAX = 9_999_999
MAX_ATTACHMENTS = 500
MAX_RECEIVERS = 5000
_SHA256 = re.compile(r"[0-9a-f]{64}")
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
_EXTRA_KEY = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with the document, stored by content hash (SHA-256, lower-case hex)."""

    file_name: str
    media_type: str
    size_bytes: int
    sha256: str

    def __post_init__(self) -> None:
        name = require_text("attachment.file_name", self.file_name, FILE_NAME_MAX)
        if "/" in name or "\\" in name or name in (".", ".."):
            raise InvalidField("attachment.file_name", f"{name!r} must be a bare file name")
        object.__setattr__(self, "file_name", name)
        media = require_text("attachment.media_type", self.media_type, MEDIA_TYPE_MAX).lower()
        if not _MEDIA_TYPE.fullmatch(media):
            raise InvalidField("attachment.media_type", f"{media!r} is not a type/subtype")
        object.__setattr__(self, "media_type", media)
        require_int("attachment.size_bytes", self.size_bytes, 0, 2**63 - 1)
        if not isinstance(self.sha256, str) or not _SHA256.fullmatch(self.sha256):
            raise InvalidField("attachment.sha256", "must be 64 lower-case hexadecimal characters")


@dataclass(frozen=True, slots=True)
class Party:
    """A sender or receiver: an agency with its code, or a person/body without one."""

    name: str
    agency_code: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", require_text("party.name", self.name, PARTY_NAME_MAX))
        if self.agency_code is not None:
            check_agency_code("party.agency_code", self.agency_code)


class CorrectionKind(Enum):
    """How a document changes one already issued (NĐ 30/2020 Điều 18 khoản 3).

    "Văn bản đã phát hành nhưng có sai sót về nội dung phải được sửa đổi, thay thế bằng văn bản
    có hình thức tương đương. Văn bản đã phát hành nhưng có sai sót về thể thức, kỹ thuật trình
    bày, thủ tục ban hành phải được đính chính bằng công văn của cơ quan, tổ chức ban hành văn
    bản." Never an edit in place: the correction is a new document pointing at the old one.
    """

    AMENDMENT = "amendment"  # sửa đổi, bổ sung
    REPLACEMENT = "replacement"  # thay thế
    ERRATUM = "erratum"  # đính chính (by công văn)


@dataclass(frozen=True, slots=True)
class Correction:
    """The earlier document this one amends, replaces or corrects."""

    kind: CorrectionKind
    number_and_symbol: str
    agency_code: str
    document_id: str | None = None
    original_type_key: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, CorrectionKind):
            raise InvalidField("corrects.kind", f"expected CorrectionKind, got {self.kind!r}")
        text = require_text(
            "corrects.number_and_symbol", self.number_and_symbol, NUMBER_AND_SYMBOL_MAX_LENGTH
        )
        if "/" not in text:
            raise InvalidField("corrects.number_and_symbol", f"{text!r} must be 'số/ký hiệu'")
        object.__setattr__(self, "number_and_symbol", text)
        check_agency_code("corrects.agency_code", self.agency_code)
        object.__setattr__(
            self,
            "document_id",
            optional_text("corrects.document_id", self.document_id, DOCUMENT_ID_MAX),
        )


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """One document in an agency's register. Immutable: a change is a new record value.

    Outgoing records need the number and symbol, the document date, the signer and at least
    one receiver (the clerk registers a document when it is signed and numbered). Incoming
    records need the arrival number and time, the sender and a history starting at đã đến.
    ``electronic`` documents classified as state secrets are refused
    (:class:`StateSecretNotAllowed`); paper ones may be registered in their own books.
    """

    direction: Direction
    agency_code: str
    document_type: DocumentType
    subject: str
    number_and_symbol: str | None = None
    document_date: date | None = None
    document_id: str | None = None
    legal_normative: bool = False
    electronic: bool = True
    attachments: tuple[Attachment, ...] = ()
    signer: Signer | None = None
    urgency: Urgency = Urgency.NORMAL
    confidentiality: Confidentiality = Confidentiality.NORMAL
    sender: Party | None = None
    receivers: tuple[Party, ...] = ()
    sent_at: datetime | None = None
    received_at: datetime | None = None
    effective_received_at: datetime | None = None
    arrival_number: int | None = None
    due_date: date | None = None
    distribution_instructions: str | None = None
    language: str = "Tiếng Việt"
    page_count: int | None = None
    number_of_copies: int | None = None
    dossier_code: str | None = None
    note: str | None = None
    history: tuple[HistoryEntry, ...] = ()
    corrects: Correction | None = None
    extra: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        self._check_common()
        if self.direction is Direction.OUTGOING:
            self._check_outgoing()
        else:
            self._check_incoming()

    # -- validation -----------------------------------------------------------------------

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)

    def _check_common(self) -> None:
        if not isinstance(self.direction, Direction):
            raise InvalidField("direction", f"expected Direction, got {self.direction!r}")
        check_agency_code("agency_code", self.agency_code)
        if not isinstance(self.document_type, DocumentType):
            raise InvalidField(
                "document_type", f"expected a DocumentType, got {type(self.document_type).__name__}"
            )
        self._set("subject", require_text("subject", self.subject, SUBJECT_MAX))
        self._set(
            "number_and_symbol",
            optional_text(
                "number_and_symbol", self.number_and_symbol, NUMBER_AND_SYMBOL_MAX_LENGTH
            ),
        )
        if self.number_and_symbol is not None and "/" not in self.number_and_symbol:
            raise InvalidField(
                "number_and_symbol", f"{self.number_and_symbol!r} must be 'số/ký hiệu'"
            )
        if self.document_date is not None:
            require_date("document_date", self.document_date)
        self._set("document_id", optional_text("document_id", self.document_id, DOCUMENT_ID_MAX))
        for name in ("legal_normative", "electronic"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidField(name, "expected true or false")
        if self.legal_normative and not self.document_type.may_be_legal_normative:
            raise InvalidField(
                "legal_normative",
                f"a {self.document_type.name} cannot be a legal normative document",
            )
        self._check_tuple("attachments", Attachment, MAX_ATTACHMENTS)
        if len({a.sha256 for a in self.attachments}) != len(self.attachments):
            raise InvalidField("attachments", "the same file (same SHA-256) is attached twice")
        if self.signer is not None and not isinstance(self.signer, Signer):
            raise InvalidField("signer", f"expected Signer, got {type(self.signer).__name__}")
        if not isinstance(self.urgency, Urgency):
            raise InvalidField("urgency", f"expected Urgency, got {self.urgency!r}")
        if not isinstance(self.confidentiality, Confidentiality):
            raise InvalidField(
                "confidentiality", f"expected Confidentiality, got {self.confidentiality!r}"
            )
        if self.electronic:
            ensure_exchangeable(self.confidentiality)
        if self.sender is not None and not isinstance(self.sender, Party):
            raise InvalidField("sender", f"expected Party, got {type(self.sender).__name__}")
        self._check_tuple("receivers", Party, MAX_RECEIVERS)
        for name in ("sent_at", "received_at", "effective_received_at"):
            value = getattr(self, name)
            if value is not None:
                require_aware_datetime(name, value)
        if self.due_date is not None:
            require_date("due_date", self.due_date)
            if self.document_date is not None and self.due_date < self.document_date:
                raise InvalidField("due_date", "is before the document date")
        self._set(
            "distribution_instructions",
            optional_text(
                "distribution_instructions", self.distribution_instructions, DISTRIBUTION_MAX
            ),
        )
        self._set("language", require_text("language", self.language, LANGUAGE_MAX))
        if self.page_count is not None:
            require_int("page_count", self.page_count, 1, PAGE_COUNT_MAX)
        if self.number_of_copies is not None:
            require_int("number_of_copies", self.number_of_copies, 1, COPIES_MAX)
        self._set(
            "dossier_code", optional_text("dossier_code", self.dossier_code, DOSSIER_CODE_MAX)
        )
        self._set("note", optional_text("note", self.note, NOTE_MAX))
        self._check_history()
        self._check_correction()
        self._check_extra()

    def _check_tuple(self, name: str, item_type: type, max_items: int) -> None:
        value = getattr(self, name)
        if isinstance(value, list):
            value = tuple(value)
            self._set(name, value)
        if not isinstance(value, tuple):
            raise InvalidField(name, f"expected a tuple, got {type(value).__name__}")
        if len(value) > max_items:
            raise InvalidField(name, f"has {len(value)} items, at most {max_items}")
        for index, item in enumerate(value):
            if not isinstance(item, item_type):
                raise InvalidField(
                    f"{name}[{index}]", f"expected {item_type.__name__}, got {type(item).__name__}"
                )

    def _check_history(self) -> None:
        self._check_tuple("history", HistoryEntry, 10_000)
        if self.history and self.direction is Direction.OUTGOING:
            raise InvalidField(
                "history",
                "processing-status history belongs to received documents; outgoing documents "
                "track their receivers' statuses separately",
            )

    def _check_correction(self) -> None:
        if self.corrects is None:
            return
        if not isinstance(self.corrects, Correction):
            raise InvalidField(
                "corrects", f"expected Correction, got {type(self.corrects).__name__}"
            )
        if self.corrects.kind is CorrectionKind.ERRATUM and self.document_type.key != "cong_van":
            raise InvalidField(
                "corrects.kind",
                "an erratum (đính chính) is issued as a công văn (NĐ 30/2020 Điều 18 khoản 3), "
                f"not as a {self.document_type.name}",
            )
        original = self.corrects.original_type_key
        if (
            self.corrects.kind is not CorrectionKind.ERRATUM
            and original is not None
            and original != self.document_type.key
        ):
            raise InvalidField(
                "corrects.original_type_key",
                f"an amendment or replacement has the same form as the original ({original}), "
                f"not {self.document_type.key} (NĐ 30/2020 Điều 18 khoản 3)",
            )
        if (
            self.direction is Direction.OUTGOING
            and self.corrects.agency_code == self.agency_code
            and self.number_and_symbol is not None
            and fold(self.corrects.number_and_symbol) == fold(self.number_and_symbol)
        ):
            raise InvalidField("corrects", "a document cannot correct itself")

    def _check_extra(self) -> None:
        if not isinstance(self.extra, Mapping):
            raise InvalidField("extra", f"expected a mapping, got {type(self.extra).__name__}")
        if len(self.extra) > EXTRA_MAX_ENTRIES:
            raise InvalidField(
                "extra", f"has {len(self.extra)} entries, at most {EXTRA_MAX_ENTRIES}"
            )
        checked: dict[str, str] = {}
        for key, value in self.extra.items():
            if (
                not isinstance(key, str)
                or len(key) > EXTRA_KEY_MAX
                or not _EXTRA_KEY.fullmatch(key)
            ):
                raise InvalidField(
                    "extra", f"key {key!r} must be snake_case ASCII of at most {EXTRA_KEY_MAX}"
                )
            checked[key] = require_text(f"extra.{key}", value, EXTRA_VALUE_MAX)
        self._set("extra", MappingProxyType(checked))

    def _check_outgoing(self) -> None:
        for name in ("number_and_symbol", "document_date", "signer"):
            if getattr(self, name) is None:
                raise InvalidField(name, "is required for an outgoing (issued) document")
        if not self.receivers:
            raise InvalidField("receivers", "an outgoing document needs at least one receiver")
        for name in ("arrival_number", "received_at", "effective_received_at"):
            if getattr(self, name) is not None:
                raise InvalidField(name, "belongs to incoming documents only")
        if (
            self.sent_at is not None
            and self.document_date is not None
            and self.sent_at.astimezone(VIETNAM).date() < self.document_date
        ):
            raise InvalidField("sent_at", "is before the document date")

    def _check_incoming(self) -> None:
        if self.arrival_number is None:
            raise InvalidField("arrival_number", "is required for an incoming document (số đến)")
        require_int("arrival_number", self.arrival_number, 1, ARRIVAL_NUMBER_MAX)
        if self.received_at is None:
            raise InvalidField("received_at", "is required for an incoming document")
        if self.sender is None:
            raise InvalidField("sender", "is required for an incoming document (tác giả)")
        if self.number_of_copies is not None:
            raise InvalidField("number_of_copies", "belongs to outgoing documents only")
        if self.effective_received_at is not None and self.effective_received_at < self.received_at:
            raise InvalidField("effective_received_at", "is before received_at")
        received_day = self.received_at.astimezone(VIETNAM).date()
        if self.document_date is not None and self.document_date > received_day:
            raise InvalidField(
                "document_date",
                f"{self.document_date.isoformat()} is after the arrival date "
                f"{received_day.isoformat()}",
            )
        if self.history:
            replay(self.history)

    # -- derived values -------------------------------------------------------------------

    @property
    def status(self) -> ProcessingStatus | None:
        """Current processing status of an incoming document (the end of its history)."""
        return self.history[-1].to_status if self.history else None

    @property
    def year(self) -> int:
        """The register year: the document date (outgoing) or the arrival date (incoming)."""
        if self.direction is Direction.INCOMING and self.received_at is not None:
            return self.received_at.astimezone(VIETNAM).year
        assert self.document_date is not None  # guaranteed by _check_outgoing
        return self.document_date.year

    def is_overdue(self, today: date) -> bool:
        """Past its due date and not finished (hoàn thành, trả lại, thu hồi, xóa)."""
        if self.due_date is None or today <= self.due_date:
            return False
        return self.status not in _FINISHED

    @property
    def uniqueness_key(self) -> tuple[str, int, str] | None:
        """What must be unique (NĐ 30/2020 Điều 15 khoản 1: "duy nhất trong một năm").

        Outgoing: (issuing agency, year, số/ký hiệu) — a duplicate is refused. Incoming:
        (sender's code or folded name, year of the document date, số/ký hiệu) within the
        receiving agency — a duplicate is the same document arriving again (for example on
        paper after the electronic copy) and is reported, not registered twice. ``None`` when
        the record lacks the parts (an incoming document without number or date).
        """
        if self.number_and_symbol is None or self.document_date is None:
            return None
        symbol = self.number_and_symbol.replace(" ", "")
        if self.direction is Direction.OUTGOING:
            return (self.agency_code, self.document_date.year, symbol)
        assert self.sender is not None  # guaranteed by _check_incoming
        issuer = self.sender.agency_code or fold(self.sender.name)
        return (issuer, self.document_date.year, symbol)

    def timeliness(self, today: date) -> Timeliness:
        """For the statistics: on time, late, overdue, pending or without a deadline."""
        if self.due_date is None:
            return Timeliness.NO_DEADLINE
        completed = next(
            (e for e in reversed(self.history) if e.to_status is ProcessingStatus.COMPLETED),
            None,
        )
        if completed is not None and self.status is ProcessingStatus.COMPLETED:
            finished_on = completed.at.astimezone(VIETNAM).date()
            return Timeliness.ON_TIME if finished_on <= self.due_date else Timeliness.LATE
        if self.status in _FINISHED:
            return Timeliness.WITHDRAWN
        return Timeliness.OVERDUE if today > self.due_date else Timeliness.PENDING

    def with_history_entry(self, entry: HistoryEntry) -> DocumentRecord:
        """A copy with ``entry`` appended (the entry comes from ``status.transition``)."""
        return replace(self, history=(*self.history, entry))


class Timeliness(Enum):
    ON_TIME = "on_time"  # hoàn thành đúng hạn
    LATE = "late"  # hoàn thành quá hạn
    OVERDUE = "overdue"  # chưa hoàn thành, đã quá hạn
    PENDING = "pending"  # chưa hoàn thành, còn hạn
    WITHDRAWN = "withdrawn"  # returned, recalled or deleted: not counted
    NO_DEADLINE = "no_deadline"


_FINISHED = frozenset(
    {
        ProcessingStatus.COMPLETED,
        ProcessingStatus.REJECTED,
        ProcessingStatus.RECALLED,
        ProcessingStatus.DELETED,
    }
)
