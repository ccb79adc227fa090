"""Number and symbol of a document (số và ký hiệu văn bản).

NĐ 30/2020/NĐ-CP Phụ lục I (thể thức văn bản), as the project transcribes it (the decree is
not in /work/shared/law):

- Số: the sequence number of the document in the issuing agency's register book for the year,
  in Arabic digits; "đối với những số nhỏ hơn 10 phải ghi thêm số 0 phía trước" (01 … 09).
- Ký hiệu of a typed document: type abbreviation (Phụ lục III) + the issuing agency's
  abbreviation: ``15/QĐ-UBND``.
- Ký hiệu of a công văn: the issuing agency's abbreviation + the abbreviation of the drafting
  unit or the field it deals with: ``05/UBND-VX``. Thư công, which has no type abbreviation
  either, takes the same form.
- Legal normative documents (văn bản quy phạm pháp luật) carry the year between number and
  symbol (Luật Ban hành văn bản QPPL): ``12/2020/QĐ-UBND``.

Parsing needs the set of type abbreviations, because ``QĐ-UBND`` (typed) and ``UBND-VX``
(công văn) have the same shape; a first segment that is a known type abbreviation wins.
Real traffic also shows typed symbols with a drafting unit appended (``QĐ-SYT-NVY``): parsing
keeps it in ``drafting_unit``; building produces it only when asked.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import NoReturn

from services.chassis.text import nfc
from services.registry.domain.errors import InvalidSymbol

MAX_NUMBER = 999_999
NUMBER_AND_SYMBOL_MAX_LENGTH = 50
# One abbreviation: starts with a letter (Vietnamese letters included: "ĐA", "TTĐT"), then
# letters or digits ("BCĐ389"). No separators inside.
_ABBREVIATION = re.compile(r"[^\W\d_][^\W_]{0,19}")
_NUMBER = re.compile(r"\d{1,6}")
_YEAR = re.compile(r"\d{4}")


def format_number(number: int, field: str = "number") -> str:
    """``1`` → ``"01"``, ``15`` → ``"15"`` (zero-padded below 10)."""
    if isinstance(number, bool) or not isinstance(number, int):
        raise InvalidSymbol(field, f"expected an integer, got {type(number).__name__}")
    if not 1 <= number <= MAX_NUMBER:
        raise InvalidSymbol(field, f"must be between 1 and {MAX_NUMBER}, got {number}")
    return f"{number:02d}"


def _check_abbreviation(field: str, value: str | None) -> str:
    if not isinstance(value, str):
        raise InvalidSymbol(field, f"expected text, got {type(value).__name__}")
    text = nfc(value)
    if not _ABBREVIATION.fullmatch(text):
        raise InvalidSymbol(
            field,
            f"{value!r} must be 1–20 letters or digits starting with a letter, without spaces "
            "or separators",
        )
    return text


@dataclass(frozen=True, slots=True)
class DocumentSymbol:
    """A parsed or built ``số/ký hiệu``.

    ``type_abbreviation`` is ``None`` for công văn and thư công, which then require a
    ``drafting_unit``. ``year`` is set only for legal normative documents.
    """

    number: int
    issuer: str
    type_abbreviation: str | None = None
    drafting_unit: str | None = None
    year: int | None = None

    def __post_init__(self) -> None:
        format_number(self.number)
        object.__setattr__(self, "issuer", _check_abbreviation("issuer", self.issuer))
        if self.type_abbreviation is not None:
            object.__setattr__(
                self,
                "type_abbreviation",
                _check_abbreviation("type_abbreviation", self.type_abbreviation),
            )
        if self.drafting_unit is not None:
            object.__setattr__(
                self, "drafting_unit", _check_abbreviation("drafting_unit", self.drafting_unit)
            )
        if self.type_abbreviation is None and self.drafting_unit is None:
            raise InvalidSymbol(
                "drafting_unit",
                "a công văn's symbol is agency + drafting unit (e.g. 'UBND-VX'); the drafting "
                "unit is missing",
            )
        if self.year is not None:
            if isinstance(self.year, bool) or not isinstance(self.year, int):
                raise InvalidSymbol("year", f"expected an integer, got {type(self.year).__name__}")
            if not 1945 <= self.year <= 9999:
                raise InvalidSymbol("year", f"{self.year} is not a plausible year of issue")
            if self.type_abbreviation is None:
                raise InvalidSymbol(
                    "year",
                    "only legal normative documents carry a year, and they always have a type "
                    "abbreviation",
                )
        if len(self.text) > NUMBER_AND_SYMBOL_MAX_LENGTH:
            raise InvalidSymbol(
                "number_and_symbol",
                f"{self.text!r} is {len(self.text)} characters, at most "
                f"{NUMBER_AND_SYMBOL_MAX_LENGTH}",
            )

    @property
    def is_legal_normative(self) -> bool:
        return self.year is not None

    @property
    def notation(self) -> str:
        """The ký hiệu alone: ``QĐ-UBND``, ``UBND-VX``."""
        parts = [self.type_abbreviation, self.issuer, self.drafting_unit]
        if self.type_abbreviation is None:
            parts = [self.issuer, self.drafting_unit]
        return "-".join(p for p in parts if p)

    @property
    def formatted_number(self) -> str:
        return format_number(self.number)

    @property
    def text(self) -> str:
        """``15/QĐ-UBND``, ``05/UBND-VX``, ``12/2020/QĐ-UBND``."""
        if self.year is not None:
            return f"{self.formatted_number}/{self.year}/{self.notation}"
        return f"{self.formatted_number}/{self.notation}"

    def __str__(self) -> str:
        return self.text

    @classmethod
    def for_typed_document(
        cls,
        number: int,
        type_abbreviation: str,
        issuer: str,
        *,
        legal_normative_year: int | None = None,
        drafting_unit: str | None = None,
    ) -> DocumentSymbol:
        """``15/QĐ-UBND`` or, for a legal normative document, ``12/2020/QĐ-UBND``."""
        return cls(
            number=number,
            issuer=issuer,
            type_abbreviation=type_abbreviation,
            drafting_unit=drafting_unit,
            year=legal_normative_year,
        )

    @classmethod
    def for_official_letter(cls, number: int, issuer: str, drafting_unit: str) -> DocumentSymbol:
        """Công văn: ``05/UBND-VX``."""
        return cls(number=number, issuer=issuer, drafting_unit=drafting_unit)

    @classmethod
    def parse(
        cls,
        text: str,
        type_abbreviations: Collection[str],
        *,
        require_padding: bool = False,
        field: str = "number_and_symbol",
    ) -> DocumentSymbol:
        """Parse ``số/ký hiệu``; ``type_abbreviations`` is the catalogue's set.

        ``require_padding`` refuses ``5/QĐ-UBND`` (our own outgoing numbers are always
        padded); incoming documents from other systems are parsed leniently.
        """
        if not isinstance(text, str):
            raise InvalidSymbol(field, f"expected text, got {type(text).__name__}")
        # Spaces around the separators occur in typed-in and OCR'd input ("15 /QĐ-UBND");
        # a space inside an abbreviation is an error, not noise.
        value = re.sub(r"\s*([/-])\s*", r"\1", nfc(text))
        if not value:
            raise InvalidSymbol(field, "is empty")
        parts = value.split("/")
        if len(parts) not in (2, 3):
            raise InvalidSymbol(
                field,
                f"{text!r} must be 'số/ký hiệu' (e.g. '15/QĐ-UBND') or, for a legal normative "
                "document, 'số/năm/ký hiệu' (e.g. '12/2020/QĐ-UBND')",
            )
        number_text, notation = parts[0], parts[-1]
        if not _NUMBER.fullmatch(number_text):
            raise InvalidSymbol(field, f"the number (số) {number_text!r} must be 1–6 digits")
        number = int(number_text)
        if number == 0:
            raise InvalidSymbol(field, "the number (số) starts at 01, got 0")
        if require_padding and number_text != format_number(number):
            raise InvalidSymbol(
                field,
                f"the number (số) {number_text!r} must be written {format_number(number)!r} "
                "(zero-padded below 10, no other leading zeros)",
            )
        year: int | None = None
        if len(parts) == 3:
            if not _YEAR.fullmatch(parts[1]):
                raise InvalidSymbol(field, f"the year {parts[1]!r} must be 4 digits")
            year = int(parts[1])
        segments = notation.split("-")
        if len(segments) < 2 or any(not s for s in segments):
            raise InvalidSymbol(
                field,
                f"the symbol (ký hiệu) {notation!r} must be at least two abbreviations joined "
                "by '-' (e.g. 'QĐ-UBND' or 'UBND-VX')",
            )
        try:
            if segments[0] in type_abbreviations:
                if len(segments) > 3:
                    _too_many(field, notation)
                return cls(
                    number=number,
                    type_abbreviation=segments[0],
                    issuer=segments[1],
                    drafting_unit=segments[2] if len(segments) == 3 else None,
                    year=year,
                )
            if year is not None:
                raise InvalidSymbol(
                    field,
                    f"{text!r} has a year, so it is a legal normative document, but "
                    f"{segments[0]!r} is not a document type abbreviation",
                )
            if len(segments) > 2:
                _too_many(field, notation)
            return cls(number=number, issuer=segments[0], drafting_unit=segments[1])
        except InvalidSymbol as exc:
            if exc.field == field:
                raise
            raise InvalidSymbol(field, f"{text!r}: {exc.field}: {exc.reason}") from exc


def _too_many(field: str, notation: str) -> NoReturn:
    raise InvalidSymbol(
        field, f"the symbol (ký hiệu) {notation!r} has more parts than type-agency-unit"
    )
