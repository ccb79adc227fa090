"""Apply the gateway's migrations (``gateway/migrations/``) to the ``gateway`` schema.

The chassis's runner only looks under ``services/<name>/migrations``; the gateway is not a
service folder, so this reuses the chassis's Alembic environment (schema creation, version
table in the schema, advisory lock) with its own version location.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

import services.chassis.migrations as chassis_migrations

SCHEMA = "gateway"
VERSIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option(
        "script_location", str(Path(chassis_migrations.__file__).parent / "alembic")
    )
    cfg.set_main_option("version_locations", str(VERSIONS))
    cfg.attributes["schema"] = SCHEMA
    cfg.attributes["url"] = url
    return cfg


def upgrade(revision: str = "head", url: str | None = None) -> None:
    command.upgrade(alembic_config(url), revision)
