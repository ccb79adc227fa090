"""Errors of the registry domain.

Every error is a specific class whose message names the field and the reason. They derive
from the chassis's :class:`ServiceError` (pure Python), so the gRPC interceptor maps ``status``
to the wire status and shows ``field`` and ``reason``; they are also ``ValueError`` subclasses,
which is what they are to plain Python callers.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.chassis.errors import ServiceError


class RegistryDomainError(ServiceError, ValueError):
    """Base class of every rule violation detected by the registry domain."""

    status = "INVALID_ARGUMENT"


class InvalidField(RegistryDomainError):
    """A field value of the wrong type, length, format or range.

    ``field`` is the attribute name (dotted for nested values, e.g. ``signer.full_name``) and
    ``reason`` a sentence saying what is wrong.
    """

    field: str

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason, field=field)


class UnknownDocumentType(InvalidField):
    """A document type name, key or abbreviation that NĐ 30/2020 Điều 7 does not list."""


class InvalidSymbol(InvalidField):
    """A number-and-symbol (số và ký hiệu) that cannot be built or parsed."""


class WrongYear(InvalidField):
    """A date or number that belongs to another year than the register book it is put in."""


class StateSecretNotAllowed(RegistryDomainError):
    """A document classified as a state secret offered for electronic exchange.

    Documents classified mật / tối mật / tuyệt mật are governed by the Law on Protection of
    State Secrets (Luật Bảo vệ bí mật nhà nước 2018) and must not travel over the ordinary
    document-exchange network. QĐ 28/2018/QĐ-TTg Điều 1 khoản 2: "Quyết định này không áp
    dụng đối với việc gửi, nhận văn bản điện tử có nội dung thuộc bí mật nhà nước theo quy
    định của pháp luật."
    """

    status = "FAILED_PRECONDITION"

    def __init__(self, field: str, level: str) -> None:
        super().__init__(
            f"the document is classified {level!r} (state secret); state secrets must not be "
            "registered for or sent through electronic exchange",
            field=field,
        )
        self.level = level


class IllegalTransition(RegistryDomainError):
    """A processing-status change that the state machine does not allow."""

    status = "FAILED_PRECONDITION"

    def __init__(self, current: str, target: str, allowed: Iterable[str], reason: str = "") -> None:
        allowed_list = sorted(allowed)
        allowed_text = ", ".join(allowed_list) if allowed_list else "none (final status)"
        detail = f" ({reason})" if reason else ""
        super().__init__(
            f"cannot go from {current!r} to {target!r}{detail}; "
            f"allowed from {current!r}: {allowed_text}",
            field="status",
        )
        self.current = current
        self.target = target
        self.allowed = tuple(allowed_list)


class NumberOutOfSequence(RegistryDomainError):
    """An allocated document or arrival number that is not the next one of its book."""

    status = "FAILED_PRECONDITION"

    def __init__(self, book: str, expected: int, got: int) -> None:
        super().__init__(
            f"register book {book} expects {expected} next, got {got} "
            "(numbers are continuous and never reused, NĐ 30/2020 Điều 15 khoản 1)",
            field="number",
        )
        self.book = book
        self.expected = expected
        self.got = got


class CalendarNotCovered(RegistryDomainError):
    """A date outside the years for which the holiday calendar holds data."""

    status = "FAILED_PRECONDITION"

    def __init__(self, field: str, year: int, covered: Iterable[int]) -> None:
        years = sorted(covered)
        span = f"covers {years[0]}–{years[-1]}" if years else "holds no years"
        super().__init__(f"no public-holiday data for {year}; the calendar {span}", field=field)
        self.year = year
