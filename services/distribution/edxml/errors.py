"""The one exception hierarchy of the edXML codec.

Whatever bytes arrive, the codec either returns a result or raises an :class:`EdxmlError`
subclass; no other exception type escapes ``parse``/``build``/``sign``.
"""

from __future__ import annotations


class EdxmlError(Exception):
    """Base class of every edXML codec error."""


class MalformedPackage(EdxmlError):
    """The bytes are not a well-formed, safe edXML package (syntax, DOCTYPE, wrong root, ...)."""


class InvalidField(EdxmlError):
    """A field holds a value the format does not allow; ``field`` is its path in the package."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class PackageTooLarge(EdxmlError):
    """The package bytes exceed the configured maximum size."""


class AttachmentTooLarge(EdxmlError):
    """An attachment, or all attachments together, exceed the configured decoded-size limits."""


class ZipBomb(EdxmlError):
    """A zip attachment whose expansion exceeds the ratio, size or entry-count limits."""


class SignatureFormatError(EdxmlError):
    """A package cannot be signed (no edXMLHeader to hold the signature, bad signer output)."""
