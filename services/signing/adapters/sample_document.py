"""One-page Vietnamese official letter (công văn) laid out as NĐ 30/2020/NĐ-CP Phụ lục I shows.

Top left: the parent agency and the issuing agency, then "Số:" with a fillable field for the
number/symbol, then the subject line (trích yếu, "V/v ..."). Top right: the national motto
("Quốc hiệu" and "Tiêu ngữ") and a fillable field for the place and issue date. Below: the
addressee, the body, the signature block (title line, empty person-signature field, name) and
the distribution list ("Nơi nhận"). The organisation's empty signature field is placed so that
the seal covers the left third of the person's signature image.

Fonts: Liberation Serif (metric-compatible with Times New Roman, which NĐ 30/2020 prescribes),
embedded as subsets by reportlab, with the Vietnamese glyphs.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec, append_signature_field
from reportlab.lib.enums import TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from services.certificates.identity import AgencyIdentity, PersonIdentity
from services.chassis.text import nfc
from services.signing.adapters.fonts import (
    LIBERATION_SERIF,
    LIBERATION_SERIF_BOLD,
    LIBERATION_SERIF_ITALIC,
)
from services.signing.domain.placement import MM, Rect, person_signature_rect, seal_rect

NUMBER_FIELD = "so_ky_hieu"
DATE_FIELD = "ngay_ban_hanh"
PERSON_SIGNATURE_FIELD = "chu_ky_nguoi_co_tham_quyen"
ORGANISATION_SIGNATURE_FIELD = "chu_ky_co_quan"

PERSON_IMAGE_SIZE = (130.0, 52.0)  # points; the PNG is 600×240 px
SEAL_DIAMETER = 36 * MM  # a typical department seal (real size, NĐ 30/2020 Phụ lục I)


@dataclass(frozen=True)
class DocumentLayout:
    """Field names and rectangles of a generated sample (page 1, PDF points)."""

    page_size: tuple[float, float]
    person_signature: Rect
    organisation_signature: Rect
    number_field: str = NUMBER_FIELD
    date_field: str = DATE_FIELD
    person_field: str = PERSON_SIGNATURE_FIELD
    organisation_field: str = ORGANISATION_SIGNATURE_FIELD


@dataclass(frozen=True)
class SampleContent:
    """What the letter says."""

    parent_agency: str
    agency: AgencyIdentity
    signer: PersonIdentity
    subject: str
    addressee: str
    paragraphs: list[str]
    recipients: list[str] = field(default_factory=list)
    signer_title_line: str = ""
    agency_header: str = ""


def default_content(signer: PersonIdentity) -> SampleContent:
    """The letter used by ``lienthong sign sample`` and the tests."""
    return SampleContent(
        parent_agency=f"ỦY BAN NHÂN DÂN TỈNH {signer.agency.province.upper()}",
        agency=signer.agency,
        signer=signer,
        subject="V/v triển khai nền tảng gửi, nhận văn bản điện tử LiênThông",
        addressee="Kính gửi: Các sở, ban, ngành; Ủy ban nhân dân các huyện, thành phố.",
        paragraphs=[
            "Thực hiện Quyết định số 28/2018/QĐ-TTg ngày 12 tháng 7 năm 2018 của Thủ tướng "
            "Chính phủ về việc gửi, nhận văn bản điện tử giữa các cơ quan trong hệ thống hành "
            "chính nhà nước và Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính "
            "phủ về công tác văn thư, " + signer.agency.name + " đề nghị các cơ quan, đơn vị "
            "triển khai nền tảng LiênThông để gửi, nhận văn bản điện tử có chữ ký số.",
            "Văn bản điện tử được ký số bởi người có thẩm quyền và ký số của cơ quan, tổ chức "
            "theo quy định có giá trị pháp lý như bản gốc văn bản giấy. Văn thư cơ quan cấp số, "
            "thời gian ban hành và ký số của cơ quan trước khi phát hành.",
            "Đây là văn bản mẫu do hạ tầng khóa công khai thử nghiệm tạo ra, không có giá trị "
            "sử dụng thật. Trong quá trình thực hiện, nếu có vướng mắc, đề nghị phản ánh về "
            "Phòng Công nghệ thông tin để được hướng dẫn./.",
        ],
        recipients=[
            "- Như trên;",
            "- UBND tỉnh (để b/c);",
            "- Lưu: VT, CNTT.",
        ],
        signer_title_line=signer.title.upper(),
        # Under the parent agency line the province is implied (NĐ 30/2020 Phụ lục I, mục II.3).
        agency_header=signer.agency.name.upper().removesuffix(
            f" TỈNH {signer.agency.province.upper()}"
        ),
    )


_fonts_registered = False


def _register_fonts() -> None:
    global _fonts_registered
    if _fonts_registered:
        return
    pdfmetrics.registerFont(TTFont("LTSerif", str(LIBERATION_SERIF)))
    pdfmetrics.registerFont(TTFont("LTSerif-Bold", str(LIBERATION_SERIF_BOLD)))
    pdfmetrics.registerFont(TTFont("LTSerif-Italic", str(LIBERATION_SERIF_ITALIC)))
    _fonts_registered = True


def _centred(canvas: Canvas, font: str, size: float, x: float, y: float, text: str) -> float:
    canvas.setFont(font, size)
    canvas.drawCentredString(x, y, nfc(text))
    return pdfmetrics.stringWidth(nfc(text), font, size)


def generate_sample(content: SampleContent) -> tuple[bytes, DocumentLayout]:
    """Return the unsigned PDF and where its fields are."""
    _register_fonts()
    page_width, page_height = A4
    left, right = 30 * MM, page_width - 15 * MM
    left_centre, right_centre = left + 80, right - 122
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(nfc(content.subject))
    canvas.setAuthor(content.agency.name)
    canvas.setSubject(f"Văn bản mẫu — {content.agency.code}")

    top = page_height - 20 * MM
    _centred(canvas, "LTSerif", 12, left_centre, top, content.parent_agency)
    width = _centred(canvas, "LTSerif-Bold", 12, left_centre, top - 15, content.agency_header)
    canvas.setLineWidth(0.6)
    canvas.line(left_centre - width / 6, top - 20, left_centre + width / 6, top - 20)
    _centred(canvas, "LTSerif-Bold", 12, right_centre, top, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    motto = _centred(
        canvas, "LTSerif-Bold", 13, right_centre, top - 15, "Độc lập - Tự do - Hạnh phúc"
    )
    canvas.line(right_centre - motto / 2, top - 19, right_centre + motto / 2, top - 19)

    # Số/ký hiệu and the date are form fields the clerk fills after the person signed.
    number_y = top - 48
    canvas.setFont("LTSerif", 13)
    canvas.drawString(left_centre - 75, number_y, "Số:")
    # The fields' text is centred vertically: the box sits so that its baseline meets "Số:".
    number_rect = Rect(left_centre - 54, number_y - 2, left_centre + 86, number_y + 15)
    date_rect = Rect(right_centre - 120, number_y - 2, right_centre + 120, number_y + 15)
    subject_style = ParagraphStyle(
        "subject", fontName="LTSerif", fontSize=12, leading=14, alignment=1
    )
    subject = Paragraph(nfc(content.subject), subject_style)
    _, subject_height = subject.wrapOn(canvas, 200, 60)
    subject.drawOn(canvas, left_centre - 100, number_y - 12 - subject_height)

    body_top = number_y - 95
    _centred(canvas, "LTSerif", 14, (left + right) / 2, body_top, content.addressee)
    body_style = ParagraphStyle(
        "body",
        fontName="LTSerif",
        fontSize=14,
        leading=19,
        alignment=TA_JUSTIFY,
        firstLineIndent=1 * 28.35,
        spaceAfter=6,
    )
    y = body_top - 14
    for text in content.paragraphs:
        paragraph = Paragraph(nfc(text), body_style)
        _, height = paragraph.wrapOn(canvas, right - left, 400)
        y -= height + 6
        paragraph.drawOn(canvas, left, y)

    # Signature block: title line, space for the person's image, then the full name.
    title_baseline = y - 40
    name_baseline = title_baseline - 120
    _centred(canvas, "LTSerif-Bold", 13, right_centre, title_baseline, content.signer_title_line)
    _centred(canvas, "LTSerif-Bold", 14, right_centre, name_baseline, content.signer.full_name)
    person_rect = person_signature_rect(
        block_centre_x=right_centre,
        title_baseline=title_baseline - 4,
        name_top=name_baseline + 12,
        width=PERSON_IMAGE_SIZE[0],
        height=PERSON_IMAGE_SIZE[1],
    )
    organisation_rect = seal_rect(person_rect, SEAL_DIAMETER)

    canvas.setFont("LTSerif-Bold", 12)
    recipients_y = title_baseline
    canvas.drawString(left, recipients_y, "Nơi nhận:")
    canvas.setFont("LTSerif", 11)
    for index, line in enumerate(content.recipients, start=1):
        canvas.drawString(left, recipients_y - 14 * index, nfc(line))
    canvas.showPage()
    canvas.save()

    writer = IncrementalPdfFileWriter(io.BytesIO(buffer.getvalue()))
    for name, rect in (
        (PERSON_SIGNATURE_FIELD, person_rect),
        (ORGANISATION_SIGNATURE_FIELD, organisation_rect),
    ):
        append_signature_field(
            writer,
            SigFieldSpec(
                sig_field_name=name,
                on_page=0,
                box=tuple(round(value, 2) for value in rect.as_tuple()),  # type: ignore[arg-type]
            ),
        )
    _append_text_field(writer, NUMBER_FIELD, number_rect, "Số, ký hiệu văn bản")
    _append_text_field(writer, DATE_FIELD, date_rect, "Địa danh, ngày tháng năm ban hành")
    output = io.BytesIO()
    writer.write(output)
    layout = DocumentLayout(
        page_size=(page_width, page_height),
        person_signature=person_rect,
        organisation_signature=organisation_rect,
    )
    return output.getvalue(), layout


def _append_text_field(
    writer: IncrementalPdfFileWriter, name: str, rect: Rect, tooltip: str
) -> None:
    """Add an empty, borderless single-line text field (widget merged into the field)."""
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)  # the reference, not the page
    page = page_ref.get_object()
    field_dict = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Annot"),
            pdf_name("/Subtype"): pdf_name("/Widget"),
            pdf_name("/FT"): pdf_name("/Tx"),
            pdf_name("/T"): generic.TextStringObject(name),
            pdf_name("/TU"): generic.TextStringObject(tooltip),
            pdf_name("/F"): generic.NumberObject(4),  # printable
            pdf_name("/Rect"): generic.ArrayObject(
                generic.FloatObject(round(value, 2)) for value in rect.as_tuple()
            ),
            pdf_name("/P"): page_ref,
            pdf_name("/DA"): generic.TextStringObject("/Helv 0 Tf 0 g"),
        }
    )
    field_ref = writer.add_object(field_dict)
    acroform = writer.root["/AcroForm"]
    acroform["/Fields"].append(field_ref)
    writer.update_container(acroform["/Fields"])
    annots = page.get("/Annots")
    if annots is None:
        page[pdf_name("/Annots")] = generic.ArrayObject([field_ref])
        writer.update_container(page)
    else:
        annots.append(field_ref)
        writer.update_container(annots)


def generate_attachment(title: str, lines: list[str]) -> bytes:
    """A plain one-page attachment (phụ lục) to be signed as a separate file."""
    _register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    page_width, page_height = A4
    canvas.setTitle(nfc(title))
    _centred(canvas, "LTSerif-Bold", 14, page_width / 2, page_height - 45 * MM, title.upper())
    canvas.setFont("LTSerif", 13)
    y = page_height - 60 * MM
    for line in lines:
        canvas.drawString(30 * MM, y, nfc(line))
        y -= 18
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
