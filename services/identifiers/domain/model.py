"""The agency directory's model: pure data and rules, no I/O.

An agency (cơ quan, tổ chức) is identified by its 13-character code (QCVN 102:2016/BTTTT) and
carries what an edXML ``From``/``To`` element needs (QĐ 28/2018/QĐ-TTg, Điều 10: mã định danh
của cơ quan gửi/nhận), its place in the tree, and its status over time. Levels are data: the
2025 reform removed the district level, so a commune's parent is now the province committee even
though its code still sits under the former district's group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import date
from enum import StrEnum

from services.chassis.errors import FailedPrecondition, InvalidArgument
from services.chassis.text import fold, nfc
from services.identifiers.domain.codes import AgencyCode, InvalidAgencyCode


class AgencyStatus(StrEnum):
    ACTIVE = "active"
    MERGED = "merged"
    DISSOLVED = "dissolved"


# Vocabulary of kinds used by the demo data and the group resolver; other kinds are accepted
# (a province may need its own), these are just the ones with a meaning to the platform.
KNOWN_KINDS = frozenset(
    {
        "province",  # Ủy ban nhân dân tỉnh
        "office",  # Văn phòng
        "department",  # Sở, Ban, Thanh tra
        "district",  # former huyện/thị xã/thành phố (dissolved 2025-07-01)
        "commune",  # xã
        "ward",  # phường
        "special_zone",  # đặc khu
        "public_unit",  # đơn vị sự nghiệp
        "school",
        "health_station",
        "ministry",
        "other",
    }
)

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"[0-9+() .\-]{6,20}")
_ABBREVIATION = re.compile(r"[^\W_][\w\-.&]{0,19}")

FIELD_LIMITS = {
    "name": 300,
    "abbreviation": 20,
    "kind": 40,
    "organization_in_charge": 300,
    "address": 300,
    "email": 200,
    "telephone": 40,
    "fax": 40,
    "website": 200,
}


@dataclass(frozen=True, slots=True)
class Agency:
    code: str
    name: str
    abbreviation: str = ""
    parent_code: str | None = None
    level: int = 1
    kind: str = "other"
    organization_in_charge: str = ""
    address: str = ""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    website: str = ""
    status: AgencyStatus = AgencyStatus.ACTIVE
    status_effective_from: date | None = None
    merged_into: str | None = None
    exchanges_electronically: bool = True
    version: int = 0

    @property
    def name_folded(self) -> str:
        return fold(self.name)

    @property
    def is_active(self) -> bool:
        return self.status is AgencyStatus.ACTIVE

    def content_fields(self) -> dict[str, object]:
        """Every field that a change can touch (``version`` excluded)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "version"}

    def changed_fields(self, other: Agency) -> list[str]:
        mine, theirs = self.content_fields(), other.content_fields()
        return [name for name in mine if mine[name] != theirs[name]]


def _text(value: object, field: str, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidArgument(f"expected text, got {type(value).__name__}", field=field)
    text = nfc(value)
    if required and not text:
        raise InvalidArgument("is required", field=field)
    limit = FIELD_LIMITS.get(field)
    if limit and len(text) > limit:
        raise InvalidArgument(f"is {len(text)} characters, at most {limit}", field=field)
    return text


def _code(value: str, field: str) -> str:
    try:
        return str(AgencyCode.parse(value, field))
    except InvalidAgencyCode as exc:
        raise InvalidArgument(exc.reason, field=field) from exc


def new_agency(
    *,
    code: str,
    name: str,
    abbreviation: str = "",
    parent_code: str | None = None,
    level: int | None = None,
    kind: str = "other",
    organization_in_charge: str = "",
    address: str = "",
    email: str = "",
    telephone: str = "",
    fax: str = "",
    website: str = "",
    status: str | AgencyStatus = AgencyStatus.ACTIVE,
    status_effective_from: date | str | None = None,
    merged_into: str | None = None,
    exchanges_electronically: bool = True,
    version: int = 0,
) -> Agency:
    """Validate and normalise raw input into an :class:`Agency`; errors name the field."""
    clean_code = _code(code, "code")
    parent = _code(parent_code, "parent_code") if parent_code else None
    if parent == clean_code:
        raise InvalidArgument("an agency cannot be its own parent", field="parent_code")
    abbreviation = _text(abbreviation, "abbreviation")
    if abbreviation and not _ABBREVIATION.fullmatch(abbreviation):
        raise InvalidArgument(
            f"{abbreviation!r} may hold letters, digits, '-', '.', '&' (at most 20)",
            field="abbreviation",
        )
    email = _text(email, "email")
    if email and not _EMAIL.fullmatch(email):
        raise InvalidArgument(f"{email!r} is not an e-mail address", field="email")
    for field_name, value in (("telephone", telephone), ("fax", fax)):
        if value and not _PHONE.fullmatch(_text(value, field_name)):
            raise InvalidArgument(f"{value!r} is not a telephone number", field=field_name)
    try:
        status_value = AgencyStatus(status)
    except ValueError as exc:
        raise InvalidArgument(
            f"{status!r} is not one of {[s.value for s in AgencyStatus]}", field="status"
        ) from exc
    effective = _date(status_effective_from, "status_effective_from")
    merged = _code(merged_into, "merged_into") if merged_into else None
    if status_value is AgencyStatus.MERGED and not merged:
        raise InvalidArgument(
            "a merged agency must name the agency it merged into", field="merged_into"
        )
    if merged and status_value is not AgencyStatus.MERGED:
        raise InvalidArgument("only a merged agency has merged_into", field="merged_into")
    if merged == clean_code:
        raise InvalidArgument("an agency cannot merge into itself", field="merged_into")
    if level is None:
        level = AgencyCode.parse(clean_code).level
    if not isinstance(level, int) or not 1 <= level <= 9:
        raise InvalidArgument(f"{level!r} must be an integer from 1 to 9", field="level")
    kind_text = _text(kind, "kind") or "other"
    if not isinstance(exchanges_electronically, bool):
        raise InvalidArgument("must be true or false", field="exchanges_electronically")
    return Agency(
        code=clean_code,
        name=_text(name, "name", required=True),
        abbreviation=abbreviation,
        parent_code=parent,
        level=level,
        kind=kind_text,
        organization_in_charge=_text(organization_in_charge, "organization_in_charge"),
        address=_text(address, "address"),
        email=email,
        telephone=_text(telephone, "telephone"),
        fax=_text(fax, "fax"),
        website=_text(website, "website"),
        status=status_value,
        status_effective_from=effective,
        merged_into=merged,
        exchanges_electronically=exchanges_electronically,
        version=version,
    )


def _date(value: date | str | None, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"{value!r} must be a date yyyy-MM-dd", field=field) from exc


def merge(agency: Agency, into: Agency, effective_from: date) -> Agency:
    """``agency`` merged into ``into`` (sáp nhập) from ``effective_from``."""
    if agency.code == into.code:
        raise InvalidArgument("an agency cannot merge into itself", field="into_code")
    if not into.is_active:
        raise FailedPrecondition(
            f"{into.code} is {into.status.value}; merge into an active agency", field="into_code"
        )
    if not agency.is_active:
        raise FailedPrecondition(f"{agency.code} is already {agency.status.value}", field="code")
    return replace(
        agency,
        status=AgencyStatus.MERGED,
        merged_into=into.code,
        status_effective_from=effective_from,
    )
