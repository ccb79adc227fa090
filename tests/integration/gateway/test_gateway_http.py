"""The gateway through real HTTP: accounts, tokens, throttling, audit, agencies, documents."""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy as sa

from gateway.accounts.domain import Role
from tests.integration.gateway.conftest import PASSWORD, World, accounts_service, auth
from tests.integration.gateway.documents import incoming


def login(http: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    return http.post("/v1/auth/login", json={"username": username, "password": password})


def test_login_gives_a_token_that_says_who_and_which_agency(http, world: World) -> None:
    response = login(http, world.users["a.clerk"])
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    me = http.get("/v1/me", headers=auth(body["access_token"])).json()
    assert me["agency_code"] == world.agency_a and me["roles"] == ["clerk"]


def test_wrong_password_and_unknown_user_get_the_same_answer(http, world: World) -> None:
    wrong = login(http, world.users["a.signer"], "not the password!!")
    unknown = login(http, f"nobody{uuid.uuid4().hex[:6]}", "not the password!!")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_logins_are_throttled_after_repeated_failures_and_audited(
    http, world: World, engine: sa.Engine, gateway_clients
) -> None:
    username = f"throttle{uuid.uuid4().hex[:6]}"
    accounts_service(engine, gateway_clients).create_user(
        None,
        username=username,
        password=PASSWORD,
        full_name="",
        agency_code=world.agency_b,
        roles=frozenset({Role.OFFICER}),
    )
    statuses = [login(http, username, "wrong password 123").status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    throttled = login(http, username)  # even the right password waits out the window
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    assert throttled.json()["type"].endswith("/resource-exhausted")
    with engine.connect() as conn:
        actions = (
            conn.execute(
                sa.text("SELECT action FROM gateway.audit WHERE subject = :u ORDER BY seq"),
                {"u": username},
            )
            .scalars()
            .all()
        )
    assert actions[-4:] == ["login.failed"] * 3 + ["login.throttled"]


def test_refresh_rotates_and_a_reused_refresh_token_ends_every_session(http, world: World) -> None:
    first = login(http, world.users["a.officer"]).json()
    second = http.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()["refresh_token"]
    assert rotated != first["refresh_token"]
    replay = http.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    # The replay revoked the whole family, including the token issued by rotation.
    assert http.post("/v1/auth/refresh", json={"refresh_token": rotated}).status_code == 401


def test_logout_revokes_refresh_tokens(http, world: World) -> None:
    session = login(http, world.users["a.signer"]).json()
    assert http.post("/v1/auth/logout", headers=auth(session["access_token"])).status_code == 204
    again = http.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert again.status_code == 401


def test_agency_admin_creates_users_in_own_agency_only_with_registered_code(
    http, world: World, tokens: dict[str, str], engine: sa.Engine
) -> None:
    admin = auth(tokens["a.agency_admin"])
    name = f"cv{uuid.uuid4().hex[:8]}"
    created = http.post(
        "/v1/users",
        headers=admin,
        json={
            "username": name,
            "password": "Một mật khẩu dài",
            "full_name": "Lê Văn Cường",
            "agency_code": world.agency_a,
            "roles": ["officer"],
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["full_name"] == "Lê Văn Cường"
    elsewhere = http.post(
        "/v1/users",
        headers=admin,
        json={
            "username": name + "x",
            "password": "Một mật khẩu dài",
            "agency_code": world.agency_b,
            "roles": ["officer"],
        },
    )
    assert elsewhere.status_code == 403
    escalate = http.post(
        "/v1/users",
        headers=admin,
        json={
            "username": name + "y",
            "password": "Một mật khẩu dài",
            "agency_code": world.agency_a,
            "roles": ["province_admin"],
        },
    )
    assert escalate.status_code == 403
    taken = http.post(
        "/v1/users",
        headers=admin,
        json={
            "username": name,
            "password": "Một mật khẩu dài",
            "agency_code": world.agency_a,
            "roles": ["officer"],
        },
    )
    assert taken.status_code == 409 and taken.json()["field"] == "username"
    # A well-formed code that is not in the directory: the identifiers service says so.
    province_admin = auth(tokens["p.admin"])
    unknown = http.post(
        "/v1/users",
        headers=province_admin,
        json={
            "username": name + "z",
            "password": "Một mật khẩu dài",
            "agency_code": "999.99.99.Q99",
            "roles": ["clerk"],
        },
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "agency_code"


def test_permission_changes_are_audited_and_take_effect_at_next_login(
    http, world: World, tokens: dict[str, str]
) -> None:
    admin = auth(tokens["a.agency_admin"])
    name = f"vt{uuid.uuid4().hex[:8]}"
    user = http.post(
        "/v1/users",
        headers=admin,
        json={
            "username": name,
            "password": "Một mật khẩu dài",
            "agency_code": world.agency_a,
            "roles": ["officer"],
        },
    ).json()
    changed = http.patch(f"/v1/users/{user['id']}", headers=admin, json={"roles": ["clerk"]})
    assert changed.status_code == 200 and changed.json()["roles"] == ["clerk"]
    entries = http.get("/v1/audit", headers=admin).json()
    change = next(
        e for e in entries if e["action"] == "user.permissions_changed" and e["subject"] == name
    )
    assert change["detail"]["roles_before"] == ["officer"]
    assert change["detail"]["roles_after"] == ["clerk"]
    assert change["actor"] == world.users["a.agency_admin"]
    relogin = login(http, name, "Một mật khẩu dài").json()
    assert relogin["user"]["roles"] == ["clerk"]
    disabled = http.patch(f"/v1/users/{user['id']}", headers=admin, json={"active": False})
    assert disabled.status_code == 200
    assert login(http, name, "Một mật khẩu dài").status_code == 401


def test_agency_directory_search_get_children(http, world: World, tokens) -> None:
    headers = auth(tokens["a.clerk"])
    found = http.get("/v1/agencies", params={"q": "so tai chinh thu"}, headers=headers).json()
    assert world.agency_a in [a["code"] for a in found["agencies"]]
    one = http.get(f"/v1/agencies/{world.agency_a}", headers=headers).json()
    assert one["name"] == "Sở Tài chính thử" and one["status"] == "active"
    children = http.get(f"/v1/agencies/{world.province}/children", headers=headers).json()
    assert {world.agency_a, world.agency_b} <= {a["code"] for a in children["agencies"]}
    missing = http.get("/v1/agencies/999.99.99.Q98", headers=headers)
    assert missing.status_code == 404 and missing.json()["field"] == "code"
    assert missing.json()["correlation_id"] == missing.headers["x-correlation-id"]


def test_inbox_listing_accept_and_return_with_reason(
    http, world: World, tokens, registry_stub
) -> None:
    arrival = incoming(registry_stub, world.agency_a, world.agency_b)
    clerk = auth(tokens["a.clerk"])
    page = http.get(
        "/v1/documents", params={"direction": "incoming", "status": "arrived"}, headers=clerk
    ).json()
    assert arrival.id in [d["id"] for d in page["documents"]]
    officer = auth(tokens["a.officer"])
    refused = http.post(
        f"/v1/documents/{arrival.id}/transitions", headers=officer, json={"target": "accepted"}
    )
    assert refused.status_code == 403, "accepting is the clerk's job"
    accepted = http.post(
        f"/v1/documents/{arrival.id}/transitions", headers=clerk, json={"target": "accepted"}
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    other = incoming(registry_stub, world.agency_a, world.agency_b)
    no_reason = http.post(
        f"/v1/documents/{other.id}/transitions", headers=clerk, json={"target": "rejected"}
    )
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "note"
    returned = http.post(
        f"/v1/documents/{other.id}/transitions",
        headers=clerk,
        json={"target": "rejected", "note": "Sai thẩm quyền giải quyết"},
    )
    assert returned.status_code == 200 and returned.json()["status"] == "rejected"
    history = http.get(f"/v1/documents/{other.id}/history", headers=clerk).json()["entries"]
    assert history[-1]["to_status"] == "rejected"
    assert history[-1]["note"] == "Sai thẩm quyền giải quyết"
    assert history[-1]["actor"] == world.users["a.clerk"]


def test_statistics_of_own_agency(http, world: World, tokens, registry_stub) -> None:
    incoming(registry_stub, world.agency_b, world.agency_a)
    body = http.get(
        "/v1/statistics",
        params={"date_from": "2026-11-01", "date_to": "2026-11-30"},
        headers=auth(tokens["b.clerk"]),
    ).json()
    assert [row["agency_code"] for row in body["agencies"]] == [world.agency_b]
    assert int(body["agencies"][0]["received"]) >= 1


def test_verification_service_down_is_503_not_500(http, tokens) -> None:
    response = http.post(
        "/v1/verification/pdf",
        headers={**auth(tokens["a.clerk"]), "content-type": "application/pdf"},
        content=b"%PDF-1.7\n" + b"0" * 4096,
    )
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
