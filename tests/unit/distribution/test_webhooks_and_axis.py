"""Signed webhooks (HMAC-SHA256, retries) and the local simulator of the national axis."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from services.distribution.adapters.national_axis import AxisError, LocalAxisSimulator
from services.distribution.adapters.sample_packages import make_package
from services.distribution.adapters.webhooks import (
    BadSignature,
    WebhookFailed,
    WebhookSender,
    check_signature,
    signature,
)
from services.distribution.edxml.build import build
from services.distribution.edxml.parse import parse

SECRET = "khóa-bí-mật"
BODY = '{"delivery_id": "d1", "subject": "Về việc"}'.encode()


def test_signature_checks_body_secret_and_age() -> None:
    header = signature(SECRET, BODY, 1_800_000_000)
    check_signature(SECRET, BODY, header, now=1_800_000_010)
    with pytest.raises(BadSignature, match="does not match"):
        check_signature(SECRET, BODY + b" ", header, now=1_800_000_010)
    with pytest.raises(BadSignature, match="does not match"):
        check_signature("other", BODY, header, now=1_800_000_010)
    with pytest.raises(BadSignature, match="outside the window"):
        check_signature(SECRET, BODY, header, now=1_800_000_000 + 3600)
    with pytest.raises(BadSignature, match="malformed"):
        check_signature(SECRET, BODY, "v1=abc", now=1_800_000_000)


class _Server(BaseHTTPRequestHandler):
    statuses: ClassVar[list[int]] = []
    bodies: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = _Server.statuses.pop(0) if _Server.statuses else 204
        if status == 204:
            check_signature(SECRET, body, self.headers["X-LienThong-Signature"])
            _Server.bodies.append(body)
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def url() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Server.bodies.clear()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def test_sender_retries_5xx_then_delivers(url: str) -> None:
    _Server.statuses[:] = [503, 500]
    assert WebhookSender(backoff_s=0.01).post(url, SECRET, BODY, "d1") == 204
    assert _Server.bodies == [BODY]


def test_sender_gives_up_after_its_attempts_and_does_not_retry_4xx(url: str) -> None:
    _Server.statuses[:] = [503, 503, 503]
    with pytest.raises(WebhookFailed, match="3 attempts failed, last: HTTP 503"):
        WebhookSender(attempts=3, backoff_s=0.01).post(url, SECRET, BODY, "d1")
    _Server.statuses[:] = [400]
    with pytest.raises(WebhookFailed, match="HTTP 400"):
        WebhookSender(backoff_s=0.01).post(url, SECRET, BODY, "d1")
    assert _Server.statuses == []


STATUS_03 = Path("/work/shared/conformance/edxml/status_acceptance_03.edxml").read_bytes()


def test_axis_simulator_send_list_get_status_and_agencies() -> None:
    axis = LocalAxisSimulator({"000.00.00.H41": "UBND Tỉnh Nghệ An", "000.00.00.G22": "VPCP"})
    package = make_package("000.00.00.G22", ["000.00.00.H41"])
    (doc_id,) = axis.send(package)
    assert axis.send(package) == [doc_id], "the same package twice is one document"
    (received,) = axis.list_received("000.00.00.H41")
    assert received.id == doc_id and axis.get(doc_id).package == package
    assert [a.code for a in axis.agencies()] == ["000.00.00.G22", "000.00.00.H41"]
    with pytest.raises(AxisError, match="ResponseFor"):
        axis.update_status(STATUS_03)  # answers another document
    answer = parse(STATUS_03).package
    header = parse(package).package.header  # type: ignore[union-attr]
    answer = dataclasses.replace(
        answer,
        response_for=dataclasses.replace(answer.response_for, document_id=header.document_id),
        signature=None,
    )
    axis.update_status(build(answer, include_signature=False))
    assert axis.get(doc_id).status_code == "03"
    with pytest.raises(AxisError, match="not on the axis"):
        axis.send(make_package("000.00.00.G22", ["000.00.00.H99"]))
    with pytest.raises(AxisError, match="document_id"):
        axis.get("nope")
