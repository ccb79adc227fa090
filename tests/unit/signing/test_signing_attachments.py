"""Attachments: PDFs pass, images are wrapped into a PDF, other files are refused clearly."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader

from services.signing.adapters.attachments import as_pdf
from services.signing.domain.errors import UnsupportedAttachment


def _image(fmt: str, size: tuple[int, int] = (400, 300)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def test_pdf_is_returned_unchanged() -> None:
    pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"1 0 obj\n<<>>\nendobj\n"
    assert as_pdf(pdf) is pdf


@pytest.mark.parametrize(
    ("fmt", "size", "landscape"),
    [
        ("PNG", (800, 400), True),
        ("JPEG", (300, 900), False),
        ("TIFF", (500, 500), False),
    ],
)
def test_images_are_wrapped_into_one_page(fmt: str, size: tuple[int, int], landscape: bool) -> None:
    wrapped = as_pdf(_image(fmt, size), f"scan.{fmt.lower()}")
    reader = PdfFileReader(io.BytesIO(wrapped), strict=True)
    (page,) = reader.root["/Pages"]["/Kids"]
    width, height = (float(v) for v in list(page.get_object()["/MediaBox"])[2:])
    assert (width > height) is landscape


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04rest-of-a-docx", "Office Open XML"),
        (b"\xd0\xcf\x11\xe0legacy-doc", "legacy Office"),
        (b"{\\rtf1 hello}", "RTF"),
        ("Văn bản thuần".encode(), "neither a PDF nor an image"),
    ],
)
def test_other_types_are_refused_naming_the_file(data: bytes, message: str) -> None:
    with pytest.raises(UnsupportedAttachment, match=message) as caught:
        as_pdf(data, "phu-luc.docx")
    assert "phu-luc.docx" in str(caught.value)
