"""Register books rendered as PDF (checked with poppler's pdftotext/pdffonts), CSV and XLSX."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import date, datetime
from types import SimpleNamespace

import pytest

from services.registry.domain.register_books import VIETNAM, Direction
from services.registry.service_layer.books import (
    INCOMING_COLUMNS,
    OUTGOING_COLUMNS,
    BookExportError,
    RegisterBook,
    render,
)

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext, pdffonts) not installed"
)


def _outgoing_row(number: int, subject: str) -> SimpleNamespace:
    return SimpleNamespace(
        number_and_symbol=f"{number:02d}/QĐ-UBND",
        document_date=date(2026, 11, 3),
        document_type="quyet_dinh",
        subject=subject,
        signer={"authority": "KT.", "on_behalf_of": "CHỦ TỊCH", "title": "PHÓ CHỦ TỊCH",
                "full_name": "Lê Thị Hồng Nhung"},
        receivers=[{"name": "Sở Tài chính", "agency_code": "000.00.03.H56"}],
        extra={},
        number_of_copies=3,
        sent_at=datetime(2026, 11, 3, 15, 0, tzinfo=VIETNAM),
        note=None,
    )  # fmt: skip


def _incoming_row(number: int) -> SimpleNamespace:
    return SimpleNamespace(
        received_at=datetime(2026, 11, 4, 8, 15, tzinfo=VIETNAM),
        number=number,
        sender={"name": "Sở Xây dựng", "agency_code": "000.00.10.H56"},
        number_and_symbol=f"{number + 100}/SXD-QLN",
        document_date=date(2026, 11, 2),
        document_type="cong_van",
        subject="Về việc góp ý dự thảo quy hoạch đô thị",
        assignees=[{"assignee_id": "Phòng Kinh tế", "role": "lead"}],
        note="Khẩn",
    )


def _pdf_text(tmp_path, content: bytes) -> str:
    path = tmp_path / "book.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@needs_poppler
def test_outgoing_pdf_has_the_vietnamese_rows_title_pages_and_embedded_fonts(tmp_path):
    rows = [_outgoing_row(n, f"Về việc phê duyệt đề án số {n}") for n in range(1, 61)]
    book = RegisterBook.of(Direction.OUTGOING, "000.00.00.H56", "Ủy ban nhân dân tỉnh Lạc Hồng",
                           date(2026, 11, 1), rows)  # fmt: skip
    content = render(book, "pdf")
    assert content.startswith(b"%PDF")
    text = _pdf_text(tmp_path, content)
    assert "SỔ ĐĂNG KÝ VĂN BẢN ĐI" in text
    assert "Tháng 11 năm 2026" in text
    for n in (1, 9, 10, 60):
        assert f"{n:02d}/QĐ-UBND" in text
    assert "Về việc phê duyệt đề án số 60" in text
    assert "Lê Thị Hồng Nhung" in text
    assert "NGƯỜI LẬP SỔ" in text and "THỦ TRƯỞNG CƠ QUAN" in text
    pages = text.count("\f")
    assert pages >= 2, "sixty rows do not fit on one landscape page"
    assert f"Trang 1/{pages}" in text and f"Trang {pages}/{pages}" in text
    path = tmp_path / "book.pdf"
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    lines = fonts.stdout.splitlines()[2:]
    assert lines, "the PDF declares no fonts"
    for line in lines:
        name, embedded = line.split()[0], line.split()[-5]
        assert embedded == "yes", f"font {name} is not embedded"
    assert any("DejaVuSans" in line for line in lines)


@needs_poppler
def test_incoming_pdf_rows_and_landscape_a4(tmp_path):
    book = RegisterBook.of(Direction.INCOMING, "000.00.00.H56", "Ủy ban nhân dân tỉnh Lạc Hồng",
                           date(2026, 11, 1), [_incoming_row(1), _incoming_row(2)])  # fmt: skip
    content = render(book, "pdf")
    text = _pdf_text(tmp_path, content)
    assert "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN" in text
    assert "Sở Xây dựng" in text and "101/SXD-QLN" in text and "102/SXD-QLN" in text
    assert "Công văn: Về việc góp ý dự thảo quy hoạch đô thị" in text
    info = subprocess.run(
        ["pdfinfo", str(tmp_path / "book.pdf")], capture_output=True, text=True, check=True
    ).stdout
    size = next(line for line in info.splitlines() if line.startswith("Page size"))
    width, height = (float(v) for v in size.split(":")[1].split("pts")[0].split(" x "))
    assert (round(width), round(height)) == (842, 595), "A4 landscape"


def test_csv_has_the_columns_and_the_rows_in_utf8():
    rows = [_outgoing_row(1, "Về việc thành lập Ban chỉ đạo")]
    book = RegisterBook.of(Direction.OUTGOING, "000.00.00.H56", "UBND", date(2026, 11, 1), rows)
    content = render(book, "csv")
    assert content.startswith("\ufeff".encode())
    parsed = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert tuple(parsed[0]) == OUTGOING_COLUMNS
    assert parsed[1][0] == "01/QĐ-UBND"
    assert parsed[1][2] == "Quyết định: Về việc thành lập Ban chỉ đạo"
    assert parsed[1][3] == "KT. CHỦ TỊCH PHÓ CHỦ TỊCH Lê Thị Hồng Nhung"


def test_xlsx_opens_with_the_title_columns_and_rows():
    from openpyxl import load_workbook

    book = RegisterBook.of(Direction.INCOMING, "000.00.00.H56", "UBND tỉnh", date(2026, 11, 1),
                           [_incoming_row(7)])  # fmt: skip
    sheet = load_workbook(io.BytesIO(render(book, "xlsx"))).active
    assert sheet["A1"].value == "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN"
    assert tuple(c.value for c in sheet[3]) == INCOMING_COLUMNS
    assert sheet["B4"].value == "07"
    assert sheet["C4"].value == "Sở Xây dựng"


def test_unknown_format_is_refused():
    book = RegisterBook(Direction.OUTGOING, "000.00.00.H56", "UBND", date(2026, 11, 1), ())
    with pytest.raises(BookExportError):
        render(book, "docx")
