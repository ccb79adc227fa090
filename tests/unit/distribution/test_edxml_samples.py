"""Every conformance sample parses to the values written in it."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from services.distribution.edxml.codes import BussinessDocType, Priority, StatusCode
from services.distribution.edxml.errors import InvalidField, MalformedPackage
from services.distribution.edxml.model import VIETNAM_TIME, DocumentPackage, StatusPackage
from services.distribution.edxml.parse import parse

from .conftest import sample


def test_edoc_new_document_fields_and_dirty_parts_are_reported() -> None:
    result = parse(sample("edoc_new.edxml"), inspect_zips=True)
    package = result.package
    assert isinstance(package, DocumentPackage)
    header = package.header
    assert header.from_.organ_id == "002.00.20.H13"
    assert header.from_.organ_name == "UBND xã Hòa Tiến - UBND huyện Hòa Vang - Thành phố Đà Nẵng"
    assert [to.organ_id for to in header.to] == ["28.22.H17"]
    assert header.to[0].organization_in_charge.startswith("UBND xã Hòa Sơn")
    assert header.document_id == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    assert header.code.code_number == "74fass22"
    assert header.code.code_notation == "VPCP-TTĐT"
    assert header.promulgation_info.promulgation_date == date(2019, 1, 16)
    assert header.document_type.type == "1"
    assert header.document_type.type_detail == "0"
    assert header.document_type.type_name == "Công văn"
    assert header.subject == "V/v kết nối, liên thông phần mềm quản lý văn bản"
    assert header.signer_info.full_name == "Nguyen Thanh Phuc"
    assert header.due_date == date(2018, 9, 28)
    assert header.other_info.priority is Priority.NORMAL
    assert header.other_info.page_amount == 22
    assert header.other_info.promulgation_amount == 2
    assert header.other_info.direction is False
    assert header.other_info.appendixes == (
        "Công văn về việc kết nối, liên thông phần mềm quản lý văn bản",
    )
    assert header.steering_type == "1"
    assert header.to_places == ("Cac bo va co quan ngang bo", "Uy ban nhan dan cac tinh, TP")
    trace = package.trace_header_list
    assert trace.trace_headers[0].organ_id == "000.00.00.G22"
    assert trace.trace_headers[0].timestamp == datetime(2018, 9, 28, tzinfo=VIETNAM_TIME)
    assert trace.bussiness.bussiness_doc_type is BussinessDocType.NEW
    assert trace.bussiness.document_id == "000.00.00.G22,2014/02/30,7806/VPCP-TTĐT"
    assert trace.bussiness.staff_info.staff == "Nguyễn Thị Ngọc Trâm"
    assert trace.bussiness.paper == "0"
    [attachment] = package.attachments
    assert attachment.content_id == "cid:209"
    assert attachment.name == "1896_QD-TTg_m_294779.doc"
    assert attachment.content_type == "application/zip"
    assert len(attachment.data) == 270823
    assert attachment.data.startswith(b"PK\x03\x04")
    assert package.manifest[0].content_id == "cid:209"
    assert package.signature is not None and "FwgIqsSYJshUS2+wlOM61L+q7Aw=" in package.signature
    [report] = result.zip_reports
    assert [entry.name for entry in report.entries] == [
        "32da2890-1a55-4ccd-9ac9-cd0d98559e67.edxml"
    ]
    assert report.total_uncompressed == 388347
    # The documented recovery and the validation issues, each naming element and reason.
    assert [issue.reason for issue in result.warnings] == [
        "skipped 4 stray byte(s) b'1212' before the XML declaration"
    ]
    invalid = {issue.field: issue.reason for issue in result.issues if issue.kind == "invalid"}
    assert "28.22.H17" in invalid["MessageHeader/To[1]/OrganId"]
    assert "2014/02/30" in invalid["TraceHeaderList/Bussiness/DocumentId"]


def test_edoc_new_in_strict_mode_rejects_the_stray_bytes() -> None:
    with pytest.raises(MalformedPackage, match="stray byte"):
        parse(sample("edoc_new.edxml"), strict=True)


def test_strict_mode_rejects_the_invalid_agency_code_naming_the_element() -> None:
    # Without the stray bytes and the impossible 2014/02/30, the code is the only fault left.
    data = sample("edoc_new.edxml")[4:].replace(b"2014/02/30", b"2014/02/28")
    with pytest.raises(InvalidField) as caught:
        parse(data, strict=True)
    assert caught.value.field == "MessageHeader/To[1]/OrganId"
    assert "28.22.H17" in caught.value.reason


def test_edoc_revocation_is_a_recall_to_three_receivers() -> None:
    result = parse(sample("edoc_revocation.edxml"))
    package = result.package
    assert isinstance(package, DocumentPackage)
    assert result.issues == ()
    assert package.header.from_.organ_id == "000.00.00.G22"
    assert [to.organ_id for to in package.header.to] == [
        "000.00.00.H41",
        "000.00.00.H14",
        "000.00.00.G17",
    ]
    assert [to.organ_name for to in package.header.to] == [
        "UBND Tỉnh Nghệ An",
        "UBND Tỉnh Cao Bằng",
        "Sở Thông tin truyền thông Hải Phòng",
    ]
    assert package.header.document_id == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    bussiness = package.trace_header_list.bussiness
    assert bussiness.bussiness_doc_type is BussinessDocType.RECALL
    assert bussiness.bussiness_doc_reason == "Thu hồi văn bản điện tử"
    [response] = package.header.response_for
    assert response.document_id == "000.00.04.G14,2012/08/06,267/VPCP-TTĐT"
    assert response.promulgation_date == date(2018, 9, 28)
    assert len(package.attachments[0].data) == 270823


def test_edoc_is_recovered_from_undeclared_prefixes_and_keeps_the_unreadable_content() -> None:
    result = parse(sample("edoc.edxml"))
    package = result.package
    assert isinstance(package, DocumentPackage)
    assert package.header.from_.organ_id == "002.00.20.H13"
    assert package.header.from_.organ_name == "Văn phòng Chính phủ"
    assert [to.organ_id for to in package.header.to] == ["000.00.15.H51"]
    assert package.header.subject == "Văn bản liên thông chỉ đạo - 190701"
    assert package.header.document_type.type_name == "Thông tư"
    assert package.header.signer_info.full_name == "Trương Minh Tuấn"
    assert package.header.other_info.priority is Priority.NORMAL
    assert package.header.document_id == "9fbfbad2-f1f8-4256-a2eb-50fb1061cddb"
    assert package.header.response_for[0].organ_id is None  # present but empty
    assert package.manifest[0].href == ""
    [attachment] = package.attachments
    assert attachment.name == "GUIDE_INSTALL OPENVPN.SIGNED.PDF"
    assert attachment.content_type == "application/pdf"
    assert attachment.data == b""
    assert attachment.undecoded == "${__StringFromFile(test.txt,,,)}"
    warnings = " ".join(issue.reason for issue in result.warnings)
    assert "xlink" in warnings and "AttachmentEncoded" in warnings
    fields = {issue.field for issue in result.issues if issue.kind == "invalid"}
    assert "TraceHeaderList/TraceHeader[1]/OrganId" in fields  # 01.02.G22
    assert "MessageHeader/DocumentId" in fields  # a UUID, not {OrganId},{date},{number}


@pytest.mark.parametrize(
    ("name", "code", "timestamp"),
    [
        ("status.edxml", StatusCode.ARRIVED, datetime(2018, 9, 28, 17, 25, 11)),
        ("status_inbox_01.edxml", StatusCode.ARRIVED, datetime(2015, 9, 20, 11, 8, 36)),
        ("status_rejection_02.edxml", StatusCode.REJECTED, datetime(2015, 9, 20, 11, 8, 36)),
        ("status_acceptance_03.edxml", StatusCode.ACCEPTED, datetime(2015, 9, 20, 11, 8, 36)),
        ("status_processing_05.edxml", StatusCode.PROCESSING, datetime(2015, 9, 20, 11, 8, 36)),
        ("status_finish_06.edxml", StatusCode.COMPLETED, datetime(2015, 9, 20, 11, 8, 36)),
        ("status_cancellation_13.edxml", StatusCode.RECALLED, datetime(2015, 9, 20, 11, 8, 36)),
        (
            "status_change-acceptance_15.edxml",
            StatusCode.RECALL_AGREED,
            datetime(2015, 9, 20, 11, 8, 36),
        ),
    ],
)
def test_status_samples(name: str, code: StatusCode, timestamp: datetime) -> None:
    result = parse(sample(name))
    package = result.package
    assert isinstance(package, StatusPackage)
    assert result.issues == ()
    assert package.status_code is code
    assert package.timestamp == timestamp.replace(tzinfo=VIETNAM_TIME)
    assert package.response_for.document_id == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    expected_sender = "000.00.00.G22" if code is StatusCode.RECALLED else "000.00.00.H41"
    assert package.from_.organ_id == expected_sender
    assert package.description


def test_status_sample_details() -> None:
    package = parse(sample("status.edxml")).package
    assert package.from_.organ_name == "UBND Tỉnh Nghệ An"
    assert package.staff_info.staff == "Nguyễn Thị Ngọc Trâm"
    assert package.staff_info.mobile == "84912000001"
    assert package.response_for.code == "7816/VPCP-TTĐT"
    assert package.response_for.promulgation_date == date(2018, 9, 28)
    rejection = parse(sample("status_rejection_02.edxml")).package
    assert rejection.description == (
        "Văn thư - Phòng Văn thư - Lưu trữ: Từ chối không tiếp nhận văn bản điện tử"
    )
