"""Kafka consumers with an exactly-once effect.

For each record: decode the CloudEvent, then in ONE database transaction insert its id into the
service's inbox (``ON CONFLICT DO NOTHING``) and, only if it was new, run the handler; commit;
and only then commit the Kafka offset. A crash anywhere before the offset commit redelivers the
record, and the inbox makes the second delivery a no-op. (nameko-kafka, by contrast, commits
offsets before handlers finish — see docs/adr/0001.)

A handler that keeps failing is retried with backoff, then the record goes to the dead-letter
topic ``<topic>.dlt`` with the reason in headers, and the partition moves on. A record that is
not a CloudEvent of ours goes there at once: poison never blocks a partition.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from kafka.structs import OffsetAndMetadata
from sqlalchemy.dialects.postgresql import insert

from services.chassis import logs
from services.chassis.db import Database, UnitOfWork
from services.chassis.events import Event, MalformedEvent

log = logging.getLogger(__name__)

Handler = Callable[[Event, UnitOfWork | None], None]


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlt"


class EventConsumer:
    """Runs one handler over one topic in one consumer group."""

    def __init__(
        self,
        *,
        topic: str,
        group: str,
        handler: Handler,
        database: Database | None,
        consumer_factory: Callable[..., KafkaConsumer],
        dead_letter_producer: KafkaProducer | None,
        max_attempts: int = 5,
        backoff_base: float = 0.2,
        broadcast: bool = False,
    ) -> None:
        self.topic = topic
        self.group = group
        self.handler = handler
        self.database = database
        self.consumer_factory = consumer_factory
        self.dead_letters = dead_letter_producer
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.broadcast = broadcast
        self.processed = 0
        self.duplicates = 0
        self.dead_lettered = 0
        # Set once partitions are assigned and their start positions resolved: from then on
        # no new record can slip past this consumer.
        self.ready = threading.Event()

    def run(self, stop: threading.Event) -> None:
        consumer = self.consumer_factory(self.topic, group_id=self.group)
        try:
            while not stop.is_set():
                batch = consumer.poll(timeout_ms=300)
                if not self.ready.is_set() and consumer.assignment():
                    for partition in consumer.assignment():
                        consumer.position(partition)
                    self.ready.set()
                for partition, records in batch.items():
                    for record in records:
                        if stop.is_set():
                            # Offsets of this partition are committed up to the last handled one.
                            return
                        self.handle_with_retries(record, stop)
                        consumer.commit({partition: OffsetAndMetadata(record.offset + 1, "", -1)})
        finally:
            consumer.close(autocommit=False)

    def handle_with_retries(self, record: Any, stop: threading.Event) -> None:
        reason = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                self.handle(record)
                return
            except MalformedEvent as exc:
                reason = str(exc)
                break
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "event handler failed",
                    extra={"topic": self.topic, "offset": record.offset, "attempt": attempt},
                    exc_info=True,
                )
                if stop.wait(min(self.backoff_base * 2 ** (attempt - 1), 5.0)):
                    raise
        self.dead_letter(record, reason)

    def handle(self, record: Any) -> None:
        event = Event.from_record(record.topic, record.headers, record.value)
        token = logs.correlation_id.set(event.id)
        try:
            if self.database is None:
                self.handler(event, None)
                self.processed += 1
                return
            inbox = self.database.inbox
            assert inbox is not None, "a handler with a database needs an inbox table"
            with self.database.unit_of_work() as uow:
                fresh = uow.execute(
                    insert(inbox)
                    .values(
                        consumer=self.group,
                        event_id=event.id,
                        topic=record.topic,
                        partition=record.partition,
                        offset=record.offset,
                    )
                    .on_conflict_do_nothing()
                    .returning(inbox.c.event_id)
                ).first()
                if fresh is None:
                    self.duplicates += 1
                    return
                self.handler(event, uow)
                uow.commit()
                self.processed += 1
        finally:
            logs.correlation_id.reset(token)

    def dead_letter(self, record: Any, reason: str) -> None:
        self.dead_lettered += 1
        log.error(
            "event dead-lettered",
            extra={"topic": self.topic, "offset": record.offset, "reason": reason},
        )
        if self.dead_letters is None:
            return
        headers = [
            *(record.headers or []),
            ("lt_dlt_reason", reason.encode("utf-8")[:2000]),
            ("lt_dlt_group", self.group.encode()),
            ("lt_dlt_origin", f"{record.topic}/{record.partition}/{record.offset}".encode()),
            ("lt_dlt_time", str(time.time()).encode()),
        ]
        self.dead_letters.send(
            dead_letter_topic(record.topic), key=record.key, value=record.value, headers=headers
        ).get(timeout=30)
