"""Processing status of a received document (trạng thái xử lý) and its state machine.

QĐ 28/2018/QĐ-TTg Điều 10 khoản 2 điểm h: "Trạng thái xử lý (đã đến, đã tiếp nhận, đã chuyển
xử lý, đang xử lý, đã hoàn thành, từ chối nhận (trả lại), thu hồi, xóa...)"; điểm p: the
history of sending and receiving. Điều 9 khoản 1: before accepting, the receiver checks the
document and, if it does not meet the requirements, answers so that the sender knows (từ chối,
status 02). Điều 9 khoản 2: on a recall notice the receiver cancels the document and tells the
sender (thu hồi, then xóa). NĐ 30/2020/NĐ-CP says the same: Điều 21 khoản 2 điểm b — an
e-document that fails the authenticity/integrity check "hoặc gửi sai nơi nhận thì cơ quan, tổ
chức nhận văn bản phải trả lại cho cơ quan, tổ chức gửi văn bản trên Hệ thống"; Điều 18 khoản
4 điểm b — on a recall notice "bên nhận hủy bỏ văn bản điện tử bị thu hồi trên Hệ thống, đồng
thời thông báo qua Hệ thống để bên gửi biết"; Điều 4 khoản 2 điểm d — "Văn bản phải được theo
dõi, cập nhật trạng thái gửi, nhận, xử lý".

The edXML status codes (QCVN 102:2016 ``Status/StatusCode``, defined once in
``services.distribution.edxml.codes``) the exchange axis carries:
01 đã đến, 02 từ chối tiếp nhận, 03 đã tiếp nhận, 04 phân công, 05 đang xử lý, 06 đã xử lý
xong, 13 thu hồi, 15 đồng ý thu hồi/cập nhật, 16 từ chối thu hồi/cập nhật. "Xóa" is local and
has no code; 15 and 16 are the receiver's answers to a recall, not statuses of their own.

Transitions (anything else raises :class:`IllegalTransition`, mapped to FAILED_PRECONDITION):

=================  ===========================================================
from               to
=================  ===========================================================
đã đến             đã tiếp nhận, từ chối, thu hồi
đã tiếp nhận       phân công, từ chối (trả lại), thu hồi
phân công          đang xử lý, thu hồi
đang xử lý         hoàn thành, thu hồi
hoàn thành         thu hồi
từ chối            xóa
thu hồi            xóa
xóa                (final)
=================  ===========================================================

Why: a document is returned (trả lại) only before it is handed to a processing unit — after
that, the unit answers on the substance; the sender may recall at any time until deletion
(QĐ 28/2018 Điều 8 khoản 2), and only a returned or recalled document may be deleted, so
nothing that is being worked on disappears. Re-assignment inside "phân công" is an
assignment change, not a status change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from types import MappingProxyType

from services.distribution.edxml.codes import (
    REGISTRY_STATUS_TO_STATUS_CODE,
    StatusCode,
    recall_answer,
    registry_status_for,
)
from services.registry.domain.errors import IllegalTransition, InvalidField
from services.registry.domain.fields import optional_text, require_aware_datetime, require_text

__all__ = [
    "TRANSITIONS",
    "EdxmlStatusCode",
    "HistoryEntry",
    "ProcessingStatus",
    "allowed_targets",
    "initial_entry",
    "is_allowed",
    "parse_status_code",
    "recall_answer",  # the receiver's answer to a recall: 15 agreed, 16 refused (edXML codes)
    "replay",
    "transition",
]

ACTOR_MAX_LENGTH = 255
NOTE_MAX_LENGTH = 2000


# The edXML code table is the distribution codec's (services/distribution/edxml/codes.py): one
# truth for the registry and the exchange. ``EdxmlStatusCode`` stays as the registry's name.
EdxmlStatusCode = StatusCode


def parse_status_code(code: str | int, field: str = "status_code") -> StatusCode:
    """``"03"``, ``" 03 "`` or ``3`` → :class:`StatusCode`; anything else names ``field``."""
    text = f"{code:02d}" if isinstance(code, int) and not isinstance(code, bool) else code
    try:
        return StatusCode(str(text).strip())
    except ValueError:
        known = ", ".join(c.value for c in StatusCode)
        raise InvalidField(field, f"{code!r} is not an edXML status code ({known})") from None


class ProcessingStatus(Enum):
    """Status of a received document in the receiving agency."""

    ARRIVED = "arrived"
    ACCEPTED = "accepted"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"
    RECALLED = "recalled"
    DELETED = "deleted"

    @property
    def label(self) -> str:
        """Vietnamese label for screens and register books."""
        return _STATUS_LABELS[self]

    @property
    def edxml_code(self) -> StatusCode | None:
        """The code sent to the sender; ``None`` for ``DELETED``, which is local only."""
        return REGISTRY_STATUS_TO_STATUS_CODE.get(self.value)

    @property
    def is_final(self) -> bool:
        return not TRANSITIONS[self]

    @classmethod
    def from_edxml(cls, code: StatusCode | str) -> ProcessingStatus:
        """The status a receiver reports with ``code`` (for the sender's tracking view).

        15 and 16 answer a recall; only 15 changes the status (to ``RECALLED``), so 16 has
        no status of its own and is refused here.
        """
        code = parse_status_code(code)
        status = registry_status_for(code)
        if status is None:
            raise InvalidField(
                "status_code",
                f"{code.value} ({code.vietnamese}) answers a recall and does not change the status",
            )
        return cls(status)


_STATUS_LABELS = MappingProxyType(
    {
        ProcessingStatus.ARRIVED: "đã đến",
        ProcessingStatus.ACCEPTED: "đã tiếp nhận",
        ProcessingStatus.ASSIGNED: "phân công",
        ProcessingStatus.IN_PROGRESS: "đang xử lý",
        ProcessingStatus.COMPLETED: "hoàn thành",
        ProcessingStatus.REJECTED: "từ chối (trả lại)",
        ProcessingStatus.RECALLED: "thu hồi",
        ProcessingStatus.DELETED: "xóa",
    }
)

_S = ProcessingStatus
TRANSITIONS: MappingProxyType[ProcessingStatus, frozenset[ProcessingStatus]] = MappingProxyType(
    {
        _S.ARRIVED: frozenset({_S.ACCEPTED, _S.REJECTED, _S.RECALLED}),
        _S.ACCEPTED: frozenset({_S.ASSIGNED, _S.REJECTED, _S.RECALLED}),
        _S.ASSIGNED: frozenset({_S.IN_PROGRESS, _S.RECALLED}),
        _S.IN_PROGRESS: frozenset({_S.COMPLETED, _S.RECALLED}),
        _S.COMPLETED: frozenset({_S.RECALLED}),
        _S.REJECTED: frozenset({_S.DELETED}),
        _S.RECALLED: frozenset({_S.DELETED}),
        _S.DELETED: frozenset(),
    }
)
# A refusal must say why: the sender has to be able to correct and resend (Điều 9 khoản 1).
_NOTE_REQUIRED = frozenset({_S.REJECTED})


def allowed_targets(current: ProcessingStatus) -> frozenset[ProcessingStatus]:
    return TRANSITIONS[current]


def is_allowed(current: ProcessingStatus, target: ProcessingStatus) -> bool:
    return target in TRANSITIONS[current]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One immutable line of a document's history: who moved it from what to what, when, why.

    ``from_status`` is ``None`` only for the first entry (registration on arrival).
    """

    from_status: ProcessingStatus | None
    to_status: ProcessingStatus
    actor: str
    at: datetime
    note: str | None = None

    def __post_init__(self) -> None:
        for name in ("from_status", "to_status"):
            value = getattr(self, name)
            if value is None and name == "from_status":
                continue
            if not isinstance(value, ProcessingStatus):
                raise InvalidField(name, f"expected ProcessingStatus, got {value!r}")
        object.__setattr__(self, "actor", require_text("actor", self.actor, ACTOR_MAX_LENGTH))
        require_aware_datetime("at", self.at)
        object.__setattr__(self, "note", optional_text("note", self.note, NOTE_MAX_LENGTH))

    @property
    def edxml_code(self) -> StatusCode | None:
        return self.to_status.edxml_code


def initial_entry(actor: str, at: datetime, note: str | None = None) -> HistoryEntry:
    """The first history entry of a received document: status đã đến (01)."""
    return HistoryEntry(None, ProcessingStatus.ARRIVED, actor, at, note)


def transition(
    current: ProcessingStatus,
    target: ProcessingStatus,
    actor: str,
    note: str | None,
    at: datetime,
) -> HistoryEntry:
    """Check ``current → target`` and return the history entry that records it.

    Raises :class:`IllegalTransition` for a pair outside :data:`TRANSITIONS` (a status to
    itself included) and for a refusal without a reason; :class:`InvalidField` for a bad actor,
    note or time.
    """
    for name, value in (("current", current), ("target", target)):
        if not isinstance(value, ProcessingStatus):
            raise InvalidField(name, f"expected ProcessingStatus, got {value!r}")
    allowed = TRANSITIONS[current]
    if target not in allowed:
        raise IllegalTransition(current.value, target.value, (s.value for s in allowed))
    entry = HistoryEntry(current, target, actor, at, note)
    if target in _NOTE_REQUIRED and entry.note is None:
        raise IllegalTransition(
            current.value,
            target.value,
            (s.value for s in allowed),
            reason="a refusal must give its reason in the note",
        )
    return entry


def replay(entries: tuple[HistoryEntry, ...] | list[HistoryEntry]) -> ProcessingStatus:
    """Check that a stored history is a legal path from đã đến and return its final status."""
    if not entries:
        raise InvalidField("history", "is empty; a received document starts with 'đã đến'")
    first = entries[0]
    if first.from_status is not None or first.to_status is not ProcessingStatus.ARRIVED:
        raise InvalidField("history[0]", "must be the registration entry (None → đã đến)")
    status = first.to_status
    for index, entry in enumerate(entries[1:], start=1):
        if entry.from_status is not status:
            raise InvalidField(
                f"history[{index}]",
                f"starts from {entry.from_status!r} but the previous entry ended at "
                f"{status.value!r}",
            )
        if not is_allowed(status, entry.to_status):
            raise IllegalTransition(
                status.value, entry.to_status.value, (s.value for s in TRANSITIONS[status])
            )
        if entry.at < entries[index - 1].at:
            raise InvalidField(f"history[{index}]", "is earlier than the entry before it")
        status = entry.to_status
    return status
