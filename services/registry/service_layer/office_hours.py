"""Office hours and own days off per agency: configuration that decides working time.

Issue #3: "a document that arrives outside office hours counts from the start of the next
working period (office hours and the holiday calendar are configuration per agency)". QĐ
36/2013/QĐ-UBND Long An Điều 9 khoản 2 gives the rule (``WorkingCalendar.effective_arrival``);
this module stores each agency's hours and extra days off in ``registry.office_hours`` and
builds the agency's :class:`WorkingCalendar` on top of Vietnam's public holidays. An agency
without a row works the default hours (Monday–Friday 07:30–11:30, 13:30–17:00).

Validation names the request field: ``office_hours.weekdays[1].periods[0].end``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import pairwise
from typing import Any

from lienthong.registry.v1 import registry_pb2 as pb

from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidArgument
from services.chassis.timeutil import iso
from services.registry.adapters.repository import OfficeHoursRepository
from services.registry.domain.calendar import (
    DEFAULT_PERIODS,
    HolidayCalendar,
    OfficeHours,
    Period,
    WorkingCalendar,
)
from services.registry.domain.errors import InvalidField
from services.registry.domain.register_books import check_agency_code
from services.registry.service_layer.directory import AgencyDirectory

FIELD = "office_hours"
MAX_PERIODS_PER_DAY = 6
MAX_EXTRA_DAYS_OFF = 400  # a little over a year of closures; more is a data-entry mistake
ACTOR_MAX = 255


@dataclass(frozen=True, slots=True)
class AgencyHours:
    """One agency's working-time configuration."""

    agency_code: str
    office_hours: OfficeHours
    extra_days_off: tuple[date, ...] = ()
    updated_at: datetime | None = None
    updated_by: str | None = None

    @property
    def is_default(self) -> bool:
        return self.updated_at is None

    def calendar(self, holidays: HolidayCalendar) -> WorkingCalendar:
        return WorkingCalendar(holidays, self.office_hours, self.extra_days_off)


def default_hours(agency_code: str) -> AgencyHours:
    return AgencyHours(agency_code, OfficeHours())


# -- protobuf ↔ domain ---------------------------------------------------------------------------


def _parse_clock(text: str, field: str) -> time:
    """``"HH:MM"`` (or ``"HH:MM:SS"``) local time within one day."""
    try:
        value = time.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(
            f"{text!r} is not a time of day HH:MM between 00:00 and 23:59", field=field
        ) from None
    if value.tzinfo is not None:
        raise InvalidArgument(
            "office hours are local times (Asia/Ho_Chi_Minh) without an offset", field=field
        )
    return value


def _clock_text(value: time) -> str:
    return value.strftime("%H:%M") if not value.second else value.isoformat()


def periods_of(items: Any, field: str) -> tuple[Period, ...]:
    """Validate one day's periods: each within the day and ``start < end``, none overlapping.

    The result is in time order whatever the input order; an overlap names the later of the
    two periods as given.
    """
    if len(items) > MAX_PERIODS_PER_DAY:
        raise InvalidArgument(f"at most {MAX_PERIODS_PER_DAY} periods a day", field=field)
    parsed: list[tuple[time, time, int]] = []
    for index, item in enumerate(items):
        where = f"{field}[{index}]"
        start = _parse_clock(item.start, f"{where}.start")
        end = _parse_clock(item.end, f"{where}.end")
        if start >= end:
            raise InvalidArgument(
                f"ends at {_clock_text(end)}, not after its start {_clock_text(start)}; a period "
                "lies within one day",
                field=f"{where}.end",
            )
        parsed.append((start, end, index))
    parsed.sort()
    for (start_a, end_a, index_a), (start_b, _, index_b) in pairwise(parsed):
        if start_b < end_a:
            later, earlier = max(index_a, index_b), min(index_a, index_b)
            raise InvalidArgument(
                f"overlaps {field}[{earlier}] ({_clock_text(start_a)}–{_clock_text(end_a)} and "
                f"from {_clock_text(start_b)})",
                field=f"{field}[{later}]",
            )
    return tuple((start, end) for start, end, _ in parsed)


def hours_from_pb(message: pb.OfficeHours, field: str = FIELD) -> AgencyHours:
    """Validate a requested configuration; errors name the field of ``message`` under ``field``."""
    try:
        check_agency_code(f"{field}.agency_code", message.agency_code)
    except InvalidField as exc:
        raise InvalidArgument(exc.reason, field=exc.field) from None
    by_weekday: dict[int, tuple[Period, ...]] = {}
    for index, day in enumerate(message.weekdays):
        where = f"{field}.weekdays[{index}]"
        if not 1 <= day.weekday <= 7:
            raise InvalidArgument(
                f"{day.weekday} is not an ISO weekday (1 = Monday … 7 = Sunday)",
                field=f"{where}.weekday",
            )
        weekday = day.weekday - 1
        if weekday in by_weekday:
            raise InvalidArgument(
                f"weekday {day.weekday} is listed twice; give all its periods in one entry",
                field=f"{where}.weekday",
            )
        by_weekday[weekday] = periods_of(day.periods, f"{where}.periods")
    if not any(by_weekday.values()):
        raise InvalidArgument(
            "an agency works on at least one weekday; give its periods", field=f"{field}.weekdays"
        )
    make_up = (
        periods_of(message.make_up_day_periods, f"{field}.make_up_day_periods")
        if message.make_up_day_periods
        else DEFAULT_PERIODS
    )
    if len(message.extra_days_off) > MAX_EXTRA_DAYS_OFF:
        raise InvalidArgument(f"at most {MAX_EXTRA_DAYS_OFF} days", field=f"{field}.extra_days_off")
    days_off: list[date] = []
    for index, text in enumerate(message.extra_days_off):
        where = f"{field}.extra_days_off[{index}]"
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise InvalidArgument(f"{text!r} is not a date yyyy-MM-dd", field=where) from None
        if day in days_off:
            raise InvalidArgument(f"{text} is listed twice", field=where)
        days_off.append(day)
    return AgencyHours(
        message.agency_code,
        OfficeHours(periods_by_weekday=by_weekday, make_up_day_periods=make_up),
        tuple(sorted(days_off)),
    )


def _periods_pb(periods: tuple[Period, ...]) -> list[pb.Period]:
    return [pb.Period(start=_clock_text(s), end=_clock_text(e)) for s, e in periods]


def hours_to_pb(hours: AgencyHours) -> pb.OfficeHours:
    office = hours.office_hours
    return pb.OfficeHours(
        agency_code=hours.agency_code,
        weekdays=[
            pb.WeekdayHours(weekday=weekday + 1, periods=_periods_pb(periods))
            for weekday, periods in sorted(office.periods_by_weekday.items())
            if periods
        ],
        make_up_day_periods=_periods_pb(office.make_up_day_periods),
        extra_days_off=[d.isoformat() for d in hours.extra_days_off],
        is_default=hours.is_default,
        updated_at=iso(hours.updated_at) if hours.updated_at else "",
        updated_by=hours.updated_by or "",
    )


# -- row ↔ domain --------------------------------------------------------------------------------


def _periods_json(periods: tuple[Period, ...]) -> list[list[str]]:
    return [[s.isoformat(), e.isoformat()] for s, e in periods]


def _periods_from_json(items: list[list[str]]) -> tuple[Period, ...]:
    return tuple((time.fromisoformat(s), time.fromisoformat(e)) for s, e in items)


def hours_to_row(hours: AgencyHours, *, actor: str, now: datetime) -> dict[str, Any]:
    office = hours.office_hours
    return {
        "agency_code": hours.agency_code,
        "periods": {
            str(weekday + 1): _periods_json(periods)
            for weekday, periods in sorted(office.periods_by_weekday.items())
        },
        "make_up_day_periods": _periods_json(office.make_up_day_periods),
        "extra_days_off": [d.isoformat() for d in hours.extra_days_off],
        "updated_at": now,
        "updated_by": actor,
    }


def hours_from_row(row: Any) -> AgencyHours:
    return AgencyHours(
        row.agency_code,
        OfficeHours(
            periods_by_weekday={
                int(weekday) - 1: _periods_from_json(items)
                for weekday, items in row.periods.items()
            },
            make_up_day_periods=_periods_from_json(row.make_up_day_periods),
        ),
        tuple(date.fromisoformat(d) for d in row.extra_days_off),
        row.updated_at,
        row.updated_by,
    )


# -- use cases -----------------------------------------------------------------------------------


def hours_of(uow: UnitOfWork, agency_code: str) -> AgencyHours:
    """The agency's configuration, or the defaults when it has none."""
    row = OfficeHoursRepository(uow.session).get(agency_code)
    return hours_from_row(row) if row is not None else default_hours(agency_code)


def calendar_for(uow: UnitOfWork, holidays: HolidayCalendar, agency_code: str) -> WorkingCalendar:
    """The agency's working calendar, read in the caller's transaction."""
    return hours_of(uow, agency_code).calendar(holidays)


def set_office_hours(
    uow: UnitOfWork,
    directory: AgencyDirectory,
    message: pb.OfficeHours,
    *,
    actor: str,
    now: datetime,
) -> AgencyHours:
    """Replace the agency's office hours and own days off (validated, for a directory agency)."""
    hours = hours_from_pb(message)
    if len(actor) > ACTOR_MAX:
        raise InvalidArgument(f"at most {ACTOR_MAX} characters", field="actor")
    directory.get(hours.agency_code, f"{FIELD}.agency_code")
    OfficeHoursRepository(uow.session).put(hours_to_row(hours, actor=actor, now=now))
    return AgencyHours(hours.agency_code, hours.office_hours, hours.extra_days_off, now, actor)
