"""Time as the law wants it: ISO 8601 with the Vietnam offset (QĐ 28/2018/QĐ-TTg, Điều 14)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def now() -> datetime:
    """The current time, timezone-aware, in Vietnam time."""
    return datetime.now(VIETNAM)


def iso(moment: datetime) -> str:
    """``2026-11-22T08:30:00+07:00``: ISO 8601, seconds precision, Vietnam offset."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; attach a timezone first")
    return moment.astimezone(VIETNAM).isoformat(timespec="seconds")


def iso_ms(moment: datetime) -> str:
    """As :func:`iso` with milliseconds, for logs and event times."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; attach a timezone first")
    return moment.astimezone(VIETNAM).isoformat(timespec="milliseconds")
