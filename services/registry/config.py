"""The registry's own settings (``LT_REGISTRY_*``), declared as the chassis declares its own."""

from __future__ import annotations

from services.chassis.config import Setting, declare, get_int

SETTINGS: dict[str, Setting] = {}

MAX_FILE_BYTES = declare(
    "LT_REGISTRY_MAX_FILE_BYTES",
    str(128 * 1024 * 1024),
    "Largest main-file version PutFileVersion stores (bytes); more → RESOURCE_EXHAUSTED.",
    registry=SETTINGS,
)


def max_file_bytes() -> int:
    """Read on every upload, so an operator's change needs no code path of its own."""
    return get_int(MAX_FILE_BYTES)
