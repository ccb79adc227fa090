"""The consumer thread outlives broker outages and unexpected client errors.

Fakes stand in for kafka-python here (unit level); the real broker is stopped and started under
a live service in tests/e2e/distribution (the fault test).
"""

from __future__ import annotations

import threading
import time
from collections import namedtuple
from typing import Any

from kafka.errors import CommitFailedError, KafkaConnectionError
from kafka.structs import TopicPartition

from services.chassis.consumer import EventConsumer
from services.chassis.events import Event

Record = namedtuple("Record", "topic partition offset key value headers")
PARTITION = TopicPartition("t", 0)


def _record(offset: int) -> Record:
    event = Event(topic="t", type="x", source="/test", subject="s", data=b"")
    return Record("t", 0, offset, b"s", b"", event.headers())


class FlakyConsumer:
    """Fails the way a restarting broker makes kafka-python fail."""

    def __init__(self, script: dict[str, list[Any]]) -> None:
        self.script = script
        self.committed: list[int] = []
        self.seeks: list[int] = []

    def poll(self, timeout_ms: int) -> dict:
        step = self.script["poll"].pop(0) if self.script["poll"] else {}
        if isinstance(step, Exception):
            raise step
        time.sleep(0.01)
        return step

    def assignment(self) -> set:
        return {PARTITION}

    def position(self, partition: Any) -> int:
        return 0

    def commit(self, offsets: dict) -> None:
        step = self.script["commit"].pop(0) if self.script["commit"] else None
        if isinstance(step, Exception):
            raise step
        self.committed.append(offsets[PARTITION].offset)

    def seek(self, partition: Any, offset: int) -> None:
        self.seeks.append(offset)

    def close(self, autocommit: bool = False) -> None:
        pass


def _run(consumer: EventConsumer, until) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not until() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert thread.is_alive(), "the consumer thread must never end by itself"
    stop.set()
    thread.join(timeout=5)
    assert until()


def test_poll_and_commit_failures_are_waited_out() -> None:
    handled: list[str] = []
    fake = FlakyConsumer(
        {
            "poll": [KafkaConnectionError("broker gone"), {PARTITION: [_record(7)]}],
            "commit": [KafkaConnectionError("broker gone"), KafkaConnectionError("still gone")],
        }
    )
    consumer = EventConsumer(
        topic="t",
        group="g",
        handler=lambda e, u: handled.append(e.id),
        database=None,
        consumer_factory=lambda *t, group_id: fake,
        dead_letter_producer=None,
    )
    _run(consumer, lambda: fake.committed == [8])
    assert len(handled) == 1 and consumer.restarts == 0


def test_a_commit_lost_to_a_rebalance_rereads_the_rest_of_the_batch() -> None:
    fake = FlakyConsumer(
        {"poll": [{PARTITION: [_record(1), _record(2)]}], "commit": [CommitFailedError("moved")]}
    )
    consumer = EventConsumer(
        topic="t",
        group="g",
        handler=lambda e, u: None,
        database=None,
        consumer_factory=lambda *t, group_id: fake,
        dead_letter_producer=None,
    )
    _run(consumer, lambda: fake.seeks == [2])
    assert fake.committed == []  # record 2 was not handled past the lost commit


def test_an_unexpected_client_error_restarts_the_consumer() -> None:
    made: list[FlakyConsumer] = []

    def factory(*topics: str, group_id: str) -> FlakyConsumer:
        fake = FlakyConsumer(
            {
                "poll": [RuntimeError("bug in a client")]
                if not made
                else [{PARTITION: [_record(3)]}],
                "commit": [],
            }
        )
        made.append(fake)
        return fake

    consumer = EventConsumer(
        topic="t",
        group="g",
        handler=lambda e, u: None,
        database=None,
        consumer_factory=factory,
        dead_letter_producer=None,
    )
    _run(consumer, lambda: len(made) == 2 and made[1].committed == [4])
    assert consumer.restarts == 1
