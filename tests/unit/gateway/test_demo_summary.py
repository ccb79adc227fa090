"""``lienthong demo``'s summary (gateway/demo/summary.py) and the scenario's pure helpers:
times shown in +07:00, Vietnamese labels, one row per receiver, the reasons of 02 and 16."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

import pytest

from gateway.demo.scenario import (
    STATUS_LABELS,
    STEPS,
    DemoReport,
    IssuedDocument,
    StepFailed,
    as_vn,
    has_code,
    indication_of,
    last_note,
    now_vn,
    number_of,
)
from gateway.demo.summary import (
    FAILURE_PREFIX,
    NAME_WIDTH,
    SUCCESS_LINE,
    document_lines,
    render,
    status_label,
)

ISO_VN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$")
LONG_NAME = "Ban Quản lý các khu công nghiệp và khu kinh tế cửa khẩu tỉnh Lạc Hồng"


# -- times ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service_time", "shown"),
    [
        ("2026-11-22T04:01:23Z", "2026-11-22T11:01:23+07:00"),
        ("2026-11-22T04:01:23.987654Z", "2026-11-22T11:01:23+07:00"),
        ("2026-11-22T04:01:23+00:00", "2026-11-22T11:01:23+07:00"),
        ("2026-11-22T20:30:00+00:00", "2026-11-23T03:30:00+07:00"),  # the next day in Vietnam
        ("2026-11-22T13:01:23.5+09:00", "2026-11-22T11:01:23+07:00"),
        ("2026-11-22T11:01:23+07:00", "2026-11-22T11:01:23+07:00"),
    ],
)
def test_service_times_are_shown_in_vietnam_time(service_time: str, shown: str) -> None:
    assert as_vn(service_time) == shown


@pytest.mark.parametrize("value", ["", "chưa rõ", "2026-11-22T11:01:23", "2026-11-22"])
def test_times_without_a_zone_or_unparsable_are_shown_as_they_are(value: str) -> None:
    # A time without an offset cannot be converted honestly: it is not relabelled +07:00.
    assert as_vn(value) == value


def test_now_is_vietnam_time_to_the_second() -> None:
    shown = now_vn()
    assert ISO_VN.match(shown), shown
    moment = dt.datetime.fromisoformat(shown)
    assert moment.utcoffset() == dt.timedelta(hours=7) and moment.microsecond == 0


# -- labels and helpers ---------------------------------------------------------------------


def test_status_labels_are_vietnamese() -> None:
    assert status_label("01") == "01 Đã đến"
    assert status_label("02") == "02 Từ chối tiếp nhận (trả lại)"
    assert status_label("06") == "06 Hoàn thành"
    assert status_label("15") == "15 Đồng ý thu hồi"
    assert status_label("16") == "16 Từ chối thu hồi"
    assert status_label("") == "Đang chuyển"  # no code reported yet
    assert status_label("99") == "99"  # a code the demo has no label for: the code alone
    assert all(unicodedata.is_normalized("NFC", label) for label in STATUS_LABELS.values())


def test_indication_and_reason_of_a_verification_report() -> None:
    report = {
        "verdict": {"indication": "TOTAL-FAILED", "reason": "chu_ky:  the digest\n does not"},
        "summary_vi": "Không hợp lệ",
    }
    assert indication_of(report) == ("TOTAL-FAILED", "chu_ky: the digest does not")
    assert indication_of({"indication": "TOTAL-PASSED", "summary_vi": "Hợp lệ"}) == (
        "TOTAL-PASSED",
        "Hợp lệ",
    )
    assert indication_of({"summary_en": "engine error"}) == ("", "engine error")


def test_number_of_a_registry_document() -> None:
    assert number_of({"number_and_symbol": "01/CT-UBND", "number": 1}) == "01/CT-UBND"
    assert number_of({"number": 12, "symbol": "UBND-KT"}) == "12/UBND-KT"
    assert number_of({"number": {"number_and_symbol": "03/CT-UBND"}}) == "03/CT-UBND"
    assert number_of({}) == ""


def test_codes_and_notes_of_a_delivery_history() -> None:
    delivery = {"history": [{"code": "01"}, {"code": "02", "note": "bị sửa đổi"}]}
    assert has_code(delivery, "01") and has_code(delivery, "02")
    assert not has_code(delivery, "03") and not has_code({}, "01")
    assert last_note(delivery) == "bị sửa đổi"
    assert last_note({"history": []}) == "" and last_note({}) == ""


# -- the summary ----------------------------------------------------------------------------


def entry(code: str, at: str, note: str = "") -> dict[str, str]:
    return {"code": code, "at": at, **({"note": note} if note else {})}


def delivery(code: str, status: str, history: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "receiver_code": code,
        "status_code": status,
        "updated_at": history[-1]["at"] if history else "",
        "history": history,
    }


def finished_report() -> DemoReport:
    report = DemoReport(gateway_url="http://127.0.0.1:8080", started_at="2026-11-22T11:00:00+07:00")
    for letter, record in report.steps.items():
        record.done, record.finished_at = True, f"2026-11-22T11:0{ord(letter) - 96}:00+07:00"
    report.steps["e"].detail.append("Sở Tài chính (vanthu.stc) tự kiểm tra bản nhận: TOTAL-PASSED")
    report.agency_names.update(
        {
            "000.00.00.H56": "Ủy ban nhân dân tỉnh Lạc Hồng",
            "000.00.01.H56": "Văn phòng Ủy ban nhân dân tỉnh",
            "000.00.02.H56": "Sở Nội vụ",
            "000.00.03.H56": "Sở Tài chính",
            "000.00.09.H56": LONG_NAME,
        }
    )
    directive = IssuedDocument(
        label="Văn bản 1 — Chỉ thị",
        id="doc-1",
        subject="Về tăng cường gửi, nhận văn bản điện tử",
        number="01/CT-UBND",
        drafted_by="chuyenvien.ubnd",
        signed_by="lanhdao.ubnd",
        sealed_by="vanthu.ubnd",
        dispatch_id="dispatch-1",
        receivers=["000.00.01.H56", "000.00.02.H56", "000.00.09.H56", "000.00.77.H56"],
        tracking={
            "sender_code": "000.00.00.H56",
            "sent_at": "2026-11-22T04:01:00Z",
            # Out of code order, as a service may list them.
            "deliveries": [
                delivery("000.00.09.H56", "01", [entry("01", "2026-11-22T04:01:05Z")]),
                delivery(
                    "000.00.02.H56",
                    "02",
                    [
                        entry("01", "2026-11-22T04:01:06Z"),
                        entry("02", "2026-11-22T04:03:00Z", "Bản nhận được đã bị sửa đổi"),
                    ],
                ),
                delivery(
                    "000.00.01.H56",
                    "06",
                    [
                        entry("01", "2026-11-22T04:01:04Z"),
                        entry("03", "2026-11-22T04:02:00Z"),
                        entry("06", "2026-11-22T04:02:30Z", "Đã ban hành kế hoạch"),
                    ],
                ),
                delivery("000.00.77.H56", "", []),  # not arrived yet, not in the directory
            ],
        },
    )
    recalled = IssuedDocument(
        label="Văn bản 2 — Công văn (bị thu hồi)",
        id="doc-2",
        subject="V/v báo cáo",
        number="02/UBND-KT",
        dispatch_id="dispatch-2",
        tracking={
            "sender_code": "000.00.00.H56",
            "sent_at": "2026-11-22T04:05:00+00:00",
            "deliveries": [
                delivery(
                    "000.00.01.H56",
                    "15",
                    [entry("01", "2026-11-22T04:05:01Z"), entry("15", "2026-11-22T04:06:00Z")],
                ),
                delivery(
                    "000.00.03.H56",
                    "16",
                    [
                        entry("01", "2026-11-22T04:05:02Z"),
                        entry("13", "2026-11-22T04:05:30Z", "Ban hành chưa đúng thẩm quyền"),
                        entry("16", "2026-11-22T04:06:01Z", "Sở đã triển khai thực hiện"),
                    ],
                ),
            ],
        },
    )
    report.documents.extend([directive, recalled])
    return report


def receiver_rows(lines: list[str]) -> list[str]:
    return [line for line in lines if re.match(r"^    \d{3}\.\d{2}\.\d{2}\.H56 ", line)]


def test_summary_of_a_successful_run() -> None:
    report = finished_report()
    assert report.succeeded
    text = render(report)
    lines = text.splitlines()
    assert unicodedata.is_normalized("NFC", text)
    assert lines[0] == "LiênThông — trình diễn đầu cuối qua API của cổng http://127.0.0.1:8080"
    assert re.match(r"^Bắt đầu 2026-11-22T11:00:00\+07:00, kết thúc \S+\+07:00$", lines[1])
    for letter, title in STEPS.items():
        assert f"  [{letter}] ✔ {title} (xong lúc 2026-11-22T11:0{ord(letter) - 96}:00+07:00)" in (
            lines
        )
    assert "        - Sở Tài chính (vanthu.stc) tự kiểm tra bản nhận: TOTAL-PASSED" in lines
    assert "Văn bản 1 — Chỉ thị: số 01/CT-UBND — «Về tăng cường gửi, nhận văn bản điện tử»" in lines
    assert (
        "  Dự thảo doc-1; soạn thảo: chuyenvien.ubnd; ký số: lanhdao.ubnd; "
        "cấp số, đóng dấu: vanthu.ubnd" in lines
    )
    assert (
        "  Lượt gửi dispatch-1 lúc 2026-11-22T11:01:00+07:00 — bên gửi "
        "(Ủy ban nhân dân tỉnh Lạc Hồng) thấy:" in lines
    )
    header = next(line for line in lines if "Mã cơ quan" in line)
    assert re.split(r"\s{2,}", header.strip()) == [
        "Mã cơ quan",
        "Cơ quan nhận",
        "Đến lúc",
        "Trạng thái",
        "Cập nhật lúc",
    ]
    assert lines.count(header) == 2  # one table per document
    assert lines[-1] == SUCCESS_LINE


def test_one_row_per_receiver_by_code_with_arrival_status_and_update_in_vietnam_time() -> None:
    lines = render(finished_report()).splitlines()
    rows = receiver_rows(lines)
    first = ["000.00.01.H56", "000.00.02.H56", "000.00.09.H56", "000.00.77.H56"]
    second = ["000.00.01.H56", "000.00.03.H56"]
    assert [row.split()[0] for row in rows] == first + second
    office, home_affairs, long_named, unknown, agreed, refused = rows
    # Arrival = the time of its 01, update = the latest status, both in +07:00.
    assert "Văn phòng Ủy ban nhân dân tỉnh" in office
    assert "2026-11-22T11:01:04+07:00 06 Hoàn thành" in office
    assert office.endswith("2026-11-22T11:02:30+07:00")
    assert "Sở Nội vụ" in home_affairs and "02 Từ chối tiếp nhận (trả lại)" in home_affairs
    assert home_affairs.endswith("2026-11-22T11:03:00+07:00")
    assert "15 Đồng ý thu hồi" in agreed and "16 Từ chối thu hồi" in refused
    # A long name is cut to the column with "…"; an agency the directory did not name shows
    # its code; a delivery with no status yet is "Đang chuyển" and no arrival time.
    assert LONG_NAME[: NAME_WIDTH - 1] + "…" in long_named and LONG_NAME not in long_named
    assert unknown.split()[:3] == ["000.00.77.H56", "000.00.77.H56", "Đang"]
    assert "+07:00" not in unknown
    # The columns line up: every row's status starts where the header's "Trạng thái" does.
    header = next(line for line in lines if "Mã cơ quan" in line)
    column = header.index("Trạng thái")
    assert [row[column : column + 2] for row in rows] == ["06", "02", "01", "Đa", "15", "16"]
    assert not any(re.search(r"T04:0\d:\d\d", row) for row in rows)  # converted, not copied


def test_reasons_of_returned_and_refused_recalls_are_shown_and_no_others() -> None:
    lines = render(finished_report()).splitlines()
    reasons = [line for line in lines if line.strip().startswith("lý do:")]
    assert reasons == [
        f"    {'':<14} lý do: Bản nhận được đã bị sửa đổi",
        f"    {'':<14} lý do: Sở đã triển khai thực hiện",
    ]
    # Each reason sits right under its receiver's row; the note of 06 is not a reason.
    assert "Sở Nội vụ" in lines[lines.index(reasons[0]) - 1]
    assert "Sở Tài chính" in lines[lines.index(reasons[1]) - 1]
    assert not any("Đã ban hành kế hoạch" in line for line in lines)


def test_tally_per_document() -> None:
    lines = render(finished_report()).splitlines()
    assert (
        "  Tổng hợp 4 cơ quan nhận: 1 × Đang chuyển, 1 × 01 Đã đến, "
        "1 × 02 Từ chối tiếp nhận (trả lại), 1 × 06 Hoàn thành" in lines
    )
    assert "  Tổng hợp 2 cơ quan nhận: 1 × 15 Đồng ý thu hồi, 1 × 16 Từ chối thu hồi" in lines


def test_summary_of_a_failed_step() -> None:
    report = finished_report()
    for letter in "defgh":
        report.steps[letter].done, report.steps[letter].finished_at = False, ""
    report.steps["d"].detail.append("Văn bản 1 — Chỉ thị: lượt gửi chưa tạo")
    reason = "POST /v1/documents/doc-1/send as vanthu.ubnd → HTTP 503: distribution unavailable"
    report.failure = StepFailed("d", reason)
    report.documents[1:] = []
    report.documents[0].dispatch_id, report.documents[0].tracking = "", {}
    assert not report.succeeded
    lines = render(report).splitlines()
    assert f"  [c] ✔ {STEPS['c']} (xong lúc 2026-11-22T11:03:00+07:00)" in lines
    failed_at = lines.index(f"  [d] ✘ {STEPS['d']}")
    assert lines[failed_at + 1] == "        - Văn bản 1 — Chỉ thị: lượt gửi chưa tạo"
    assert lines[failed_at + 2] == f"        ! {reason}"
    assert all(f"  [{letter}] · {STEPS[letter]}" in lines for letter in "efgh")
    assert lines.count("  (chưa gửi)") == 1 and not receiver_rows(lines)
    assert lines[-1] == f"{FAILURE_PREFIX} d ({STEPS['d']}): {reason}"
    assert SUCCESS_LINE not in lines


def test_summary_of_a_document_not_even_drafted() -> None:
    report = DemoReport(gateway_url="http://gw", started_at="2026-11-22T11:00:00+07:00")
    document = IssuedDocument(label="Văn bản 1 — Chỉ thị")
    assert document_lines(report, document) == [
        "Văn bản 1 — Chỉ thị: số (chưa có) — «»",
        "  Dự thảo (chưa tạo); soạn thảo: -; ký số: -; cấp số, đóng dấu: -",
        "  (chưa gửi)",
    ]


def test_steps_left_undone_without_a_failure_are_not_a_success() -> None:
    report = finished_report()
    report.steps["h"].done = False
    assert not report.succeeded
    assert render(report).splitlines()[-1] == f"{FAILURE_PREFIX} h: không được thực hiện"
