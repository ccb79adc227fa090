"""Server-Sent Events through real HTTP, fed from real Kafka, filtered to the user's agency."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import httpx
from lienthong.identifiers.v1 import identifiers_pb2 as ipb

from services.chassis.events import Event
from services.chassis.kafka import make_producer
from tests.integration.gateway.conftest import AGENCY_TOPIC, World, auth


class Stream:
    """Reads one SSE stream in a thread, collecting the parsed messages."""

    def __init__(self, url: str, token: str) -> None:
        self.messages: list[dict[str, str]] = []
        self.comments: list[str] = []
        self.status: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(url, token), daemon=True)
        self._thread.start()

    def _read(self, url: str, token: str) -> None:
        with (
            httpx.Client(timeout=httpx.Timeout(30, read=60)) as client,
            client.stream("GET", url + "/v1/events", headers=auth(token)) as response,
        ):
            self.status = response.status_code
            self.content_type = response.headers.get("content-type", "")
            current: dict[str, str] = {}
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith(":"):
                    self.comments.append(line)
                elif line == "":
                    if current:
                        self.messages.append(current)
                    current = {}
                else:
                    name, _, value = line.partition(": ")
                    current[name] = value

    def stop(self) -> None:
        self._stop.set()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def agency_changed(code: str, parent: str, name: str) -> Event:
    agency = ipb.Agency(code=code, name=name, parent_code=parent, kind="department", version=2)
    return Event.of(
        AGENCY_TOPIC,
        "vn.lienthong.identifiers.agency.updated",
        "identifiers",
        code,
        ipb.AgencyChanged(
            change=ipb.AgencyChanged.CHANGE_UPDATED,
            agency=agency,
            previous=ipb.Agency(code=code, name=name + " (cũ)", parent_code=parent),
            changed_fields=["name"],
        ),
    )


def publish(*events: Event) -> None:
    producer = make_producer()
    for event in events:
        producer.send(
            event.topic, key=event.subject.encode(), value=event.data, headers=event.headers()
        )
    producer.flush(timeout=20)
    producer.close()


def test_each_user_gets_only_their_agencys_events(gateway_url, http, world: World, tokens):
    wait_until(lambda: http.get("/healthz").json()["live_feed"], 60, "the live feed to join")
    stream_a = Stream(gateway_url, tokens["a.clerk"])
    stream_b = Stream(gateway_url, tokens["b.clerk"])
    stream_p = Stream(gateway_url, tokens["p.admin"])
    try:
        wait_until(lambda: http.get("/healthz").json()["live_subscribers"] >= 3, 20, "streams")
        assert stream_a.status == 200 and stream_a.content_type.startswith("text/event-stream")
        for_b = agency_changed(world.agency_b, world.province, "Sở Xây dựng thử (đổi tên)")
        for_a = agency_changed(world.agency_a, world.province, "Sở Tài chính thử (đổi tên)")
        publish(for_b, for_a)
        ids = lambda stream: {m.get("id") for m in stream.messages}  # noqa: E731
        wait_until(lambda: for_a.id in ids(stream_a), 30, "agency A's event on A's stream")
        wait_until(lambda: for_b.id in ids(stream_b), 30, "agency B's event on B's stream")
        wait_until(lambda: {for_a.id, for_b.id} <= ids(stream_p), 30, "both on the admin's")
        assert for_b.id not in ids(stream_a), "A's stream carried B's event"
        assert for_a.id not in ids(stream_b), "B's stream carried A's event"
        message = next(m for m in stream_a.messages if m.get("id") == for_a.id)
        assert message["event"] == "vn.lienthong.identifiers.agency.updated"
        data = json.loads(message["data"])
        assert data["data"]["agency"]["name"] == "Sở Tài chính thử (đổi tên)"
        assert data["topic"] == AGENCY_TOPIC
        # Heartbeats keep proxies from closing an idle stream (1 s in these settings).
        wait_until(lambda: any("keep-alive" in c for c in stream_a.comments), 10, "heartbeat")
    finally:
        for stream in (stream_a, stream_b, stream_p):
            stream.stop()


def test_stream_needs_a_token(http) -> None:
    response = http.get("/v1/events")
    assert response.status_code == 401
