"""Register books and the numbering rule (NĐ 30/2020 Điều 15, Điều 22)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.registry.domain.classification import Confidentiality
from services.registry.domain.document_types import DocumentTypeCatalogue
from services.registry.domain.errors import InvalidField, NumberOutOfSequence, WrongYear
from services.registry.domain.register_books import (
    VIETNAM,
    BookSeries,
    Direction,
    NumberingRule,
    RegisterBookKey,
    check_agency_code,
)

TYPES = DocumentTypeCatalogue.load_default()
QD = TYPES.by_abbreviation("QĐ")
CONG_VAN = TYPES.by_key("cong_van")
PROVINCE = "000.00.00.H56"
RULE = NumberingRule()


def test_administrative_documents_share_one_book_per_year() -> None:
    a = RULE.book_for_outgoing(PROVINCE, QD, date(2026, 3, 1))
    b = RULE.book_for_outgoing(PROVINCE, CONG_VAN, date(2026, 12, 31))
    assert a == b == RegisterBookKey(PROVINCE, 2026, BookSeries.OUTGOING)
    assert str(a) == "000.00.00.H56/2026/outgoing"
    assert RULE.book_for_outgoing(PROVINCE, QD, date(2027, 1, 1)).year == 2027


def test_legal_normative_documents_have_their_own_book() -> None:
    book = RULE.book_for_outgoing(PROVINCE, QD, date(2026, 3, 1), legal_normative=True)
    assert book.series is BookSeries.OUTGOING_LEGAL_NORMATIVE
    assert str(book) == "000.00.00.H56/2026/outgoing-legal-normative/quyet_dinh"
    # "Mỗi loại văn bản quy phạm pháp luật được cấp hệ thống số riêng" (Điều 15.1.a).
    resolution = RULE.book_for_outgoing(
        PROVINCE, TYPES.by_key("nghi_quyet"), date(2026, 3, 1), legal_normative=True
    )
    assert resolution != book and resolution.document_type_key == "nghi_quyet"
    with pytest.raises(InvalidField) as info:
        RULE.book_for_outgoing(PROVINCE, CONG_VAN, date(2026, 3, 1), legal_normative=True)
    assert info.value.field == "legal_normative"


@pytest.mark.parametrize(
    ("level", "outgoing", "incoming"),
    [
        (
            Confidentiality.CONFIDENTIAL,
            BookSeries.OUTGOING_CONFIDENTIAL,
            BookSeries.INCOMING_CONFIDENTIAL,
        ),
        (Confidentiality.SECRET, BookSeries.OUTGOING_SECRET, BookSeries.INCOMING_SECRET),
        (
            Confidentiality.TOP_SECRET,
            BookSeries.OUTGOING_TOP_SECRET,
            BookSeries.INCOMING_TOP_SECRET,
        ),
    ],
)
def test_each_confidential_class_has_its_own_books(
    level: Confidentiality, outgoing: BookSeries, incoming: BookSeries
) -> None:
    assert (
        RULE.book_for_outgoing(PROVINCE, QD, date(2026, 1, 5), confidentiality=level).series
        is outgoing
    )
    arrived = datetime(2026, 1, 5, 8, tzinfo=VIETNAM)
    assert RULE.book_for_incoming(PROVINCE, arrived, confidentiality=level).series is incoming
    assert outgoing.is_confidential and incoming.is_confidential
    assert outgoing.direction is Direction.OUTGOING and incoming.direction is Direction.INCOMING
    with pytest.raises(InvalidField, match="confidentiality"):
        RULE.book_for_outgoing(
            PROVINCE, QD, date(2026, 1, 5), legal_normative=True, confidentiality=level
        )


def test_all_series_are_distinct() -> None:
    assert len({s.value for s in BookSeries}) == len(BookSeries) == 9
    assert not BookSeries.OUTGOING.is_confidential


def test_the_year_is_the_vietnamese_one() -> None:
    # 17:30 UTC on 31 December is 00:30 on 1 January in Vietnam.
    arrived = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)
    assert RULE.book_for_incoming(PROVINCE, arrived).year == 2027
    assert RULE.book_for_outgoing(PROVINCE, QD, arrived).year == 2027
    with pytest.raises(InvalidField) as info:
        RULE.book_for_incoming(PROVINCE, datetime(2026, 12, 31, 17, 30))
    assert info.value.field == "at"


@pytest.mark.parametrize(("last", "expected"), [(0, 1), (1, 2), (41, 42)])
def test_next_number(last: int, expected: int) -> None:
    assert RULE.next_number(last) == expected


@pytest.mark.parametrize("last", [-1, "3", None, True])
def test_bad_counter_is_refused(last: object) -> None:
    with pytest.raises(InvalidField) as info:
        RULE.next_number(last)  # type: ignore[arg-type]
    assert info.value.field == "last_allocated"


def test_allocation_must_be_next_in_sequence() -> None:
    book = RegisterBookKey(PROVINCE, 2026, BookSeries.OUTGOING)
    RULE.check_allocation(book, 14, 15)
    for wrong in (14, 16, 1):
        with pytest.raises(NumberOutOfSequence) as info:
            RULE.check_allocation(book, 14, wrong)
        assert (info.value.expected, info.value.got) == (15, wrong)
        assert str(book) in str(info.value)
    with pytest.raises(InvalidField):
        RULE.check_allocation(book, 14, "15")  # type: ignore[arg-type]


def test_date_must_be_in_the_book_year() -> None:
    book = RegisterBookKey(PROVINCE, 2026, BookSeries.OUTGOING)
    RULE.check_in_book_year(book, date(2026, 12, 31))
    with pytest.raises(WrongYear) as info:
        RULE.check_in_book_year(book, date(2027, 1, 1))
    assert info.value.field == "document_date"
    assert "2027" in info.value.reason


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"agency_code": "00.00.00.H56"}, "agency_code"),
        ({"year": 1999}, "year"),
        ({"year": "2026"}, "year"),
        ({"series": "outgoing"}, "series"),
        ({"series": BookSeries.OUTGOING_LEGAL_NORMATIVE}, "document_type_key"),
        ({"document_type_key": "quyet_dinh"}, "document_type_key"),
    ],
)
def test_bad_book_keys(kwargs: dict, field: str) -> None:
    arguments = {"agency_code": PROVINCE, "year": 2026, "series": BookSeries.OUTGOING} | kwargs
    with pytest.raises(InvalidField) as info:
        RegisterBookKey(**arguments)
    assert info.value.field == field


@pytest.mark.parametrize("code", ["000.00.00.H56", "123.45.67.A01", "000.00.00.G22"])
def test_agency_codes_accepted(code: str) -> None:
    assert check_agency_code("code", code) == code


@pytest.mark.parametrize(
    "code",
    [
        "",
        "000.00.00.h56",
        "000.00.00.H5",
        "0000.00.00.H56",
        "000.00.00.Đ56",
        "000.0a.00.H56",
        "000-00-00-H56",
        56,
    ],
)
def test_agency_codes_refused(code: object) -> None:
    with pytest.raises(InvalidField) as info:
        check_agency_code("code", code)
    assert info.value.field == "code"
