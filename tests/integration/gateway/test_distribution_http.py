"""Sending, the inbox and recall through the gateway, over the real distribution service."""

from __future__ import annotations

import time

import httpx

from services.distribution.adapters.sample_packages import make_package
from tests.integration.gateway.conftest import World, auth


def send(http: httpx.Client, token: str, package: bytes, *receivers: str) -> httpx.Response:
    return http.post(
        "/v1/dispatches",
        params={"receiver": list(receivers)},
        content=package,
        headers={**auth(token), "content-type": "application/octet-stream"},
    )


def wait_for_entry(http: httpx.Client, token: str, dispatch_id: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        entries = http.get("/v1/inbox", headers=auth(token)).json()["entries"]
        found = [e for e in entries if e["dispatch_id"] == dispatch_id]
        if found and found[0]["state"] != "queued":
            return found[0]
        time.sleep(0.3)
    raise AssertionError(f"dispatch {dispatch_id} never reached the inbox")


def test_clerk_sends_receiver_accepts_and_sender_tracks(http, world: World, tokens) -> None:
    package = make_package(world.agency_a, [world.agency_b], subject="Về việc thử cổng API")
    sent = send(http, tokens["a.clerk"], package, world.agency_b)
    assert sent.status_code == 201, sent.text
    dispatch_id = sent.json()["dispatch_id"]
    entry = wait_for_entry(http, tokens["b.clerk"], dispatch_id)
    assert entry["sender_code"] == world.agency_a and entry["state"] == "arrived"
    assert "package" not in entry
    download = http.get(entry["package_url"], headers=auth(tokens["b.clerk"]))
    assert download.status_code == 200 and download.content == package
    accepted = http.post(
        f"/v1/inbox/{entry['delivery_id']}/accept", json={}, headers=auth(tokens["b.clerk"])
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "accepted" and accepted.json()["arrival_number"] >= 1
    tracking = http.get(f"/v1/dispatches/{dispatch_id}", headers=auth(tokens["a.clerk"]))
    assert tracking.status_code == 200
    assert tracking.json()["deliveries"][0]["receiver_code"] == world.agency_b


def test_sending_in_another_agencys_name_is_forbidden(http, world: World, tokens) -> None:
    package = make_package(world.agency_b, [world.agency_a])
    response = send(http, tokens["a.clerk"], package, world.agency_a)
    assert response.status_code == 403 and response.json()["field"] == "body"


def test_only_clerks_send_and_garbage_is_refused(http, world: World, tokens) -> None:
    package = make_package(world.agency_a, [world.agency_b])
    assert send(http, tokens["a.officer"], package, world.agency_b).status_code == 403
    garbage = send(http, tokens["a.clerk"], b"<edXML><not-closed>", world.agency_b)
    assert garbage.status_code == 422 and garbage.json()["field"] == "body"
    nobody = http.post(
        "/v1/dispatches",
        content=package,
        headers={**auth(tokens["a.clerk"]), "content-type": "application/octet-stream"},
    )
    assert nobody.status_code == 422 and nobody.json()["field"] == "receiver"


def test_return_needs_a_reason_and_recall_reaches_the_receiver(http, world: World, tokens):
    package = make_package(world.agency_a, [world.agency_b])
    dispatch_id = send(http, tokens["a.clerk"], package, world.agency_b).json()["dispatch_id"]
    entry = wait_for_entry(http, tokens["b.clerk"], dispatch_id)
    no_reason = http.post(
        f"/v1/inbox/{entry['delivery_id']}/return",
        json={"reason": ""},
        headers=auth(tokens["b.clerk"]),
    )
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    recall = http.post(
        f"/v1/dispatches/{dispatch_id}/recall",
        json={"reason": "Ban hành nhầm"},
        headers=auth(tokens["a.clerk"]),
    )
    assert recall.status_code == 200, recall.text
    assert recall.json()["notified"] == 1
