"""PostgreSQL access: one schema per service, units of work, and the outbox/inbox tables.

The outbox is what makes "state change and event in one transaction" true: a use case calls
``uow.publish(event)`` which inserts the event row in the same transaction as the state change;
the relay (services/chassis/outbox.py) ships committed rows to Kafka. The inbox records the ids
of consumed events in the same transaction as the handler's effect, so a redelivered event is
recognised and skipped.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.chassis import config
from services.chassis.dependencies import DependencyProvider
from services.chassis.events import Event

# Remaining seconds of the current gRPC deadline; the unit of work turns it into a
# statement_timeout so a call whose caller gave up does not keep the database busy.
deadline_remaining: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "deadline_remaining", default=None
)


def outbox_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "outbox",
        metadata,
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("id", pg.UUID(as_uuid=False), nullable=False, unique=True),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("dataschema", sa.Text, nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Index("outbox_unpublished", "seq", postgresql_where=sa.text("published_at IS NULL")),
    )


def inbox_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "inbox",
        metadata,
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


def make_engine(url: str | None = None, *, pool_size: int | None = None) -> Engine:
    engine = sa.create_engine(
        url or config.get(config.DATABASE_URL),
        pool_size=pool_size or config.get_int(config.DB_POOL_SIZE),
        max_overflow=10,
        pool_pre_ping=True,
        pool_recycle=1800,
    )

    @sa_event.listens_for(engine, "connect")
    def _session_settings(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'Asia/Ho_Chi_Minh'")
        dbapi_conn.commit()

    return engine


class UnitOfWork:
    """One database transaction: the state change and the events it publishes.

    Use as a context manager; nothing is committed unless ``commit()`` is called, and an
    exception rolls everything back (state and events alike).
    """

    def __init__(self, session_factory: Callable[[], Session], outbox: sa.Table) -> None:
        self._session_factory = session_factory
        self._outbox = outbox
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        remaining = deadline_remaining.get()
        if remaining is not None:
            # SET LOCAL lasts for this transaction only; keep at least 50 ms to do anything.
            ms = max(int(remaining * 1000), 50)
            self.session.execute(sa.text(f"SET LOCAL statement_timeout = {ms}"))
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            self.session.rollback()  # no-op after commit(); undoes everything otherwise
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def publish(self, event: Event) -> None:
        """Record ``event`` in the outbox, atomically with whatever else this unit does."""
        self.session.execute(
            self._outbox.insert().values(
                id=event.id,
                topic=event.topic,
                key=event.subject,
                type=event.type,
                source=event.source,
                dataschema=event.dataschema,
                time=event.time,
                payload=event.data,
            )
        )

    def execute(self, statement: Any, params: Any = None) -> Any:
        return self.session.execute(statement, params)


class Database(DependencyProvider[Callable[[], UnitOfWork]]):
    """A service's schema in PostgreSQL; injects a factory of units of work."""

    def __init__(self, schema: str, metadata: sa.MetaData) -> None:
        self.schema = schema
        self.metadata = metadata
        self.outbox = metadata.tables.get(f"{schema}.outbox")
        self.inbox = metadata.tables.get(f"{schema}.inbox")
        self.engine: Engine | None = None

    def setup(self, service_name: str) -> None:
        if self.engine is None:
            self.engine = make_engine()
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def unit_of_work(self) -> UnitOfWork:
        if self.outbox is None:
            raise RuntimeError(f"schema {self.schema} declares no outbox table")
        return UnitOfWork(self._sessions, self.outbox)

    def get_dependency(self) -> Callable[[], UnitOfWork]:
        return self.unit_of_work

    def stop(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None
