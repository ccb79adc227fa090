"""The demo scenario, step by step (a–h), through the gateway's HTTP API.

Every step either happens — and leaves what it did in the :class:`DemoReport` — or raises
:class:`StepFailed` naming the step and the reason; the CLI prints the report either way and
exits non-zero on a failed step. Each run drafts new documents, so the scenario can run again
on the same stack; the accounts it needs beyond the seeded demo users are created through the
admin API (an existing one is reused).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from gateway.demo.client import Gateway, GatewayUnreachable, RequestRefused, Session

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

ISSUER_CODE = "000.00.00.H56"  # Ủy ban nhân dân tỉnh Lạc Hồng
ISSUER_CLERK = "vanthu.ubnd"
ISSUER_SIGNER = "lanhdao.ubnd"  # bound to the chairman's HSM key by `gateway seed-users`
ISSUER_DRAFTER = "chuyenvien.ubnd"
PROVINCE_ADMIN = "quantri.tinh"

# Receivers that act in the scenario: (agency code, clerk, officer).
PROCESSORS: list[tuple[str, str, str]] = [
    ("000.00.01.H56", "vanthu.vp", "chuyenvien.vp"),  # Văn phòng UBND tỉnh
    ("000.00.03.H56", "vanthu.stc", "chuyenvien.stc"),  # Sở Tài chính
    ("000.01.31.H56", "vanthu.pvl", "chuyenvien.pvl"),  # UBND phường Văn Lang
]
# Sở Nội vụ returns the copy it finds altered; its clerk is created by the demo if missing.
TAMPERER_CODE = "000.00.02.H56"
TAMPERER_CLERK = "vanthu.snv"
# The second document goes to these and is recalled: agreed (15), refused (16), agreed (15).
RECALL_ANSWERS: list[tuple[str, str, bool, str]] = [
    ("000.00.01.H56", "vanthu.vp", True, ""),
    (
        "000.00.03.H56",
        "vanthu.stc",
        False,
        "Sở đã triển khai thực hiện; đề nghị ban hành văn bản thay thế trước khi thu hồi",
    ),
    ("000.01.31.H56", "vanthu.pvl", True, ""),
]

STEPS: dict[str, str] = {
    "a": "Văn phòng UBND tỉnh soạn thảo Chỉ thị (dự thảo PDF)",
    "b": "Chủ tịch UBND tỉnh ký số (chữ ký người có thẩm quyền)",
    "c": "Văn thư cấp số, ngày ban hành và ký số cơ quan (đóng dấu)",
    "d": "Gửi văn bản đến các cơ quan trong tỉnh",
    "e": "Các cơ quan nhận kiểm tra chữ ký số và báo đã đến (01)",
    "f": "Một số cơ quan xử lý: tiếp nhận 03 → phân công 04 → đang xử lý 05 → hoàn thành 06",
    "g": "Một cơ quan nhận bản bị sửa đổi: kiểm tra TOTAL-FAILED, trả lại (02) nêu lý do",
    "h": "Văn bản thứ hai được gửi rồi thu hồi (13); cơ quan nhận trả lời 15 và 16",
}

STATUS_LABELS: dict[str, str] = {
    "01": "Đã đến",
    "02": "Từ chối tiếp nhận (trả lại)",
    "03": "Đã tiếp nhận",
    "04": "Phân công",
    "05": "Đang xử lý",
    "06": "Hoàn thành",
    "13": "Thu hồi (chờ trả lời)",
    "15": "Đồng ý thu hồi",
    "16": "Từ chối thu hồi",
    "xx": "Không chuyển được",
    "": "Đang chuyển",
}


class StepFailed(Exception):
    """A step of the scenario did not happen."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"bước {step} ({STEPS[step]}): {reason}")
        self.step = step
        self.reason = reason


@dataclass
class StepRecord:
    letter: str
    title: str
    done: bool = False
    detail: list[str] = field(default_factory=list)
    finished_at: str = ""


@dataclass
class IssuedDocument:
    """A document the issuer drafted, signed, numbered, sealed and sent."""

    label: str
    id: str = ""
    subject: str = ""
    number: str = ""
    drafted_by: str = ""
    signed_by: str = ""
    sealed_by: str = ""
    dispatch_id: str = ""
    receivers: list[str] = field(default_factory=list)
    tracking: dict[str, Any] = field(default_factory=dict)


@dataclass
class DemoReport:
    """What the scenario did, for the summary."""

    gateway_url: str
    started_at: str
    steps: dict[str, StepRecord] = field(
        default_factory=lambda: {k: StepRecord(k, v) for k, v in STEPS.items()}
    )
    documents: list[IssuedDocument] = field(default_factory=list)
    agency_names: dict[str, str] = field(default_factory=dict)
    failure: StepFailed | None = None

    @property
    def succeeded(self) -> bool:
        return self.failure is None and all(s.done for s in self.steps.values())


def now_vn() -> str:
    """The current time, ISO 8601 with +07:00 (seconds)."""
    return dt.datetime.now(VIETNAM).replace(microsecond=0).isoformat()


def as_vn(value: str) -> str:
    """An ISO 8601 time from a service shown in +07:00 (unparsable text is shown as is)."""
    if not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        return value
    return moment.astimezone(VIETNAM).replace(microsecond=0).isoformat()


def indication_of(report: dict[str, Any]) -> tuple[str, str]:
    """(indication, reason) of a verification report as the gateway returns it."""
    verdict = report.get("verdict") if isinstance(report.get("verdict"), dict) else {}
    indication = str(verdict.get("indication") or report.get("indication") or "")
    reason = str(
        verdict.get("reason") or report.get("summary_vi") or report.get("summary_en") or ""
    )
    return indication, " ".join(reason.split())


def tamper_pdf(data: bytes) -> bytes:
    """Alter one byte inside the first signed byte range of a signed PDF, keeping its
    structure: the digest no longer matches, so the signature check must fail."""
    import re

    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)
    if match is None:
        raise ValueError("the received file has no signature (no /ByteRange)")
    first_length = int(match.group(2))
    # A letter of the page text or of the Info dictionary: visible meaning, intact syntax.
    for marker in (b"/Producer (", b"/Title (", b"/Author ("):
        position = data.find(marker)
        if 0 <= position < first_length - len(marker) - 1:
            position += len(marker)
            break
    else:
        position = first_length // 2
        while data[position : position + 1] in b" \r\n\t<>[]()/%\\":
            position += 1
    altered = bytearray(data)
    altered[position] = ord("X") if altered[position] != ord("X") else ord("Y")
    return bytes(altered)


class Scenario:
    """Runs steps a–h against one gateway; see the module docstring."""

    def __init__(
        self,
        gateway: Gateway,
        *,
        receivers_count: int = 30,
        timeout_s: float = 120.0,
        poll_s: float = 0.5,
        progress: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.gateway = gateway
        self.receivers_count = receivers_count
        self.timeout_s = timeout_s
        self.poll_s = poll_s
        self.progress = progress
        self.report = DemoReport(gateway_url=str(gateway.http.base_url), started_at=now_vn())
        self.run_mark = dt.datetime.now(VIETNAM).strftime("%H:%M:%S ngày %d/%m/%Y")

    # -- plumbing ------------------------------------------------------------------------------
    def user(self, username: str) -> Session:
        return self.gateway.as_user(username)

    @contextmanager
    def step(self, letter: str) -> Iterator[StepRecord]:
        record = self.report.steps[letter]
        self.progress(f"[{letter}] {record.title} …")
        try:
            yield record
        except StepFailed:
            raise
        except (RequestRefused, GatewayUnreachable, ValueError, KeyError) as exc:
            raise StepFailed(letter, str(exc)) from exc
        record.done = True
        record.finished_at = now_vn()
        self.progress(f"[{letter}] xong lúc {record.finished_at}")

    def wait_until(self, letter: str, what: str, check: Callable[[], tuple[bool, str]]) -> None:
        """Poll ``check`` (→ done?, what is missing) until done or the timeout."""
        deadline = time.monotonic() + self.timeout_s
        # Look at least once, and once more after the last sleep: a status that is already
        # there, or arrives during the final pause, must not be reported missing.
        while True:
            done, missing = check()
            if done:
                return
            if time.monotonic() >= deadline:
                break
            time.sleep(self.poll_s)
        raise StepFailed(letter, f"{what}: không xong sau {self.timeout_s:.0f} s — {missing}")

    def name(self, code: str) -> str:
        return self.report.agency_names.get(code, code)

    # -- the scenario --------------------------------------------------------------------------
    def run(self) -> DemoReport:
        try:
            self._run()
        except StepFailed as exc:
            self.report.failure = exc
            self.refresh_tracking()  # the sender's view as far as it got
        return self.report

    def _run(self) -> None:
        directive = IssuedDocument(label="Văn bản 1 — Chỉ thị")
        self.report.documents.append(directive)
        with self.step("a") as record:
            receivers = self.choose_receivers()
            self.ensure_demo_clerk()
            self.draft(directive, record, kind="chi_thi", receivers=receivers)
        with self.step("b") as record:
            self.sign_person(directive, record)
        with self.step("c") as record:
            self.number_and_seal(directive, record)
        with self.step("d") as record:
            self.send(directive, receivers, record)
        with self.step("e") as record:
            self.wait_arrivals("e", directive)
            for code, clerk, _ in PROCESSORS:
                self.receiver_verifies(directive, code, clerk, record)
            record.detail.append(
                f"{len(receivers)}/{len(receivers)} cơ quan báo 01 Đã đến (trung tâm kiểm tra "
                "chữ ký số của gói tin khi đến)"
            )
        with self.step("f") as record:
            for code, clerk, officer in PROCESSORS:
                self.process(directive, code, clerk, officer, record)
            self.wait_codes("f", directive, {code: "06" for code, _, _ in PROCESSORS})
        with self.step("g") as record:
            self.return_tampered(directive, record)
        recalled = IssuedDocument(label="Văn bản 2 — Công văn (bị thu hồi)")
        self.report.documents.append(recalled)
        with self.step("h") as record:
            recall_receivers = [code for code, _, _, _ in RECALL_ANSWERS]
            self.draft(recalled, record, kind="cong_van", receivers=recall_receivers)
            self.sign_person(recalled, record)
            self.number_and_seal(recalled, record)
            self.send(recalled, recall_receivers, record)
            self.wait_arrivals("h", recalled)
            self.recall(recalled, record)
        self.refresh_tracking()

    def refresh_tracking(self) -> None:
        """The sender's final view of each document sent (best effort: the steps are done)."""
        for document in self.report.documents:
            if document.dispatch_id:
                with suppress(RequestRefused, GatewayUnreachable):
                    document.tracking = self.tracking(document)

    # -- a: directory, accounts, draft ---------------------------------------------------------
    def choose_receivers(self) -> list[str]:
        """The first agencies under the province (by code) that exchange electronically, with
        every agency that acts in the scenario among them."""
        clerk = self.user(ISSUER_CLERK)
        issuer = clerk.json("GET", f"/v1/agencies/{ISSUER_CODE}")
        self.report.agency_names[ISSUER_CODE] = issuer.get("name", ISSUER_CODE)
        children = clerk.json("GET", f"/v1/agencies/{ISSUER_CODE}/children")["agencies"]
        usable = sorted(
            (
                a
                for a in children
                if a.get("exchanges_electronically") and a.get("status", "active") == "active"
            ),
            key=lambda a: a["code"],
        )
        for agency in usable:
            self.report.agency_names[agency["code"]] = agency.get("name", agency["code"])
        needed = [code for code, _, _ in PROCESSORS] + [TAMPERER_CODE]
        missing = [code for code in needed if code not in self.report.agency_names]
        if missing:
            raise ValueError(
                f"the directory lacks {missing} under {ISSUER_CODE}: import "
                "services/identifiers/data/demo_province.json (lienthong agencies import)"
            )
        chosen = needed + [a["code"] for a in usable if a["code"] not in needed]
        if len(chosen) < self.receivers_count:
            raise ValueError(
                f"only {len(chosen)} agencies under {ISSUER_CODE} exchange electronically, "
                f"{self.receivers_count} wanted"
            )
        return sorted(chosen[: self.receivers_count])

    def ensure_demo_clerk(self) -> None:
        """The clerk of the agency that returns the tampered copy (province admin creates it)."""
        admin = self.user(PROVINCE_ADMIN)
        try:
            admin.request(
                "POST",
                "/v1/users",
                json={
                    "username": TAMPERER_CLERK,
                    "password": self.gateway.password,
                    "full_name": f"Văn thư {self.name(TAMPERER_CODE)}",
                    "agency_code": TAMPERER_CODE,
                    "roles": ["clerk"],
                },
            )
        except RequestRefused as exc:
            if exc.status != 409:  # 409: created by an earlier run
                raise

    def draft(
        self, document: IssuedDocument, record: StepRecord, *, kind: str, receivers: list[str]
    ) -> None:
        from gateway.demo.content import draft_pdf, metadata

        parties = [{"agency_code": code, "name": self.name(code)} for code in receivers]
        meta = metadata(kind, self.run_mark, parties)
        pdf = draft_pdf(kind, self.run_mark)
        files = {
            "document": (None, json.dumps(meta, ensure_ascii=False), "application/json"),
            "file": (f"du-thao-{kind}.pdf", pdf, "application/pdf"),
        }
        drafter = self.user(ISSUER_DRAFTER)  # a chuyên viên drafts (NĐ 30/2020 Điều 10)
        created = drafter.json("POST", "/v1/documents", files=files)
        document.id = str(created["id"])
        document.subject = meta["subject"]
        document.drafted_by = drafter.username
        record.detail.append(
            f"{document.label}: dự thảo {document.id} do {drafter.username} tạo, "
            f"trích yếu «{document.subject}», {len(pdf):,} byte PDF"
        )

    # -- b, c: signatures and number -----------------------------------------------------------
    def sign_person(self, document: IssuedDocument, record: StepRecord) -> None:
        signer = self.user(ISSUER_SIGNER)
        signer.request("POST", f"/v1/documents/{document.id}/signatures/person", json={})
        document.signed_by = signer.username
        record.detail.append(f"{document.label}: {signer.username} ký số bằng khóa trong HSM")

    def number_and_seal(self, document: IssuedDocument, record: StepRecord) -> None:
        clerk = self.user(ISSUER_CLERK)
        today = dt.datetime.now(VIETNAM).date().isoformat()  # the issue date, Vietnam time
        numbered = clerk.json(
            "POST",
            f"/v1/documents/{document.id}/number",
            json={"issue_date": today, "place": "Lạc Hồng"},
        )
        document.number = number_of(numbered)
        clerk.request("POST", f"/v1/documents/{document.id}/signatures/organisation", json={})
        document.sealed_by = clerk.username
        sealed = clerk.request("GET", f"/v1/documents/{document.id}/files/sealed").content
        if not sealed.startswith(b"%PDF"):
            raise ValueError(f"{document.label}: the sealed file is not a PDF")
        report = clerk.json(
            "POST",
            "/v1/verification/pdf",
            content=sealed,
            headers={"Content-Type": "application/pdf"},
        )
        indication, reason = indication_of(report)
        if indication != "TOTAL-PASSED":
            raise ValueError(
                f"{document.label}: the sealed PDF verifies {indication or '?'}: {reason}"
            )
        record.detail.append(
            f"{document.label}: số {document.number or '(không rõ)'}, đóng dấu bởi "
            f"{clerk.username}; kiểm tra bản phát hành: {indication}"
        )

    # -- d: send -------------------------------------------------------------------------------
    def send(self, document: IssuedDocument, receivers: list[str], record: StepRecord) -> None:
        clerk = self.user(ISSUER_CLERK)
        sent = clerk.json(
            "POST", f"/v1/documents/{document.id}/send", json={"receivers": receivers}
        )
        document.dispatch_id = str(sent["dispatch_id"])
        document.receivers = list(receivers)
        deliveries = sent.get("deliveries", [])
        if len(deliveries) != len(receivers):
            raise ValueError(
                f"{document.label}: {len(deliveries)} deliveries for {len(receivers)} receivers"
            )
        record.detail.append(
            f"{document.label}: lượt gửi {document.dispatch_id} đến {len(receivers)} cơ quan"
        )

    def tracking(self, document: IssuedDocument) -> dict[str, Any]:
        return self.user(ISSUER_CLERK).json("GET", f"/v1/dispatches/{document.dispatch_id}")

    def deliveries(self, document: IssuedDocument) -> dict[str, dict[str, Any]]:
        view = self.tracking(document)
        document.tracking = view
        return {d["receiver_code"]: d for d in view.get("deliveries", [])}

    # -- e: arrivals ---------------------------------------------------------------------------
    def wait_arrivals(self, letter: str, document: IssuedDocument) -> None:
        """Every receiver reported 01 (the hub verified the package and it reached the inbox);
        one returned at the arrival check fails the step with its reason."""

        def check() -> tuple[bool, str]:
            deliveries = self.deliveries(document)
            returned = [
                f"{code}: {last_note(d)}"
                for code, d in deliveries.items()
                if d.get("state") in ("returned", "undeliverable") and not has_code(d, "03")
            ]
            if returned:
                raise StepFailed(letter, "trả lại khi đến: " + "; ".join(returned))
            waiting = [c for c in document.receivers if not has_code(deliveries.get(c, {}), "01")]
            return not waiting, f"chưa báo 01: {', '.join(waiting)}"

        self.wait_until(letter, f"{document.label}: chờ 01 từ mọi cơ quan nhận", check)

    def inbox_entry(self, clerk: Session, document: IssuedDocument) -> dict[str, Any]:
        """The receiver's inbox entry of ``document`` (found in its own inbox listing)."""
        listing = clerk.json("GET", "/v1/inbox", params={"page_size": 200})
        for entry in listing.get("entries", []):
            if entry.get("dispatch_id") == document.dispatch_id:
                return entry
        raise ValueError(f"{clerk.username}: dispatch {document.dispatch_id} not in the inbox")

    def receiver_verifies(
        self, document: IssuedDocument, code: str, clerk_name: str, record: StepRecord
    ) -> None:
        clerk = self.user(clerk_name)
        entry = self.inbox_entry(clerk, document)
        received = clerk.request("GET", f"/v1/inbox/{entry['delivery_id']}/file").content
        report = clerk.json(
            "POST",
            "/v1/verification/pdf",
            params={"sender": ISSUER_CODE},
            content=received,
            headers={"Content-Type": "application/pdf"},
        )
        indication, reason = indication_of(report)
        if indication != "TOTAL-PASSED":
            raise ValueError(f"{self.name(code)} verifies the received PDF {indication}: {reason}")
        record.detail.append(f"{self.name(code)} ({clerk_name}) tự kiểm tra bản nhận: {indication}")

    # -- f: processing -------------------------------------------------------------------------
    def process(
        self,
        document: IssuedDocument,
        code: str,
        clerk_name: str,
        officer_name: str,
        record: StepRecord,
    ) -> None:
        clerk, officer = self.user(clerk_name), self.user(officer_name)
        delivery = self.inbox_entry(clerk, document)["delivery_id"]
        accepted = clerk.json("POST", f"/v1/inbox/{delivery}/accept", json={})
        clerk.request(
            "POST",
            f"/v1/inbox/{delivery}/assign",
            json={"assignee": officer_name, "note": "Chủ trì tham mưu triển khai Chỉ thị"},
        )
        officer.request(
            "POST",
            f"/v1/inbox/{delivery}/status",
            json={"status_code": "05", "note": "Đang xây dựng kế hoạch triển khai"},
        )
        officer.request(
            "POST",
            f"/v1/inbox/{delivery}/status",
            json={"status_code": "06", "note": "Đã ban hành kế hoạch triển khai"},
        )
        number = accepted.get("arrival_number")
        record.detail.append(
            f"{self.name(code)}: {clerk_name} tiếp nhận (số đến {number or '?'}), phân công "
            f"{officer_name}, xử lý xong"
        )

    def wait_codes(self, letter: str, document: IssuedDocument, wanted: dict[str, str]) -> None:
        """The sender's view shows each receiver's wanted code (statuses travel back async)."""

        def check() -> tuple[bool, str]:
            deliveries = self.deliveries(document)
            late = [
                f"{c}={deliveries.get(c, {}).get('status_code', '') or '-'} (chờ {w})"
                for c, w in wanted.items()
                if deliveries.get(c, {}).get("status_code") != w
            ]
            return not late, ", ".join(late)

        self.wait_until(letter, f"{document.label}: bên gửi thấy trạng thái", check)

    # -- g: the tampered copy ------------------------------------------------------------------
    def return_tampered(self, document: IssuedDocument, record: StepRecord) -> None:
        clerk = self.user(TAMPERER_CLERK)
        delivery = self.inbox_entry(clerk, document)["delivery_id"]
        received = clerk.request("GET", f"/v1/inbox/{delivery}/file").content
        altered = tamper_pdf(received)
        report = clerk.json(
            "POST",
            "/v1/verification/pdf",
            params={"sender": ISSUER_CODE},
            content=altered,
            headers={"Content-Type": "application/pdf"},
        )
        indication, reason = indication_of(report)
        if indication != "TOTAL-FAILED":
            raise StepFailed(
                "g", f"the altered copy verifies {indication or '?'} instead of TOTAL-FAILED"
            )
        quoted = (
            f"Bản nhận được đã bị sửa đổi: kiểm tra chữ ký số cho kết quả {indication} — "
            f"{reason or 'không nêu lý do'}"
        )[:2000]
        clerk.request("POST", f"/v1/inbox/{delivery}/return", json={"reason": quoted})
        self.wait_codes("g", document, {TAMPERER_CODE: "02"})
        note = last_note(self.deliveries(document)[TAMPERER_CODE])
        if reason and reason[:40] not in note:
            raise StepFailed("g", f"the sender's view does not quote the reason (note: {note!r})")
        record.detail.append(
            f"{self.name(TAMPERER_CODE)} ({TAMPERER_CLERK}): sửa 1 byte bản nhận → {indication}; "
            f"trả lại (02): «{quoted}»"
        )

    # -- h: recall -----------------------------------------------------------------------------
    def recall(self, document: IssuedDocument, record: StepRecord) -> None:
        clerk = self.user(ISSUER_CLERK)
        reason = "Văn bản ban hành chưa đúng thẩm quyền; sẽ ban hành văn bản thay thế"
        answer = clerk.json(
            "POST", f"/v1/dispatches/{document.dispatch_id}/recall", json={"reason": reason}
        )
        record.detail.append(
            f"{document.label}: {clerk.username} thu hồi (13), {answer.get('notified', '?')} "
            f"cơ quan được yêu cầu trả lời — «{reason}»"
        )
        for code, clerk_name, agreed, refusal in RECALL_ANSWERS:
            receiver = self.user(clerk_name)

            def noticed(receiver: Session = receiver) -> tuple[bool, str]:
                entry = self.inbox_entry(receiver, document)
                pending = entry.get("pending_notice") == "recall"
                return pending, f"{receiver.username}: {entry.get('state')}"

            self.wait_until("h", f"{self.name(code)} nhận yêu cầu thu hồi", noticed)
            delivery = self.inbox_entry(receiver, document)["delivery_id"]
            receiver.request(
                "POST",
                f"/v1/inbox/{delivery}/recall-answer",
                json={"agreed": agreed, "reason": refusal},
            )
            record.detail.append(
                f"{self.name(code)} ({clerk_name}): "
                + ("15 đồng ý thu hồi" if agreed else f"16 từ chối thu hồi — «{refusal}»")
            )
        self.wait_codes(
            "h", document, {code: "15" if agreed else "16" for code, _, agreed, _ in RECALL_ANSWERS}
        )


def number_of(document: dict[str, Any]) -> str:
    """``số/ký hiệu`` of a registry document as JSON (``12/CT-UBND``)."""
    for key in ("number_and_symbol", "number_symbol", "reference"):
        if document.get(key):
            return str(document[key])
    number, symbol = document.get("number"), document.get("symbol")
    if isinstance(number, dict):  # a nested message
        return number_of(number)
    if number and symbol:
        return f"{number}/{symbol}"
    return str(number or symbol or "")


def has_code(delivery: dict[str, Any], code: str) -> bool:
    return any(entry.get("code") == code for entry in delivery.get("history", []))


def last_note(delivery: dict[str, Any]) -> str:
    history = delivery.get("history", [])
    return str(history[-1].get("note", "")) if history else ""
