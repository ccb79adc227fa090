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
from kafka.errors import CommitFailedError, KafkaError
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
        self.restarts = 0
        # Set once partitions are assigned and their start positions resolved: from then on
        # no new record can slip past this consumer.
        self.ready = threading.Event()

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop``; an unexpected failure restarts the client, never ends the thread.

        Whatever was handled but not committed is delivered again after a restart and the
        inbox turns it into a no-op, so restarting is always safe.
        """
        while not stop.is_set():
            try:
                self._consume(stop)
            except Exception:  # a dead consumer thread would leave a SERVING process deaf
                if stop.is_set():
                    return  # a handler interrupted by shutdown: the record will come again
                self.restarts += 1
                log.exception("consumer failed; restarting it", extra={"topic": self.topic})
                stop.wait(min(2.0 * self.restarts, 10.0))

    def _consume(self, stop: threading.Event) -> None:
        consumer = self.consumer_factory(self.topic, group_id=self.group)
        try:
            while not stop.is_set():
                try:
                    batch = consumer.poll(timeout_ms=300)
                except KafkaError:
                    # Broker away (restart, network): the client reconnects by itself.
                    log.warning("poll failed", extra={"topic": self.topic}, exc_info=True)
                    stop.wait(1.0)
                    continue
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
                        if not self._commit(consumer, partition, record.offset + 1, stop):
                            if partition in consumer.assignment():
                                # Still ours: fetch the rest of the batch again, not skip it.
                                consumer.seek(partition, record.offset + 1)
                            break
        finally:
            consumer.close(autocommit=False)

    def _commit(
        self, consumer: KafkaConsumer, partition: Any, offset: int, stop: threading.Event
    ) -> bool:
        """Commit ``offset``, waiting out a broker outage; False if the partition was lost.

        The record's effect is already in the database with its event id in the inbox, so a
        commit that never happens only costs a no-op redelivery; but a commit failure must
        not end the consumer thread (which left the service SERVING with a dead lane).
        """
        delay = 0.5
        while not stop.is_set():
            try:
                consumer.commit({partition: OffsetAndMetadata(offset, "", -1)})
                return True
            except CommitFailedError:
                # Rebalanced meanwhile: the partition's new owner starts from the committed
                # offset and the inbox absorbs the repeats.
                log.warning("offset commit lost to a rebalance", extra={"topic": self.topic})
                return False
            except KafkaError:
                log.warning(
                    "offset commit failed; retrying", extra={"topic": self.topic}, exc_info=True
                )
                stop.wait(delay)
                delay = min(delay * 2, 5.0)
        return False

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
