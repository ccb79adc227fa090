"""Every setting of every service, from environment variables (12-factor), in one place.

Each setting is declared once below with its default and meaning; ``lienthong config`` prints
the table and ``docs/configuration.md`` is generated from it (a unit test keeps them in sync).
Secrets (PINs) are never printed or logged: only whether they are set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from services.chassis.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    default: str | None
    help: str
    secret: bool = False

    def value(self, env: dict[str, str] | None = None) -> str | None:
        source = os.environ if env is None else env
        return source.get(self.name, self.default)


SETTINGS: dict[str, Setting] = {}


def declare(
    name: str,
    default: str | None,
    help: str,
    *,
    secret: bool = False,
    registry: dict[str, Setting] | None = None,
) -> Setting:
    """Declare a setting once, in ``registry`` (the platform's table unless another is given)."""
    setting = Setting(name, default, help, secret)
    (SETTINGS if registry is None else registry)[name] = setting
    return setting


# --- infrastructure -----------------------------------------------------------------------
PROFILE = declare("LT_PROFILE", "dev", "Which local profile is running (dev, test).")
VAR_DIR = declare("LT_VAR_DIR", str(REPO_ROOT / "var" / "dev"), "State directory of the profile.")
LOG_DIR = declare("LT_LOG_DIR", None, "Where service logs go (default: $LT_VAR_DIR/log).")
DATABASE_URL = declare(
    "LT_DATABASE_URL",
    "postgresql+psycopg://lienthong:lienthong@127.0.0.1:55432/lienthong",
    "SQLAlchemy URL of the PostgreSQL database; each service uses its own schema in it.",
)
DB_POOL_SIZE = declare("LT_DB_POOL_SIZE", "10", "Connections kept per process and service.")
KAFKA_BOOTSTRAP = declare(
    "LT_KAFKA_BOOTSTRAP", "127.0.0.1:59092", "Kafka bootstrap servers (comma-separated)."
)
PKCS11_MODULE = declare(
    "LT_PKCS11_MODULE",
    "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so",
    "PKCS#11 module; p11-kit-proxy loads SoftHSM2 with OS locking (thread-safe).",
)
SOFTHSM2_CONF = declare("SOFTHSM2_CONF", None, "SoftHSM2 configuration file (token directory).")
HSM_TOKEN_LABEL = declare("LT_HSM_TOKEN_LABEL", "lienthong", "Label of the signing token.")
HSM_USER_PIN = declare("LT_HSM_USER_PIN", None, "User PIN of the token.", secret=True)
HSM_USER_PIN_FILE = declare(
    "LT_HSM_USER_PIN_FILE", None, "File holding the user PIN (wins over LT_HSM_USER_PIN)."
)
HSM_SO_PIN = declare("LT_HSM_SO_PIN", None, "Security-officer PIN (setup only).", secret=True)

# --- every service ------------------------------------------------------------------------
LOG_LEVEL = declare("LT_LOG_LEVEL", "INFO", "Log level (DEBUG, INFO, WARNING, ERROR).")
LOG_FORMAT = declare("LT_LOG_FORMAT", "json", "json (one object per line) or text.")
GRPC_HOST = declare("LT_GRPC_HOST", "127.0.0.1", "Address the gRPC servers bind to.")
GRPC_PORT_BASE = declare(
    "LT_GRPC_PORT_BASE",
    "50050",
    "Service N of the catalogue listens on base + N unless LT_<SERVICE>_PORT is set.",
)
GRPC_THREADS = declare("LT_GRPC_THREADS", "16", "Worker threads of each gRPC server process.")
PROCESSES = declare(
    "LT_PROCESSES", "1", "gRPC server processes sharing the port (SO_REUSEPORT), for CPU work."
)
SHUTDOWN_GRACE_S = declare(
    "LT_SHUTDOWN_GRACE_S", "7", "Seconds in-flight calls get to finish after SIGTERM."
)
OUTBOX_BATCH = declare("LT_OUTBOX_BATCH", "500", "Events the outbox relay publishes per batch.")
OUTBOX_POLL_S = declare(
    "LT_OUTBOX_POLL_S", "1.0", "Relay poll interval when no NOTIFY wakes it up (seconds)."
)
CONSUMER_MAX_ATTEMPTS = declare(
    "LT_CONSUMER_MAX_ATTEMPTS",
    "5",
    "Handler attempts before an event goes to the dead-letter topic.",
)
RUN_RELAY = declare(
    "LT_RUN_RELAY", "1", "Run the outbox relay inside the service process (1) or not (0)."
)

CALLER_KEY = declare(
    "LT_CALLER_KEY",
    None,
    "Key (≥ 32 characters) signing the end user's identity that the gateway passes to the "
    "services (`lt-caller` metadata). Unset: a random key kept in "
    "$LT_VAR_DIR/secrets/caller.key.",
    secret=True,
)

# --- signing ----------------------------------------------------------------------------
SIGNING_TRUST_DIR = declare(
    "LT_SIGNING_TRUST_DIR",
    None,
    "Production trust for signing (roots, intermediates, CRLs); unset: the development PKI.",
)
SIGNING_TSA_KEY_ID_HEX = declare(
    "LT_SIGNING_TSA_KEY_ID_HEX", None, "CKA_ID (hex) of the TSA key; required with the above."
)
SIGNING_MAX_DOCUMENT_BYTES = declare(
    "LT_SIGNING_MAX_DOCUMENT_BYTES", "52428800", "Largest document the signing service accepts."
)

# --- verification -------------------------------------------------------------------------
TRUST_DIR = declare(
    "LT_TRUST_DIR",
    None,
    "Directory of trust anchors (root CAs), intermediates and CRLs; default: the dev PKI in "
    "$LT_VAR_DIR/devpki (development only).",
)
VERIFICATION_REVOCATION_MODE = declare(
    "LT_VERIFICATION_REVOCATION_MODE", "hard-fail", "hard-fail, soft-fail or require."
)
VERIFICATION_ALLOW_FETCHING = declare(
    "LT_VERIFICATION_ALLOW_FETCHING", "0", "Fetch CRLs/OCSP online when not embedded (1/0)."
)
VERIFICATION_WORKERS = declare(
    "LT_VERIFICATION_WORKERS", "2", "Isolated verifier processes (0: verify in the server)."
)
VERIFICATION_TIMEOUT_S = declare(
    "LT_VERIFICATION_TIMEOUT_S", "60", "Time limit of one verification in a worker."
)
VERIFICATION_MEMORY_MB = declare(
    "LT_VERIFICATION_MEMORY_MB", "2048", "Memory limit of a verifier worker process."
)

# --- distribution -------------------------------------------------------------------------
DISTRIBUTION_VERIFIER = declare(
    "LT_DISTRIBUTION_VERIFIER",
    "grpc",
    "How arrivals are verified: grpc (the verification service) or dsig (envelope only).",
)
DISTRIBUTION_REGISTRY = declare(
    "LT_DISTRIBUTION_REGISTRY", "grpc", "Register accepted documents in the registry (grpc/off)."
)
DISTRIBUTION_PAPER_TYPES = declare(
    "LT_DISTRIBUTION_PAPER_TYPES", "", "Document type keys that still need a paper copy (comma)."
)
DISTRIBUTION_AXIS = declare(
    "LT_DISTRIBUTION_AXIS", "", "National axis adapter: simulator, or empty for none."
)
DISTRIBUTION_AXIS_KEY_ID = declare(
    "LT_DISTRIBUTION_AXIS_KEY_ID",
    None,
    "CKA_ID (hex) of the HSM key that signs status packages to the national axis.",
)
DISTRIBUTION_VERDICT_TTL_S = declare(
    "LT_DISTRIBUTION_VERDICT_TTL_S", "300", "Seconds a package's verdict is reused per process."
)
DISTRIBUTION_AXIS_SYNC_S = declare(
    "LT_DISTRIBUTION_AXIS_SYNC_S",
    "30",
    "Seconds between rounds of the national-axis sync (received documents, outside receivers' "
    "statuses) when LT_DISTRIBUTION_AXIS is set; one leader per database; 0: off here.",
)
DISTRIBUTION_AXIS_AGENCY_SYNC_S = declare(
    "LT_DISTRIBUTION_AXIS_AGENCY_SYNC_S",
    "86400",
    "Seconds between syncs of the national axis's agency list (0: never).",
)
DISTRIBUTION_SCHEDULE_POLL_S = declare(
    "LT_DISTRIBUTION_SCHEDULE_POLL_S",
    "1",
    "Longest sleep (s) of the worker that publishes hỏa tốc hẹn giờ deliveries at their time; "
    "0: no such worker in this process.",
)


def get(setting: Setting, env: dict[str, str] | None = None) -> str:
    value = setting.value(env)
    if value is None or value == "":
        raise ConfigError(f"{setting.name} is not set: {setting.help}")
    return value


def get_int(setting: Setting, env: dict[str, str] | None = None) -> int:
    raw = get(setting, env)
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{setting.name}={raw!r} is not an integer") from exc


def get_float(setting: Setting, env: dict[str, str] | None = None) -> float:
    raw = get(setting, env)
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{setting.name}={raw!r} is not a number") from exc


def get_bool(setting: Setting, env: dict[str, str] | None = None) -> bool:
    return get(setting, env).strip().lower() in {"1", "true", "yes", "on"}


def log_dir() -> Path:
    explicit = LOG_DIR.value()
    return Path(explicit) if explicit else Path(get(VAR_DIR)) / "log"


def hsm_user_pin() -> str:
    """The token's user PIN, from the PIN file if configured, else the variable."""
    pin_file = HSM_USER_PIN_FILE.value()
    if pin_file:
        return Path(pin_file).read_text(encoding="utf-8").strip()
    return get(HSM_USER_PIN)


def describe(settings: dict[str, Setting] | None = None) -> list[tuple[str, str, str]]:
    """(name, shown value, help) for every setting; secrets shown only as set / not set."""
    rows = []
    for setting in (SETTINGS if settings is None else settings).values():
        value = setting.value()
        if setting.secret:
            shown = "(set)" if value else "(not set)"
        else:
            shown = value if value is not None else "(not set)"
        rows.append((setting.name, shown, setting.help))
    return rows


def markdown_table(settings: dict[str, Setting] | None = None) -> str:
    lines = [
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for setting in (SETTINGS if settings is None else settings).values():
        default = "" if setting.default is None or setting.secret else f"`{setting.default}`"
        if setting.name == "LT_VAR_DIR":
            default = "`<repo>/var/dev`"
        lines.append(f"| `{setting.name}` | {default} | {setting.help} |")
    return "\n".join(lines)
