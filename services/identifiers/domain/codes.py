"""Agency codes (mã định danh), document ids and dossier codes.

Rules:
- Agency code. QĐ 28/2018/QĐ-TTg, Điều 10 khoản 2 điểm a: "Cấu trúc mã định danh cơ quan, tổ
  chức có 13 ký tự, chia thành bốn nhóm mã, các nhóm mã phân tách bởi dấu chấm … Mã cấp 1: mã
  của đơn vị cấp 1 (bộ, cơ quan ngang bộ, cơ quan thuộc Chính phủ, Ủy ban nhân dân các tỉnh,
  thành phố trực thuộc trung ương,...); Mã cấp 2, cấp 3, cấp 4: mã của các cơ quan, đơn vị
  thuộc, trực thuộc đơn vị cấp 1, đơn vị cấp 2, đơn vị cấp 3 tương ứng". Written ``A.B.C.D``
  (QCVN 102:2016/BTTTT):
  ``D`` identifies the level-1 unit (a capital letter and two digits, e.g. ``H56`` a province,
  ``G22`` a ministry-level body); ``C`` the level-2 unit (2 digits), ``B`` level 3 (2 digits),
  ``A`` level 4 (3 digits). Zeros in a group mean "not at that level".
- Document id (QĐ 28/2018/QĐ-TTg, Điều 10 khoản 2 điểm b: "Mã định danh của cơ quan, tổ chức …;
  Năm ban hành văn bản, số thứ tự văn bản được ban hành trong năm"; edXML ``DocumentId``):
  ``{OrganId},{yyyy/MM/dd},{Số}/{Ký hiệu}``, e.g. ``000.00.00.G22,2015/09/30,7816/VPCP-TTĐT``.
- Dossier code (NĐ 30/2020/NĐ-CP Phụ lục V; QĐ 12/2020 Hà Nội, Điều 21):
  ``{OrganId}.{năm hình thành hồ sơ}.{số và ký hiệu hồ sơ}``.

Everything here is pure: parse, validate, format. Errors say which part is wrong and why.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

GROUP_NAMES = ("level-4 group", "level-3 group", "level-2 group", "level-1 group")
_GROUP_PATTERNS = (
    (re.compile(r"\d{3}"), "3 digits"),
    (re.compile(r"\d{2}"), "2 digits"),
    (re.compile(r"\d{2}"), "2 digits"),
    (re.compile(r"[A-Z]\d{2}"), "a capital letter followed by 2 digits"),
)
AGENCY_CODE_LENGTH = 13


class CodeError(ValueError):
    """Base class of every code-format error; ``field`` names what was being parsed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class InvalidAgencyCode(CodeError):
    """An agency code that is not ``NNN.NN.NN.XNN``."""


class InvalidDocumentId(CodeError):
    """A document id that is not ``{OrganId},{yyyy/MM/dd},{Số}/{Ký hiệu}``."""


class InvalidDossierCode(CodeError):
    """A dossier code that is not ``{OrganId}.{yyyy}.{notation}``."""


@dataclass(frozen=True, slots=True)
class AgencyCode:
    """A validated 13-character agency code."""

    level4: str
    level3: str
    level2: str
    level1: str

    @classmethod
    def parse(cls, text: str, field: str = "code") -> AgencyCode:
        if not isinstance(text, str):
            raise InvalidAgencyCode(field, f"expected a string, got {type(text).__name__}")
        code = text.strip()
        groups = code.split(".")
        if len(groups) != 4:
            raise InvalidAgencyCode(
                field,
                f"{code!r} must have four groups separated by dots (NNN.NN.NN.XNN), "
                f"found {len(groups)}",
            )
        for name, group, (pattern, expected) in zip(
            GROUP_NAMES, groups, _GROUP_PATTERNS, strict=True
        ):
            if not pattern.fullmatch(group):
                raise InvalidAgencyCode(field, f"{code!r}: the {name} {group!r} must be {expected}")
        return cls(*groups)

    @property
    def level(self) -> int:
        """The structural level the code denotes (1 = level-1 unit itself, 4 = deepest)."""
        if self.level4 != "000":
            return 4
        if self.level3 != "00":
            return 3
        if self.level2 != "00":
            return 2
        return 1

    def __str__(self) -> str:
        return f"{self.level4}.{self.level3}.{self.level2}.{self.level1}"


def is_valid_agency_code(text: str) -> bool:
    try:
        AgencyCode.parse(text)
    except InvalidAgencyCode:
        return False
    return True


# Số: digits; below 10 written with a leading zero (NĐ 30/2020 Phụ lục I). Ký hiệu: letters
# (Vietnamese included), digits and the separators used in practice ("-", "." and "/" as in
# "QĐ-UBND", "UBND-VX", "NQ/TW").
_NUMBER = re.compile(r"\d{1,10}")
_NOTATION = re.compile(r"[^\W_](?:[\w.\-/&]*[^\W_])?")


def _check_notation(notation: str, error: type[CodeError], field: str) -> str:
    notation = unicodedata.normalize("NFC", notation.strip())
    if not notation:
        raise error(field, "the symbol (ký hiệu) is empty")
    if len(notation) > 100:
        raise error(field, f"the symbol (ký hiệu) is {len(notation)} characters, at most 100")
    if not _NOTATION.fullmatch(notation):
        raise error(
            field,
            f"the symbol (ký hiệu) {notation!r} may hold only letters, digits, '-', '.', '/', '&'",
        )
    return notation


def format_number(number: int) -> str:
    """Số văn bản: zero-padded below 10 (``1`` → ``01``)."""
    if number < 1:
        raise ValueError(f"document numbers start at 1, got {number}")
    return f"{number:02d}"


@dataclass(frozen=True, slots=True)
class DocumentId:
    """``{OrganId},{yyyy/MM/dd},{Số}/{Ký hiệu}``."""

    organ_id: AgencyCode
    promulgation_date: date
    number: str
    notation: str

    @classmethod
    def parse(cls, text: str, field: str = "document_id") -> DocumentId:
        text = unicodedata.normalize("NFC", text.strip())
        parts = text.split(",", 2)
        if len(parts) != 3:
            raise InvalidDocumentId(
                field,
                f"{text!r} must be '{{OrganId}},{{yyyy/MM/dd}},{{Số}}/{{Ký hiệu}}' "
                "(three parts separated by commas)",
            )
        organ, day, number_notation = parts
        try:
            organ_id = AgencyCode.parse(organ, field)
        except InvalidAgencyCode as exc:
            raise InvalidDocumentId(field, f"OrganId: {exc.reason}") from exc
        promulgation = _parse_slash_date(day, InvalidDocumentId, field)
        number, sep, notation = number_notation.partition("/")
        if not sep:
            raise InvalidDocumentId(
                field, f"{number_notation!r} must be '{{Số}}/{{Ký hiệu}}', e.g. '15/QĐ-UBND'"
            )
        if not _NUMBER.fullmatch(number):
            raise InvalidDocumentId(field, f"the number (số) {number!r} must be digits")
        return cls(
            organ_id, promulgation, number, _check_notation(notation, InvalidDocumentId, field)
        )

    @classmethod
    def build(
        cls, organ_id: str, promulgation_date: date, number: int | str, notation: str
    ) -> DocumentId:
        code = AgencyCode.parse(organ_id, "organ_id")
        num = format_number(number) if isinstance(number, int) else number
        if not _NUMBER.fullmatch(num):
            raise InvalidDocumentId("number", f"the number (số) {num!r} must be digits")
        return cls(
            code, promulgation_date, num, _check_notation(notation, InvalidDocumentId, "notation")
        )

    @property
    def number_and_notation(self) -> str:
        return f"{self.number}/{self.notation}"

    def __str__(self) -> str:
        return f"{self.organ_id},{self.promulgation_date:%Y/%m/%d},{self.number}/{self.notation}"


@dataclass(frozen=True, slots=True)
class DossierCode:
    """``{OrganId}.{yyyy}.{notation}`` — the code of a hồ sơ."""

    organ_id: AgencyCode
    year: int
    notation: str

    @classmethod
    def parse(cls, text: str, field: str = "dossier_code") -> DossierCode:
        text = unicodedata.normalize("NFC", text.strip())
        organ, year, notation = text[:AGENCY_CODE_LENGTH], text[14:18], text[19:]
        try:
            organ_id = AgencyCode.parse(organ, field)
        except InvalidAgencyCode as exc:
            raise InvalidDossierCode(
                field, f"must start with the 13-character agency code: {exc.reason}"
            ) from exc
        if text[13:14] != "." or text[18:19] != ".":
            raise InvalidDossierCode(field, f"{text!r} must be '{{OrganId}}.{{yyyy}}.{{notation}}'")
        if not re.fullmatch(r"\d{4}", year):
            raise InvalidDossierCode(field, f"the year {year!r} must be 4 digits")
        return cls(organ_id, int(year), _check_notation(notation, InvalidDossierCode, field))

    @classmethod
    def build(cls, organ_id: str, year: int, notation: str) -> DossierCode:
        if not 1900 <= year <= 9999:
            raise InvalidDossierCode("year", f"{year} is not a plausible 4-digit year")
        return cls(
            AgencyCode.parse(organ_id, "organ_id"),
            year,
            _check_notation(notation, InvalidDossierCode, "notation"),
        )

    def __str__(self) -> str:
        return f"{self.organ_id}.{self.year:04d}.{self.notation}"


def _parse_slash_date(text: str, error: type[CodeError], field: str) -> date:
    match = re.fullmatch(r"(\d{4})/(\d{2})/(\d{2})", text.strip())
    if not match:
        raise error(field, f"the date {text!r} must be yyyy/MM/dd")
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError as exc:
        raise error(field, f"the date {text!r} does not exist ({exc})") from exc
