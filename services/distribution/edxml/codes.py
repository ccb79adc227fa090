"""Code lists of the edXML format and the status-code ↔ registry-status mapping.

Sources: QCVN 102:2016/BTTTT (edXML) and the national exchange axis SDK samples; the status
list is the one QĐ 28/2018/QĐ-TTg, Điều 10 requires a receiver to report back to the sender.
The mapping tables are plain data so the registry and distribution services share one truth.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Priority(IntEnum):
    """``OtherInfo/Priority``: độ khẩn."""

    NORMAL = 0
    URGENT = 1
    VERY_URGENT = 2
    EXPRESS = 3
    EXPRESS_SCHEDULED = 4

    @property
    def vietnamese(self) -> str:
        return PRIORITY_NAMES[self]


PRIORITY_NAMES: dict[Priority, str] = {
    Priority.NORMAL: "Thường",
    Priority.URGENT: "Khẩn",
    Priority.VERY_URGENT: "Thượng khẩn",
    Priority.EXPRESS: "Hỏa tốc",
    Priority.EXPRESS_SCHEDULED: "Hỏa tốc hẹn giờ",
}


class BussinessDocType(IntEnum):
    """``TraceHeaderList/Bussiness/BussinessDocType`` (the format's spelling is kept)."""

    NEW = 0
    RECALL = 1
    UPDATE = 2
    REPLACE = 3

    @property
    def vietnamese(self) -> str:
        return BUSSINESS_DOC_TYPE_NAMES[self]


BUSSINESS_DOC_TYPE_NAMES: dict[BussinessDocType, str] = {
    BussinessDocType.NEW: "Văn bản mới",
    BussinessDocType.RECALL: "Thu hồi",
    BussinessDocType.UPDATE: "Cập nhật",
    BussinessDocType.REPLACE: "Thay thế",
}


class StatusCode(StrEnum):
    """``StatusCode`` of a status package: two digits, as written in the package."""

    ARRIVED = "01"
    REJECTED = "02"
    ACCEPTED = "03"
    ASSIGNED = "04"
    PROCESSING = "05"
    COMPLETED = "06"
    RECALLED = "13"
    RECALL_AGREED = "15"
    RECALL_REFUSED = "16"

    @property
    def vietnamese(self) -> str:
        return STATUS_CODE_NAMES[self]


STATUS_CODE_NAMES: dict[StatusCode, str] = {
    StatusCode.ARRIVED: "Đã đến",
    StatusCode.REJECTED: "Từ chối tiếp nhận",
    StatusCode.ACCEPTED: "Đã tiếp nhận",
    StatusCode.ASSIGNED: "Phân công",
    StatusCode.PROCESSING: "Đang xử lý",
    StatusCode.COMPLETED: "Đã xử lý xong / hoàn thành",
    StatusCode.RECALLED: "Thu hồi",
    StatusCode.RECALL_AGREED: "Đồng ý thu hồi / cập nhật",
    StatusCode.RECALL_REFUSED: "Từ chối thu hồi / cập nhật",
}

# The registry's processing statuses (``services.registry.domain.status.ProcessingStatus``
# values, stored as these strings). 15 (agreed to a recall) moves a received document to
# "recalled"; 16 (refused) changes nothing, so it has no registry status. Each registry status
# but "deleted" (local only, no code) has exactly one code to report it with.
STATUS_CODE_TO_REGISTRY_STATUS: dict[StatusCode, str | None] = {
    StatusCode.ARRIVED: "arrived",
    StatusCode.REJECTED: "rejected",
    StatusCode.ACCEPTED: "accepted",
    StatusCode.ASSIGNED: "assigned",
    StatusCode.PROCESSING: "in_progress",
    StatusCode.COMPLETED: "completed",
    StatusCode.RECALLED: "recalled",
    StatusCode.RECALL_AGREED: "recalled",
    StatusCode.RECALL_REFUSED: None,
}

# The code a receiver reports a registry status with; "recalled" is reported as 13 by the
# sender's side and answered with 15, so the table keeps 13 (the status's own code).
REGISTRY_STATUS_TO_STATUS_CODE: dict[str, StatusCode] = {
    "arrived": StatusCode.ARRIVED,
    "rejected": StatusCode.REJECTED,
    "accepted": StatusCode.ACCEPTED,
    "assigned": StatusCode.ASSIGNED,
    "in_progress": StatusCode.PROCESSING,
    "completed": StatusCode.COMPLETED,
    "recalled": StatusCode.RECALLED,
}

# Answers to a recall (13) or to an update/replace notice, not statuses of their own.
RECALL_ANSWERS: frozenset[StatusCode] = frozenset(
    {StatusCode.RECALL_AGREED, StatusCode.RECALL_REFUSED}
)

# Registry ``Urgency`` is valued by the edXML priority code: ``Urgency(Priority.X.value)``.
URGENT_PRIORITIES: frozenset[Priority] = frozenset(
    {Priority.VERY_URGENT, Priority.EXPRESS, Priority.EXPRESS_SCHEDULED}
)


def registry_status_for(code: StatusCode | str) -> str | None:
    """The registry status an edXML status code leads to (``"01"`` → ``"arrived"``).

    ``None`` for 16 (recall refused): the document keeps the status it had.
    """
    return STATUS_CODE_TO_REGISTRY_STATUS[StatusCode(code)]


def status_code_for(registry_status: str) -> StatusCode:
    """The edXML status code to send for a registry status (``"accepted"`` → ``03``)."""
    try:
        return REGISTRY_STATUS_TO_STATUS_CODE[registry_status]
    except KeyError:
        raise ValueError(
            f"registry_status: {registry_status!r} has no edXML status code; known: "
            f"{', '.join(sorted(REGISTRY_STATUS_TO_STATUS_CODE))}"
        ) from None


def recall_answer(agreed: bool) -> StatusCode:
    """The code a receiver answers a recall (13) or update/replace notice with: 15 or 16."""
    return StatusCode.RECALL_AGREED if agreed else StatusCode.RECALL_REFUSED
