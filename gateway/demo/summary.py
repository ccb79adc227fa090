"""The demo's readable summary: the steps, then per document the sender's view of every
receiver — who received what, when (+07:00), with which status."""

from __future__ import annotations

from collections import Counter
from typing import Any

from gateway.demo.scenario import STATUS_LABELS, DemoReport, IssuedDocument, as_vn, now_vn

NAME_WIDTH = 40
SUCCESS_LINE = "KẾT QUẢ: THÀNH CÔNG — đủ các bước a–h"
FAILURE_PREFIX = "KẾT QUẢ: THẤT BẠI ở bước"


def status_label(code: str) -> str:
    return f"{code} {STATUS_LABELS.get(code, '')}".strip() if code else STATUS_LABELS[""]


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _arrived_at(delivery: dict[str, Any]) -> str:
    for entry in delivery.get("history", []):
        if entry.get("code") == "01":
            return as_vn(entry.get("at", ""))
    return ""


def document_lines(report: DemoReport, document: IssuedDocument) -> list[str]:
    lines = [
        f"{document.label}: số {document.number or '(chưa có)'} — «{document.subject}»",
        f"  Dự thảo {document.id or '(chưa tạo)'}; soạn thảo: {document.drafted_by or '-'}; "
        f"ký số: {document.signed_by or '-'}; cấp số, đóng dấu: {document.sealed_by or '-'}",
    ]
    view = document.tracking
    if not document.dispatch_id or not view:
        lines.append("  (chưa gửi)")
        return lines
    sender = report.agency_names.get(view.get("sender_code", ""), view.get("sender_code", ""))
    lines.append(
        f"  Lượt gửi {document.dispatch_id} lúc {as_vn(view.get('sent_at', ''))} — "
        f"bên gửi ({sender}) thấy:"
    )
    lines.append(
        f"    {'Mã cơ quan':<14} {'Cơ quan nhận':<{NAME_WIDTH}} {'Đến lúc':<25} "
        f"{'Trạng thái':<30} Cập nhật lúc"
    )
    counts: Counter[str] = Counter()
    deliveries = sorted(view.get("deliveries", []), key=lambda d: d.get("receiver_code", ""))
    for delivery in deliveries:
        code = delivery.get("receiver_code", "")
        status = delivery.get("status_code", "")
        counts[status] += 1
        lines.append(
            f"    {code:<14} {_cut(report.agency_names.get(code, code), NAME_WIDTH):<{NAME_WIDTH}} "
            f"{_arrived_at(delivery):<25} {_cut(status_label(status), 30):<30} "
            f"{as_vn(delivery.get('updated_at', ''))}"
        )
        history = delivery.get("history", [])
        note = history[-1].get("note", "") if history else ""
        if status in ("02", "16") and note:
            lines.append(f"    {'':<14} lý do: {note}")
    tally = ", ".join(f"{n} × {status_label(code)}" for code, n in sorted(counts.items()))
    lines.append(f"  Tổng hợp {len(deliveries)} cơ quan nhận: {tally}")
    return lines


def render(report: DemoReport) -> str:
    """The whole summary as text (Vietnamese labels, times in +07:00)."""
    lines = [
        f"LiênThông — trình diễn đầu cuối qua API của cổng {report.gateway_url}",
        f"Bắt đầu {report.started_at}, kết thúc {now_vn()}",
        "",
        "Các bước:",
    ]
    for record in report.steps.values():
        failed = report.failure is not None and report.failure.step == record.letter
        mark = "✔" if record.done else ("✘" if failed else "·")
        when = f" (xong lúc {record.finished_at})" if record.done else ""
        lines.append(f"  [{record.letter}] {mark} {record.title}{when}")
        lines.extend(f"        - {detail}" for detail in record.detail)
        if failed:
            lines.append(f"        ! {report.failure.reason}")  # type: ignore[union-attr]
    for document in report.documents:
        lines.append("")
        lines.extend(document_lines(report, document))
    lines.append("")
    if report.succeeded:
        lines.append(SUCCESS_LINE)
    elif report.failure is not None:
        lines.append(
            f"{FAILURE_PREFIX} {report.failure.step} "
            f"({report.steps[report.failure.step].title}): {report.failure.reason}"
        )
    else:
        missing = [s.letter for s in report.steps.values() if not s.done]
        lines.append(f"{FAILURE_PREFIX} {', '.join(missing)}: không được thực hiện")
    return "\n".join(lines)
