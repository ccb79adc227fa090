"""Routing: who receives a sent document, on which lane, when, and whether on paper too.

- Receivers are agency codes and groups ("all communes under X"); a group is resolved by the
  identifiers service (``ResolveGroup``) before :func:`plan` sees it, so this module stays pure.
  One delivery per distinct receiver; the sender never receives its own document.
- Lanes: hỏa tốc, thượng khẩn and hỏa tốc hẹn giờ travel on the express lane (its own Kafka
  topic and consumer), so they overtake a backlog of normal ones (QĐ 28/2018 Điều 10 khoản 2
  điểm k names the urgency levels; NĐ 30/2020 Điều 15 khoản 2: urgent documents are handled
  first). Within a lane, one receiver's deliveries keep their order (Kafka key = receiver).
- "Hỏa tốc hẹn giờ" carries the time it must be delivered at; it lands in the inbox then.
- Paper: a receiver that does not exchange electronically, or a document type on the paper
  list, gets the paper-copy flag on its delivery.
- Outside the province: a receiver the directory knows as an agency of the national axis
  (kind :data:`AXIS_AGENCY_KIND`, added by the axis agency-list sync) is reached through the
  national axis (QĐ 28/2018 Điều 5: the Trục liên thông văn bản quốc gia links the provinces'
  and ministries' systems); its delivery is forwarded there instead of landing in an inbox.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.distribution.domain.errors import InvalidRoute
from services.distribution.edxml.codes import URGENT_PRIORITIES, Priority
from services.identifiers.domain.codes import AgencyCode, InvalidAgencyCode

MAX_RECEIVERS = 5000
#: Directory kind of an agency outside the province, reached through the national axis.
AXIS_AGENCY_KIND = "national_axis"


class Lane(StrEnum):
    EXPRESS = "express"
    NORMAL = "normal"


def lane_for(priority: Priority) -> Lane:
    return Lane.EXPRESS if priority in URGENT_PRIORITIES else Lane.NORMAL


@dataclass(frozen=True, slots=True)
class ReceiverInfo:
    """What routing needs to know of a receiver (from the identifiers directory)."""

    code: str
    exchanges_electronically: bool = True
    via_axis: bool = False  # outside the province: reached through the national axis
    name: str = ""  # the agency's name (edXML OrganName, ToPlaces)


@dataclass(frozen=True, slots=True)
class Route:
    receiver_code: str
    lane: Lane
    paper_copy: bool
    deliver_at: datetime | None  # only for hỏa tốc hẹn giờ
    via_axis: bool = False


def normalise_code(text: str, field: str) -> str:
    try:
        return str(AgencyCode.parse(text, field))
    except InvalidAgencyCode as exc:
        raise InvalidRoute(exc.reason, field=field) from exc


def plan(
    *,
    sender_code: str,
    receivers: Iterable[ReceiverInfo],
    group_members: Mapping[str, Iterable[ReceiverInfo]] | None = None,
    priority: Priority,
    deliver_at: datetime | None = None,
    document_type: str = "",
    paper_types: frozenset[str] = frozenset(),
) -> list[Route]:
    """One route per distinct receiver, in the order given (named agencies, then groups).

    Raises :class:`InvalidRoute` for a malformed code, no receivers at all, more than
    :data:`MAX_RECEIVERS`, a scheduled document without its time or a time on another one.
    """
    sender = normalise_code(sender_code, "sender_code")
    if priority is Priority.EXPRESS_SCHEDULED and deliver_at is None:
        raise InvalidRoute("hỏa tốc hẹn giờ needs the time to deliver at", field="deliver_at")
    if deliver_at is not None and priority is not Priority.EXPRESS_SCHEDULED:
        raise InvalidRoute(
            "only hỏa tốc hẹn giờ (priority 4) is delivered at a set time", field="deliver_at"
        )
    if deliver_at is not None and deliver_at.tzinfo is None:
        raise InvalidRoute("must carry a UTC offset, e.g. +07:00", field="deliver_at")
    lane = lane_for(priority)
    paper_type = document_type in paper_types
    seen: dict[str, Route] = {}
    candidates: list[tuple[str, ReceiverInfo]] = [
        (f"receivers[{i}]", r) for i, r in enumerate(receivers)
    ]
    for group, members in (group_members or {}).items():
        candidates += [(f"groups[{group}]", m) for m in members]
    for field, info in candidates:
        code = normalise_code(info.code, field)
        if code == sender or code in seen:
            continue
        seen[code] = Route(
            receiver_code=code,
            lane=lane,
            # The axis carries electronic documents only; paper is the far agency's business.
            paper_copy=not info.via_axis and (paper_type or not info.exchanges_electronically),
            deliver_at=deliver_at,
            via_axis=info.via_axis,
        )
    if not seen:
        raise InvalidRoute("no receiver other than the sender", field="receivers")
    if len(seen) > MAX_RECEIVERS:
        raise InvalidRoute(f"{len(seen)} receivers; at most {MAX_RECEIVERS}", field="receivers")
    return list(seen.values())
