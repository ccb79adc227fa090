"""Every service migrating at once on a brand-new database (what `make run` does on a new machine).

Two services' first migrations both run ``CREATE EXTENSION IF NOT EXISTS pg_trgm``; with one
advisory lock per schema they raced and one failed with a unique violation on
``pg_extension_name_index``. The chassis's Alembic environment now takes one lock for the whole
database.
"""

from __future__ import annotations

import subprocess
import sys
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from services.chassis.db import make_engine


def test_services_migrate_concurrently_on_a_fresh_database(engine: sa.Engine) -> None:
    name = f"lt_fresh_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    url = make_url(engine.url).set(database=name).render_as_string(hide_password=False)
    # Separate processes, as the services are (Alembic's context is per process, not per thread).
    code = (
        "import sys; from services.chassis.migrations import upgrade; "
        "upgrade(sys.argv[1], url=sys.argv[2])"
    )
    try:
        running = {
            service: subprocess.Popen(
                [sys.executable, "-c", code, service, url],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for service in ("identifiers", "registry", "signing")
        }
        failures = {}
        for service, process in running.items():
            output, _ = process.communicate(timeout=300)
            if process.returncode != 0:
                failures[service] = output[-2000:]
        assert not failures, failures
        fresh = make_engine(url)
        try:
            with fresh.connect() as connection:
                schemas = set(
                    connection.scalars(
                        sa.text("SELECT schema_name FROM information_schema.schemata")
                    )
                )
                extensions = set(connection.scalars(sa.text("SELECT extname FROM pg_extension")))
        finally:
            fresh.dispose()
        assert {"identifiers", "registry", "signing"} <= schemas
        assert "pg_trgm" in extensions
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
