"""Working calendar: office hours, public holidays, due dates and the effective arrival time.

QĐ 36/2013/QĐ-UBND Long An, Điều 9 khoản 2 (the rule this module implements): "Thời điểm nhận
một văn bản điện tử tại cơ quan nhà nước được xác định là thời điểm văn bản điện tử đó nhập vào
hệ thống thông tin cơ quan tiếp nhận, nếu thời điểm văn bản nhập vào hệ thống ngoài giờ hành
chính thì thời điểm tiếp nhận văn bản điện tử đến, được tính là thời điểm bắt đầu giờ hành chính
kế tiếp."

Office hours are configuration per agency (default Monday–Friday 07:30–11:30 and 13:30–17:00,
Asia/Ho_Chi_Minh). Public holidays, compensatory days, swapped days and make-up working
Saturdays come from ``data/holidays_vn.json``. Asking about a year the data does not cover
raises :class:`CalendarNotCovered` rather than silently treating Tết as a working day.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import Enum
from importlib import resources
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from services.chassis.text import nfc
from services.registry.domain.errors import CalendarNotCovered, InvalidField
from services.registry.domain.fields import require_aware_datetime, require_date, require_int

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
HOLIDAYS_RESOURCE = "holidays_vn.json"
MAX_WORKING_DAYS = 3660  # ten years; a longer due date is a typo, not a deadline


class DayOffKind(Enum):
    HOLIDAY = "holiday"  # ngày lễ, tết
    COMPENSATORY = "compensatory"  # nghỉ bù
    SWAPPED = "swapped"  # nghỉ hoán đổi, paid back by a make-up working day
    # A Saturday/Sunday joined to holidays: part of the announced break, so agencies that also
    # work at weekends (one-stop-shop centres) are closed too.
    BREAK_WEEKEND = "break_weekend"


class DataSource(Enum):
    OFFICIAL = "official"
    STATUTORY = "statutory"
    COMPUTED = "computed"


@dataclass(frozen=True, slots=True)
class DayOff:
    day: date
    name: str
    kind: DayOffKind
    source: DataSource
    note: str | None = None


@dataclass(frozen=True, slots=True)
class MakeUpWorkingDay:
    """A Saturday or Sunday worked in exchange for a swapped day off."""

    day: date
    replaces: date
    source: DataSource
    note: str | None = None


class HolidayCalendar:
    """Days off and make-up working days for a set of years."""

    def __init__(
        self,
        years: Iterable[int],
        days_off: Iterable[DayOff],
        make_up_days: Iterable[MakeUpWorkingDay] = (),
    ) -> None:
        self._years = frozenset(years)
        off: dict[date, DayOff] = {}
        for day_off in days_off:
            self._check_covered("days_off", day_off.day)
            if day_off.day in off:
                raise InvalidField("days_off", f"{day_off.day.isoformat()} is listed twice")
            off[day_off.day] = day_off
        make_up: dict[date, MakeUpWorkingDay] = {}
        for item in make_up_days:
            self._check_covered("make_up_working_days", item.day)
            if item.day in off:
                raise InvalidField(
                    "make_up_working_days",
                    f"{item.day.isoformat()} is both a day off and a make-up working day",
                )
            make_up[item.day] = item
        self._days_off: Mapping[date, DayOff] = MappingProxyType(off)
        self._make_up: Mapping[date, MakeUpWorkingDay] = MappingProxyType(make_up)

    def _check_covered(self, field_name: str, day: date) -> None:
        if day.year not in self._years:
            raise CalendarNotCovered(field_name, day.year, self._years)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> HolidayCalendar:
        """Build from the parsed ``holidays_vn.json`` (see its ``_comment``)."""
        try:
            years = [int(y) for y in data["years"]]
            days_off = [
                DayOff(
                    day=date.fromisoformat(item["date"]),
                    name=nfc(item["name"]),
                    kind=DayOffKind(item["kind"]),
                    source=DataSource(item["source"]),
                    note=item.get("note"),
                )
                for item in data["days_off"]
            ]
            make_up = [
                MakeUpWorkingDay(
                    day=date.fromisoformat(item["date"]),
                    replaces=date.fromisoformat(item["replaces"]),
                    source=DataSource(item["source"]),
                    note=item.get("note"),
                )
                for item in data.get("make_up_working_days", [])
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidField("holidays", f"malformed holiday data: {exc!r}") from exc
        return cls(years, days_off, make_up)

    @classmethod
    def load_default(cls) -> HolidayCalendar:
        """Vietnam's public holidays shipped with the service."""
        text = (resources.files("services.registry").joinpath("data", HOLIDAYS_RESOURCE)).read_text(
            encoding="utf-8"
        )
        return cls.from_mapping(json.loads(text))

    @property
    def years(self) -> frozenset[int]:
        return self._years

    @property
    def days_off(self) -> Mapping[date, DayOff]:
        return self._days_off

    @property
    def make_up_days(self) -> Mapping[date, MakeUpWorkingDay]:
        return self._make_up

    def day_off(self, day: date) -> DayOff | None:
        self._check_covered("day", day)
        return self._days_off.get(day)

    def make_up_day(self, day: date) -> MakeUpWorkingDay | None:
        self._check_covered("day", day)
        return self._make_up.get(day)


Period = tuple[time, time]
DEFAULT_PERIODS: tuple[Period, ...] = ((time(7, 30), time(11, 30)), (time(13, 30), time(17, 0)))


@dataclass(frozen=True, slots=True)
class OfficeHours:
    """Working periods per weekday (0 = Monday … 6 = Sunday), each ``[start, end)``.

    ``make_up_day_periods`` are the hours of a make-up working Saturday (làm bù), by default
    the same as an ordinary weekday.
    """

    periods_by_weekday: Mapping[int, tuple[Period, ...]] = field(
        default_factory=lambda: MappingProxyType(dict.fromkeys(range(5), DEFAULT_PERIODS))
    )
    make_up_day_periods: tuple[Period, ...] = DEFAULT_PERIODS

    def __post_init__(self) -> None:
        checked: dict[int, tuple[Period, ...]] = {}
        for weekday, periods in self.periods_by_weekday.items():
            require_int("periods_by_weekday", weekday, 0, 6)
            checked[weekday] = check_periods(f"periods_by_weekday[{weekday}]", periods)
        object.__setattr__(self, "periods_by_weekday", MappingProxyType(checked))
        object.__setattr__(
            self,
            "make_up_day_periods",
            check_periods("make_up_day_periods", self.make_up_day_periods),
        )
        if not any(checked.values()):
            raise InvalidField("periods_by_weekday", "an agency must work on at least one day")

    def periods(self, weekday: int) -> tuple[Period, ...]:
        return self.periods_by_weekday.get(weekday, ())


def check_periods(field_name: str, periods: Iterable[Period]) -> tuple[Period, ...]:
    """Periods of one day in order: each ``start < end``, none overlapping the one before."""
    result = tuple(tuple(p) for p in periods)
    previous_end: time | None = None
    for index, period in enumerate(result):
        if len(period) != 2 or not all(isinstance(t, time) for t in period):
            raise InvalidField(f"{field_name}[{index}]", "must be a (start, end) pair of times")
        start, end = period
        if start.tzinfo is not None or end.tzinfo is not None:
            raise InvalidField(f"{field_name}[{index}]", "times are local (Asia/Ho_Chi_Minh)")
        if start >= end:
            raise InvalidField(f"{field_name}[{index}]", f"starts at {start} after its end {end}")
        if previous_end is not None and start < previous_end:
            raise InvalidField(f"{field_name}[{index}]", "overlaps or precedes the period before")
        previous_end = end
    return result  # type: ignore[return-value]


class WorkingCalendar:
    """An agency's working time: office hours on working days that are not days off."""

    def __init__(
        self,
        holidays: HolidayCalendar,
        office_hours: OfficeHours | None = None,
        extra_days_off: Iterable[date] = (),
    ) -> None:
        self._holidays = holidays
        self._office_hours = office_hours or OfficeHours()
        self._extra_days_off = frozenset(require_date("extra_days_off", d) for d in extra_days_off)

    @classmethod
    def default(cls) -> WorkingCalendar:
        """Vietnam's public holidays with the default office hours."""
        return cls(HolidayCalendar.load_default())

    @property
    def office_hours(self) -> OfficeHours:
        return self._office_hours

    @property
    def holidays(self) -> HolidayCalendar:
        return self._holidays

    @property
    def extra_days_off(self) -> frozenset[date]:
        return self._extra_days_off

    def periods_on(self, day: date) -> tuple[Period, ...]:
        """The working periods of ``day``; empty on a day off."""
        require_date("day", day)
        if self._holidays.make_up_day(day) is not None:
            return self._office_hours.make_up_day_periods
        if self._holidays.day_off(day) is not None or day in self._extra_days_off:
            return ()
        return self._office_hours.periods(day.weekday())

    def is_working_day(self, day: date) -> bool:
        return bool(self.periods_on(day))

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        candidate = day + timedelta(days=1)
        while not self.is_working_day(candidate):
            candidate += timedelta(days=1)
        return candidate

    def add_working_days(self, start: date | datetime, working_days: int) -> date:
        """Due date: the ``working_days``-th working day after ``start``.

        A ``datetime`` start is first moved to its effective arrival (a document arriving on
        Saturday counts from Monday), then days are counted from the day after; ``0`` gives the
        effective day itself.
        """
        require_int("working_days", working_days, 0, MAX_WORKING_DAYS)
        if isinstance(start, datetime):
            day = self.effective_arrival(start).date()
        else:
            day = require_date("start", start)
            if working_days == 0 and not self.is_working_day(day):
                day = self.next_working_day(day)
        for _ in range(working_days):
            day = self.next_working_day(day)
        return day

    def effective_arrival(self, arrived_at: datetime) -> datetime:
        """When a document received at ``arrived_at`` counts as received (QĐ 36/2013 Điều 9).

        Inside a working period: ``arrived_at`` itself (in Vietnam time). Otherwise: the start
        of the next working period, which may be later the same day (12:00 → 13:30) or on a
        later working day (Friday 17:05 → Monday 07:30).
        """
        local = require_aware_datetime("arrived_at", arrived_at).astimezone(VIETNAM)
        day = local.date()
        moment = local.time().replace(tzinfo=None)
        for start, end in self.periods_on(day):
            if start <= moment < end:
                return local
            if moment < start:
                return datetime.combine(day, start, VIETNAM)
        day = self.next_working_day(day)
        return datetime.combine(day, self.periods_on(day)[0][0], VIETNAM)

    def is_within_office_hours(self, moment: datetime) -> bool:
        return self.effective_arrival(moment) == moment.astimezone(VIETNAM)
