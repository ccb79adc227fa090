"""``lienthong registry book`` and ``stats`` as a real command on the real database."""

from __future__ import annotations

import os
import subprocess
import sys

from lienthong.registry.v1 import registry_pb2 as pb


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "services.chassis.cli", "registry", *args],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_book_command_prints_the_months_register_as_pdf_csv_and_xlsx(registry, agency, tmp_path):
    for subject, day in (
        ("Về việc giao chỉ tiêu biên chế năm 2027", "2026-11-05"),
        ("Về việc thành lập Hội đồng thi đua khen thưởng", "2026-11-06"),
    ):
        registry.RegisterOutgoing(
            pb.RegisterOutgoingRequest(
                document=pb.Document(
                    agency_code=agency, document_type="quyet_dinh", subject=subject,
                    signer=pb.Signer(title="CHỦ TỊCH", full_name="Phạm Thị Thu Hà"),
                    receivers=[pb.Party(name="Sở Nội vụ")],
                ),
                issue_date=day,
            )
        )  # fmt: skip
    pdf = tmp_path / "so-di.pdf"
    done = _cli("book", "--agency", agency, "--month", "2026-11", "--kind", "outgoing",
                "--out", str(pdf), "--agency-name", "Ủy ban nhân dân tỉnh Thử Nghiệm")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "2 documents" in done.stdout
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert "SỔ ĐĂNG KÝ VĂN BẢN ĐI" in text and "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM" in text
    assert "01/QĐ-UBND" in text and "02/QĐ-UBND" in text
    assert "Quyết định: Về việc giao chỉ tiêu biên chế năm 2027" in text
    csv_file = tmp_path / "so-di.csv"
    done = _cli("book", "--agency", agency, "--month", "2026-11", "--kind", "outgoing",
                "--out", str(csv_file), "--agency-name", "UBND")  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = csv_file.read_text("utf-8-sig").splitlines()
    assert len(lines) == 3 and lines[1].startswith("01/QĐ-UBND,05/11/2026,")
    xlsx = tmp_path / "so-di.xlsx"
    assert _cli("book", "--agency", agency, "--month", "2026-11", "--kind", "outgoing",
                "--out", str(xlsx), "--agency-name", "UBND").returncode == 0  # fmt: skip
    assert xlsx.read_bytes()[:2] == b"PK"


def test_book_command_refuses_bad_arguments(tmp_path):
    done = _cli("book", "--agency", "000.00.00.H56", "--month", "2026-11", "--kind", "outgoing",
                "--out", str(tmp_path / "book.docx"))  # fmt: skip
    assert done.returncode == 2 and "extension" in done.stderr
    done = _cli("book", "--agency", "H56", "--month", "2026-11", "--kind", "outgoing",
                "--out", str(tmp_path / "book.pdf"))  # fmt: skip
    assert done.returncode == 2 and "--agency" in done.stderr
    done = _cli("book", "--agency", "000.00.00.H56", "--month", "2026/11", "--kind", "incoming",
                "--out", str(tmp_path / "book.pdf"))  # fmt: skip
    assert done.returncode == 2 and "--month" in done.stderr


def test_stats_command_prints_one_line_per_agency(registry, agency):
    registry.RegisterOutgoing(
        pb.RegisterOutgoingRequest(
            document=pb.Document(
                agency_code=agency, document_type="ke_hoach", subject="Kế hoạch thử",
                signer=pb.Signer(title="CHỦ TỊCH", full_name="Phạm Thị Thu Hà"),
                receivers=[pb.Party(name="Sở Nội vụ")],
            ),
            issue_date="2026-11-10",
        )
    )  # fmt: skip
    done = _cli("stats", "--from", "2026-11-01", "--to", "2026-11-30", "--agency", agency)
    assert done.returncode == 0, done.stderr
    header, row = done.stdout.strip().splitlines()
    assert header.split("\t")[:3] == ["agency", "sent", "received"]
    assert row.split("\t")[:3] == [agency, "1", "0"]


def test_office_hours_commands_set_through_the_service_and_show_from_the_database(
    registry, registry_container, agency
):
    address = {"LT_REGISTRY_ADDR": f"127.0.0.1:{registry_container.port}"}
    shown = _cli("office-hours", "show", "--agency", agency)
    assert shown.returncode == 0, shown.stderr
    assert "(defaults)" in shown.stdout and "Sat" not in shown.stdout
    done = _cli_with(
        address, "office-hours", "set", "--agency", agency,
        "--day", "1-5=07:30-11:30,13:30-17:00", "--day", "6=07:30-11:30",
        "--day-off", "2026-12-01", "--actor", "quản trị",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    stored = registry.GetOfficeHours(pb.GetOfficeHoursRequest(agency_code=agency))
    assert [d.weekday for d in stored.weekdays] == [1, 2, 3, 4, 5, 6]
    assert (list(stored.extra_days_off), stored.updated_by) == (["2026-12-01"], "quản trị")
    shown = _cli("office-hours", "show", "--agency", agency)
    assert "Sat\t07:30-11:30" in shown.stdout and "(defaults)" not in shown.stdout
    # The service's validation reaches the command line with the field.
    refused = _cli_with(
        address, "office-hours", "set", "--agency", agency, "--day", "2=08:00-12:00,11:00-13:00"
    )
    assert refused.returncode == 2
    assert "INVALID_ARGUMENT office_hours.weekdays[0].periods[1]" in refused.stderr
    assert len(registry.GetOfficeHours(pb.GetOfficeHoursRequest(agency_code=agency)).weekdays) == 6


def _cli_with(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "services.chassis.cli", "registry", *args],
        env=dict(os.environ) | env,
        capture_output=True,
        text=True,
        timeout=120,
    )
