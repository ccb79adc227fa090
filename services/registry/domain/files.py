"""The main file of a document and its versions: which version may be added when (pure rules).

The main file is the PDF of the document itself. An outgoing document passes through the
states of issuing (NĐ 30/2020/NĐ-CP Điều 15 khoản 1, Điều 16 khoản 2): the draft as uploaded
(``original``), signed by the competent person (``person_signed``), numbered and dated by the
clerk (``numbered``), signed with the organisation's seal (``sealed``). An incoming document
keeps the copy as it was received (``received``). Every version is kept — what was signed
stays known after the next step.

The rules are deliberately few: the order of the states, the record's direction and status,
and a frozen (recalled or deleted) record refusing every change.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import Enum

from services.registry.domain.errors import InvalidField, RegistryDomainError

MAIN_FILE_MEDIA_TYPE = "application/pdf"
#: Every PDF file starts with its header line "%PDF-1.x" (ISO 32000-1 §7.5.2).
PDF_MAGIC = b"%PDF-"
FILE_NAME_MAX = 255
CREATED_BY_MAX = 255

# Statuses as stored (services/registry/service_layer/messages.py and domain/status.py).
_DRAFT = "draft"
_ISSUED = "issued"
_FROZEN = ("recalled", "deleted")


class FileKind(Enum):
    ORIGINAL = "original"
    PERSON_SIGNED = "person_signed"
    NUMBERED = "numbered"
    SEALED = "sealed"
    RECEIVED = "received"


OUTGOING_KINDS = frozenset(
    {FileKind.ORIGINAL, FileKind.PERSON_SIGNED, FileKind.NUMBERED, FileKind.SEALED}
)


class FileVersionRefused(RegistryDomainError):
    """A version the record's direction, status or earlier versions do not allow now."""

    status = "FAILED_PRECONDITION"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason, field=field)


class VersionConflict(RegistryDomainError):
    """The record changed since the caller read it (``expected_version`` is stale)."""

    status = "ABORTED"

    def __init__(self, field: str, current: int, expected: int) -> None:
        super().__init__(
            f"the document is at version {current}, not {expected}; reload and retry",
            field=field,
        )
        self.current = current
        self.expected = expected


def file_kind_of(text: str, field: str = "kind") -> FileKind:
    try:
        return FileKind(text)
    except ValueError:
        known = ", ".join(k.value for k in FileKind)
        raise InvalidField(field, f"{text!r} is not a file version kind ({known})") from None


def check_media_type(text: str, field: str = "media_type") -> str:
    """The main file is a PDF; an empty media type means that."""
    media = (text or MAIN_FILE_MEDIA_TYPE).strip().lower()
    if media != MAIN_FILE_MEDIA_TYPE:
        raise InvalidField(
            field, f"{text!r}: the main file of a document is a PDF ({MAIN_FILE_MEDIA_TYPE})"
        )
    return media


def check_file_name(text: str, kind: FileKind, field: str = "file_name") -> str:
    """A bare file name; empty: ``<kind>.pdf``."""
    name = (text or f"{kind.value}.pdf").strip()
    if len(name) > FILE_NAME_MAX:
        raise InvalidField(field, f"is {len(name)} characters, at most {FILE_NAME_MAX}")
    if "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
        raise InvalidField(field, f"{name!r} must be a bare file name")
    return name


def check_pdf_start(first_bytes: bytes, field: str = "data") -> None:
    if not first_bytes.startswith(PDF_MAGIC):
        raise InvalidField(
            field, f"does not start with {PDF_MAGIC.decode()}: the main file must be a PDF"
        )


def check_may_add(
    kind: FileKind,
    *,
    direction: str,
    status: str,
    existing: Collection[FileKind],
    field: str = "kind",
) -> None:
    """Refuse a version the record cannot take now (:class:`FileVersionRefused`)."""
    if status in _FROZEN:
        raise FileVersionRefused(
            "id", f"the record is {status}; it is frozen and takes no new file version"
        )
    if kind is FileKind.RECEIVED:
        if direction != "incoming":
            raise FileVersionRefused(field, "'received' is the copy of an incoming document")
        return
    if direction != "outgoing":
        raise FileVersionRefused(
            field, f"{kind.value!r} belongs to an outgoing document; an incoming one keeps "
            "its 'received' copy"
        )  # fmt: skip
    if kind is FileKind.ORIGINAL:
        if status != _DRAFT:
            raise FileVersionRefused(
                field, f"an 'original' is uploaded while the document is a draft; it is {status}"
            )
    elif kind is FileKind.PERSON_SIGNED:
        if FileKind.ORIGINAL not in existing:
            raise FileVersionRefused(
                field, "'person_signed' follows an 'original'; upload the draft first"
            )
    elif kind is FileKind.NUMBERED:
        if status != _ISSUED:
            raise FileVersionRefused(
                field, "'numbered' needs the number and date; assign the number first "
                f"(the document is {status})"
            )  # fmt: skip
    elif kind is FileKind.SEALED and not existing:
        raise FileVersionRefused(
            field, "'sealed' seals an earlier version; upload the document first"
        )
