"""Every route, tried by every role of agency A against agency B's data: 403 or 404, never data.

The route list comes from the live OpenAPI document, so a new route without an entry here (or
in SHARED with its reason) fails the test. A positive control replays the same requests as the
province admin, who must get through — so the refusals are not artefacts of broken requests.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from services.distribution.adapters.sample_packages import make_package
from services.distribution.edxml.model import Attachment
from tests.integration.gateway.conftest import World, auth
from tests.integration.gateway.documents import draft_form, incoming, sample_pdf, upload_draft

# Routes with no agency-owned data, and why.
SHARED: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "liveness, no data",
    ("POST", "/v1/auth/login"): "before authentication",
    ("POST", "/v1/auth/refresh"): "before authentication",
    ("POST", "/v1/auth/logout"): "ends the caller's own sessions",
    ("GET", "/v1/me"): "the caller's own token",
    ("GET", "/v1/agencies"): "the directory is shared reference data (read-only)",
    ("GET", "/v1/agencies/{code}"): "the directory is shared reference data (read-only)",
    ("GET", "/v1/agencies/{code}/children"): "the directory is shared reference data",
    ("GET", "/v1/events"): "filtered to the caller's agency (test_live_events)",
    ("POST", "/v1/verification/pdf"): "reports on the uploaded file only; nothing stored",
}


@dataclass(frozen=True)
class Attempt:
    method: str
    route: str  # as in the OpenAPI document
    url: str
    params: dict[str, Any] | None = None
    json: dict[str, Any] | None = None
    content: bytes | None = None  # sent as application/octet-stream
    form: dict[str, str] | None = None  # multipart/form-data with ``files``
    files: dict[str, tuple[str, bytes, str]] | None = None

    def send(self, http, headers: dict[str, str]):  # type: ignore[no-untyped-def]
        if self.content is not None:
            headers = {**headers, "content-type": "application/octet-stream"}
        return http.request(
            self.method,
            self.url,
            params=self.params,
            json=self.json,
            content=self.content,
            data=self.form,
            files=self.files,
            headers=headers,
        )


# Refusals the positive control may meet for reasons of state, not of permission.
STATE_DEPENDENT = {
    "/v1/inbox/{delivery_id}/return",
    "/v1/inbox/{delivery_id}/recall-answer",
    # The province admin has no personal key, agency B no organisation key in the dev PKI,
    # and an unsealed document is not sent: refusals of state, after the scope check passed.
    "/v1/documents/{document_id}/signatures/person",
    "/v1/documents/{document_id}/signatures/organisation",
    "/v1/documents/{document_id}/send",
}


def _dispatch(http, token: str, package: bytes, receiver: str) -> str:  # type: ignore[no-untyped-def]
    response = http.post(
        "/v1/dispatches",
        params={"receiver": receiver},
        content=package,
        headers={**auth(token), "content-type": "application/octet-stream"},
    )
    assert response.status_code == 201, response.text
    return response.json()["dispatch_id"]


def _delivery(http, token: str, dispatch_id: str) -> str:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        entries = http.get("/v1/inbox", headers=auth(token)).json()["entries"]
        for entry in entries:
            if entry["dispatch_id"] == dispatch_id and entry["state"] == "arrived":
                return entry["delivery_id"]
        time.sleep(0.3)
    raise AssertionError(f"dispatch {dispatch_id} never arrived")


@pytest.fixture(scope="module")
def targets(http, world: World, tokens, registry_stub) -> dict[str, Any]:
    """Agency B's document, user, inbox entry and dispatch, and secrets that must never appear
    in A's answers."""
    secret_subject = f"Về việc mật của cơ quan B {uuid.uuid4().hex[:6]}"
    to_b = _dispatch(
        http,
        tokens["p.admin"],
        make_package(
            world.province,
            [world.agency_b],
            subject=secret_subject,
            attachments=(
                Attachment(
                    content_id="vanban",
                    name="Văn bản.pdf",
                    content_type="application/pdf",
                    data=sample_pdf(),
                ),
            ),
        ),
        world.agency_b,
    )
    by_b = _dispatch(
        http,
        tokens["b.clerk"],
        make_package(world.agency_b, [world.province], subject=secret_subject),
        world.province,
    )
    document = incoming(registry_stub, world.agency_b, world.agency_a)
    draft = upload_draft(http, tokens["b.clerk"], secret_subject)
    users = http.get(
        "/v1/users", params={"agency_code": world.agency_b}, headers=auth(tokens["p.admin"])
    ).json()
    b_user = next(u for u in users if u["username"] == world.users["b.officer"])
    return {
        "doc": document.id,
        "draft": draft,
        "subject": document.subject,
        "user": b_user["id"],
        "username": b_user["username"],
        "delivery": _delivery(http, tokens["b.clerk"], to_b),
        "dispatch": by_b,
        "dispatch_subject": secret_subject,
        "package_of_b": make_package(world.agency_b, [world.province]),
    }


def attempts(world: World, t: dict[str, Any]) -> list[Attempt]:
    """In an order the positive control can replay: accepted before assigned."""
    b = world.agency_b
    doc, user, d, dispatch = t["doc"], t["user"], t["delivery"], t["dispatch"]
    draft = t["draft"]
    period = {"date_from": "2026-11-01", "date_to": "2026-11-30"}
    return [
        Attempt("GET", "/v1/documents", "/v1/documents", {"agency_code": b}),
        Attempt("GET", "/v1/documents/{document_id}", f"/v1/documents/{doc}"),
        Attempt("GET", "/v1/documents/{document_id}/history", f"/v1/documents/{doc}/history"),
        Attempt(
            "POST",
            "/v1/documents/{document_id}/transitions",
            f"/v1/documents/{doc}/transitions",
            json={"target": "accepted"},
        ),
        Attempt(
            "POST",
            "/v1/documents/{document_id}/assignments",
            f"/v1/documents/{doc}/assignments",
            json={"assignees": [{"assignee_id": "phong-kh", "role": "lead"}]},
        ),
        Attempt(
            "POST",
            "/v1/documents",
            "/v1/documents",
            form=draft_form(f"Dự thảo của cơ quan B {uuid.uuid4().hex[:6]}", b),
            files={"file": ("du-thao.pdf", sample_pdf(), "application/pdf")},
        ),
        Attempt("GET", "/v1/documents/{document_id}/files", f"/v1/documents/{draft}/files"),
        Attempt(
            "GET",
            "/v1/documents/{document_id}/files/{kind}",
            f"/v1/documents/{draft}/files/original",
        ),
        Attempt(
            "POST",
            "/v1/documents/{document_id}/signatures/person",
            f"/v1/documents/{draft}/signatures/person",
        ),
        Attempt(
            "POST",
            "/v1/documents/{document_id}/number",
            f"/v1/documents/{draft}/number",
            json={"place": "Thử Cổng"},
        ),
        Attempt(
            "POST",
            "/v1/documents/{document_id}/signatures/organisation",
            f"/v1/documents/{draft}/signatures/organisation",
        ),
        Attempt(
            "POST",
            "/v1/documents/{document_id}/send",
            f"/v1/documents/{draft}/send",
            json={"receivers": [world.province]},
        ),
        Attempt("GET", "/v1/statistics", "/v1/statistics", {**period, "agency_code": b}),
        Attempt(
            "GET",
            "/v1/register-books/{kind}/{month}",
            "/v1/register-books/incoming/2026-11",
            {"agency_code": b, "format": "csv"},
        ),
        Attempt("GET", "/v1/users", "/v1/users", {"agency_code": b}),
        Attempt(
            "POST",
            "/v1/users",
            "/v1/users",
            json={
                "username": "intruder.x1",
                "password": "Một mật khẩu dài",
                "agency_code": b,
                "roles": ["clerk"],
            },
        ),
        Attempt("GET", "/v1/users/{user_id}", f"/v1/users/{user}"),
        Attempt("PATCH", "/v1/users/{user_id}", f"/v1/users/{user}", json={"roles": ["clerk"]}),
        Attempt("GET", "/v1/audit", "/v1/audit", {"agency_code": b}),
        Attempt("GET", "/v1/inbox", "/v1/inbox", {"agency_code": b}),
        Attempt("GET", "/v1/inbox/{delivery_id}", f"/v1/inbox/{d}"),
        Attempt("GET", "/v1/inbox/{delivery_id}/package", f"/v1/inbox/{d}/package"),
        Attempt("GET", "/v1/inbox/{delivery_id}/file", f"/v1/inbox/{d}/file"),
        Attempt("POST", "/v1/inbox/{delivery_id}/accept", f"/v1/inbox/{d}/accept", json={}),
        Attempt(
            "POST",
            "/v1/inbox/{delivery_id}/assign",
            f"/v1/inbox/{d}/assign",
            json={"assignee": "phong-kh"},
        ),
        Attempt(
            "POST",
            "/v1/inbox/{delivery_id}/status",
            f"/v1/inbox/{d}/status",
            json={"status_code": "05"},
        ),
        Attempt(
            "POST",
            "/v1/inbox/{delivery_id}/return",
            f"/v1/inbox/{d}/return",
            json={"reason": "Không đúng thẩm quyền"},
        ),
        Attempt(
            "POST",
            "/v1/inbox/{delivery_id}/recall-answer",
            f"/v1/inbox/{d}/recall-answer",
            json={"agreed": True},
        ),
        Attempt(
            "POST",
            "/v1/dispatches",
            "/v1/dispatches",
            {"receiver": world.province},
            content=t["package_of_b"],
        ),
        Attempt("GET", "/v1/dispatches/{dispatch_id}", f"/v1/dispatches/{dispatch}"),
        Attempt(
            "POST",
            "/v1/dispatches/{dispatch_id}/recall",
            f"/v1/dispatches/{dispatch}/recall",
            json={"reason": "Ban hành nhầm"},
        ),
    ]


def test_every_route_is_in_the_matrix_or_declared_shared(http, world, targets) -> None:
    document = http.get("/openapi.json").json()
    routes = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    covered = {(a.method, a.route) for a in attempts(world, targets)} | set(SHARED)
    assert routes - covered == set(), "new routes need an authorisation-matrix entry"
    assert covered - routes == set(), "the matrix names routes that no longer exist"


@pytest.mark.parametrize("role", ["clerk", "signer", "officer", "agency_admin"])
def test_agency_a_never_reaches_agency_b(http, world, tokens, targets, role: str) -> None:
    headers = auth(tokens[f"a.{role}"])
    leaks = []
    for attempt in attempts(world, targets):
        response = attempt.send(http, headers)
        text = response.text
        if response.status_code not in (403, 404):
            leaks.append(f"{attempt.method} {attempt.route}: {response.status_code} {text[:200]}")
        for secret in (targets["subject"], targets["username"], targets["dispatch_subject"]):
            if secret in text:
                leaks.append(f"{attempt.method} {attempt.route} revealed {secret!r}")
        assert response.headers["content-type"] in ("application/problem+json",)
    assert leaks == []


def test_province_admin_reaches_every_agency(http, world, tokens, targets) -> None:
    """Positive control: the same requests succeed for the province admin."""
    headers = auth(tokens["p.admin"])
    for attempt in attempts(world, targets):
        if attempt.method == "POST" and attempt.route == "/v1/users":
            attempt = Attempt(
                "POST",
                "/v1/users",
                "/v1/users",
                json={**(attempt.json or {}), "username": f"ok.{targets['doc'][:8]}"},
            )
        response = attempt.send(http, headers)
        if attempt.route in STATE_DEPENDENT and response.status_code == 409:
            continue
        assert response.status_code < 300, f"{attempt.method} {attempt.route}: {response.text}"
