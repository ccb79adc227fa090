"""Field validators shared by the registry's value objects.

Each validator takes the field name first so that the :class:`InvalidField` it raises names
the field; text is returned in NFC with whitespace collapsed (``services.chassis.text.nfc``).
"""

from __future__ import annotations

from datetime import date, datetime

from services.chassis.text import nfc
from services.registry.domain.errors import InvalidField


def require_text(field: str, value: object, max_length: int) -> str:
    """Non-empty text of at most ``max_length`` characters (counted after NFC)."""
    if not isinstance(value, str):
        raise InvalidField(field, f"expected text, got {type(value).__name__}")
    text = nfc(value)
    if not text:
        raise InvalidField(field, "must not be empty")
    if len(text) > max_length:
        raise InvalidField(field, f"is {len(text)} characters, at most {max_length}")
    return text


def optional_text(field: str, value: object, max_length: int) -> str | None:
    """Like :func:`require_text`, but ``None`` and blank text become ``None``."""
    if value is None:
        return None
    if isinstance(value, str) and not nfc(value):
        return None
    return require_text(field, value, max_length)


def require_int(field: str, value: object, minimum: int, maximum: int) -> int:
    """An ``int`` (not ``bool``) in ``minimum..maximum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidField(field, f"expected an integer, got {type(value).__name__}")
    if not minimum <= value <= maximum:
        raise InvalidField(field, f"must be between {minimum} and {maximum}, got {value}")
    return value


def require_date(field: str, value: object) -> date:
    """A calendar ``date`` (a ``datetime`` is refused: it carries a time the field has not)."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidField(field, f"expected a date, got {type(value).__name__}")
    return value


def require_aware_datetime(field: str, value: object) -> datetime:
    """A timezone-aware ``datetime``: naive times are ambiguous across replicas."""
    if not isinstance(value, datetime):
        raise InvalidField(field, f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidField(field, "must carry a timezone (ISO 8601 with +07:00)")
    return value
