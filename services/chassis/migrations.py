"""Apply a service's Alembic migrations (``services/<service>/migrations/``) to its schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

SERVICES_DIR = Path(__file__).resolve().parents[1]


def alembic_config(service: str, url: str | None = None) -> AlembicConfig:
    versions = SERVICES_DIR / service / "migrations"
    if not versions.is_dir():
        raise FileNotFoundError(f"{service} has no migrations folder at {versions}")
    cfg = AlembicConfig()
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("script_location", str(Path(__file__).parent / "alembic"))
    cfg.set_main_option("version_locations", str(versions))
    cfg.attributes["schema"] = service
    cfg.attributes["url"] = url
    return cfg


def upgrade(service: str, revision: str = "head", url: str | None = None) -> None:
    command.upgrade(alembic_config(service, url), revision)


def services_with_migrations() -> list[str]:
    return sorted(p.parent.name for p in SERVICES_DIR.glob("*/migrations") if p.is_dir())
