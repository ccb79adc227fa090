"""``lienthong demo`` (gateway/demo/): the scenario's own logic, without infrastructure.

The gateway is an in-memory fake behind ``httpx.MockTransport`` that keeps the state a real
stack would (documents, dispatches, inbox entries, status history) and enforces who may do
what, so the scenario's requests, the users it acts as and the order of steps a–h are checked.
The PDFs are the demo's own draft signed with software keys (``services.verification.corpus``)
and the fake's ``POST /v1/verification/pdf`` runs the real PDF engine, so the tampered copy of
step g is judged by the same checks the verification service applies.
"""

from __future__ import annotations

import email.parser
import itertools
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from gateway.demo import cli
from gateway.demo import scenario as scenario_module
from gateway.demo.client import Gateway
from gateway.demo.content import draft_pdf
from gateway.demo.scenario import (
    ISSUER_CODE,
    PROCESSORS,
    RECALL_ANSWERS,
    STEPS,
    TAMPERER_CLERK,
    TAMPERER_CODE,
    DemoReport,
    Scenario,
    StepFailed,
    tamper_pdf,
)
from gateway.demo.summary import FAILURE_PREFIX, SUCCESS_LINE, render
from services.verification import corpus
from services.verification.adapters.pdf import PdfVerifier

PASSWORD = "Mat-khau@thu"
BASE_URL = "http://gateway.test"
BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")
ISO_VN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$")

# The agencies that act in the scenario, by code, with the names the directory gives them.
ACTING = {
    "000.00.01.H56": "Văn phòng Ủy ban nhân dân tỉnh",
    "000.00.02.H56": "Sở Nội vụ",
    "000.00.03.H56": "Sở Tài chính",
    "000.01.31.H56": "Ủy ban nhân dân phường Văn Lang",
}


@pytest.fixture(autouse=True)
def _quiet_pyhanko() -> None:
    # pyHanko logs each failed validation with a traceback; the reports are what is asserted.
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


@pytest.fixture(scope="module")
def pki() -> corpus.SoftPki:
    return corpus.SoftPki.create()


@pytest.fixture(scope="module")
def verifier(pki: corpus.SoftPki) -> PdfVerifier:
    return PdfVerifier(pki.trust_store())


@pytest.fixture(scope="module")
def directive_draft() -> bytes:
    return draft_pdf("chi_thi", "10:00:00 ngày 22/11/2026")


@pytest.fixture(scope="module")
def issued_directive(pki: corpus.SoftPki, directive_draft: bytes) -> bytes:
    """The demo's directive as the receivers get it: person signature, number, seal."""
    return corpus.issued(pki, level="B-T", base=directive_draft)


# -- tampering ------------------------------------------------------------------------------


def _changed_positions(original: bytes, altered: bytes) -> list[int]:
    assert len(altered) == len(original), "tampering must keep the file's length and offsets"
    return [i for i, (a, b) in enumerate(zip(original, altered, strict=True)) if a != b]


def _signed_ranges(data: bytes) -> list[list[range]]:
    """Each signature's signed byte ranges (its /ByteRange: before and after /Contents)."""
    signatures = []
    for match in BYTE_RANGE.finditer(data):
        start1, length1, start2, length2 = (int(g) for g in match.groups())
        signatures.append([range(start1, start1 + length1), range(start2, start2 + length2)])
    return signatures


def _assert_tampering_breaks_every_signature(original: bytes, altered: bytes) -> int:
    changed = _changed_positions(original, altered)
    assert len(changed) == 1, changed
    position = changed[0]
    signatures = _signed_ranges(original)
    assert len(signatures) == 2  # the person's and the organisation's
    for ranges in signatures:
        assert any(position in signed for signed in ranges), (position, ranges)
    return position


def test_tampered_copy_differs_in_one_signed_byte_and_fails_verification(
    issued_directive: bytes, verifier: PdfVerifier
) -> None:
    assert verifier.verify(issued_directive).indication.value == "TOTAL-PASSED"
    altered = tamper_pdf(issued_directive)
    _assert_tampering_breaks_every_signature(issued_directive, altered)
    report = verifier.verify(altered)
    assert report.indication.value == "TOTAL-FAILED"
    assert report.sub_indication is not None and report.sub_indication.value == "HASH_FAILURE"


def test_tampering_without_info_strings_alters_a_signed_byte_mid_range(
    pki: corpus.SoftPki, directive_draft: bytes, verifier: PdfVerifier
) -> None:
    # No /Producer, /Title or /Author string to change: the fallback (middle of the first
    # signed range, past PDF delimiters) must still land in every signature's signed bytes.
    renamed = directive_draft
    for key, other in (
        (b"/Producer (", b"/Producex ("),
        (b"/Title (", b"/Titlex("),
        (b"/Author (", b"/Authorx("),
    ):
        renamed = renamed.replace(key, other)
    assert b"/Producer (" not in renamed and b"/Title (" not in renamed
    signed = corpus.issued(pki, level="B-B", base=renamed)
    altered = tamper_pdf(signed)
    position = _assert_tampering_breaks_every_signature(signed, altered)
    assert signed[position : position + 1] not in b" \r\n\t<>[]()/%\\"
    assert verifier.verify(altered).indication.value == "TOTAL-FAILED"


def test_tampering_skips_pdf_delimiters_in_the_middle_of_the_range() -> None:
    # A made-up file: the middle of the first range falls on " ()/" — changing one of those
    # would break the syntax, so the first letter after them is altered.
    first = b"%PDF-1.7\n" + b"a" * 46 + b" ()/b" + b"c" * 50
    middle = len(first) // 2
    assert first[middle : middle + 4] == b" ()/"
    data = first + b"<00ff>" + b" /ByteRange [0 %d %d 10] endobj\n" % (len(first), len(first) + 6)
    altered = tamper_pdf(data)
    assert _changed_positions(data, altered) == [middle + 4]
    assert altered[middle + 4 : middle + 5] == b"X"


def test_tampering_a_byte_that_already_is_x_still_changes_it(
    pki: corpus.SoftPki, directive_draft: bytes
) -> None:
    producer = re.search(rb"/Producer \((.)", directive_draft)
    assert producer is not None
    starts_with_x = directive_draft.replace(b"/Producer (" + producer.group(1), b"/Producer (X", 1)
    signed = corpus.issued(pki, level="B-B", base=starts_with_x)
    altered = tamper_pdf(signed)
    position = _assert_tampering_breaks_every_signature(signed, altered)
    assert (signed[position : position + 1], altered[position : position + 1]) == (b"X", b"Y")


def test_tampering_an_unsigned_file_is_refused(directive_draft: bytes) -> None:
    with pytest.raises(ValueError, match="ByteRange"):
        tamper_pdf(directive_draft)


# -- a fake gateway -------------------------------------------------------------------------


def directory(extra: int = 30) -> list[dict[str, Any]]:
    """The province's children: the acting agencies, then ``extra`` others by code, with every
    5th not exchanging electronically and every 7th dissolved; listed out of code order."""
    agencies = [
        {"code": code, "name": name, "exchanges_electronically": True, "status": "active"}
        for code, name in ACTING.items()
    ]
    for n in range(4, 4 + extra):
        agencies.append(
            {
                "code": f"000.00.{n:02d}.H56",
                "name": f"Sở thứ {n}",
                "exchanges_electronically": n % 5 != 0,
                "status": "dissolved" if n % 7 == 0 else "active",
            }
        )
    return agencies[::-1]


AGENCY_OF = {
    "chuyenvien.ubnd": ISSUER_CODE,
    "lanhdao.ubnd": ISSUER_CODE,
    "vanthu.ubnd": ISSUER_CODE,
    "quantri.tinh": ISSUER_CODE,
    **{clerk: code for code, clerk, _ in PROCESSORS},
    **{officer: code for code, _, officer in PROCESSORS},
}


def role_of(username: str) -> str:
    if username == "quantri.tinh":
        return "province_admin"
    if username.startswith("lanhdao."):
        return "signer"
    return "clerk" if username.startswith("vanthu.") else "officer"


class Refused(Exception):
    def __init__(self, status: int, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.field = status, detail, field


@dataclass
class FakeGateway:
    """The gateway's HTTP API over in-memory state (see the module docstring).

    ``refuse[route] = (status, detail, field)`` makes a route answer with that problem;
    ``arrivals=False`` keeps every delivery queued (the hub never reports 01). The statuses
    receivers report travel back asynchronously, as over Kafka: the sender's view shows them
    from its second look on (``lag``), so the demo has to wait for them.
    """

    issued_pdf: bytes
    verifier: PdfVerifier
    children: list[dict[str, Any]] = field(default_factory=directory)
    refuse: dict[str, tuple[int, str, str | None]] = field(default_factory=dict)
    arrivals: bool = True
    lag: bool = True
    in_transit: list[tuple[dict[str, Any], str, str, str, str]] = field(default_factory=list)
    sealed_pdf: bytes | None = None
    users: dict[str, str] = field(default_factory=lambda: dict(AGENCY_OF))
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    verified: list[tuple[str, bytes, dict[str, Any]]] = field(default_factory=list)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    dispatches: dict[str, dict[str, Any]] = field(default_factory=dict)
    inbox: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _seconds: Iterator[int] = field(default_factory=lambda: itertools.count(0))

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # -- plumbing ----------------------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):04d}"

    def now(self) -> str:
        # Service times in UTC (…Z): the demo must show them in +07:00.
        second = next(self._seconds)
        return f"2026-11-22T04:{second // 60:02d}:{second % 60:02d}.250000Z"

    def handle(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        if path == "/healthz":
            return httpx.Response(200, json={"status": "ok"})
        if path == "/v1/auth/login":
            return self.login(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        user = self.tokens.get(token)
        if user is None:
            return self.problem(401, "the access token expired or is missing", None)
        self.calls.append((method, path, user))
        for route_method, pattern, name, action in self.routes():
            match = re.fullmatch(pattern, path)
            if route_method == method and match:
                try:
                    if name in self.refuse:
                        raise Refused(*self.refuse[name])
                    answer = action(request, user, *match.groups())
                except Refused as exc:
                    return self.problem(exc.status, exc.detail, exc.field)
                if isinstance(answer, httpx.Response):
                    return answer
                return httpx.Response(200, json=answer)
        return self.problem(404, f"no route {method} {path}", None)

    @staticmethod
    def problem(status: int, detail: str, field_name: str | None) -> httpx.Response:
        body = {"type": "about:blank", "title": "refused", "status": status, "detail": detail}
        if field_name:
            body["field"] = field_name
        return httpx.Response(
            status, json=body, headers={"Content-Type": "application/problem+json"}
        )

    def routes(self) -> list[tuple[str, str, str, Callable[..., Any]]]:
        doc, inbox = r"/v1/documents/([^/]+)", r"/v1/inbox/([^/]+)"
        return [
            ("GET", r"/v1/agencies/([^/]+)/children", "children", self.list_children),
            ("GET", r"/v1/agencies/([^/]+)", "agency", self.get_agency),
            ("POST", r"/v1/users", "create_user", self.create_user),
            ("POST", r"/v1/documents", "create_document", self.create_document),
            ("POST", doc + "/signatures/person", "sign_person", self.sign_person),
            ("POST", doc + "/number", "number", self.number),
            ("POST", doc + "/signatures/organisation", "seal", self.seal),
            ("GET", doc + "/files/sealed", "sealed_file", self.sealed_file),
            ("POST", r"/v1/verification/pdf", "verify", self.verify),
            ("POST", doc + "/send", "send", self.send),
            ("GET", r"/v1/dispatches/([^/]+)", "tracking", self.tracking),
            ("POST", r"/v1/dispatches/([^/]+)/recall", "recall", self.recall),
            ("GET", r"/v1/inbox", "inbox", self.list_inbox),
            ("GET", inbox + "/file", "inbox_file", self.inbox_file),
            (
                "POST",
                inbox + "/(accept|assign|status|return|recall-answer)",
                "inbox_action",
                self.inbox_action,
            ),
        ]

    def login(self, request: httpx.Request) -> httpx.Response:
        if "login" in self.refuse:
            return self.problem(*self.refuse["login"])
        body = json.loads(request.content)
        if body["username"] not in self.users or body["password"] != PASSWORD:
            return self.problem(401, "wrong user name or password", None)
        token = self.new_id("token")
        self.tokens[token] = body["username"]
        return httpx.Response(200, json={"access_token": token, "token_type": "bearer"})

    @staticmethod
    def require(user: str, *roles: str) -> None:
        if role_of(user) not in roles:
            raise Refused(403, f"{user} is not a {' or '.join(roles)}", None)

    # -- directory, accounts -----------------------------------------------------------------
    def get_agency(self, request: httpx.Request, user: str, code: str) -> dict[str, Any]:
        if code == ISSUER_CODE:
            return {"code": code, "name": "Ủy ban nhân dân tỉnh Lạc Hồng", "status": "active"}
        for agency in self.children:
            if agency["code"] == code:
                return agency
        raise Refused(404, f"no agency {code}", "code")

    def list_children(self, request: httpx.Request, user: str, code: str) -> dict[str, Any]:
        assert code == ISSUER_CODE
        return {"agencies": self.children}

    def create_user(self, request: httpx.Request, user: str) -> httpx.Response:
        self.require(user, "province_admin")
        body = json.loads(request.content)
        assert body["password"] == PASSWORD and body["roles"] == ["clerk"]
        if body["username"] in self.users:
            raise Refused(409, f"user {body['username']} exists", "username")
        self.users[body["username"]] = body["agency_code"]
        return httpx.Response(201, json={"username": body["username"]})

    # -- issuing -----------------------------------------------------------------------------
    def document(self, document_id: str, user: str) -> dict[str, Any]:
        document = self.documents.get(document_id)
        if document is None or self.users[user] != ISSUER_CODE:
            raise Refused(404, f"no document {document_id}", "document_id")
        return document

    def create_document(self, request: httpx.Request, user: str) -> httpx.Response:
        self.require(user, "officer", "clerk")
        header = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
        message = email.parser.BytesParser().parsebytes(header + request.content)
        parts = {
            part.get_param("name", header="content-disposition"): part
            for part in message.get_payload()
        }
        meta = json.loads(parts["document"].get_payload(decode=True))
        pdf = parts["file"].get_payload(decode=True)
        assert pdf.startswith(b"%PDF")
        document_id = self.new_id("doc")
        self.documents[document_id] = {"id": document_id, "meta": meta, "status": "draft"}
        return httpx.Response(201, json={"id": document_id, "status": "draft"})

    def sign_person(self, request: httpx.Request, user: str, document_id: str) -> Any:
        self.require(user, "signer")
        self.document(document_id, user)["person_signed_by"] = user
        return {"id": document_id, "status": "draft"}

    def number(self, request: httpx.Request, user: str, document_id: str) -> Any:
        self.require(user, "clerk")
        document = self.document(document_id, user)
        if "person_signed_by" not in document:
            raise Refused(409, "not signed by the signer yet", "document_id")
        symbol = "CT-UBND" if document["meta"]["document_type"] == "chi_thi" else "UBND-KT"
        document["number"] = f"{len(self.documents):02d}/{symbol}"
        return {"id": document_id, "number_and_symbol": document["number"], "status": "issued"}

    def seal(self, request: httpx.Request, user: str, document_id: str) -> Any:
        self.require(user, "clerk")
        document = self.document(document_id, user)
        if "number" not in document:
            raise Refused(409, "not numbered yet", "document_id")
        document["sealed_by"] = user
        return {"id": document_id, "status": "issued"}

    def sealed_file(self, request: httpx.Request, user: str, document_id: str) -> Any:
        if "sealed_by" not in self.document(document_id, user):
            raise Refused(404, "no sealed file yet", "kind")
        pdf = self.issued_pdf if self.sealed_pdf is None else self.sealed_pdf
        return httpx.Response(200, content=pdf, headers={"Content-Type": "application/pdf"})

    def verify(self, request: httpx.Request, user: str) -> httpx.Response:
        assert request.headers["Content-Type"] == "application/pdf"
        report = self.verifier.verify(request.content)
        self.verified.append((user, request.content, dict(request.url.params)))
        return httpx.Response(200, content=report.to_json().encode())

    # -- distribution ------------------------------------------------------------------------
    def send(self, request: httpx.Request, user: str, document_id: str) -> httpx.Response:
        self.require(user, "clerk")
        document = self.document(document_id, user)
        if "sealed_by" not in document:
            raise Refused(409, "not sealed yet", "document_id")
        receivers = json.loads(request.content)["receivers"]
        dispatch_id = self.new_id("dispatch")
        sent_at = self.now()
        deliveries = []
        for code in receivers:
            delivery = {
                "delivery_id": self.new_id("delivery"),
                "receiver_code": code,
                "state": "queued",
                "updated_at": sent_at,
                "history": [],
            }
            if self.arrivals:
                self.report_status(delivery, "01", "arrived", "hub", "")
                self.inbox[delivery["delivery_id"]] = {
                    "delivery_id": delivery["delivery_id"],
                    "dispatch_id": dispatch_id,
                    "receiver_code": code,
                    "sender_code": ISSUER_CODE,
                    "state": "arrived",
                }
            deliveries.append(delivery)
        self.dispatches[dispatch_id] = {
            "dispatch_id": dispatch_id,
            "sender_code": ISSUER_CODE,
            "document_id": document_id,
            "sent_at": sent_at,
            "deliveries": deliveries,
        }
        return httpx.Response(201, json={"dispatch_id": dispatch_id, "deliveries": deliveries})

    def add_status(
        self, delivery: dict[str, Any], code: str, state: str, actor: str, note: str
    ) -> None:
        at = self.now()
        entry = {"code": code, "to_state": state, "actor": actor, "at": at}
        if note:
            entry["note"] = note
        delivery["history"].append(entry)
        delivery.update(state=state, status_code=code, updated_at=at)

    def report_status(
        self, delivery: dict[str, Any], code: str, state: str, actor: str, note: str
    ) -> None:
        """A receiver's status, on its way back to the sender."""
        if self.lag:
            self.in_transit.append((delivery, code, state, actor, note))
        else:
            self.add_status(delivery, code, state, actor, note)

    def sender_sees(self, index: int) -> dict[str, str]:
        """Each receiver's status code in the sender's view of the ``index``-th dispatch."""
        dispatch = list(self.dispatches.values())[index]
        return {d["receiver_code"]: d.get("status_code", "") for d in dispatch["deliveries"]}

    def delivery(self, delivery_id: str) -> dict[str, Any]:
        for dispatch in self.dispatches.values():
            for delivery in dispatch["deliveries"]:
                if delivery["delivery_id"] == delivery_id:
                    return delivery
        raise KeyError(delivery_id)

    def tracking(self, request: httpx.Request, user: str, dispatch_id: str) -> Any:
        if dispatch_id not in self.dispatches or self.users[user] != ISSUER_CODE:
            raise Refused(404, f"no dispatch {dispatch_id}", "dispatch_id")
        view = json.loads(json.dumps(self.dispatches[dispatch_id]))  # a copy, as over HTTP
        for status in self.in_transit:  # arrives after this look: the next one shows it
            self.add_status(*status)
        self.in_transit.clear()
        return view

    def recall(self, request: httpx.Request, user: str, dispatch_id: str) -> Any:
        self.require(user, "clerk")
        reason = json.loads(request.content)["reason"]
        deliveries = self.dispatches[dispatch_id]["deliveries"]
        if not all(d["history"] and d["history"][0]["code"] == "01" for d in deliveries):
            raise Refused(409, "some receivers have not reported 01 yet", "dispatch_id")
        for delivery in deliveries:
            self.add_status(delivery, "13", "notice_pending", user, reason)
            self.inbox[delivery["delivery_id"]]["pending_notice"] = "recall"
        return {"dispatch_id": dispatch_id, "notified": len(deliveries)}

    def entry(self, delivery_id: str, user: str) -> dict[str, Any]:
        entry = self.inbox.get(delivery_id)
        if entry is None or entry["receiver_code"] != self.users[user]:
            raise Refused(404, f"no inbox entry {delivery_id}", "delivery_id")
        return entry

    def list_inbox(self, request: httpx.Request, user: str) -> Any:
        mine = [e for e in self.inbox.values() if e["receiver_code"] == self.users[user]]
        return {"entries": mine[::-1], "next_page_token": ""}  # newest first

    def inbox_file(self, request: httpx.Request, user: str, delivery_id: str) -> Any:
        self.entry(delivery_id, user)
        return httpx.Response(
            200, content=self.issued_pdf, headers={"Content-Type": "application/pdf"}
        )

    def inbox_action(self, request: httpx.Request, user: str, delivery_id: str, action: str) -> Any:
        """A receiver acts: its entry changes at once, the sender learns it later."""
        entry = self.entry(delivery_id, user)
        body = json.loads(request.content)
        note = body.get("note", "")
        if action == "status":
            self.require(user, "officer")
            if entry.get("assignee") != user:
                raise Refused(403, f"{user} is not the assignee", "delivery_id")
            code = body["status_code"]
            state = {"05": "processing", "06": "completed"}[code]
        elif action == "accept":
            self.require(user, "clerk")
            entry["arrival_number"] = 1 + sum("arrival_number" in e for e in self.inbox.values())
            code, state = "03", "accepted"
        elif action == "assign":
            self.require(user, "clerk")
            if entry["state"] != "accepted":
                raise Refused(409, "accept it first", "delivery_id")
            entry["assignee"] = body["assignee"]
            code, state = "04", "assigned"
        elif action == "return":
            self.require(user, "clerk")
            code, state, note = "02", "returned", body["reason"]
        else:  # recall-answer
            self.require(user, "clerk")
            if entry.get("pending_notice") != "recall":
                raise Refused(409, "no recall to answer", "delivery_id")
            entry["pending_notice"] = ""
            code, state = ("15", "recalled") if body["agreed"] else ("16", "arrived")
            note = "" if body["agreed"] else body["reason"]
        entry["state"] = state
        self.report_status(self.delivery(delivery_id), code, state, user, note)
        return entry


@pytest.fixture()
def fake(issued_directive: bytes, verifier: PdfVerifier) -> FakeGateway:
    return FakeGateway(issued_pdf=issued_directive, verifier=verifier)


def run_scenario(
    fake: FakeGateway,
    receivers: int = 8,
    timeout_s: float = 5.0,
    on_progress: Callable[[str], None] = lambda line: None,
) -> DemoReport:
    gateway = Gateway(BASE_URL, PASSWORD)
    gateway.http = httpx.Client(base_url=BASE_URL, transport=fake.transport())
    lines: list[str] = []

    def progress(line: str) -> None:
        lines.append(line)
        on_progress(line)

    scenario = Scenario(
        gateway, receivers_count=receivers, timeout_s=timeout_s, poll_s=0.01, progress=progress
    )
    try:
        report = scenario.run()
    finally:
        gateway.close()
    done = [letter for letter, record in report.steps.items() if record.done]
    assert all(f"[{letter}] xong lúc" in "\n".join(lines) for letter in done)
    return report


def by_code(report: DemoReport, index: int) -> dict[str, dict[str, Any]]:
    return {d["receiver_code"]: d for d in report.documents[index].tracking["deliveries"]}


# -- the happy path -------------------------------------------------------------------------


def test_whole_scenario_against_the_fake_gateway(fake: FakeGateway) -> None:
    report = run_scenario(fake, receivers=8)

    assert report.failure is None and report.succeeded
    assert all(ISO_VN.match(record.finished_at) for record in report.steps.values())
    directive, recalled = report.documents
    assert directive.number == "01/CT-UBND" and recalled.number == "02/UBND-KT"
    assert (directive.drafted_by, directive.signed_by, directive.sealed_by) == (
        "chuyenvien.ubnd",
        "lanhdao.ubnd",
        "vanthu.ubnd",
    )
    # The directive: 8 receivers, the three processors completed (06), Sở Nội vụ returned
    # the altered copy (02) quoting the verification report, the others arrived (01).
    statuses = {code: d["status_code"] for code, d in by_code(report, 0).items()}
    assert len(statuses) == 8
    assert {code: statuses.pop(code) for code, _, _ in PROCESSORS} == {
        code: "06" for code, _, _ in PROCESSORS
    }
    assert statuses.pop(TAMPERER_CODE) == "02"
    assert set(statuses.values()) == {"01"}
    note = by_code(report, 0)[TAMPERER_CODE]["history"][-1]["note"]
    assert "TOTAL-FAILED" in note and "digest of the signed byte ranges" in note
    # The copy Sở Nội vụ verified is the received file with one byte changed, and the
    # receivers verify against the issuer as the sender.
    tampered = [(data, params) for user, data, params in fake.verified if user == TAMPERER_CLERK]
    assert len(tampered) == 1
    assert len(_changed_positions(fake.issued_pdf, tampered[0][0])) == 1
    assert tampered[0][1] == {"sender": ISSUER_CODE}
    # The recalled document: answered 15, 16 (with the refusal), 15.
    recall = by_code(report, 1)
    assert {code: recall[code]["status_code"] for code in recall} == {
        code: "15" if agreed else "16" for code, _, agreed, _ in RECALL_ANSWERS
    }
    refused = next(code for code, _, agreed, _ in RECALL_ANSWERS if not agreed)
    assert recall[refused]["history"][-1]["note"].startswith("Sở đã triển khai")
    # The clerk of Sở Nội vụ was created by the province admin.
    assert ("POST", "/v1/users", "quantri.tinh") in fake.calls
    assert fake.users[TAMPERER_CLERK] == TAMPERER_CODE


def test_each_step_is_done_only_when_the_sender_sees_its_statuses(fake: FakeGateway) -> None:
    seen: dict[str, list[dict[str, str]]] = {}

    def snapshot(line: str) -> None:
        if " xong lúc " in line:
            seen[line[1]] = [fake.sender_sees(i) for i in range(len(fake.dispatches))]

    report = run_scenario(fake, receivers=6, on_progress=snapshot)
    assert report.succeeded
    directive_at = {letter: views[0] for letter, views in seen.items() if views}
    assert set(directive_at["e"].values()) == {"01"}
    assert {code: directive_at["f"][code] for code, _, _ in PROCESSORS} == {
        code: "06" for code, _, _ in PROCESSORS
    }
    assert directive_at["g"][TAMPERER_CODE] == "02"
    assert seen["h"][1] == {code: "15" if agreed else "16" for code, _, agreed, _ in RECALL_ANSWERS}


def test_second_run_reuses_the_created_clerk_and_sends_new_dispatches(
    fake: FakeGateway,
) -> None:
    first = run_scenario(fake, receivers=5)
    second = run_scenario(fake, receivers=5)
    assert first.succeeded and second.succeeded  # 409 on POST /v1/users is not a failure
    dispatches = {d.dispatch_id for report in (first, second) for d in report.documents}
    assert len(dispatches) == 4


def test_summary_of_a_run_has_one_row_per_receiver_and_the_reasons(fake: FakeGateway) -> None:
    report = run_scenario(fake, receivers=7)
    text = render(report)
    lines = text.splitlines()
    directive_codes = sorted(by_code(report, 0))
    rows = [line for line in lines if re.match(r"^    \d{3}\.\d{2}\.\d{2}\.H56 ", line)]
    assert [row.split()[0] for row in rows] == directive_codes + sorted(by_code(report, 1))
    for row in rows:
        times = re.findall(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[^ ]*", row)
        assert len(times) == 2 and all(ISO_VN.match(t) for t in times), row
    # 04:00:00Z → 11:00:00+07:00: the service's UTC times are converted, not relabelled.
    assert "T11:00:0" in text and not any("T04:" in row for row in rows)
    reasons = [line.strip() for line in lines if line.strip().startswith("lý do:")]
    assert len(reasons) == 2
    assert "TOTAL-FAILED" in reasons[0]
    assert reasons[1].endswith(RECALL_ANSWERS[1][3])
    assert (
        "Tổng hợp 7 cơ quan nhận: 3 × 01 Đã đến, 1 × 02 Từ chối tiếp nhận (trả lại), "
        "3 × 06 Hoàn thành" in text
    )
    assert lines[-1] == SUCCESS_LINE


# -- the choice of receivers ----------------------------------------------------------------


def test_receivers_are_the_acting_agencies_then_the_next_electronic_ones_by_code(
    fake: FakeGateway,
) -> None:
    report = run_scenario(fake, receivers=8)
    assert report.succeeded
    # Beyond the four acting agencies: 04, 06, 08 and 09 — not 05 (paper only), not 07
    # (dissolved) — and nothing from the end of the list, which the directory gives first.
    assert sorted(by_code(report, 0)) == sorted(
        [*ACTING, "000.00.04.H56", "000.00.06.H56", "000.00.08.H56", "000.00.09.H56"]
    )
    assert report.documents[0].receivers == sorted(report.documents[0].receivers)
    assert sorted(by_code(report, 1)) == sorted(code for code, _, _, _ in RECALL_ANSWERS)
    assert report.agency_names[TAMPERER_CODE] == "Sở Nội vụ"


def test_receivers_exactly_the_acting_agencies(fake: FakeGateway) -> None:
    assert sorted(by_code(run_scenario(fake, receivers=4), 0)) == sorted(ACTING)


def test_an_acting_agency_missing_from_the_directory_fails_step_a(fake: FakeGateway) -> None:
    for agency in fake.children:
        if agency["code"] == TAMPERER_CODE:
            agency["exchanges_electronically"] = False
    report = run_scenario(fake)
    assert report.failure is not None and report.failure.step == "a"
    assert TAMPERER_CODE in report.failure.reason
    assert "demo_province.json" in report.failure.reason
    assert not any(path == "/v1/documents" for _, path, _ in fake.calls)


def test_too_few_electronic_agencies_fails_step_a(fake: FakeGateway) -> None:
    fake.children = directory(extra=3)  # 04 and 06 usable: 6 in all
    assert run_scenario(fake, receivers=6).succeeded
    report = run_scenario(fake, receivers=7)
    assert report.failure is not None and report.failure.step == "a"
    assert "only 6 agencies" in report.failure.reason and "7 wanted" in report.failure.reason


# -- the failure path -----------------------------------------------------------------------


def refuse(route: str, status: int = 409, detail: str = "refused by the test") -> Callable:
    def apply(fake: FakeGateway) -> None:
        fake.refuse[route] = (status, detail, "field_x")

    return apply


def lying_verification(fake: FakeGateway) -> None:
    # The verification answers for the file as received, whatever the receiver sends.
    original = fake.verify

    def verify(request: httpx.Request, user: str) -> httpx.Response:
        request = httpx.Request(
            request.method, request.url, content=fake.issued_pdf, headers=request.headers
        )
        return original(request, user)

    fake.verify = verify  # type: ignore[method-assign]


FAILURES: list[tuple[str, Callable[[FakeGateway], None], str, str]] = [
    (
        "wrong password",
        refuse("login", 401, "wrong user name or password"),
        "a",
        "POST /v1/auth/login as vanthu.ubnd → HTTP 401: wrong user name or password",
    ),
    ("no draft", refuse("create_document", 422), "a", "POST /v1/documents as chuyenvien.ubnd"),
    (
        "no signing key",
        refuse("sign_person", 409, "no signing key is bound"),
        "b",
        "→ HTTP 409: no signing key is bound (field field_x)",
    ),
    ("no number", refuse("number"), "c", "/number as vanthu.ubnd → HTTP 409"),
    (
        "seal missing",
        lambda fake: setattr(fake, "sealed_pdf", draft_pdf("cong_van", "x")),
        "c",
        "the sealed PDF verifies",
    ),
    ("send refused", refuse("send", 503, "distribution unavailable"), "d", "HTTP 503"),
    (
        "no arrival",
        lambda fake: setattr(fake, "arrivals", False),
        "e",
        "chờ 01 từ mọi cơ quan nhận: không xong sau",
    ),
    ("accept refused", refuse("inbox_action", 403), "f", "as vanthu.vp → HTTP 403"),
    (
        "tampering unnoticed",
        lying_verification,
        "g",
        "the altered copy verifies TOTAL-PASSED instead of TOTAL-FAILED",
    ),
    ("recall refused", refuse("recall"), "h", "/recall as vanthu.ubnd → HTTP 409"),
]


@pytest.mark.parametrize(
    ("breakage", "letter", "reason"),
    [pytest.param(b, letter, r, id=name) for name, b, letter, r in FAILURES],
)
def test_a_step_that_does_not_happen_is_named(
    fake: FakeGateway, breakage: Callable[[FakeGateway], None], letter: str, reason: str
) -> None:
    breakage(fake)
    report = run_scenario(fake, timeout_s=0.2)
    assert not report.succeeded
    assert isinstance(report.failure, StepFailed)
    assert report.failure.step == letter
    assert reason in report.failure.reason
    assert str(report.failure).startswith(f"bước {letter} ({STEPS[letter]}): ")
    order = list(STEPS)
    assert [s for s in order if report.steps[s].done] == order[: order.index(letter)]
    text = render(report)
    assert f"  [{letter}] ✘ {STEPS[letter]}" in text
    assert text.splitlines()[-1].startswith(f"{FAILURE_PREFIX} {letter} ({STEPS[letter]}): ")
    assert reason in text.splitlines()[-1]


def test_statuses_already_there_need_no_wait_even_with_no_time_to_wait(
    fake: FakeGateway,
) -> None:
    fake.lag = False  # every status is in the sender's view at its first look
    report = run_scenario(fake, receivers=5, timeout_s=0)
    assert report.failure is None and report.succeeded


class FakeClock:
    """``time`` for the scenario's polling: sleeping moves the clock, nothing really waits."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_status_arriving_during_the_last_pause_is_seen(
    fake: FakeGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each status shows at the sender's second look; the one pause (poll_s = timeout_s) uses
    # up all the time there is: the look after it must still count.
    monkeypatch.setattr(scenario_module, "time", FakeClock())
    report = run_scenario(fake, receivers=5, timeout_s=0.01)
    assert report.failure is None and report.succeeded


def test_a_status_that_never_comes_is_named_with_the_receivers_missing_it(
    fake: FakeGateway,
) -> None:
    fake.arrivals = False
    report = run_scenario(fake, receivers=5, timeout_s=0)
    assert report.failure is not None and report.failure.step == "e"
    missing = report.failure.reason.split("chưa báo 01: ")[1]
    assert missing.split(", ") == report.documents[0].receivers


def test_the_sender_view_is_kept_when_a_later_step_fails(fake: FakeGateway) -> None:
    refuse("inbox_action")(fake)
    report = run_scenario(fake)
    assert report.failure is not None and report.failure.step == "f"
    statuses = {d["status_code"] for d in report.documents[0].tracking["deliveries"]}
    assert statuses == {"01"}
    assert "Tổng hợp 8 cơ quan nhận: 8 × 01 Đã đến" in render(report)


def test_an_expired_token_means_logging_in_again(fake: FakeGateway) -> None:
    gateway = Gateway(BASE_URL, PASSWORD)
    gateway.http = httpx.Client(base_url=BASE_URL, transport=fake.transport())
    clerk = gateway.as_user("vanthu.ubnd")
    assert clerk.json("GET", f"/v1/agencies/{ISSUER_CODE}")["code"] == ISSUER_CODE
    first_token = clerk.token
    fake.tokens.clear()  # every access token ran out
    assert clerk.json("GET", f"/v1/agencies/{ISSUER_CODE}")["code"] == ISSUER_CODE
    assert clerk.token != first_token and fake.tokens == {clerk.token: "vanthu.ubnd"}
    gateway.close()


# -- the command: exit status -------------------------------------------------------------


@pytest.fixture()
def through(monkeypatch: pytest.MonkeyPatch) -> Callable[[httpx.MockTransport], None]:
    """Make the CLI's gateway client talk to ``transport`` instead of the network."""
    real_client = httpx.Client

    def use(transport: httpx.MockTransport) -> None:
        monkeypatch.setattr(
            httpx, "Client", lambda **kwargs: real_client(transport=transport, **kwargs)
        )

    return use


def test_cli_exit_0_when_every_step_happened(
    fake: FakeGateway, through: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    through(fake.transport())
    code = cli.main(["--gateway", BASE_URL, "--password", PASSWORD, "--receivers", "5", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, out
    assert out.rstrip().splitlines()[-1] == SUCCESS_LINE
    assert f"qua API của cổng {BASE_URL}" in out and err == ""


def test_cli_exit_1_naming_the_step_that_did_not_happen(
    fake: FakeGateway, through: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    refuse("sign_person", 409, "no signing key is bound to your account")(fake)
    through(fake.transport())
    code = cli.main(["--gateway", BASE_URL, "--password", PASSWORD, "--receivers", "5"])
    out, err = capsys.readouterr()
    assert code == 1
    last = out.rstrip().splitlines()[-1]
    assert last.startswith(f"{FAILURE_PREFIX} b ({STEPS['b']}): POST /v1/documents/")
    assert "no signing key is bound to your account" in last
    assert "[a] " in err and "[b] " in err  # progress lines on stderr without --quiet
    assert not any("/send" in path for _, path, _ in fake.calls)


def test_cli_exit_1_on_a_wrong_password(
    fake: FakeGateway, through: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    through(fake.transport())
    code = cli.main(["--gateway", BASE_URL, "--password", "sai", "--quiet"])
    assert code == 1
    assert capsys.readouterr().out.rstrip().splitlines()[-1].startswith(f"{FAILURE_PREFIX} a ")


def test_cli_exit_2_when_the_gateway_does_not_answer(
    through: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    through(httpx.MockTransport(unreachable))
    code = cli.main(["--gateway", BASE_URL, "--quiet"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert f"--gateway {BASE_URL}: no answer on /healthz" in err


def test_cli_exit_2_when_healthz_is_not_ok(
    through: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    through(httpx.MockTransport(lambda request: httpx.Response(503)))
    assert cli.main(["--gateway", BASE_URL]) == 2
    assert capsys.readouterr().out == ""


def test_cli_refuses_fewer_receivers_than_the_agencies_that_act(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--receivers", "3"])
    assert exit_info.value.code == 2
    assert "at least 4" in capsys.readouterr().err
