"""PAdES workflow against the real token: pyHanko and poppler's pdfsig must both accept it."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation.status import ModificationLevel, SignatureCoverageLevel

from services.signing.adapters.validation import (
    validate_with_pdfsig,
    validate_with_pyhanko,
)

pytestmark = pytest.mark.integration

PERSON_FIELD = "chu_ky_nguoi_co_tham_quyen"
ORG_FIELD = "chu_ky_co_quan"


def _by_field(reports):  # type: ignore[no-untyped-def]
    return {report.field_name: report for report in reports}


def test_person_signature_is_certification_b_lt_with_timestamp(signing, workflow_outputs) -> None:  # type: ignore[no-untyped-def]
    data = workflow_outputs["person"]
    (report,) = validate_with_pyhanko(data, signing.trust)
    assert report.field_name == PERSON_FIELD
    assert report.signer == "Nguyễn Thị Hương Giang"
    assert (report.intact, report.valid, report.trusted) == (True, True, True)
    assert report.coverage is SignatureCoverageLevel.ENTIRE_REVISION
    assert report.has_signature_timestamp and report.signature_timestamp_valid
    reader = PdfFileReader(io.BytesIO(data))
    (embedded,) = reader.embedded_signatures
    assert embedded.docmdp_level is MDPPerm.FILL_FORMS
    assert "/DSS" in reader.root  # B-LT: validation data embedded
    assert len(reader.root["/DSS"]["/CRLs"]) >= 1


def test_number_fill_keeps_person_signature_valid_as_form_filling(
    signing, workflow_outputs
) -> None:  # type: ignore[no-untyped-def]
    data = workflow_outputs["numbered"]
    (report,) = validate_with_pyhanko(data, signing.trust)
    assert report.ok
    assert report.modification_level is ModificationLevel.FORM_FILLING
    fields = {
        field.get_object()["/T"]: field.get_object().get("/V")
        for field in PdfFileReader(io.BytesIO(data)).root["/AcroForm"]["/Fields"]
    }
    assert fields["so_ky_hieu"] == "123/STTTT-CNTT"
    assert fields["ngay_ban_hanh"] == "Hà Giang, ngày 22 tháng 11 năm 2026"


def test_sealed_document_validates_with_pyhanko_at_b_lta(signing, workflow_outputs) -> None:  # type: ignore[no-untyped-def]
    reports = validate_with_pyhanko(workflow_outputs["sealed"], signing.trust)
    by_field = _by_field(reports)
    person, organisation = by_field[PERSON_FIELD], by_field[ORG_FIELD]
    assert person.ok and organisation.ok
    assert person.modification_level is ModificationLevel.FORM_FILLING
    assert organisation.modification_level is ModificationLevel.LTA_UPDATES
    assert organisation.signer == "Sở Thông tin và Truyền thông tỉnh Hà Giang"
    timestamps = [report for report in reports if report.is_document_timestamp]
    assert len(timestamps) == 1 and timestamps[0].ok  # B-LTA document timestamp


def test_sealed_document_validates_with_pdfsig(workflow_outputs, nss_store) -> None:  # type: ignore[no-untyped-def]
    signatures = validate_with_pdfsig(workflow_outputs["sealed"], nss_store)
    by_field = {signature.field_name: signature for signature in signatures}
    for field in (PERSON_FIELD, ORG_FIELD):
        assert by_field[field].signature_valid, by_field[field].raw
        assert by_field[field].certificate_trusted, by_field[field].raw
    assert len(signatures) == 3  # person, organisation, document timestamp


def test_pdfsig_without_trust_store_does_not_trust_dev_root(workflow_outputs) -> None:  # type: ignore[no-untyped-def]
    signatures = validate_with_pdfsig(workflow_outputs["person"])
    assert signatures[0].signature_valid
    assert not signatures[0].certificate_trusted


@pytest.mark.parametrize("position", [0.1, 0.5, 0.9])
def test_one_byte_change_is_detected(signing, workflow_outputs, nss_store, position: float) -> None:  # type: ignore[no-untyped-def]
    data = bytearray(workflow_outputs["sealed"])
    reader = PdfFileReader(io.BytesIO(bytes(data)))
    # Choose a byte inside a signed range (not inside a /Contents hex string).
    ranges = [list(sig.sig_object["/ByteRange"]) for sig in reader.embedded_signatures]
    start, length = ranges[0][0], ranges[0][1]
    offset = start + int(length * position)
    data[offset] = (data[offset] + 1) % 256
    try:
        reports = validate_with_pyhanko(bytes(data), signing.trust)
    except Exception:  # a parse failure is also a detection
        reports = None
    if reports is not None:
        assert not all(report.ok for report in reports)
    pdfsig = validate_with_pdfsig(bytes(data), nss_store)
    assert not all(signature.signature_valid for signature in pdfsig)


def test_attachment_signature_text_top_right(signing) -> None:  # type: ignore[no-untyped-def]
    from services.signing.adapters.sample_document import generate_attachment

    attachment = generate_attachment("Phụ lục", ["Danh sách đơn vị triển khai"])
    signed = signing.engine.sign_attachment(attachment, signing.organisation, number="45/STTTT")
    reports = validate_with_pyhanko(signed, signing.trust)
    assert all(report.ok for report in reports)
    assert any(report.is_document_timestamp for report in reports)
    reader = PdfFileReader(io.BytesIO(signed))
    (signature, _timestamp) = reader.embedded_signatures
    widget = signature.sig_field
    _x0, _y0, x1, y1 = (float(v) for v in widget["/Rect"])
    media_box = reader.root["/Pages"]["/Kids"][0]["/MediaBox"]
    page_width, page_height = float(media_box[2]), float(media_box[3])
    assert x1 > page_width * 0.8 and y1 > page_height * 0.9
    appearance = widget["/AP"]["/N"]
    assert b"Tj" in appearance.data or b"TJ" in appearance.data or b"Do" in appearance.data


def test_copy_signature_validates(signing) -> None:  # type: ignore[no-untyped-def]
    from services.signing.adapters.pades import CopyForm
    from services.signing.adapters.sample_document import generate_attachment

    paper_scan = generate_attachment("Bản số hóa", ["Văn bản giấy số 12/QĐ-UBND"])
    signed = signing.engine.sign_copy(
        paper_scan,
        signing.organisation,
        copy_form=CopyForm.SAO_Y,
        copying_agency="Sở Thông tin và Truyền thông tỉnh Hà Giang",
    )
    assert all(report.ok for report in validate_with_pyhanko(signed, signing.trust))


def test_number_and_seal_in_one_revision(signing, workflow_outputs) -> None:  # type: ignore[no-untyped-def]
    sealed = signing.engine.sign_organisation(
        workflow_outputs["person"],
        signing.organisation,
        number="9/STTTT-VP",
        place_and_date="Hà Giang, ngày 24 tháng 11 năm 2026",
    )
    by_field = _by_field(validate_with_pyhanko(sealed, signing.trust))
    assert by_field[PERSON_FIELD].ok and by_field[ORG_FIELD].ok
    assert by_field[PERSON_FIELD].modification_level is ModificationLevel.FORM_FILLING
    values = {
        field.get_object()["/T"]: field.get_object().get("/V")
        for field in PdfFileReader(io.BytesIO(sealed)).root["/AcroForm"]["/Fields"]
    }
    assert values["so_ky_hieu"] == "9/STTTT-VP"


def test_number_without_date_is_refused(signing, workflow_outputs) -> None:  # type: ignore[no-untyped-def]
    from services.signing.domain.errors import FormFieldProblem

    with pytest.raises(FormFieldProblem, match="both or neither"):
        signing.engine.sign_organisation(
            workflow_outputs["person"], signing.organisation, number="9/STTTT-VP"
        )


def test_large_document_streams_from_file_to_file(signing, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    source = tmp_path / "lon.pdf"
    canvas = Canvas(str(source), pagesize=A4, pageCompression=0)
    for page in range(300):
        canvas.setFont("Helvetica", 9)
        for line in range(60):
            canvas.drawString(40, 800 - 12 * line, f"trang {page} dong {line} " + "x" * 80)
        canvas.showPage()
    canvas.save()
    assert source.stat().st_size > 2_000_000
    target = tmp_path / "lon-da-ky.pdf"
    from services.signing.domain.placement import Rect

    with open(source, "rb") as reading, open(target, "w+b") as writing:
        returned = signing.engine.sign_person(
            reading, signing.person, rect=Rect(400, 60, 530, 112), output=writing
        )
    assert returned == b""
    signed = target.read_bytes()
    assert signed.startswith(source.read_bytes()[:1024])  # incremental: original bytes kept
    (report,) = validate_with_pyhanko(signed, signing.trust)
    assert report.ok


def test_engine_is_thread_safe(hsm, dev_pki, sample_pdf) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    from services.signing.service_layer.workflow import dev_signing

    # A fresh engine and fresh certificate objects: first-use paths race too.
    signing = dev_signing(hsm, dev_pki)

    def issue(index: int) -> bytes:
        person = signing.engine.sign_person(sample_pdf, signing.person)
        return signing.engine.sign_organisation(
            person,
            signing.organisation,
            number=f"{index}/STTTT-VP",
            place_and_date="Hà Giang, ngày 25 tháng 11 năm 2026",
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        outputs = list(pool.map(issue, range(8)))
    for output in outputs:
        assert all(report.ok for report in validate_with_pyhanko(output, signing.trust))


def test_scanned_image_attachment_is_wrapped_and_signed(signing) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (1240, 1754), (250, 250, 245)).save(buffer, format="JPEG")
    signed = signing.engine.sign_attachment(
        buffer.getvalue(), signing.organisation, number="45/STTTT", filename="ban-quet.jpg"
    )
    assert all(report.ok for report in validate_with_pyhanko(signed, signing.trust))


def test_word_attachment_is_refused(signing) -> None:  # type: ignore[no-untyped-def]
    from services.signing.domain.errors import UnsupportedAttachment

    with pytest.raises(UnsupportedAttachment, match="convert it to PDF"):
        signing.engine.sign_attachment(
            b"PK\x03\x04word", signing.organisation, number="45/STTTT", filename="phu-luc.docx"
        )
