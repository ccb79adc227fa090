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

# The registry's delivery status names (the registry service stores these strings). One edXML
# status code per registry status and back: the mapping is a bijection, tested as such.
STATUS_CODE_TO_REGISTRY_STATUS: dict[StatusCode, str] = {
    StatusCode.ARRIVED: "arrived",
    StatusCode.REJECTED: "rejected",
    StatusCode.ACCEPTED: "accepted",
    StatusCode.ASSIGNED: "assigned",
    StatusCode.PROCESSING: "processing",
    StatusCode.COMPLETED: "completed",
    StatusCode.RECALLED: "recalled",
    StatusCode.RECALL_AGREED: "recall_agreed",
    StatusCode.RECALL_REFUSED: "recall_refused",
}

REGISTRY_STATUS_TO_STATUS_CODE: dict[str, StatusCode] = {
    registry: code for code, registry in STATUS_CODE_TO_REGISTRY_STATUS.items()
}


def registry_status_for(code: StatusCode | str) -> str:
    """The registry status of an edXML status code (``"01"`` → ``"arrived"``)."""
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
