"""The outbox relay: ships committed event rows to Kafka, in order, at least once.

A batch is read with ``FOR UPDATE SKIP LOCKED``, sent with the idempotent producer, and marked
published in the same transaction only after every send was acknowledged (acks=all). If the
process dies between send and mark, the rows are sent again after restart; consumers drop the
duplicates by event id (services/chassis/consumer.py), so the effect is exactly once.

Only one relay per schema works at a time (a PostgreSQL advisory lock), so events of one
aggregate keep their order across replicas; the others wait as hot standbys. New rows wake the
relay through LISTEN/NOTIFY (a trigger on the outbox); a slow poll covers lost notifications.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Sequence
from typing import Any

import psycopg
import sqlalchemy as sa
from kafka import KafkaProducer
from sqlalchemy.engine import Connection, Engine

from services.chassis.events import Event

log = logging.getLogger(__name__)


def notify_channel(schema: str) -> str:
    return f"outbox_{schema}"


def outbox_notify_ddl(schema: str) -> list[str]:
    """DDL for the NOTIFY trigger; services' first migration runs it."""
    channel = notify_channel(schema)
    return [
        f"""CREATE OR REPLACE FUNCTION {schema}.outbox_notify() RETURNS trigger
            LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('{channel}', ''); RETURN NULL; END $$""",
        f"""CREATE TRIGGER outbox_notify AFTER INSERT ON {schema}.outbox
            FOR EACH STATEMENT EXECUTE FUNCTION {schema}.outbox_notify()""",
    ]


def _advisory_key(schema: str) -> int:
    return zlib.crc32(f"lienthong.outbox.{schema}".encode())


def _libpq_url(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        outbox: sa.Table,
        producer: KafkaProducer,
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        send_timeout: float = 30.0,
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.producer = producer
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.send_timeout = send_timeout
        self.schema = outbox.schema or "public"

    def publish_batch(self) -> int:
        """Publish up to one batch; returns how many events were published."""
        o = self.outbox
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.select(o)
                .where(o.c.published_at.is_(None))
                .order_by(o.c.seq)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            futures = [self._send(row) for row in rows]
            self.producer.flush(timeout=self.send_timeout)
            for future in futures:
                future.get(timeout=self.send_timeout)  # a failed send rolls the batch back
            self._mark_published(conn, [row.seq for row in rows])
        return len(rows)

    def _send(self, row: Any) -> Any:
        event = Event(
            topic=row.topic,
            type=row.type,
            source=row.source,
            subject=row.key,
            data=row.payload,
            dataschema=row.dataschema,
            id=str(row.id),
            time=row.time,
        )
        return self.producer.send(
            row.topic, key=row.key.encode("utf-8"), value=row.payload, headers=event.headers()
        )

    def _mark_published(self, conn: Connection, seqs: Sequence[int]) -> None:
        o = self.outbox
        conn.execute(sa.update(o).where(o.c.seq.in_(seqs)).values(published_at=sa.func.now()))

    def pending(self) -> int:
        o = self.outbox
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count()).select_from(o).where(o.c.published_at.is_(None))
            ).scalar_one()

    def run(self, stop: threading.Event) -> None:
        """Publish until ``stop`` is set; leader-elected per schema; never raises."""
        channel = notify_channel(self.schema)
        while not stop.is_set():
            try:
                with psycopg.connect(_libpq_url(self.engine), autocommit=True) as listen:
                    if not self._become_leader(listen, stop):
                        return
                    listen.execute(f"LISTEN {channel}")
                    log.info("outbox relay leading", extra={"schema": self.schema})
                    while not stop.is_set():
                        published = self.publish_batch()
                        if published >= self.batch_size:
                            continue
                        for _ in listen.notifies(timeout=self.poll_interval, stop_after=1):
                            pass
            except Exception:  # the relay must outlive broker and database outages
                log.exception("outbox relay failed; retrying", extra={"schema": self.schema})
                stop.wait(min(self.poll_interval * 2, 5.0))

    def _become_leader(self, conn: psycopg.Connection, stop: threading.Event) -> bool:
        key = _advisory_key(self.schema)
        while not stop.is_set():
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            if row and row[0]:
                return True
            stop.wait(self.poll_interval)
        return False
