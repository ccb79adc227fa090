"""Outbox → Kafka → consumer: at-least-once delivery, exactly-once effect.

The relay is made to die after Kafka acknowledged a batch but before the rows were marked
published (the worst moment), then restarted: Kafka really holds the batch twice, and the
consumer's inbox must still apply each event once. Everything is real: the identifiers service
takes the updates over gRPC, PostgreSQL holds outbox and inbox, the broker carries the records.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest
import sqlalchemy as sa
from kafka import KafkaConsumer, TopicPartition
from lienthong.identifiers.v1 import identifiers_pb2 as pb
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from services.chassis.consumer import EventConsumer, dead_letter_topic
from services.chassis.db import Database, UnitOfWork, inbox_table, outbox_table
from services.chassis.events import Event
from services.chassis.kafka import bootstrap, make_consumer, make_producer
from services.chassis.outbox import OutboxRelay

SCHEMA = "chassis_test"
metadata = sa.MetaData(schema=SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
effects = sa.Table(
    "effects",
    metadata,
    sa.Column("event_id", sa.Text, primary_key=True),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("applied", sa.Integer, nullable=False),
)


class RelayKilledMidBatch(Exception):
    pass


class CrashingRelay(OutboxRelay):
    """Dies between Kafka's acknowledgement and the commit that marks rows published."""

    def _mark_published(self, conn: Connection, seqs: Sequence[int]) -> None:
        raise RelayKilledMidBatch(f"killed after sending {len(seqs)} events")


@pytest.fixture(scope="module")
def consumer_db(engine: sa.Engine) -> Database:
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
    metadata.create_all(engine)
    database = Database(SCHEMA, metadata)
    database.engine = engine
    database.setup("chassis-test")
    return database


def _apply(event: Event, uow: UnitOfWork | None) -> None:
    """The consumer's effect; without the inbox a duplicate would bump ``applied`` to 2."""
    assert uow is not None
    statement = insert(effects).values(event_id=event.id, subject=event.subject, applied=1)
    uow.execute(
        statement.on_conflict_do_update(
            index_elements=[effects.c.event_id], set_={"applied": effects.c.applied + 1}
        )
    )


def _records_on(topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap())
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    ends = consumer.end_offsets(partitions)
    starts = consumer.beginning_offsets(partitions)
    consumer.close()
    return sum(ends[p] - starts[p] for p in partitions)


def _consume_until(consumer: EventConsumer, done, timeout: float = 60.0) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    thread.join(timeout=10)
    assert done(), "consumer did not see every record in time"


def test_agency_updates_are_consumed_exactly_once_across_a_relay_crash(
    identifiers, engine, consumer_db, kafka_topic
):
    # 30 agency changes through the real service: 30 outbox rows in the identifiers schema.
    codes = [f"000.00.{n:02d}.T77" for n in range(1, 30)]
    identifiers.UpsertAgency(
        pb.UpsertAgencyRequest(agency=pb.Agency(code="000.00.00.T77", name="Tỉnh Thử Nghiệm"))
    )
    for code in codes:
        identifiers.UpsertAgency(
            pb.UpsertAgencyRequest(
                agency=pb.Agency(code=code, name=f"Sở số {code[7:9]}", parent_code="000.00.00.T77")
            )
        )
    # Route this test's rows to a private topic so the count on Kafka is exactly ours.
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE identifiers.outbox SET topic = :t, published_at = NULL "
                "WHERE key LIKE '%.T77'"
            ),
            {"t": kafka_topic},
        )
        conn.execute(
            sa.text("UPDATE identifiers.outbox SET published_at = now() WHERE key NOT LIKE '%.T77'")
        )
    source = outbox_table(sa.MetaData(schema="identifiers"))
    producer = make_producer()

    crashing = CrashingRelay(engine, source, producer, batch_size=12)
    with pytest.raises(RelayKilledMidBatch):
        crashing.publish_batch()
    assert crashing.pending() == 30, "a crash before the commit must leave every row pending"
    assert _records_on(kafka_topic) == 12, "…although Kafka already holds the first batch"

    relay = OutboxRelay(engine, source, producer, batch_size=12)  # the restarted relay
    while relay.publish_batch():
        pass
    assert relay.pending() == 0
    assert _records_on(kafka_topic) == 42  # 12 delivered twice

    consumer = EventConsumer(
        topic=kafka_topic,
        group=f"test-{kafka_topic}",
        handler=_apply,
        database=consumer_db,
        consumer_factory=make_consumer,
        dead_letter_producer=producer,
    )
    _consume_until(consumer, lambda: consumer.processed + consumer.duplicates >= 42)
    assert (consumer.processed, consumer.duplicates) == (30, 12)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(effects.c.subject, effects.c.applied)).all()
    assert sorted(r.subject for r in rows) == sorted(["000.00.00.T77", *codes])
    assert {r.applied for r in rows} == {1}

    # A consumer restarted from scratch (new process, same group id, offsets committed)
    # reads nothing again; even a group reset to the beginning applies nothing twice.
    replay = EventConsumer(
        topic=kafka_topic,
        group=f"test-{kafka_topic}",
        handler=_apply,
        database=consumer_db,
        consumer_factory=lambda *t, group_id: make_consumer(*t, group_id=f"{group_id}-replay"),
        dead_letter_producer=producer,
    )
    _consume_until(replay, lambda: replay.duplicates >= 42)
    assert replay.processed == 0
    producer.close()


def test_failing_handler_is_retried_and_poison_goes_to_the_dead_letter_topic(
    engine, consumer_db, kafka_topic
):
    producer = make_producer()
    good = Event(topic=kafka_topic, type="t", source="/test", subject="s1", data=b"x")
    producer.send(kafka_topic, key=b"s1", value=b"x", headers=good.headers()).get(timeout=30)
    producer.send(kafka_topic, key=b"s2", value=b"not a cloudevent").get(timeout=30)
    attempts: list[str] = []

    def flaky(event: Event, uow: UnitOfWork | None) -> None:
        attempts.append(event.id)
        if len(attempts) < 3:
            raise RuntimeError("database hiccup")
        _apply(event, uow)

    consumer = EventConsumer(
        topic=kafka_topic,
        group=f"test-{kafka_topic}",
        handler=flaky,
        database=consumer_db,
        consumer_factory=make_consumer,
        dead_letter_producer=producer,
        backoff_base=0.01,
    )
    _consume_until(consumer, lambda: consumer.processed + consumer.dead_lettered >= 2)
    assert consumer.processed == 1 and len(attempts) == 3
    assert consumer.dead_lettered == 1
    dlt = KafkaConsumer(
        dead_letter_topic(kafka_topic),
        bootstrap_servers=bootstrap(),
        auto_offset_reset="earliest",
        consumer_timeout_ms=10000,
    )
    parked = next(iter(dlt))
    dlt.close()
    assert parked.value == b"not a cloudevent"
    assert b"CloudEvents" in dict(parked.headers)["lt_dlt_reason"]
    producer.close()
