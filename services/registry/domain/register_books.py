"""Register books (sổ đăng ký văn bản) and the numbering rule.

NĐ 30/2020/NĐ-CP (text checked against a public copy of the decree's body; the decree is not
in /work/shared/law):

- Điều 15 khoản 1: "Số và thời gian ban hành văn bản được lấy theo thứ tự và trình tự thời gian
  ban hành văn bản của cơ quan, tổ chức trong năm (bắt đầu liên tiếp từ số 01 vào ngày 01 tháng
  01 và kết thúc vào ngày 31 tháng 12 hàng năm). Số và ký hiệu văn bản của cơ quan, tổ chức là
  duy nhất trong một năm, thống nhất giữa văn bản giấy và văn bản điện tử."
- Điều 15 khoản 1 điểm a: "Mỗi loại văn bản quy phạm pháp luật được cấp hệ thống số riêng" —
  one legal-normative book per document type (Nghị quyết, Quyết định).
- Điều 15 khoản 2: "Văn bản mật được cấp hệ thống số riêng" — here one book per
  confidentiality class (mật, tối mật, tuyệt mật); Điều 16 khoản 3 and Điều 22 khoản 4: secret
  documents are registered as the law on state secrets requires.
- Điều 22 khoản 2: "Số đến của văn bản được lấy liên tiếp theo thứ tự và trình tự thời gian
  tiếp nhận văn bản trong năm, thống nhất giữa văn bản giấy và văn bản điện tử."

The calendar year of a document is its date in Vietnam (Asia/Ho_Chi_Minh): a document signed
at 23:30 on 31 December in Hà Nội belongs to that year even though it is already 1 January in
some other zone. The database allocates numbers under a row lock; this module only decides the
book and checks that an allocated number is the next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from zoneinfo import ZoneInfo

from services.identifiers.domain.codes import AgencyCode, InvalidAgencyCode
from services.registry.domain.classification import Confidentiality
from services.registry.domain.document_types import DocumentType
from services.registry.domain.errors import (
    InvalidField,
    NumberOutOfSequence,
    WrongYear,
)
from services.registry.domain.fields import require_aware_datetime, require_date

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


class Direction(Enum):
    """Văn bản đi (issued by the agency) or văn bản đến (received)."""

    OUTGOING = "outgoing"
    INCOMING = "incoming"


class BookSeries(Enum):
    """One number series; the agency keeps one book per series per calendar year."""

    OUTGOING = "outgoing"
    OUTGOING_LEGAL_NORMATIVE = "outgoing-legal-normative"
    OUTGOING_CONFIDENTIAL = "outgoing-mat"
    OUTGOING_SECRET = "outgoing-toi-mat"
    OUTGOING_TOP_SECRET = "outgoing-tuyet-mat"
    INCOMING = "incoming"
    INCOMING_CONFIDENTIAL = "incoming-mat"
    INCOMING_SECRET = "incoming-toi-mat"
    INCOMING_TOP_SECRET = "incoming-tuyet-mat"

    @property
    def direction(self) -> Direction:
        return Direction.INCOMING if self.value.startswith("incoming") else Direction.OUTGOING

    @property
    def is_confidential(self) -> bool:
        return self in _CONFIDENTIAL_SERIES.values() or self in _INCOMING_SECRET_SERIES.values()


_CONFIDENTIAL_SERIES = {
    Confidentiality.CONFIDENTIAL: BookSeries.OUTGOING_CONFIDENTIAL,
    Confidentiality.SECRET: BookSeries.OUTGOING_SECRET,
    Confidentiality.TOP_SECRET: BookSeries.OUTGOING_TOP_SECRET,
}
_INCOMING_SECRET_SERIES = {
    Confidentiality.CONFIDENTIAL: BookSeries.INCOMING_CONFIDENTIAL,
    Confidentiality.SECRET: BookSeries.INCOMING_SECRET,
    Confidentiality.TOP_SECRET: BookSeries.INCOMING_TOP_SECRET,
}


def check_agency_code(field: str, value: object) -> str:
    """A 13-character agency code ``NNN.NN.NN.XNN`` (QCVN 102:2016, QĐ 28/2018 Điều 10).

    Only the shape is checked here (by the identifiers' code rules); whether the agency exists
    is the identifiers service's answer, asked by the service layer.
    """
    if not isinstance(value, str):
        raise InvalidField(field, f"expected an agency code, got {type(value).__name__}")
    try:
        return str(AgencyCode.parse(value, field))
    except InvalidAgencyCode as exc:
        raise InvalidField(field, exc.reason) from exc


def vietnam_year(moment: date | datetime) -> int:
    """The calendar year of ``moment`` in Vietnam; a ``datetime`` must be timezone-aware."""
    if isinstance(moment, datetime):
        return require_aware_datetime("at", moment).astimezone(VIETNAM).year
    return require_date("on", moment).year


@dataclass(frozen=True, slots=True)
class RegisterBookKey:
    """Which book: agency, calendar year, series and — for legal normative documents only —
    the document type key (each type has its own series). ``str()`` gives a stable text key.
    """

    agency_code: str
    year: int
    series: BookSeries
    document_type_key: str | None = None

    def __post_init__(self) -> None:
        check_agency_code("agency_code", self.agency_code)
        if isinstance(self.year, bool) or not isinstance(self.year, int):
            raise InvalidField("year", f"expected an integer, got {type(self.year).__name__}")
        if not 2000 <= self.year <= 9999:
            raise InvalidField("year", f"{self.year} is outside the supported years 2000–9999")
        if not isinstance(self.series, BookSeries):
            raise InvalidField("series", f"expected BookSeries, got {self.series!r}")
        per_type = self.series is BookSeries.OUTGOING_LEGAL_NORMATIVE
        if per_type and not self.document_type_key:
            raise InvalidField(
                "document_type_key",
                "each type of legal normative document has its own series (NĐ 30/2020 Điều 15 "
                "khoản 1 điểm a); the type is missing",
            )
        if not per_type and self.document_type_key is not None:
            raise InvalidField(
                "document_type_key",
                f"only legal normative books are per type, not {self.series.value}",
            )

    def __str__(self) -> str:
        key = f"{self.agency_code}/{self.year}/{self.series.value}"
        return f"{key}/{self.document_type_key}" if self.document_type_key else key


@dataclass(frozen=True, slots=True)
class NumberingRule:
    """Which book a document goes to, and whether an allocated number is the right one.

    Stateless: the current counter of a book comes from storage (``last_allocated`` is the
    highest number already in the book, ``0`` for an empty one).
    """

    def book_for_outgoing(
        self,
        agency_code: str,
        document_type: DocumentType,
        issued_at: date | datetime,
        *,
        legal_normative: bool = False,
        confidentiality: Confidentiality = Confidentiality.NORMAL,
    ) -> RegisterBookKey:
        """The book of an outgoing document issued on ``issued_at`` (Vietnam date)."""
        if legal_normative and not document_type.may_be_legal_normative:
            raise InvalidField(
                "legal_normative",
                f"a {document_type.name} cannot be a legal normative document (only "
                "Nghị quyết and Quyết định can, at provincial level)",
            )
        if legal_normative and confidentiality.is_state_secret:
            raise InvalidField(
                "confidentiality",
                "a legal normative document is published, so it cannot be classified "
                f"{confidentiality.value!r}",
            )
        year = vietnam_year(issued_at)
        if confidentiality.is_state_secret:
            return RegisterBookKey(agency_code, year, _CONFIDENTIAL_SERIES[confidentiality])
        if legal_normative:
            return RegisterBookKey(
                agency_code, year, BookSeries.OUTGOING_LEGAL_NORMATIVE, document_type.key
            )
        return RegisterBookKey(agency_code, year, BookSeries.OUTGOING)

    def book_for_incoming(
        self,
        agency_code: str,
        arrived_at: datetime,
        *,
        confidentiality: Confidentiality = Confidentiality.NORMAL,
    ) -> RegisterBookKey:
        """The arrival book (sổ đến) for a document received at ``arrived_at``."""
        series = (
            _INCOMING_SECRET_SERIES[confidentiality]
            if confidentiality.is_state_secret
            else BookSeries.INCOMING
        )
        return RegisterBookKey(agency_code, vietnam_year(arrived_at), series)

    @staticmethod
    def next_number(last_allocated: int) -> int:
        """The number the next document of the book gets: 1 for an empty book."""
        if isinstance(last_allocated, bool) or not isinstance(last_allocated, int):
            raise InvalidField(
                "last_allocated", f"expected an integer, got {type(last_allocated).__name__}"
            )
        if last_allocated < 0:
            raise InvalidField("last_allocated", f"must be 0 or more, got {last_allocated}")
        return last_allocated + 1

    def check_allocation(self, book: RegisterBookKey, last_allocated: int, allocated: int) -> None:
        """Refuse an allocated number that is not exactly ``last_allocated + 1``.

        A gap (a number skipped) or a reuse (a number given twice) both break NĐ 30/2020
        Điều 15 khoản 1 ("bắt đầu liên tiếp từ số 01", "duy nhất trong một năm"), so both raise
        :class:`NumberOutOfSequence`.
        """
        expected = self.next_number(last_allocated)
        if isinstance(allocated, bool) or not isinstance(allocated, int):
            raise InvalidField("number", f"expected an integer, got {type(allocated).__name__}")
        if allocated != expected:
            raise NumberOutOfSequence(str(book), expected, allocated)

    @staticmethod
    def check_in_book_year(
        book: RegisterBookKey, moment: date | datetime, field: str = "document_date"
    ) -> None:
        """Refuse a date of another year than the book's (numbers restart on 1 January)."""
        year = vietnam_year(moment)
        if year != book.year:
            raise WrongYear(
                field,
                f"{moment.isoformat()} is in {year}, but register book {book} is for {book.year}",
            )
