"""Routing: receivers and groups to one route each, lanes, schedule, paper copies."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from services.distribution.domain.errors import InvalidRoute
from services.distribution.domain.routing import Lane, ReceiverInfo, lane_for, plan
from services.distribution.edxml.codes import Priority

SENDER = "000.00.00.H56"
AT = datetime(2026, 11, 23, 14, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def _codes(n: int, start: int = 1) -> list[ReceiverInfo]:
    return [ReceiverInfo(f"000.00.{i:02d}.H56") for i in range(start, start + n)]


def test_one_route_per_distinct_receiver_without_the_sender() -> None:
    group = {"000.00.10.H56": [*_codes(3, 2), ReceiverInfo(SENDER)]}
    routes = plan(
        sender_code=SENDER,
        receivers=[*_codes(3), ReceiverInfo(" 000.00.01.H56 ")],
        group_members=group,
        priority=Priority.NORMAL,
    )
    assert [r.receiver_code for r in routes] == [f"000.00.{i:02d}.H56" for i in (1, 2, 3, 4)]
    assert {r.lane for r in routes} == {Lane.NORMAL}


@pytest.mark.parametrize(
    ("priority", "lane"),
    [
        (Priority.NORMAL, Lane.NORMAL),
        (Priority.URGENT, Lane.NORMAL),
        (Priority.VERY_URGENT, Lane.EXPRESS),
        (Priority.EXPRESS, Lane.EXPRESS),
        (Priority.EXPRESS_SCHEDULED, Lane.EXPRESS),
    ],
)
def test_lanes(priority: Priority, lane: Lane) -> None:
    assert lane_for(priority) is lane


def test_scheduled_express_needs_its_time_and_only_it_has_one() -> None:
    with pytest.raises(InvalidRoute) as caught:
        plan(sender_code=SENDER, receivers=_codes(1), priority=Priority.EXPRESS_SCHEDULED)
    assert caught.value.field == "deliver_at"
    with pytest.raises(InvalidRoute):
        plan(sender_code=SENDER, receivers=_codes(1), priority=Priority.EXPRESS, deliver_at=AT)
    (route,) = plan(
        sender_code=SENDER,
        receivers=_codes(1),
        priority=Priority.EXPRESS_SCHEDULED,
        deliver_at=AT,
    )
    assert route.deliver_at == AT and route.lane is Lane.EXPRESS


def test_paper_copy_for_offline_receivers_and_paper_types() -> None:
    receivers = [ReceiverInfo("000.00.01.H56", False), ReceiverInfo("000.00.02.H56", True)]
    routes = plan(sender_code=SENDER, receivers=receivers, priority=Priority.NORMAL)
    assert [r.paper_copy for r in routes] == [True, False]
    routes = plan(
        sender_code=SENDER,
        receivers=receivers,
        priority=Priority.NORMAL,
        document_type="bang_khen",
        paper_types=frozenset({"bang_khen"}),
    )
    assert [r.paper_copy for r in routes] == [True, True]


def test_bad_routes_name_the_field() -> None:
    with pytest.raises(InvalidRoute) as caught:
        plan(sender_code=SENDER, receivers=[ReceiverInfo("000.00.1.H56")], priority=Priority.NORMAL)
    assert caught.value.field == "receivers[0]"
    with pytest.raises(InvalidRoute, match="no receiver"):
        plan(sender_code=SENDER, receivers=[ReceiverInfo(SENDER)], priority=Priority.NORMAL)
