"""Số và ký hiệu: build and parse both ways (NĐ 30/2020 Phụ lục I)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registry.domain.document_types import DocumentTypeCatalogue
from services.registry.domain.errors import InvalidSymbol
from services.registry.domain.symbols import DocumentSymbol, format_number

ABBREVIATIONS = DocumentTypeCatalogue.load_default().abbreviations


@pytest.mark.parametrize(("number", "text"), [(1, "01"), (9, "09"), (10, "10"), (1234, "1234")])
def test_numbers_are_zero_padded_below_ten(number: int, text: str) -> None:
    assert format_number(number) == text


@pytest.mark.parametrize("number", [0, -1, 1_000_000, True, 1.0, "5"])
def test_bad_numbers_are_refused(number: object) -> None:
    with pytest.raises(InvalidSymbol) as info:
        format_number(number)  # type: ignore[arg-type]
    assert info.value.field == "number"


def test_build_typed_official_letter_and_legal_normative() -> None:
    assert DocumentSymbol.for_typed_document(15, "QĐ", "UBND").text == "15/QĐ-UBND"
    assert DocumentSymbol.for_official_letter(5, "UBND", "VX").text == "05/UBND-VX"
    legal = DocumentSymbol.for_typed_document(3, "QĐ", "UBND", legal_normative_year=2026)
    assert legal.text == "03/2026/QĐ-UBND"
    assert legal.is_legal_normative
    assert legal.notation == "QĐ-UBND"


@pytest.mark.parametrize(
    ("text", "number", "type_abbreviation", "issuer", "unit", "year"),
    [
        ("15/QĐ-UBND", 15, "QĐ", "UBND", None, None),
        ("05/UBND-VX", 5, None, "UBND", "VX", None),
        ("7816/VPCP-TTĐT", 7816, None, "VPCP", "TTĐT", None),
        ("28/2018/QĐ-TTg", 28, "QĐ", "TTg", None, 2018),
        ("12/QyĐ-STC", 12, "QyĐ", "STC", None, None),
        ("101/QĐ-SYT-NVY", 101, "QĐ", "SYT", "NVY", None),
        ("15 / QĐ - UBND", 15, "QĐ", "UBND", None, None),
    ],
)
def test_parse(
    text: str,
    number: int,
    type_abbreviation: str | None,
    issuer: str,
    unit: str | None,
    year: int | None,
) -> None:
    symbol = DocumentSymbol.parse(text, ABBREVIATIONS)
    assert (symbol.number, symbol.type_abbreviation, symbol.issuer) == (
        number,
        type_abbreviation,
        issuer,
    )
    assert (symbol.drafting_unit, symbol.year) == (unit, year)


def test_parse_decomposed_input_gives_nfc() -> None:
    symbol = DocumentSymbol.parse(unicodedata.normalize("NFD", "15/QĐ-UBND"), ABBREVIATIONS)
    assert symbol.type_abbreviation == "QĐ"
    assert unicodedata.is_normalized("NFC", symbol.text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("15QĐ-UBND", "'số/ký hiệu'"),
        ("15/QĐ", "at least two abbreviations"),
        ("x/QĐ-UBND", "must be 1–6 digits"),
        ("0/QĐ-UBND", "starts at 01"),
        ("12/20/QĐ-UBND", "4 digits"),
        ("12/2020/UBND-VX", "not a document type abbreviation"),
        ("1/A-B-C", "more parts"),
        ("1/QĐ-A-B-C", "more parts"),
        ("15/Q Đ-UBND", "issuer"),
        ("15/QĐ--UBND", "at least two"),
        ("1/2/3/4", "'số/ký hiệu'"),
    ],
)
def test_parse_errors_are_precise(text: str, reason: str) -> None:
    with pytest.raises(InvalidSymbol) as info:
        DocumentSymbol.parse(text, ABBREVIATIONS)
    assert info.value.field == "number_and_symbol"
    assert reason in info.value.reason


def test_strict_padding_for_our_own_numbers() -> None:
    assert DocumentSymbol.parse("5/QĐ-UBND", ABBREVIATIONS).number == 5
    with pytest.raises(InvalidSymbol, match="'05'"):
        DocumentSymbol.parse("5/QĐ-UBND", ABBREVIATIONS, require_padding=True)
    with pytest.raises(InvalidSymbol, match="'15'"):
        DocumentSymbol.parse("015/QĐ-UBND", ABBREVIATIONS, require_padding=True)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"number": 1, "issuer": "UBND"}, "drafting_unit"),
        ({"number": 1, "issuer": "UB ND", "type_abbreviation": "QĐ"}, "issuer"),
        ({"number": 1, "issuer": "UBND", "drafting_unit": "VX", "year": 2020}, "year"),
        ({"number": 1, "issuer": "UBND", "type_abbreviation": "QĐ", "year": 1800}, "year"),
        (
            {
                "number": 1,
                "issuer": "U" * 20,
                "type_abbreviation": "Q" * 20,
                "drafting_unit": "V" * 20,
            },
            "number_and_symbol",
        ),
    ],
)
def test_build_errors_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidSymbol) as info:
        DocumentSymbol(**kwargs)
    assert info.value.field == field


_ABBREVIATION_TEXT = st.from_regex(r"[A-ZĐ][A-Za-zĐđ0-9]{0,5}", fullmatch=True)


@given(
    number=st.integers(1, 999_999),
    type_abbreviation=st.sampled_from(sorted(ABBREVIATIONS)),
    issuer=_ABBREVIATION_TEXT,
    year=st.one_of(st.none(), st.integers(1945, 2100)),
)
def test_typed_symbols_round_trip(
    number: int, type_abbreviation: str, issuer: str, year: int | None
) -> None:
    built = DocumentSymbol.for_typed_document(
        number, type_abbreviation, issuer, legal_normative_year=year
    )
    assert DocumentSymbol.parse(built.text, ABBREVIATIONS, require_padding=True) == built


@given(number=st.integers(1, 999_999), issuer=_ABBREVIATION_TEXT, unit=_ABBREVIATION_TEXT)
def test_official_letters_round_trip(number: int, issuer: str, unit: str) -> None:
    if issuer in ABBREVIATIONS:  # documented ambiguity: a type abbreviation wins
        return
    built = DocumentSymbol.for_official_letter(number, issuer, unit)
    assert DocumentSymbol.parse(built.text, ABBREVIATIONS, require_padding=True) == built
