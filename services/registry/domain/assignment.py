"""Assignment of a received document: who leads, who supports, by when.

NĐ 30/2020/NĐ-CP Điều 23 khoản 2: "Đối với văn bản liên quan đến nhiều đơn vị hoặc cá nhân thì
xác định rõ đơn vị hoặc cá nhân chủ trì, phối hợp và thời hạn giải quyết." Khoản 4: the person
in authority records "Đơn vị hoặc người nhận; ý kiến chỉ đạo, trạng thái xử lý văn bản; thời
hạn giải quyết". Điều 4 khoản 2 điểm c and Điều 24 khoản 2: urgent documents (khẩn, thượng
khẩn, hỏa tốc) are registered, presented and handed over "ngay sau khi nhận được" and dealt
with at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum

from services.registry.domain.classification import Urgency
from services.registry.domain.errors import InvalidField
from services.registry.domain.fields import optional_text, require_date, require_text

ASSIGNEE_MAX = 255
INSTRUCTIONS_MAX = 2000
MAX_ASSIGNEES = 200


class AssignmentRole(Enum):
    LEAD = "lead"  # chủ trì
    SUPPORT = "support"  # phối hợp
    FOR_INFORMATION = "information"  # để biết


@dataclass(frozen=True, slots=True)
class Assignee:
    """A unit (agency code or internal unit id) or a person (user id) given the document."""

    assignee_id: str
    role: AssignmentRole
    due_date: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "assignee_id",
            require_text("assignee.assignee_id", self.assignee_id, ASSIGNEE_MAX),
        )
        if not isinstance(self.role, AssignmentRole):
            raise InvalidField("assignee.role", f"expected AssignmentRole, got {self.role!r}")
        if self.due_date is not None:
            require_date("assignee.due_date", self.due_date)


@dataclass(frozen=True, slots=True)
class Assignment:
    """The distribution decision (ý kiến chỉ đạo / phân công) for one received document.

    Exactly one lead; nobody twice; a supporting unit's due date is not after the lead's
    (the lead needs the contributions to answer); the lead's due date is the document's.
    """

    assignees: tuple[Assignee, ...]
    instructions: str | None = None

    def __post_init__(self) -> None:
        assignees = tuple(self.assignees) if isinstance(self.assignees, list) else self.assignees
        if not isinstance(assignees, tuple) or not all(isinstance(a, Assignee) for a in assignees):
            raise InvalidField("assignees", "expected a tuple of Assignee")
        object.__setattr__(self, "assignees", assignees)
        if not 1 <= len(assignees) <= MAX_ASSIGNEES:
            raise InvalidField(
                "assignees", f"needs between 1 and {MAX_ASSIGNEES} assignees, got {len(assignees)}"
            )
        leads = [a for a in assignees if a.role is AssignmentRole.LEAD]
        if len(leads) != 1:
            raise InvalidField(
                "assignees",
                f"exactly one lead (chủ trì) is required (NĐ 30/2020 Điều 23 khoản 2), "
                f"got {len(leads)}",
            )
        seen: set[str] = set()
        for index, assignee in enumerate(assignees):
            if assignee.assignee_id in seen:
                raise InvalidField(
                    f"assignees[{index}]", f"{assignee.assignee_id!r} is assigned twice"
                )
            seen.add(assignee.assignee_id)
        lead_due = leads[0].due_date
        for index, assignee in enumerate(assignees):
            if (
                assignee.role is AssignmentRole.SUPPORT
                and assignee.due_date is not None
                and lead_due is not None
                and assignee.due_date > lead_due
            ):
                raise InvalidField(
                    f"assignees[{index}].due_date",
                    f"a supporting unit's due date {assignee.due_date.isoformat()} is after the "
                    f"lead's {lead_due.isoformat()}",
                )
        object.__setattr__(
            self,
            "instructions",
            optional_text("instructions", self.instructions, INSTRUCTIONS_MAX),
        )

    @property
    def lead(self) -> Assignee:
        return next(a for a in self.assignees if a.role is AssignmentRole.LEAD)

    @property
    def due_date(self) -> date | None:
        return self.lead.due_date

    def with_role(self, role: AssignmentRole) -> Sequence[Assignee]:
        return [a for a in self.assignees if a.role is role]


def must_be_handled_at_once(urgency: Urgency) -> bool:
    """Khẩn, thượng khẩn, hỏa tốc (and hỏa tốc hẹn giờ) go to the leader immediately."""
    return urgency is not Urgency.NORMAL
