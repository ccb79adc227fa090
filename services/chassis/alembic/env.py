"""Shared Alembic environment: every service's migrations run here, each in its own schema.

The schema is created if missing, the version table lives inside it, and an advisory lock makes
concurrent starts (several replicas, parallel tests) apply migrations one at a time. The lock is
one for the whole database, not one per schema: migrations also touch database-wide objects
(`CREATE EXTENSION IF NOT EXISTS pg_trgm` in identifiers and registry), and two such statements
racing on a fresh database fail with a unique violation — seen when `make run` started every
service at once on a new machine.
"""

from __future__ import annotations

import zlib

import sqlalchemy as sa
from alembic import context

from services.chassis.db import make_engine

cfg = context.config
schema: str = cfg.attributes["schema"]
engine = make_engine(cfg.attributes.get("url"), pool_size=1)

MIGRATION_LOCK = zlib.crc32(b"lienthong.migrate")

with engine.connect() as connection:
    connection.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
    connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    connection.commit()
    context.configure(
        connection=connection,
        version_table_schema=schema,
        include_schemas=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
    connection.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
    connection.commit()
engine.dispose()
