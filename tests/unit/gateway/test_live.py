"""Decoding followed topics, agency filtering and the SSE wire format."""

from __future__ import annotations

import asyncio
import json

from lienthong.identifiers.v1 import identifiers_pb2 as ipb
from lienthong.registry.v1 import registry_pb2 as rpb

from gateway.accounts.domain import Principal, Role
from gateway.live import LIVE_TOPICS, QUEUE_SIZE, LiveHub, decode
from services.chassis.events import Event

STC, VP, PROVINCE = "000.00.03.H56", "000.00.01.H56", "000.00.00.H56"


def agency_event(code: str, parent: str) -> Event:
    payload = ipb.AgencyChanged(
        change=ipb.AgencyChanged.CHANGE_UPDATED,
        agency=ipb.Agency(code=code, name="Sở Tài chính", parent_code=parent),
        previous=ipb.Agency(code=code, name="Sở Tài Chính", parent_code=parent),
        changed_fields=["name"],
    )
    return Event.of(
        "lienthong.identifiers.agency.v1",
        "vn.lienthong.identifiers.agency.updated",
        "identifiers",
        code,
        payload,
    )


def test_agency_change_concerns_the_agency_and_its_parent() -> None:
    live = decode(agency_event(STC, PROVINCE))
    assert live is not None
    assert live.agencies == {STC, PROVINCE}
    assert live.data["agency"]["name"] == "Sở Tài chính"


def test_status_change_concerns_the_documents_agency() -> None:
    payload = rpb.StatusChanged(id="d-1", agency_code=VP, version=3)
    event = Event.of(
        "lienthong.registry.document.v1",
        "vn.lienthong.registry.document.status_changed",
        "registry",
        "d-1",
        payload,
    )
    live = decode(event)
    assert live is not None and live.agencies == {VP}


def test_unfollowed_topic_or_payload_is_ignored() -> None:
    event = agency_event(STC, PROVINCE)
    assert decode(Event(**{**_fields(event), "topic": "lienthong.other.v1"})) is None
    assert decode(Event(**{**_fields(event), "dataschema": "x.Unknown"})) is None


def _fields(event: Event) -> dict[str, object]:
    return {name: getattr(event, name) for name in Event.__slots__}  # type: ignore[attr-defined]


def test_every_followed_topic_is_versioned() -> None:
    assert all(topic.startswith("lienthong.") and topic.endswith(".v1") for topic in LIVE_TOPICS)


def test_sse_message_format() -> None:
    live = decode(agency_event(STC, PROVINCE))
    assert live is not None
    text = live.sse().decode()
    assert text.endswith("\n\n")
    lines = text.strip().split("\n")
    assert lines[0] == f"id: {live.id}"
    assert lines[1] == "event: vn.lienthong.identifiers.agency.updated"
    assert json.loads(lines[2].removeprefix("data: "))["data"]["agency"]["code"] == STC


def test_hub_delivers_only_to_the_agencies_concerned_and_province_admins() -> None:
    async def scenario() -> tuple[int, int, int, int]:
        hub = LiveHub()
        stc = hub.subscribe(Principal("1", "a", STC, frozenset({Role.CLERK})))
        vp = hub.subscribe(Principal("2", "b", VP, frozenset({Role.CLERK})))
        admin = hub.subscribe(Principal("3", "c", PROVINCE, frozenset({Role.PROVINCE_ADMIN})))
        live = decode(agency_event(STC, "000.00.09.H56"))
        assert live is not None
        delivered = hub.publish(live)
        await asyncio.sleep(0)
        return delivered, stc.queue.qsize(), vp.queue.qsize(), admin.queue.qsize()

    assert asyncio.run(scenario()) == (2, 1, 0, 1)


def test_a_subscriber_too_far_behind_is_ended_not_waited_for() -> None:
    async def scenario() -> list[object]:
        hub = LiveHub()
        slow = hub.subscribe(Principal("1", "a", STC, frozenset({Role.CLERK})))
        live = decode(agency_event(STC, PROVINCE))
        assert live is not None
        for _ in range(QUEUE_SIZE + 1):
            hub.publish(live)
        await asyncio.sleep(0.01)
        return [slow.queue.get_nowait() for _ in range(slow.queue.qsize())]

    assert asyncio.run(scenario()) == [None]
