"""Processing-status state machine: every legal and every illegal pair (QĐ 28/2018 Điều 9, 10)."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.chassis.errors import ServiceError
from services.distribution.edxml import codes
from services.distribution.edxml.codes import StatusCode
from services.registry.domain.errors import IllegalTransition, InvalidField
from services.registry.domain.status import (
    TRANSITIONS,
    EdxmlStatusCode,
    HistoryEntry,
    ProcessingStatus,
    initial_entry,
    parse_status_code,
    recall_answer,
    replay,
    transition,
)

S = ProcessingStatus
AT = datetime(2026, 11, 20, 9, 15, tzinfo=timezone(timedelta(hours=7)))

# The table of docs/registry-domain.md, written out independently of the module's TRANSITIONS
# so that a change to either one fails this test.
LEGAL = {
    (S.ARRIVED, S.ACCEPTED),
    (S.ARRIVED, S.REJECTED),
    (S.ARRIVED, S.RECALLED),
    (S.ACCEPTED, S.ASSIGNED),
    (S.ACCEPTED, S.REJECTED),
    (S.ACCEPTED, S.RECALLED),
    (S.ASSIGNED, S.IN_PROGRESS),
    (S.ASSIGNED, S.RECALLED),
    (S.IN_PROGRESS, S.COMPLETED),
    (S.IN_PROGRESS, S.RECALLED),
    (S.COMPLETED, S.RECALLED),
    (S.REJECTED, S.DELETED),
    (S.RECALLED, S.DELETED),
}
ALL_PAIRS = list(itertools.product(S, S))
ILLEGAL = [pair for pair in ALL_PAIRS if pair not in LEGAL]


def test_table_matches_the_documented_one() -> None:
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == LEGAL
    assert set(TRANSITIONS) == set(S)
    assert len(ILLEGAL) == 64 - 13


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL, key=str), ids=str)
def test_every_legal_transition_returns_a_history_entry(current: S, target: S) -> None:
    entry = transition(current, target, "vanthu@lachong.gov.vn", "lý do: gửi nhầm nơi nhận", AT)
    assert (entry.from_status, entry.to_status) == (current, target)
    assert entry.actor == "vanthu@lachong.gov.vn"
    assert entry.at == AT
    assert entry.note == "lý do: gửi nhầm nơi nhận"
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.to_status = S.DELETED  # type: ignore[misc]


@pytest.mark.parametrize(("current", "target"), ILLEGAL, ids=str)
def test_every_illegal_transition_is_refused(current: S, target: S) -> None:
    with pytest.raises(IllegalTransition) as info:
        transition(current, target, "vanthu", "note", AT)
    error = info.value
    assert (error.current, error.target) == (current.value, target.value)
    assert set(error.allowed) == {s.value for s in TRANSITIONS[current]}
    assert error.status == "FAILED_PRECONDITION"
    # A chassis ServiceError: the gRPC interceptor maps it with its field and reason.
    assert isinstance(error, ServiceError) and error.field == "status"
    assert current.value in str(error) and target.value in str(error)


def test_deleted_is_final() -> None:
    assert S.DELETED.is_final
    assert not S.COMPLETED.is_final
    with pytest.raises(IllegalTransition, match="final status"):
        transition(S.DELETED, S.ARRIVED, "a", None, AT)


@pytest.mark.parametrize("current", [S.ARRIVED, S.ACCEPTED])
@pytest.mark.parametrize("note", [None, "", "   "])
def test_a_refusal_needs_a_reason(current: S, note: str | None) -> None:
    with pytest.raises(IllegalTransition, match="reason"):
        transition(current, S.REJECTED, "vanthu", note, AT)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"actor": ""}, "actor"),
        ({"actor": "x" * 256}, "actor"),
        ({"at": datetime(2026, 11, 20, 9, 15)}, "at"),
        ({"at": "2026-11-20T09:15:00+07:00"}, "at"),
        ({"note": "n" * 2001}, "note"),
    ],
)
def test_bad_entry_fields_are_named(kwargs: dict, field: str) -> None:
    arguments = {"actor": "vanthu", "note": None, "at": AT} | kwargs
    with pytest.raises(InvalidField) as info:
        transition(S.ARRIVED, S.ACCEPTED, arguments["actor"], arguments["note"], arguments["at"])
    assert info.value.field == field


def test_status_objects_must_be_statuses() -> None:
    with pytest.raises(InvalidField) as info:
        transition("arrived", S.ACCEPTED, "a", None, AT)  # type: ignore[arg-type]
    assert info.value.field == "current"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (S.ARRIVED, "01"),
        (S.REJECTED, "02"),
        (S.ACCEPTED, "03"),
        (S.ASSIGNED, "04"),
        (S.IN_PROGRESS, "05"),
        (S.COMPLETED, "06"),
        (S.RECALLED, "13"),
    ],
)
def test_edxml_codes(status: S, code: str) -> None:
    assert status.edxml_code is not None and status.edxml_code.value == code
    assert S.from_edxml(parse_status_code(code)) is status
    assert S.from_edxml(parse_status_code(int(code))) is status


def test_deleted_has_no_edxml_code_and_recall_answers() -> None:
    assert S.DELETED.edxml_code is None
    assert recall_answer(True).value == "15"
    assert recall_answer(False).value == "16"
    assert S.from_edxml(EdxmlStatusCode.RECALL_AGREED) is S.RECALLED
    with pytest.raises(InvalidField, match="does not change"):
        S.from_edxml(EdxmlStatusCode.RECALL_REFUSED)
    with pytest.raises(InvalidField, match="status_code"):
        parse_status_code("07")
    assert parse_status_code(" 15 ") is StatusCode.RECALL_AGREED
    assert S.from_edxml("15") is S.RECALLED


def test_the_registry_uses_the_edxml_code_table_itself() -> None:
    # One table: the registry's names are the codec's objects, not copies.
    assert EdxmlStatusCode is StatusCode and recall_answer is codes.recall_answer
    for status in S:
        assert status.edxml_code is codes.REGISTRY_STATUS_TO_STATUS_CODE.get(status.value)


def _path(*statuses: S) -> list[HistoryEntry]:
    entries = [initial_entry("system", AT)]
    for index, (a, b) in enumerate(itertools.pairwise(statuses), start=1):
        entries.append(transition(a, b, "user", "lý do", AT + timedelta(minutes=index)))
    return entries


def test_replay_walks_a_full_history() -> None:
    path = _path(S.ARRIVED, S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS, S.COMPLETED)
    assert replay(path) is S.COMPLETED
    assert replay(_path(S.ARRIVED, S.RECALLED, S.DELETED)) is S.DELETED


def test_replay_refuses_broken_histories() -> None:
    good = _path(S.ARRIVED, S.ACCEPTED, S.ASSIGNED)
    with pytest.raises(InvalidField, match="history"):
        replay([])
    with pytest.raises(InvalidField, match=r"history\[0\]"):
        replay(good[1:])
    with pytest.raises(InvalidField, match=r"history\[1\]"):
        replay([good[0], good[2]])
    forged = HistoryEntry(S.ACCEPTED, S.COMPLETED, "user", AT + timedelta(hours=1))
    with pytest.raises(IllegalTransition):
        replay([*good[:2], forged])
    earlier = HistoryEntry(S.ACCEPTED, S.ASSIGNED, "user", AT - timedelta(days=1))
    with pytest.raises(InvalidField, match="earlier"):
        replay([good[0], good[1], earlier])


def test_history_times_in_other_zones_compare_as_instants() -> None:
    later_in_utc = HistoryEntry(
        S.ARRIVED, S.ACCEPTED, "user", datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    )
    assert replay([initial_entry("system", AT), later_in_utc]) is S.ACCEPTED
