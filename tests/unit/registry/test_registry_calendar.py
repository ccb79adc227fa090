"""Lunar dates, the holiday data and the working calendar (QĐ 36/2013 Long An Điều 9)."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources

import pytest

from services.registry.domain.calendar import (
    VIETNAM,
    DataSource,
    DayOffKind,
    HolidayCalendar,
    OfficeHours,
    WorkingCalendar,
)
from services.registry.domain.errors import CalendarNotCovered, InvalidField
from services.registry.domain.lunar import hung_kings_day, lunar_new_year, lunar_to_solar

# Dates published in official calendars for past years (independent of the algorithm), including
# 1985, when Vietnam's Tết (UTC+7) fell a month before China's (UTC+8) — the classic check.
KNOWN_TET = {
    1985: date(1985, 1, 21),
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
}
KNOWN_HUNG_KINGS = {
    2021: date(2021, 4, 21),
    2022: date(2022, 4, 10),
    2023: date(2023, 4, 29),
    2024: date(2024, 4, 18),
    2025: date(2025, 4, 7),
}


@pytest.mark.parametrize(("year", "expected"), sorted(KNOWN_TET.items()))
def test_lunar_new_year(year: int, expected: date) -> None:
    assert lunar_new_year(year) == expected


@pytest.mark.parametrize(("year", "expected"), sorted(KNOWN_HUNG_KINGS.items()))
def test_hung_kings_day(year: int, expected: date) -> None:
    assert hung_kings_day(year) == expected


def test_leap_month_2023() -> None:
    # 2023 had a leap second month (tháng 2 nhuận), starting 2023-03-22.
    assert lunar_to_solar(1, 2, 2023, leap_month=True) == date(2023, 3, 22)
    assert lunar_to_solar(1, 3, 2023) == date(2023, 4, 20)
    with pytest.raises(ValueError, match="leap"):
        lunar_to_solar(1, 5, 2023, leap_month=True)
    with pytest.raises(ValueError):
        lunar_to_solar(31, 1, 2023)


@pytest.fixture(scope="module")
def holidays() -> HolidayCalendar:
    return HolidayCalendar.load_default()


@pytest.fixture(scope="module")
def calendar(holidays: HolidayCalendar) -> WorkingCalendar:
    return WorkingCalendar(holidays)


def test_data_file_is_nfc_and_covers_2025_to_2027(holidays: HolidayCalendar) -> None:
    text = (
        resources.files("services.registry").joinpath("data", "holidays_vn.json").read_text("utf-8")
    )
    assert unicodedata.is_normalized("NFC", text)
    assert json.loads(text)["timezone"] == "Asia/Ho_Chi_Minh"
    assert holidays.years == {2025, 2026, 2027}


@pytest.mark.parametrize("year", [2025, 2026, 2027])
def test_lunar_holidays_in_the_data_match_the_computation(
    holidays: HolidayCalendar, year: int
) -> None:
    tet = lunar_new_year(year)
    listed = holidays.day_off(tet)
    assert listed is not None and "mùng 1" in listed.name
    eve = tet - timedelta(days=1)
    assert holidays.day_off(eve) is not None and "giao thừa" in holidays.day_off(eve).name
    hung = holidays.day_off(hung_kings_day(year))
    assert hung is not None and "Giỗ Tổ" in hung.name


@pytest.mark.parametrize("year", [2025, 2026, 2027])
def test_fixed_holidays_are_listed(holidays: HolidayCalendar, year: int) -> None:
    for month, day in ((1, 1), (4, 30), (5, 1), (9, 2)):
        assert holidays.day_off(date(year, month, day)) is not None, f"{year}-{month}-{day}"
    national_day_pair = [date(year, 9, 1), date(year, 9, 3)]
    assert sum(holidays.day_off(d) is not None for d in national_day_pair) == 1


@pytest.mark.parametrize("year", [2025, 2026, 2027])
def test_five_tet_days_are_working_days_off(holidays: HolidayCalendar, year: int) -> None:
    # BLLĐ 2019 Điều 112: Tết Âm lịch is 5 days; weekend days among them are compensated, so
    # the break removes at least 5 weekdays around Tết.
    tet = lunar_new_year(year)
    window = [tet + timedelta(days=offset) for offset in range(-7, 8)]
    weekdays_off = [d for d in window if d.weekday() < 5 and holidays.day_off(d) is not None]
    assert len(weekdays_off) >= 5


def test_holiday_on_weekend_is_compensated_next_working_day(holidays: HolidayCalendar) -> None:
    # Điều 111 khoản 3: Giỗ Tổ 2026 is Sunday 26/4, so Monday 27/4 is off.
    assert date(2026, 4, 26).weekday() == 6
    compensatory = holidays.day_off(date(2026, 4, 27))
    assert compensatory is not None and compensatory.kind is DayOffKind.COMPENSATORY
    for item in holidays.days_off.values():
        if item.kind is DayOffKind.COMPENSATORY:
            assert item.day.weekday() < 5
    assert {item.source for item in holidays.days_off.values()} == set(DataSource)


def test_swapped_day_has_its_make_up_saturday(holidays: HolidayCalendar) -> None:
    swapped = [d for d in holidays.days_off.values() if d.kind is DayOffKind.SWAPPED]
    assert swapped
    replaced = {m.replaces for m in holidays.make_up_days.values()}
    assert {d.day for d in swapped} == replaced
    assert all(m.day.weekday() >= 5 for m in holidays.make_up_days.values())


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 11, 20), True),  # Friday
        (date(2026, 11, 21), False),  # Saturday
        (date(2026, 11, 22), False),  # Sunday
        (date(2026, 2, 17), False),  # Tết
        (date(2026, 2, 23), True),  # first day after Tết 2026
        (date(2025, 4, 26), True),  # make-up Saturday
        (date(2025, 5, 2), False),  # swapped Friday
        (date(2026, 9, 2), False),
    ],
)
def test_is_working_day(calendar: WorkingCalendar, day: date, working: bool) -> None:
    assert calendar.is_working_day(day) is working


def test_outside_covered_years_is_an_error(calendar: WorkingCalendar) -> None:
    with pytest.raises(CalendarNotCovered, match="2028"):
        calendar.is_working_day(date(2028, 1, 26))
    with pytest.raises(CalendarNotCovered):
        calendar.add_working_days(date(2027, 12, 30), 5)


def _vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VIETNAM)


@pytest.mark.parametrize(
    ("arrived", "effective"),
    [
        (_vn(2026, 11, 20, 7, 30), _vn(2026, 11, 20, 7, 30)),  # opening minute counts
        (_vn(2026, 11, 20, 7, 29, 59), _vn(2026, 11, 20, 7, 30)),
        (_vn(2026, 11, 20, 11, 29), _vn(2026, 11, 20, 11, 29)),
        (_vn(2026, 11, 20, 11, 30), _vn(2026, 11, 20, 13, 30)),  # lunch break
        (_vn(2026, 11, 20, 16, 59, 59), _vn(2026, 11, 20, 16, 59, 59)),
        (_vn(2026, 11, 20, 17, 0), _vn(2026, 11, 23, 7, 30)),  # Friday evening → Monday
        (_vn(2026, 11, 21, 10, 0), _vn(2026, 11, 23, 7, 30)),  # Saturday
        (_vn(2026, 2, 13, 18, 0), _vn(2026, 2, 23, 7, 30)),  # before Tết 2026
        (_vn(2025, 4, 25, 20, 0), _vn(2025, 4, 26, 7, 30)),  # make-up Saturday works
        (_vn(2025, 4, 29, 17, 30), _vn(2025, 5, 5, 7, 30)),  # 30/4–4/5/2025 break
        (datetime(2026, 11, 23, 0, 15, tzinfo=UTC), _vn(2026, 11, 23, 7, 30)),  # 07:15 in Vietnam
    ],
)
def test_effective_arrival(
    calendar: WorkingCalendar, arrived: datetime, effective: datetime
) -> None:
    result = calendar.effective_arrival(arrived)
    assert result == effective
    assert result.utcoffset() == timedelta(hours=7)
    assert calendar.is_within_office_hours(arrived) is (result == arrived)


def test_naive_arrival_is_refused(calendar: WorkingCalendar) -> None:
    with pytest.raises(InvalidField) as info:
        calendar.effective_arrival(datetime(2026, 11, 20, 9, 0))
    assert info.value.field == "arrived_at"


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (date(2026, 11, 20), 0, date(2026, 11, 20)),
        (date(2026, 11, 21), 0, date(2026, 11, 23)),
        (date(2026, 11, 20), 1, date(2026, 11, 23)),
        (date(2026, 11, 20), 5, date(2026, 11, 27)),
        (date(2026, 2, 12), 3, date(2026, 2, 24)),  # across Tết 2026
        (date(2026, 4, 24), 2, date(2026, 4, 29)),  # skips compensatory 27/4
        (date(2025, 4, 25), 1, date(2025, 4, 26)),  # make-up Saturday counts
        (_vn(2026, 11, 20, 17, 30), 1, date(2026, 11, 24)),  # counts from Monday
        (_vn(2026, 11, 20, 10, 0), 1, date(2026, 11, 23)),
    ],
)
def test_add_working_days(calendar: WorkingCalendar, start: date, days: int, due: date) -> None:
    assert calendar.add_working_days(start, days) == due


@pytest.mark.parametrize("days", [-1, 1.5, "3", 10_000])
def test_bad_working_day_count(calendar: WorkingCalendar, days: object) -> None:
    with pytest.raises(InvalidField) as info:
        calendar.add_working_days(date(2026, 11, 20), days)  # type: ignore[arg-type]
    assert info.value.field == "working_days"


def test_agency_specific_hours_and_days_off(holidays: HolidayCalendar) -> None:
    # A one-stop-shop centre that also opens on Saturday morning, and a local day off.
    hours = OfficeHours(
        periods_by_weekday={
            **dict.fromkeys(range(5), ((time(7, 0), time(11, 30)), (time(13, 0), time(16, 30)))),
            5: ((time(7, 30), time(11, 30)),),
        }
    )
    calendar = WorkingCalendar(holidays, hours, extra_days_off=[date(2026, 11, 24)])
    assert calendar.effective_arrival(_vn(2026, 11, 20, 16, 45)) == _vn(2026, 11, 21, 7, 30)
    assert calendar.effective_arrival(_vn(2026, 11, 21, 12, 0)) == _vn(2026, 11, 23, 7, 0)
    assert calendar.add_working_days(date(2026, 11, 23), 1) == date(2026, 11, 25)
    assert calendar.is_working_day(date(2026, 2, 21)) is False  # Saturday inside Tết


@pytest.mark.parametrize(
    ("periods", "field"),
    [
        ({0: ((time(12, 0), time(8, 0)),)}, "periods_by_weekday[0][0]"),
        ({0: ((time(8, 0), time(12, 0)), (time(11, 0), time(13, 0)))}, "periods_by_weekday[0][1]"),
        ({7: ((time(8, 0), time(12, 0)),)}, "periods_by_weekday"),
        ({0: ()}, "periods_by_weekday"),
        ({0: ((time(8, 0),),)}, "periods_by_weekday[0][0]"),
    ],
)
def test_bad_office_hours(periods: dict, field: str) -> None:
    with pytest.raises(InvalidField) as info:
        OfficeHours(periods_by_weekday=periods)
    assert info.value.field == field


def test_bad_holiday_data() -> None:
    base = {"years": [2026], "days_off": [], "make_up_working_days": []}
    entry = {
        "date": "2026-01-01",
        "name": "Tết Dương lịch",
        "kind": "holiday",
        "source": "statutory",
    }
    with pytest.raises(InvalidField, match="twice"):
        HolidayCalendar.from_mapping(base | {"days_off": [entry, entry]})
    with pytest.raises(CalendarNotCovered):
        HolidayCalendar.from_mapping(base | {"days_off": [entry | {"date": "2030-01-01"}]})
    with pytest.raises(InvalidField, match="malformed"):
        HolidayCalendar.from_mapping(base | {"days_off": [entry | {"kind": "party"}]})
    make_up = {"date": "2026-01-01", "replaces": "2026-01-02", "source": "official"}
    with pytest.raises(InvalidField, match="both"):
        HolidayCalendar.from_mapping(
            base | {"days_off": [entry], "make_up_working_days": [make_up]}
        )
