"""Attachments in separate files: PDFs are signed as they are, images are wrapped into a PDF,
anything else is refused with a clear error (issue #4: "attachments of other types are wrapped
or refused with a clear error").

The type is decided from the content (magic bytes), never from the file name alone: a ``.pdf``
name on a Word file is still a Word file.
"""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from services.signing.domain.errors import UnsupportedAttachment
from services.signing.domain.placement import MM

_KNOWN_OTHER_TYPES = {
    b"PK\x03\x04": "an Office Open XML or ZIP file (.docx, .xlsx, .zip)",
    b"\xd0\xcf\x11\xe0": "a legacy Office file (.doc, .xls)",
    b"{\\rtf": "an RTF document",
}
_IMAGE_FORMATS = {"PNG", "JPEG", "TIFF", "GIF", "BMP"}
_MAX_IMAGE_PIXELS = 60_000_000  # ~ A3 at 600 dpi; beyond that the scan is refused, not resized


def as_pdf(data: bytes, filename: str = "") -> bytes:
    """Return ``data`` if it is a PDF, an image wrapped in a PDF, or raise UnsupportedAttachment."""
    if b"%PDF-" in data[:1024]:
        return data
    for magic, description in _KNOWN_OTHER_TYPES.items():
        if data.startswith(magic):
            raise UnsupportedAttachment(
                f"attachment {filename or '(unnamed)'}: {description}; convert it to PDF first"
            )
    try:
        image = Image.open(io.BytesIO(data))
        image_format = image.format
    except (UnidentifiedImageError, OSError):
        raise UnsupportedAttachment(
            f"attachment {filename or '(unnamed)'}: neither a PDF nor an image "
            "(PNG, JPEG, TIFF, GIF, BMP); convert it to PDF first"
        ) from None
    if image_format not in _IMAGE_FORMATS:
        raise UnsupportedAttachment(
            f"attachment {filename or '(unnamed)'}: image format {image_format} is not accepted"
        )
    if image.width * image.height > _MAX_IMAGE_PIXELS:
        raise UnsupportedAttachment(
            f"attachment {filename or '(unnamed)'}: {image.width}×{image.height} pixels exceeds "
            f"{_MAX_IMAGE_PIXELS} pixels"
        )
    return _wrap_image(image)


def _wrap_image(image: Image.Image) -> bytes:
    """One A4 page (landscape for wide images) with the image fitted inside 15 mm margins.

    The top 25 mm are left free for the organisation's signature text (top right).
    """
    page = landscape(A4) if image.width > image.height else A4
    margin, top_reserved = 15 * MM, 25 * MM
    box_width = page[0] - 2 * margin
    box_height = page[1] - margin - top_reserved
    scale = min(box_width / image.width, box_height / image.height)
    width, height = image.width * scale, image.height * scale
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=page, pageCompression=1)
    rgb = image.convert("RGB") if image.mode not in ("RGB", "L") else image
    canvas.drawImage(
        ImageReader(rgb),
        (page[0] - width) / 2,
        margin + (box_height - height) / 2,
        width=width,
        height=height,
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
