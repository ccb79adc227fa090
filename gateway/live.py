"""Live updates: Kafka events → per-user Server-Sent Events, filtered by agency.

Every gateway process runs one broadcast consumer (its own consumer group, reading from the
latest offset, never committing) so each process sees every event and pushes it to the streams
of its own connected users. Which topics are followed, how each payload is decoded and which
agencies an event concerns is the table :data:`LIVE_TOPICS` — following another service's
topic is one entry there.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from lienthong.distribution.v1 import distribution_pb2
from lienthong.identifiers.v1 import identifiers_pb2
from lienthong.registry.v1 import registry_pb2

from gateway.accounts.domain import Principal
from services.chassis.events import Event, MalformedEvent

log = logging.getLogger("lienthong.gateway.live")

TOPIC_RECHECK_S = 30.0
QUEUE_SIZE = 256  # per connection; a client this far behind is disconnected, not waited for


@dataclass(frozen=True, slots=True)
class LiveTopic:
    """How to read one topic: payload class per ``dataschema`` and the agencies concerned."""

    payloads: dict[str, type[Message]]
    agencies: Callable[[Message], set[str]]


def _agency_changed(msg: Any) -> set[str]:
    # An agency's change concerns itself, its parent (the directory under it changed) and the
    # agency it merged into.
    codes = {msg.agency.code, msg.agency.parent_code, msg.previous.parent_code}
    codes.add(msg.agency.merged_into)
    return {c for c in codes if c}


def _document_agency(msg: Any) -> set[str]:
    if hasattr(msg, "document"):
        return {msg.document.agency_code}
    return {msg.agency_code}


def _delivery_parties(msg: Any) -> set[str]:
    # A dispatched delivery or a recall notice concerns the receiver (a new arrival, a recall
    # to answer); a reported status concerns the sender (their document's progress) and the
    # receiver's own other users.
    return {c for c in (getattr(msg, "sender_code", ""), msg.receiver_code) if c}


def _by_name(*classes: type[Message]) -> dict[str, type[Message]]:
    return {cls.DESCRIPTOR.full_name: cls for cls in classes}


LIVE_TOPICS: dict[str, LiveTopic] = {
    "lienthong.identifiers.agency.v1": LiveTopic(
        payloads=_by_name(identifiers_pb2.AgencyChanged), agencies=_agency_changed
    ),
    # New arrivals (an incoming registration), status changes and recalls of documents.
    "lienthong.registry.document.v1": LiveTopic(
        payloads=_by_name(
            registry_pb2.DocumentRegistered,
            registry_pb2.NumberAssigned,
            registry_pb2.StatusChanged,
            registry_pb2.DocumentAssigned,
        ),
        agencies=_document_agency,
    ),
    # Arrivals and recalls on the delivery lanes; receivers' statuses back to the sender.
    **{
        f"lienthong.distribution.deliveries.{lane}.v1": LiveTopic(
            payloads=_by_name(distribution_pb2.DeliveryDispatched, distribution_pb2.DeliveryNotice),
            agencies=lambda msg: {msg.receiver_code},
        )
        for lane in ("express", "normal")
    },
    "lienthong.distribution.statuses.v1": LiveTopic(
        payloads=_by_name(distribution_pb2.StatusReported), agencies=_delivery_parties
    ),
}


@dataclass(frozen=True, slots=True)
class LiveEvent:
    id: str
    type: str
    topic: str
    agencies: frozenset[str]
    data: dict[str, Any]

    def sse(self) -> bytes:
        """One SSE message (WHATWG HTML §9.2): id, event name, one JSON data line."""
        payload = json.dumps(
            {"id": self.id, "type": self.type, "topic": self.topic, "data": self.data},
            ensure_ascii=False,
        )
        return f"id: {self.id}\nevent: {self.type}\ndata: {payload}\n\n".encode()


def decode(event: Event) -> LiveEvent | None:
    """The live event for a consumed record, or None if the topic/payload is not followed."""
    spec = LIVE_TOPICS.get(event.topic)
    if spec is None:
        return None
    message_class = spec.payloads.get(event.dataschema)
    if message_class is None:
        return None
    message = event.parse(message_class)
    return LiveEvent(
        id=event.id,
        type=event.type,
        topic=event.topic,
        agencies=frozenset(spec.agencies(message)),
        data=MessageToDict(message, preserving_proto_field_name=True),
    )


@dataclass(eq=False)
class Subscription:
    principal: Principal
    queue: asyncio.Queue[LiveEvent | None]
    loop: asyncio.AbstractEventLoop
    dropped: bool = field(default=False)

    def wants(self, event: LiveEvent) -> bool:
        return self.principal.is_province_admin or self.principal.agency_code in event.agencies


class LiveHub:
    """Fan-out of live events to the subscriptions of this process (thread-safe)."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self._lock = threading.Lock()

    def subscribe(self, principal: Principal) -> Subscription:
        subscription = Subscription(
            principal, asyncio.Queue(QUEUE_SIZE), asyncio.get_running_loop()
        )
        with self._lock:
            self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions.discard(subscription)

    def publish(self, event: LiveEvent) -> int:
        """Hand ``event`` to every subscription it concerns; returns how many."""
        with self._lock:
            targets = [s for s in self._subscriptions if s.wants(event)]
        for subscription in targets:
            subscription.loop.call_soon_threadsafe(_offer, subscription, event)
        return len(targets)

    @property
    def size(self) -> int:
        return len(self._subscriptions)


def _offer(subscription: Subscription, event: LiveEvent) -> None:
    if subscription.dropped:
        return
    try:
        subscription.queue.put_nowait(event)
    except asyncio.QueueFull:
        # The stream ends; the browser's EventSource reconnects and the user reloads the list.
        subscription.dropped = True
        while not subscription.queue.empty():
            subscription.queue.get_nowait()
        subscription.queue.put_nowait(None)


class KafkaFeed:
    """The broadcast consumer thread feeding a :class:`LiveHub`."""

    def __init__(self, hub: LiveHub, topics: list[str] | None = None) -> None:
        self.hub = hub
        self.topics = topics or list(LIVE_TOPICS)
        # Its own group per process: every gateway process must see every event.
        self.group = f"gateway-live-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="live-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        from services.chassis.kafka import make_consumer

        while not self._stop.is_set():
            try:
                consumer = make_consumer(
                    group_id=self.group, auto_offset_reset="latest", enable_auto_commit=False
                )
            except Exception:
                log.exception("live feed cannot reach Kafka; retrying in 5 s")
                self._stop.wait(5)
                continue
            try:
                self._consume(consumer)
            except Exception:
                log.exception("live feed failed; reconnecting")
                self._stop.wait(1)
            finally:
                consumer.close()

    def _consume(self, consumer: Any) -> None:
        subscribed: set[str] = set()
        next_check = 0.0
        while not self._stop.is_set():
            # Subscribe only to topics that exist (a service not deployed yet has none; asking
            # for it makes the client log an error twice a second), and look again now and then.
            if time.monotonic() >= next_check:
                existing = set(self.topics) & set(consumer.topics())
                if existing != subscribed:
                    subscribed = existing
                    if subscribed:
                        consumer.subscribe(sorted(subscribed))
                    log.info("live feed follows", extra={"topics": sorted(subscribed)})
                next_check = time.monotonic() + TOPIC_RECHECK_S
            if not subscribed:
                self._stop.wait(1)
                continue
            batches = consumer.poll(timeout_ms=500)
            if consumer.assignment():
                self.ready.set()
            for records in batches.values():
                for record in records:
                    try:
                        event = Event.from_record(record.topic, record.headers, record.value)
                        live = decode(event)
                    except (MalformedEvent, ValueError):
                        log.warning(
                            "live feed skips an undecodable record",
                            extra={"topic": record.topic, "offset": record.offset},
                        )
                        continue
                    if live is not None:
                        self.hub.publish(live)
