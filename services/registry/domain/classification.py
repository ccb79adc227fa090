"""Urgency (độ khẩn), confidentiality (độ mật) and the signer's authority (thẩm quyền ký).

- Urgency: QĐ 28/2018/QĐ-TTg Điều 10 khoản 2 điểm k lists "khẩn/thượng khẩn/hỏa tốc"; the
  edXML ``OtherInfo/Priority`` code (QCVN 102:2016/BTTTT) adds a fifth level: 0 thường,
  1 khẩn, 2 thượng khẩn, 3 hỏa tốc, 4 hỏa tốc hẹn giờ.
- Confidentiality: mật, tối mật, tuyệt mật are the three classes of state secret (Luật Bảo vệ
  bí mật nhà nước 2018 Điều 8); QĐ 28/2018 Điều 1 khoản 2 excludes them from electronic
  exchange, so :func:`ensure_exchangeable` refuses them with :class:`StateSecretNotAllowed`.
- Signer authority: NĐ 30/2020 Phụ lục I (thẩm quyền ký): TM. (thay mặt, collective body),
  KT. (ký thay, a deputy for the head), TL. (thừa lệnh), TUQ. (thừa ủy quyền), Q. (quyền,
  acting head).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from services.chassis.text import fold, nfc
from services.distribution.edxml.codes import PRIORITY_NAMES, Priority
from services.registry.domain.errors import InvalidField, StateSecretNotAllowed
from services.registry.domain.fields import require_text as _text


class Urgency(Enum):
    """Độ khẩn, valued by its edXML ``Priority`` code (the codec's table is the only one)."""

    NORMAL = Priority.NORMAL.value
    URGENT = Priority.URGENT.value
    VERY_URGENT = Priority.VERY_URGENT.value
    EXPRESS = Priority.EXPRESS.value
    EXPRESS_TIMED = Priority.EXPRESS_SCHEDULED.value

    @property
    def label(self) -> str:
        """Lower-case Vietnamese name, from the edXML table (``"thượng khẩn"``)."""
        return PRIORITY_NAMES[self.edxml_priority].lower()

    @property
    def edxml_priority(self) -> Priority:
        return Priority(self.value)

    @classmethod
    def from_edxml_priority(cls, code: int | str, field: str = "urgency") -> Urgency:
        try:
            return cls(Priority(int(code)).value)
        except (TypeError, ValueError):
            raise InvalidField(
                field, f"edXML Priority must be 0..4 (0 thường … 4 hỏa tốc hẹn giờ), got {code!r}"
            ) from None

    @classmethod
    def from_label(cls, label: str, field: str = "urgency") -> Urgency:
        """``"Thượng khẩn"``, ``"thuong khan"`` … (case and diacritics ignored)."""
        wanted = fold(label)
        for urgency in cls:
            if fold(urgency.label) == wanted:
                return urgency
        known = ", ".join(u.label for u in cls)
        raise InvalidField(field, f"{label!r} is not one of: {known}")


class Confidentiality(Enum):
    """Độ mật. Everything above ``NORMAL`` is a state secret."""

    NORMAL = "thường"
    CONFIDENTIAL = "mật"
    SECRET = "tối mật"
    TOP_SECRET = "tuyệt mật"

    @property
    def label(self) -> str:
        return self.value

    @property
    def is_state_secret(self) -> bool:
        return self is not Confidentiality.NORMAL

    @classmethod
    def from_label(cls, label: str, field: str = "confidentiality") -> Confidentiality:
        wanted = fold(label)
        for level in cls:
            if fold(level.value) == wanted:
                return level
        raise InvalidField(
            field, f"{label!r} is not one of: {', '.join(level.value for level in cls)}"
        )


def ensure_exchangeable(level: Confidentiality, field: str = "confidentiality") -> None:
    """Refuse a state secret for electronic exchange (QĐ 28/2018/QĐ-TTg Điều 1 khoản 2)."""
    if level.is_state_secret:
        raise StateSecretNotAllowed(field, level.value)


class SignerAuthority(Enum):
    """Thẩm quyền ký: the prefix written before the signer's title, with its trailing dot."""

    ON_BEHALF_OF_BODY = "TM."  # thay mặt tập thể (e.g. TM. ỦY BAN NHÂN DÂN)
    DEPUTY = "KT."  # ký thay người đứng đầu
    BY_ORDER = "TL."  # thừa lệnh
    BY_DELEGATION = "TUQ."  # thừa ủy quyền
    ACTING = "Q."  # quyền (acting head)

    @classmethod
    def from_prefix(cls, prefix: str, field: str = "signer.authority") -> SignerAuthority:
        text = nfc(prefix).upper()
        if not text.endswith("."):
            text += "."
        for authority in cls:
            if authority.value == text:
                return authority
        raise InvalidField(
            field, f"{prefix!r} is not an authority prefix (TM., KT., TL., TUQ., Q.)"
        )


_AUTHORITY_PREFIX = re.compile(r"^(TM|KT|TL|TUQ|Q)\.\s*", re.IGNORECASE)
SIGNER_TITLE_MAX = 255
SIGNER_NAME_MAX = 100


@dataclass(frozen=True, slots=True)
class Signer:
    """Chức vụ, họ tên người ký (QĐ 28/2018 Điều 10 khoản 2 điểm i).

    ``title`` is the signer's own position (``PHÓ CHỦ TỊCH``); ``authority`` and
    ``on_behalf_of`` are the line above it (``KT. CHỦ TỊCH``, ``TM. ỦY BAN NHÂN DÂN``), absent
    when the head signs in their own name.
    """

    title: str
    full_name: str
    authority: SignerAuthority | None = None
    on_behalf_of: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "title", _text("signer.title", self.title, SIGNER_TITLE_MAX))
        object.__setattr__(
            self, "full_name", _text("signer.full_name", self.full_name, SIGNER_NAME_MAX)
        )
        if self.authority is not None and not isinstance(self.authority, SignerAuthority):
            raise InvalidField(
                "signer.authority", f"expected SignerAuthority, got {self.authority!r}"
            )
        if (self.authority is None) != (self.on_behalf_of is None):
            raise InvalidField(
                "signer.on_behalf_of",
                "an authority prefix needs the title it acts for (e.g. 'KT. CHỦ TỊCH') and vice "
                "versa",
            )
        if self.on_behalf_of is not None:
            object.__setattr__(
                self,
                "on_behalf_of",
                _text("signer.on_behalf_of", self.on_behalf_of, SIGNER_TITLE_MAX),
            )

    @property
    def authority_line(self) -> str | None:
        """``"KT. CHỦ TỊCH"`` or ``None``."""
        if self.authority is None:
            return None
        return f"{self.authority.value} {self.on_behalf_of}"

    @property
    def competence_and_title(self) -> str:
        """One-line form used in edXML ``SignerInfo`` and the register book."""
        line = self.authority_line
        return f"{line} {self.title}" if line else self.title

    @classmethod
    def parse_authority_line(cls, line: str, title: str, full_name: str) -> Signer:
        """Build from ``"KT. CHỦ TỊCH"`` style text (prefix optional)."""
        text = nfc(line)
        match = _AUTHORITY_PREFIX.match(text)
        if not match:
            return cls(title=title, full_name=full_name)
        rest = text[match.end() :]
        if not rest:
            raise InvalidField(
                "signer.on_behalf_of", f"{line!r} has a prefix but no title after it"
            )
        return cls(
            title=title,
            full_name=full_name,
            authority=SignerAuthority.from_prefix(match.group(1)),
            on_behalf_of=rest,
        )
