"""What the demo's documents say: the draft PDFs (with the signature and number fields the
signing service fills) and the metadata sent with them to ``POST /v1/documents``.

The layout is the signing service's sample letter (``services/signing/adapters/sample_document``,
NĐ 30/2020/NĐ-CP Phụ lục I); only the text is the demo's. ``run_mark`` (the time of the run)
goes into the body so each run drafts a new document, never a byte-identical one.
"""

from __future__ import annotations

from typing import Any

from services.certificates.devpki import DEMO_CHAIRMAN, DEMO_ISSUER
from services.chassis.text import nfc

KINDS = ("chi_thi", "cong_van")

_SUBJECTS = {
    "chi_thi": "Về tăng cường gửi, nhận văn bản điện tử có chữ ký số trên nền tảng LiênThông",
    "cong_van": "V/v báo cáo tình hình tiếp nhận văn bản điện tử quý IV năm 2026",
}

_PARAGRAPHS = {
    "chi_thi": [
        "Thực hiện Quyết định số 28/2018/QĐ-TTg ngày 12 tháng 7 năm 2018 của Thủ tướng Chính "
        "phủ về việc gửi, nhận văn bản điện tử giữa các cơ quan trong hệ thống hành chính nhà "
        "nước, Chủ tịch Ủy ban nhân dân tỉnh chỉ thị các sở, ban, ngành và Ủy ban nhân dân các "
        "phường, xã thực hiện gửi, nhận văn bản điện tử có chữ ký số trên nền tảng LiênThông.",
        "Văn thư các cơ quan, đơn vị tiếp nhận văn bản đến trong ngày làm việc, kiểm tra chữ ký "
        "số, cập nhật trạng thái xử lý và trả lại ngay văn bản không toàn vẹn, nêu rõ lý do.",
        "Thủ trưởng các cơ quan, đơn vị chịu trách nhiệm tổ chức thực hiện nghiêm Chỉ thị này. "
        "(Văn bản trình diễn, không có giá trị sử dụng thật; tạo lúc {run_mark}.)/.",
    ],
    "cong_van": [
        "Để tổng hợp tình hình tiếp nhận văn bản điện tử, Ủy ban nhân dân tỉnh đề nghị các cơ "
        "quan, đơn vị báo cáo số văn bản đến đã tiếp nhận và đã xử lý trong quý IV năm 2026.",
        "(Văn bản trình diễn, không có giá trị sử dụng thật; tạo lúc {run_mark}.)/.",
    ],
}


def subject(kind: str) -> str:
    return nfc(_SUBJECTS[kind])


def metadata(kind: str, run_mark: str, receivers: list[dict[str, str]]) -> dict[str, Any]:
    """The ``document`` part of ``POST /v1/documents`` (registry fields, NĐ 30/2020 Điều 8)."""
    if kind not in KINDS:
        raise ValueError(f"kind: {kind!r} is not one of {KINDS}")
    meta: dict[str, Any] = {
        "document_type": kind,
        "subject": subject(kind),
        "urgency": "normal",
        "signer": {
            "title": DEMO_CHAIRMAN.title,
            "full_name": DEMO_CHAIRMAN.full_name,
            # A People's Committee works collectively: its chairman signs "TM." (on behalf
            # of) the committee (NĐ 30/2020/NĐ-CP Điều 13 khoản 1).
            "authority": "TM.",
            "on_behalf_of": "ỦY BAN NHÂN DÂN",
        },
        "receivers": receivers,
    }
    if kind == "cong_van":
        meta["drafting_unit"] = "KT"  # công văn: the unit in "UBND-KT"
    return meta


def draft_pdf(kind: str, run_mark: str) -> bytes:
    """The unsigned draft: Vietnamese text, empty person and organisation signature fields,
    empty number and date fields (the signing service's field names)."""
    from services.signing.adapters.sample_document import SampleContent, generate_sample

    heading = "CHỈ THỊ" if kind == "chi_thi" else "CÔNG VĂN"
    content = SampleContent(
        parent_agency="ỦY BAN NHÂN DÂN",
        agency=DEMO_ISSUER,
        signer=DEMO_CHAIRMAN,
        subject=f"{heading} {subject(kind)}" if kind == "chi_thi" else subject(kind),
        addressee="Kính gửi: Các sở, ban, ngành; Ủy ban nhân dân các phường, xã.",
        paragraphs=[nfc(p.format(run_mark=run_mark)) for p in _PARAGRAPHS[kind]],
        recipients=["- Như trên;", "- Thường trực Tỉnh ủy (để b/c);", "- Lưu: VT."],
        signer_title_line="TM. ỦY BAN NHÂN DÂN — CHỦ TỊCH",
        agency_header=f"TỈNH {DEMO_ISSUER.province.upper()}",
    )
    pdf, _layout = generate_sample(content)
    return pdf
