"""Deliveries: one per receiver of a sent document, each with its own state machine and history.

The state machine follows QĐ 28/2018/QĐ-TTg Điều 9–10 and NĐ 30/2020/NĐ-CP Điều 18 khoản 4,
Điều 21 khoản 2: a delivery is queued, then arrives (01) or is returned at once when the
arrival check fails (02); the receiver's clerk accepts (03) or returns it (02 with a reason),
assigns it (04), it is processed (05) and finished (06). The sender may recall (13) or send an
update/replacement at any time before the delivery is final; the receiver answers 15 (agreed:
the delivery ends "recalled") or 16 (refused, with a reason: it goes back to where it was).
A delivery still queued can be recalled too: a receiver outside the province that never gave 01
is asked through the national axis to withdraw it, and its 13 and 15/16 come back on a delivery
the sender still sees as queued (a refused one goes back to queued, the 16 in its history).

Edges (anything else raises :class:`IllegalDeliveryTransition`):

================  ==========================================================
state             codes accepted
================  ==========================================================
queued            01 arrived, 02 returned (failed check), undeliverable, 13 notice
arrived           03 accepted, 02 returned, 13 notice
accepted          04 assigned, 02 returned, 13 notice
assigned          05 processing, 13 notice
processing        06 completed, 13 notice
completed         13 notice
notice_pending    15 → recalled, 16 → the state before the notice
returned, recalled, undeliverable: final
================  ==========================================================

The history is append-only: :func:`advance` returns a new delivery whose history is the old one
plus one entry, never an edited one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from services.distribution.domain.errors import IllegalDeliveryTransition
from services.distribution.edxml.codes import BussinessDocType, Priority, StatusCode

NOTE_MAX_LENGTH = 2000


class DeliveryState(StrEnum):
    QUEUED = "queued"
    ARRIVED = "arrived"
    RETURNED = "returned"
    ACCEPTED = "accepted"
    ASSIGNED = "assigned"
    PROCESSING = "processing"
    COMPLETED = "completed"
    NOTICE_PENDING = "notice_pending"  # a recall/update/replace awaits the receiver's answer
    RECALLED = "recalled"
    UNDELIVERABLE = "undeliverable"  # dead-lettered after every attempt

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset(
    {DeliveryState.RETURNED, DeliveryState.RECALLED, DeliveryState.UNDELIVERABLE}
)

# Local marker for "dead-lettered": the axis has no code for it.
UNDELIVERABLE_CODE = "xx"

_S = DeliveryState
_C = StatusCode
# (state, code) → next state. 13/15/16 are handled by :func:`advance` itself.
_EDGES: dict[tuple[DeliveryState, str], DeliveryState] = {
    (_S.QUEUED, _C.ARRIVED): _S.ARRIVED,
    (_S.QUEUED, _C.REJECTED): _S.RETURNED,
    (_S.QUEUED, UNDELIVERABLE_CODE): _S.UNDELIVERABLE,
    (_S.ARRIVED, _C.ACCEPTED): _S.ACCEPTED,
    (_S.ARRIVED, _C.REJECTED): _S.RETURNED,
    (_S.ACCEPTED, _C.ASSIGNED): _S.ASSIGNED,
    (_S.ACCEPTED, _C.REJECTED): _S.RETURNED,
    (_S.ASSIGNED, _C.PROCESSING): _S.PROCESSING,
    (_S.PROCESSING, _C.COMPLETED): _S.COMPLETED,
}
# Queued: an outside receiver on the national axis may answer a recall without ever giving 01.
_NOTICE_FROM = frozenset(
    {_S.QUEUED, _S.ARRIVED, _S.ACCEPTED, _S.ASSIGNED, _S.PROCESSING, _S.COMPLETED}
)
# A refusal (02 returned, 16 refused recall) must say why, so the sender can correct and resend
# (QĐ 28/2018 Điều 9 khoản 1).
_REASON_REQUIRED = frozenset({_C.REJECTED.value, _C.RECALL_REFUSED.value})


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One line of a delivery's history."""

    code: str  # edXML status code, or UNDELIVERABLE_CODE
    from_state: DeliveryState
    to_state: DeliveryState
    actor: str
    at: datetime
    note: str = ""


@dataclass(frozen=True, slots=True)
class Delivery:
    """The document on its way to (and at) one receiver."""

    id: str
    dispatch_id: str
    sender_code: str
    receiver_code: str
    priority: Priority
    kind: BussinessDocType = BussinessDocType.NEW
    state: DeliveryState = DeliveryState.QUEUED
    state_before_notice: DeliveryState | None = None
    paper_copy: bool = False
    history: tuple[HistoryEntry, ...] = field(default_factory=tuple)

    def can(self, code: str) -> bool:
        try:
            _next_state(self, str(code))
        except IllegalDeliveryTransition:
            return False
        return True


def _next_state(delivery: Delivery, code: str) -> DeliveryState:
    state = delivery.state
    if state.is_final:
        raise IllegalDeliveryTransition(state, code, "the delivery is closed")
    if code == _C.RECALLED:
        if state not in _NOTICE_FROM:
            raise IllegalDeliveryTransition(
                state, code, "only a delivery not yet closed can be recalled"
            )
        return _S.NOTICE_PENDING
    if code in (_C.RECALL_AGREED, _C.RECALL_REFUSED):
        if state is not _S.NOTICE_PENDING:
            raise IllegalDeliveryTransition(state, code, "there is no recall to answer")
        if code == _C.RECALL_AGREED:
            return _S.RECALLED
        assert delivery.state_before_notice is not None
        return delivery.state_before_notice
    if state is _S.NOTICE_PENDING:
        raise IllegalDeliveryTransition(state, code, "answer the recall (15/16) first")
    target = _EDGES.get((state, code))
    if target is None:
        allowed = sorted(c for (s, c) in _EDGES if s is state)
        raise IllegalDeliveryTransition(state, code, f"allowed: {', '.join(allowed) or 'none'}")
    return target


def advance(delivery: Delivery, code: str, *, actor: str, at: datetime, note: str = "") -> Delivery:
    """The delivery after status ``code``, with one more history entry.

    Raises :class:`IllegalDeliveryTransition` when ``code`` is not allowed now, or when a
    refusal (02, 16) gives no reason.
    """
    code = str(code)
    if at.tzinfo is None:
        raise ValueError("at: must carry a UTC offset (times are +07:00)")
    note = " ".join(note.split())[:NOTE_MAX_LENGTH]
    target = _next_state(delivery, code)
    if code in _REASON_REQUIRED and not note:
        raise IllegalDeliveryTransition(
            delivery.state, code, "a refusal must give its reason", field="note"
        )
    entry = HistoryEntry(code, delivery.state, target, actor, at, note)
    before = delivery.state if target is _S.NOTICE_PENDING else None
    return replace(
        delivery,
        state=target,
        state_before_notice=before,
        history=(*delivery.history, entry),
    )


def replay(delivery: Delivery, entries: tuple[HistoryEntry, ...]) -> Delivery:
    """Rebuild a delivery's state from its stored history (checks every step is legal)."""
    current = replace(delivery, state=_S.QUEUED, state_before_notice=None, history=())
    for entry in entries:
        current = advance(current, entry.code, actor=entry.actor, at=entry.at, note=entry.note)
    return current


# The code the sender sees for each state (what "every receiver's state" shows).
STATE_CODES: dict[DeliveryState, str] = {
    _S.QUEUED: "",
    _S.ARRIVED: _C.ARRIVED.value,
    _S.RETURNED: _C.REJECTED.value,
    _S.ACCEPTED: _C.ACCEPTED.value,
    _S.ASSIGNED: _C.ASSIGNED.value,
    _S.PROCESSING: _C.PROCESSING.value,
    _S.COMPLETED: _C.COMPLETED.value,
    _S.NOTICE_PENDING: _C.RECALLED.value,
    _S.RECALLED: _C.RECALL_AGREED.value,
    _S.UNDELIVERABLE: UNDELIVERABLE_CODE,
}
