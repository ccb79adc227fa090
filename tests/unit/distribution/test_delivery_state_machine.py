"""The delivery state machine: every receiver's path from queued to closed."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from services.distribution.domain.errors import IllegalDeliveryTransition
from services.distribution.domain.model import (
    Delivery,
    DeliveryState,
    advance,
    replay,
)
from services.distribution.edxml.codes import Priority, StatusCode

AT = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def _delivery() -> Delivery:
    return Delivery("d1", "x1", "000.00.01.H56", "000.00.02.H56", Priority.NORMAL)


def _walk(delivery: Delivery, *codes: str) -> Delivery:
    for code in codes:
        note = "thiếu chữ ký" if code in ("02", "16") else ""
        delivery = advance(delivery, code, actor="văn thư", at=AT, note=note)
    return delivery


def test_happy_path_to_completed_records_each_step() -> None:
    done = _walk(_delivery(), "01", "03", "04", "05", "06")
    assert done.state is DeliveryState.COMPLETED
    assert [e.code for e in done.history] == ["01", "03", "04", "05", "06"]
    assert done.history[0].from_state is DeliveryState.QUEUED
    assert all(
        a.to_state is b.from_state for a, b in zip(done.history, done.history[1:], strict=False)
    )


def test_history_is_appended_never_rewritten() -> None:
    arrived = _walk(_delivery(), "01")
    accepted = _walk(arrived, "03")
    assert len(arrived.history) == 1 and arrived.state is DeliveryState.ARRIVED
    assert accepted.history[:1] == arrived.history


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ((), "03"),  # accept before arrival
        (("01",), "06"),  # finish before processing
        (("01", "03", "04"), "02"),  # return after assignment
        (("01", "02"), "03"),  # returned is final
        (("01",), "15"),  # answer without a recall
        ((), "15"),  # answer to a recall never made, on a queued delivery
        (("01", "02"), "13"),  # a returned delivery is closed: nothing to recall
    ],
)
def test_illegal_transitions_are_refused(path: tuple[str, ...], code: str) -> None:
    delivery = _walk(_delivery(), *path)
    with pytest.raises(IllegalDeliveryTransition, match=code):
        advance(delivery, code, actor="x", at=AT)
    assert not delivery.can(code)


def test_return_needs_a_reason() -> None:
    arrived = _walk(_delivery(), "01")
    with pytest.raises(IllegalDeliveryTransition) as caught:
        advance(arrived, StatusCode.REJECTED, actor="văn thư", at=AT, note="  ")
    assert caught.value.field == "note"


def test_recall_agreed_ends_recalled_and_refused_goes_back() -> None:
    processing = _walk(_delivery(), "01", "03", "04", "05")
    pending = _walk(processing, "13")
    assert pending.state is DeliveryState.NOTICE_PENDING
    with pytest.raises(IllegalDeliveryTransition, match="answer the recall"):
        advance(pending, "06", actor="x", at=AT)
    assert _walk(pending, "15").state is DeliveryState.RECALLED
    refused = _walk(pending, "16")
    assert refused.state is DeliveryState.PROCESSING
    assert refused.history[-1].note == "thiếu chữ ký"
    assert _walk(refused, "06").state is DeliveryState.COMPLETED


def test_a_queued_delivery_can_be_recalled_before_its_01() -> None:
    # An outside receiver on the national axis may answer a recall without ever giving 01.
    pending = _walk(_delivery(), "13")
    assert pending.state is DeliveryState.NOTICE_PENDING
    assert pending.state_before_notice is DeliveryState.QUEUED
    assert not pending.can("01"), "answer the recall first"
    recalled = _walk(pending, "15")
    assert recalled.state is DeliveryState.RECALLED and recalled.state.is_final
    refused = _walk(pending, "16")
    assert refused.state is DeliveryState.QUEUED
    assert [h.code for h in refused.history] == ["13", "16"]
    assert refused.history[-1].note == "thiếu chữ ký"
    assert _walk(refused, "01").state is DeliveryState.ARRIVED


def test_replay_rebuilds_state_and_rejects_a_forged_history() -> None:
    done = _walk(_delivery(), "01", "03", "13", "16", "04")
    assert replay(_delivery(), done.history).state is DeliveryState.ASSIGNED
    # Drop the acceptance and pretend the recall answer was a completion.
    forged = (done.history[0], dataclasses.replace(done.history[2], code="06"))
    with pytest.raises(IllegalDeliveryTransition):
        replay(_delivery(), forged)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="at"):
        advance(_delivery(), "01", actor="x", at=datetime(2026, 11, 23, 9, 0))
