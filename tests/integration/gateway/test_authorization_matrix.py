"""Every route, tried by every role of agency A against agency B's data: 403 or 404, never data.

The route list comes from the live OpenAPI document, so a new route without an entry here (or
in SHARED with its reason) fails the test. A positive control replays the same requests as the
province admin, who must get through — so the refusals are not artefacts of broken requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.gateway.conftest import World, auth
from tests.integration.gateway.documents import incoming

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


@pytest.fixture(scope="module")
def targets(http, world: World, tokens, registry_stub) -> dict[str, str]:
    """Agency B's document and user, and secrets that must never appear in A's answers."""
    document = incoming(registry_stub, world.agency_b, world.agency_a)
    users = http.get(
        "/v1/users", params={"agency_code": world.agency_b}, headers=auth(tokens["p.admin"])
    ).json()
    b_user = next(u for u in users if u["username"] == world.users["b.officer"])
    return {
        "doc": document.id,
        "subject": document.subject,
        "user": b_user["id"],
        "username": b_user["username"],
    }


def attempts(world: World, t: dict[str, str]) -> list[Attempt]:
    """In an order the positive control can replay: accepted before assigned."""
    b = world.agency_b
    doc, user = t["doc"], t["user"]
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
        response = http.request(
            attempt.method, attempt.url, params=attempt.params, json=attempt.json, headers=headers
        )
        text = response.text
        if response.status_code not in (403, 404):
            leaks.append(f"{attempt.method} {attempt.route}: {response.status_code} {text[:200]}")
        for secret in (targets["subject"], targets["username"]):
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
        response = http.request(
            attempt.method, attempt.url, params=attempt.params, json=attempt.json, headers=headers
        )
        assert response.status_code < 300, f"{attempt.method} {attempt.route}: {response.text}"
