"""Office hours per agency through gRPC on the real PostgreSQL: arrival time and due dates."""

from __future__ import annotations

import itertools

import grpc
import pytest
from lienthong.identifiers.v1 import identifiers_pb2 as ipb
from lienthong.registry.v1 import registry_pb2 as pb

from services.chassis.grpc_server import ERROR_FIELD_HEADER
from tests.integration.registry.conftest import fresh_agency_code

PROVINCE_FINANCE = "000.00.03.H56"
SATURDAY_8AM = "2026-11-14T08:00:00+07:00"  # an ordinary Saturday, no holiday near
_serial = itertools.count(1)
_WEEKDAY_PERIODS = [pb.Period(start="07:30", end="11:30"), pb.Period(start="13:30", end="17:00")]


def _error(call) -> tuple[grpc.StatusCode, str, str]:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    error = caught.value
    field = dict(error.trailing_metadata() or ()).get(ERROR_FIELD_HEADER, "")
    return error.code(), error.details(), field


def _arrive(registry, agency: str, received_at: str, due: int = 0) -> pb.Document:
    document = pb.Document(
        agency_code=agency,
        document_type="cong_van",
        subject="Về việc tiếp nhận hồ sơ ngoài giờ hành chính",
        number_and_symbol=f"{next(_serial)}/STC-GH",
        document_date="2026-11-12",
        sender=pb.Party(name="Sở Tài chính", agency_code=PROVINCE_FINANCE),
        received_at=received_at,
    )
    return registry.RegisterIncoming(
        pb.RegisterIncomingRequest(document=document, due_in_working_days=due, actor="văn thư")
    )


def _one_stop_shop_hours(agency: str, **changes) -> pb.OfficeHours:
    """Monday–Friday default hours plus Saturday morning (a one-stop-shop centre)."""
    hours = pb.OfficeHours(
        agency_code=agency,
        weekdays=[pb.WeekdayHours(weekday=d, periods=_WEEKDAY_PERIODS) for d in range(1, 6)]
        + [pb.WeekdayHours(weekday=6, periods=[pb.Period(start="07:30", end="11:30")])],
    )
    for name, value in changes.items():
        field = getattr(hours, name)
        del field[:]
        field.extend(value)
    return hours


def test_saturday_morning_hours_count_a_saturday_arrival_at_once(registry, agency, identifiers):
    default_agency = fresh_agency_code()
    identifiers.UpsertAgency(
        ipb.UpsertAgencyRequest(
            agency=ipb.Agency(
                code=default_agency, name="Sở Thử Nghiệm", abbreviation="STN", kind="department"
            )
        )
    )
    saved = registry.SetOfficeHours(
        pb.SetOfficeHoursRequest(office_hours=_one_stop_shop_hours(agency), actor="quản trị")
    )
    assert not saved.is_default and saved.updated_by == "quản trị"
    assert [d.weekday for d in saved.weekdays] == [1, 2, 3, 4, 5, 6]

    at_centre = _arrive(registry, agency, SATURDAY_8AM, due=1)
    at_default = _arrive(registry, default_agency, SATURDAY_8AM, due=1)
    assert at_centre.effective_received_at == "2026-11-14T08:00:00+07:00"
    assert at_default.effective_received_at == "2026-11-16T07:30:00+07:00"
    # One working day: the centre counts from Saturday (→ Monday), the default from Monday.
    assert (at_centre.due_date, at_default.due_date) == ("2026-11-16", "2026-11-17")
    # Saturday afternoon is outside the centre's hours: Monday morning.
    afternoon = _arrive(registry, agency, "2026-11-14T14:00:00+07:00")
    assert afternoon.effective_received_at == "2026-11-16T07:30:00+07:00"


def test_get_gives_the_defaults_until_set_then_what_was_set(registry, agency):
    before = registry.GetOfficeHours(pb.GetOfficeHoursRequest(agency_code=agency))
    assert before.is_default and [d.weekday for d in before.weekdays] == [1, 2, 3, 4, 5]
    assert [(p.start, p.end) for p in before.weekdays[0].periods] == [
        ("07:30", "11:30"), ("13:30", "17:00"),
    ]  # fmt: skip
    # Periods given out of order are stored in order.
    unordered = pb.OfficeHours(
        agency_code=agency,
        weekdays=[
            pb.WeekdayHours(
                weekday=2,
                periods=[
                    pb.Period(start="13:00", end="16:30"),
                    pb.Period(start="07:00", end="11:00"),
                ],
            )
        ],
        extra_days_off=["2026-12-01"],
    )
    registry.SetOfficeHours(pb.SetOfficeHoursRequest(office_hours=unordered))
    after = registry.GetOfficeHours(pb.GetOfficeHoursRequest(agency_code=agency))
    assert not after.is_default and after.updated_by == "system"
    assert [d.weekday for d in after.weekdays] == [2]
    assert [(p.start, p.end) for p in after.weekdays[0].periods] == [
        ("07:00", "11:00"), ("13:00", "16:30"),
    ]  # fmt: skip
    assert list(after.extra_days_off) == ["2026-12-01"]


def test_an_agency_day_off_moves_arrival_and_due_date(registry, agency):
    hours = _one_stop_shop_hours(agency, weekdays=[
        pb.WeekdayHours(weekday=d, periods=_WEEKDAY_PERIODS) for d in range(1, 6)
    ])  # fmt: skip
    hours.extra_days_off.append("2026-11-16")  # the Monday after
    registry.SetOfficeHours(pb.SetOfficeHoursRequest(office_hours=hours))
    document = _arrive(registry, agency, "2026-11-13T18:30:00+07:00", due=2)  # Friday evening
    assert document.effective_received_at == "2026-11-17T07:30:00+07:00"
    assert document.due_date == "2026-11-19"


def _bad(agency: str, *weekdays: pb.WeekdayHours, **extra) -> pb.OfficeHours:
    return pb.OfficeHours(agency_code=agency, weekdays=list(weekdays), **extra)


def _day(weekday: int, *periods: tuple[str, str]) -> pb.WeekdayHours:
    return pb.WeekdayHours(weekday=weekday, periods=[pb.Period(start=s, end=e) for s, e in periods])


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda a: _bad(a, _day(1, ("07:30", "11:30"), ("11:00", "17:00"))),
         "office_hours.weekdays[0].periods[1]"),
        (lambda a: _bad(a, _day(1, ("13:00", "17:00"), ("07:30", "13:30"))),
         "office_hours.weekdays[0].periods[1]"),
        (lambda a: _bad(a, _day(1, ("07:30", "11:30")), _day(3, ("17:00", "07:30"))),
         "office_hours.weekdays[1].periods[0].end"),
        (lambda a: _bad(a, _day(1, ("07:30", "24:00"))),
         "office_hours.weekdays[0].periods[0].end"),
        (lambda a: _bad(a, _day(1, ("7h30", "11:30"))),
         "office_hours.weekdays[0].periods[0].start"),
        (lambda a: _bad(a, _day(8, ("07:30", "11:30"))), "office_hours.weekdays[0].weekday"),
        (lambda a: _bad(a, _day(2, ("07:30", "11:30")), _day(2, ("13:30", "17:00"))),
         "office_hours.weekdays[1].weekday"),
        (lambda a: _bad(a), "office_hours.weekdays"),
        (lambda a: _bad(a, _day(1, ("07:30", "11:30")), extra_days_off=["2026-13-01"]),
         "office_hours.extra_days_off[0]"),
        (lambda a: _bad(a, _day(1, ("07:30", "11:30")),
                        make_up_day_periods=[pb.Period(start="08:00", end="08:00")]),
         "office_hours.make_up_day_periods[0].end"),
        (lambda a: _bad("12.34", _day(1, ("07:30", "11:30"))), "office_hours.agency_code"),
    ],
)  # fmt: skip
def test_bad_office_hours_are_refused_naming_the_field(registry, agency, make, field):
    code, details, named = _error(
        lambda: registry.SetOfficeHours(pb.SetOfficeHoursRequest(office_hours=make(agency)))
    )
    assert (code, named) == (grpc.StatusCode.INVALID_ARGUMENT, field), details
    # Nothing was stored: the agency still has the defaults.
    assert registry.GetOfficeHours(pb.GetOfficeHoursRequest(agency_code=agency)).is_default


def test_office_hours_of_an_agency_outside_the_directory_are_refused(registry):
    unknown = fresh_agency_code()
    code, _, field = _error(
        lambda: registry.SetOfficeHours(
            pb.SetOfficeHoursRequest(office_hours=_one_stop_shop_hours(unknown))
        )
    )
    assert (code, field) == (grpc.StatusCode.FAILED_PRECONDITION, "office_hours.agency_code")
