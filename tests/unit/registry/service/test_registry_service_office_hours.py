"""Office-hours configuration: request validation and the stored row, without a database."""

from __future__ import annotations

from datetime import date, datetime, time
from types import SimpleNamespace

import pytest
from lienthong.registry.v1 import registry_pb2 as pb

from services.chassis.errors import InvalidArgument
from services.registry.domain.calendar import HolidayCalendar
from services.registry.domain.register_books import VIETNAM
from services.registry.service_layer.office_hours import (
    default_hours,
    hours_from_pb,
    hours_from_row,
    hours_to_pb,
    hours_to_row,
)

AGENCY = "000.00.01.H56"
_EARLY = pb.Period(start="07:00", end="08:00")


def _message(**changes) -> pb.OfficeHours:
    message = pb.OfficeHours(
        agency_code=AGENCY,
        weekdays=[
            pb.WeekdayHours(weekday=6, periods=[pb.Period(start="07:30", end="11:30")]),
            pb.WeekdayHours(
                weekday=1,
                periods=[
                    pb.Period(start="13:30", end="17:00"),
                    pb.Period(start="07:30", end="11:30"),
                ],
            ),
        ],
        extra_days_off=["2026-12-02", "2026-12-01"],
    )
    for name, value in changes.items():
        setattr(message, name, value)
    return message


def test_request_is_validated_sorted_and_survives_the_row():
    hours = hours_from_pb(_message())
    assert hours.office_hours.periods(0) == ((time(7, 30), time(11, 30)), (time(13, 30), time(17)))
    assert hours.office_hours.periods(5) == ((time(7, 30), time(11, 30)),)
    assert hours.office_hours.periods(2) == ()
    assert hours.extra_days_off == (date(2026, 12, 1), date(2026, 12, 2))
    now = datetime(2026, 11, 22, 9, 0, tzinfo=VIETNAM)
    row = SimpleNamespace(**hours_to_row(hours, actor="quản trị", now=now))
    back = hours_from_row(row)
    assert back.office_hours == hours.office_hours and back.extra_days_off == hours.extra_days_off
    assert not back.is_default and hours_to_pb(back).updated_by == "quản trị"


def test_the_calendar_uses_the_agency_hours_and_days_off():
    calendar = hours_from_pb(_message()).calendar(HolidayCalendar.load_default())
    saturday = datetime(2026, 11, 14, 8, 0, tzinfo=VIETNAM)
    assert calendar.effective_arrival(saturday) == saturday
    tuesday_evening = datetime(2026, 12, 1, 18, 0, tzinfo=VIETNAM)  # Tuesday: not worked
    assert calendar.effective_arrival(tuesday_evening) == datetime(
        2026, 12, 5, 7, 30, tzinfo=VIETNAM
    )
    default = default_hours(AGENCY).calendar(HolidayCalendar.load_default())
    assert default.effective_arrival(saturday) == datetime(2026, 11, 16, 7, 30, tzinfo=VIETNAM)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"weekdays": [pb.WeekdayHours(weekday=0, periods=[_EARLY])]},
         "office_hours.weekdays[0].weekday"),
        ({"weekdays": [pb.WeekdayHours(weekday=3, periods=[
            pb.Period(start="07:00", end="12:00"), pb.Period(start="11:59", end="13:00")])]},
         "office_hours.weekdays[0].periods[1]"),
        ({"weekdays": [pb.WeekdayHours(weekday=3, periods=[pb.Period(start="", end="12:00")])]},
         "office_hours.weekdays[0].periods[0].start"),
        ({"weekdays": [pb.WeekdayHours(weekday=3, periods=[])]}, "office_hours.weekdays"),
        ({"extra_days_off": ["2026-12-01", "2026-12-01"]}, "office_hours.extra_days_off[1]"),
    ],
)  # fmt: skip
def test_bad_requests_name_the_field(changes, field):
    message = _message()
    for name, value in changes.items():
        del getattr(message, name)[:]
        getattr(message, name).extend(value)
    with pytest.raises(InvalidArgument) as caught:
        hours_from_pb(message)
    assert caught.value.field == field
