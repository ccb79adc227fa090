"""The monthly register books (sổ đăng ký văn bản đi / đến) as PDF, CSV and XLSX.

Columns follow the register forms of NĐ 30/2020/NĐ-CP Phụ lục IV (mẫu sổ đăng ký văn bản đi,
văn bản đến) as the province's clerks print them — the decree's appendices are not in
/work/shared/law, so the headings are the project's transcription:

- đi:  Số, ký hiệu văn bản | Ngày tháng văn bản | Tên loại và trích yếu nội dung | Người ký |
  Nơi nhận văn bản | Đơn vị, người nhận bản lưu | Số lượng bản | Ngày chuyển | Ký nhận | Ghi chú
- đến: Ngày đến | Số đến | Tác giả | Số, ký hiệu | Ngày tháng | Tên loại và trích yếu nội dung |
  Đơn vị hoặc người nhận | Ký nhận | Ghi chú

The PDF is A4 landscape with DejaVu Sans embedded (Vietnamese needs a Unicode font), the page
number "Trang x/y" on every page, the title, and the signature block (người lập sổ, thủ trưởng)
after the last row, ready to print and sign.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from services.registry.domain.register_books import VIETNAM, Direction
from services.registry.service_layer.messages import CATALOGUE

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

OUTGOING_COLUMNS = (
    "Số, ký hiệu văn bản",
    "Ngày tháng văn bản",
    "Tên loại và trích yếu nội dung văn bản",
    "Người ký",
    "Nơi nhận văn bản",
    "Đơn vị, người nhận bản lưu",
    "Số lượng bản",
    "Ngày chuyển",
    "Ký nhận",
    "Ghi chú",
)
INCOMING_COLUMNS = (
    "Ngày đến",
    "Số đến",
    "Tác giả",
    "Số, ký hiệu",
    "Ngày tháng",
    "Tên loại và trích yếu nội dung",
    "Đơn vị hoặc người nhận",
    "Ký nhận",
    "Ghi chú",
)
# Relative widths (sum 100) of the PDF columns.
_OUTGOING_WIDTHS = (10, 8, 27, 11, 14, 9, 5, 6, 5, 5)
_INCOMING_WIDTHS = (8, 6, 14, 11, 8, 29, 12, 6, 6)


class BookExportError(ValueError):
    """A book that cannot be rendered (unknown format, missing font)."""


def _day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


@dataclass(frozen=True, slots=True)
class RegisterBook:
    kind: Direction
    agency_code: str
    agency_name: str
    month: date  # first day
    rows: tuple[tuple[str, ...], ...]

    @property
    def title(self) -> str:
        return (
            "SỔ ĐĂNG KÝ VĂN BẢN ĐI"
            if self.kind is Direction.OUTGOING
            else ("SỔ ĐĂNG KÝ VĂN BẢN ĐẾN")
        )

    @property
    def columns(self) -> tuple[str, ...]:
        return OUTGOING_COLUMNS if self.kind is Direction.OUTGOING else INCOMING_COLUMNS

    @property
    def period(self) -> str:
        return f"Tháng {self.month.month:02d} năm {self.month.year}"

    @classmethod
    def of(
        cls, kind: Direction, agency_code: str, agency_name: str, month: date, rows: Sequence[Any]
    ) -> RegisterBook:
        """From ``registry.documents`` rows (in number order)."""
        convert = _outgoing_row if kind is Direction.OUTGOING else _incoming_row
        return cls(kind, agency_code, agency_name, month, tuple(convert(r) for r in rows))


def _type_and_subject(row: Any) -> str:
    document_type = CATALOGUE.by_key(row.document_type)
    return f"{document_type.name}: {row.subject}"


def _signer(row: Any) -> str:
    signer = row.signer or {}
    line = " ".join(p for p in (signer.get("authority"), signer.get("on_behalf_of")) if p)
    # One line each (authority, title, name): the printed book shows them stacked.
    return "\n".join(p for p in (line, signer.get("title"), signer.get("full_name")) if p)


def _outgoing_row(row: Any) -> tuple[str, ...]:
    receivers = "; ".join(p["name"] for p in row.receivers)
    sent_day = row.sent_at.astimezone(VIETNAM).date() if row.sent_at else None
    return (
        row.number_and_symbol or "",
        _day(row.document_date),
        _type_and_subject(row),
        _signer(row),
        receivers,
        (row.extra or {}).get("file_copy_holder", ""),
        str(row.number_of_copies or ""),
        _day(sent_day),
        "",
        row.note or "",
    )


def _incoming_row(row: Any) -> tuple[str, ...]:
    arrived = row.received_at.astimezone(VIETNAM) if row.received_at else None
    lead = next((a["assignee_id"] for a in row.assignees if a["role"] == "lead"), "")
    return (
        arrived.strftime("%d/%m/%Y %H:%M") if arrived else "",
        f"{row.number:02d}" if row.number else "",
        (row.sender or {}).get("name", ""),
        row.number_and_symbol or "",
        _day(row.document_date),
        _type_and_subject(row),
        lead,
        "",
        row.note or "",
    )


def render(book: RegisterBook, fmt: str) -> bytes:
    if fmt == "csv":
        return render_csv(book)
    if fmt == "xlsx":
        return render_xlsx(book)
    if fmt == "pdf":
        return render_pdf(book)
    raise BookExportError(f"format {fmt!r} is not pdf, csv or xlsx")


def _flat(row: tuple[str, ...]) -> list[str]:
    """Spreadsheet cells on one line (the PDF stacks the signer's lines)."""
    return [value.replace("\n", " ") for value in row]


def render_csv(book: RegisterBook) -> bytes:
    """UTF-8 with BOM so spreadsheet programs detect the Vietnamese text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(book.columns)
    writer.writerows(_flat(row) for row in book.rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def render_xlsx(book: RegisterBook) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = book.period.replace("/", "-")
    sheet.append([book.title])
    sheet.append([f"{book.agency_name} ({book.agency_code}) — {book.period}"])
    sheet.append(list(book.columns))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    sheet["A1"].font = Font(bold=True, size=14)
    for row in book.rows:
        sheet.append(_flat(row))
    for index, width in enumerate(
        _OUTGOING_WIDTHS if book.kind is Direction.OUTGOING else _INCOMING_WIDTHS, start=1
    ):
        sheet.column_dimensions[sheet.cell(row=3, column=index).column_letter].width = width * 1.6
    sheet.freeze_panes = "A4"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _register_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "DejaVuSans" in pdfmetrics.getRegisteredFontNames():
        return
    for path in (FONT_REGULAR, FONT_BOLD):
        if not path.is_file():
            raise BookExportError(f"font {path} is missing (Debian package fonts-dejavu-core)")
    pdfmetrics.registerFont(TTFont("DejaVuSans", str(FONT_REGULAR)))
    pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(FONT_BOLD)))


def render_pdf(book: RegisterBook) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        LongTable,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    _register_fonts()
    page_size = landscape(A4)
    margin = 12 * mm
    cell = ParagraphStyle("cell", fontName="DejaVuSans", fontSize=7.5, leading=9)
    head = ParagraphStyle("head", parent=cell, fontName="DejaVuSans-Bold", alignment=TA_CENTER)
    title = ParagraphStyle(
        "title", fontName="DejaVuSans-Bold", fontSize=14, leading=18, alignment=TA_CENTER
    )
    subtitle = ParagraphStyle(
        "subtitle", fontName="DejaVuSans", fontSize=10, leading=13, alignment=TA_CENTER
    )

    def para(text: str, style: ParagraphStyle = cell) -> Paragraph:
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return Paragraph(escaped.replace("\n", "<br/>"), style)

    usable = page_size[0] - 2 * margin
    widths = _OUTGOING_WIDTHS if book.kind is Direction.OUTGOING else _INCOMING_WIDTHS
    col_widths = [usable * w / 100 for w in widths]
    data = [[para(h, head) for h in book.columns]]
    data.append([para(f"({i})", head) for i in range(1, len(book.columns) + 1)])
    data += [[para(value) for value in row] for row in book.rows]
    table = LongTable(data, colWidths=col_widths, repeatRows=2)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), "DejaVuSans"),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 1), colors.HexColor("#EEEEEE")),
            ]
        )
    )
    signatures = Table(
        [
            [para("NGƯỜI LẬP SỔ", head), para("THỦ TRƯỞNG CƠ QUAN", head)],
            [para("(Ký, ghi rõ họ tên)", subtitle), para("(Ký tên, đóng dấu)", subtitle)],
        ],
        colWidths=[usable / 2, usable / 2],
        rowHeights=[12, 40],
    )
    # Every table cell sets its font even around a Paragraph; Helvetica would not be embedded.
    signatures.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), "DejaVuSans")]))
    story = [
        para(book.agency_name.upper(), subtitle),
        para(book.title, title),
        para(f"{book.period} — mã định danh {book.agency_code}", subtitle),
        Spacer(1, 5 * mm),
        table,
        Spacer(1, 8 * mm),
        KeepTogether(
            [para(f"Sổ có {len(book.rows)} văn bản.", cell), Spacer(1, 3 * mm), signatures]
        ),
    ]

    class _NumberedDoc(SimpleDocTemplate):
        total_pages = 0

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("DejaVuSans", 8)
        total = _NumberedDoc.total_pages or "?"
        canvas.drawCentredString(page_size[0] / 2, 7 * mm, f"Trang {doc.page}/{total}")
        canvas.restoreState()

    def build() -> tuple[bytes, int]:
        buffer = io.BytesIO()
        doc = _NumberedDoc(
            buffer,
            pagesize=page_size,
            leftMargin=margin,
            rightMargin=margin,
            topMargin=margin,
            bottomMargin=margin + 4 * mm,
            title=f"{book.title} — {book.period}",
            author=book.agency_name,
            # Otherwise the canvas starts in Helvetica, a font pdffonts reports as not embedded.
            initialFontName="DejaVuSans",
            initialFontSize=8,
        )
        doc.build(list(story), onFirstPage=footer, onLaterPages=footer)
        return buffer.getvalue(), doc.page

    # Two passes: the first counts the pages so every footer can say "x/y".
    _, pages = build()
    _NumberedDoc.total_pages = pages
    content, _ = build()
    return content
