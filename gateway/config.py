"""The gateway's settings, from ``LT_GATEWAY_*`` environment variables (12-factor).

Same pattern as :mod:`services.chassis.config`: each setting is declared once with its default
and meaning; secrets are never printed, only whether they are set. Infrastructure settings
(database, Kafka, service addresses) are the chassis's own.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from services.chassis.config import Setting, declare, get, get_bool, get_float, get_int
from services.chassis.config import describe as describe_settings
from services.chassis.errors import ConfigError

SETTINGS: dict[str, Setting] = {}


def _declare(name: str, default: str | None, help: str, *, secret: bool = False) -> Setting:
    return declare(name, default, help, secret=secret, registry=SETTINGS)


HOST = _declare("LT_GATEWAY_HOST", "127.0.0.1", "Address the HTTP server binds to.")
PORT = _declare("LT_GATEWAY_PORT", "8080", "HTTP port of the gateway.")
WORKERS = _declare("LT_GATEWAY_WORKERS", "1", "uvicorn worker processes.")
AUTH_MODE = _declare(
    "LT_GATEWAY_AUTH_MODE",
    "local",
    "local (accounts in PostgreSQL, tokens signed by the gateway) or oidc (tokens of an "
    "OpenID Connect provider, checked against its JWKS; local login is switched off).",
)
TOKEN_SECRET = _declare(
    "LT_GATEWAY_TOKEN_SECRET",
    None,
    "HMAC key signing local access tokens (≥ 32 bytes). Unset: a random key per start "
    "(tokens die with the process; fine for development, not for several workers).",
    secret=True,
)
TOKEN_SECRET_FILE = _declare(
    "LT_GATEWAY_TOKEN_SECRET_FILE", None, "File holding the token key (wins over the variable)."
)
ACCESS_TTL_S = _declare("LT_GATEWAY_ACCESS_TTL_S", "300", "Lifetime of an access token (s).")
REFRESH_TTL_S = _declare(
    "LT_GATEWAY_REFRESH_TTL_S", "28800", "Lifetime of a refresh token (s); rotated on each use."
)
LOGIN_MAX_FAILURES = _declare(
    "LT_GATEWAY_LOGIN_MAX_FAILURES",
    "5",
    "Failed logins per user name allowed in the window; then 429 until it passes.",
)
LOGIN_MAX_FAILURES_PER_CLIENT = _declare(
    "LT_GATEWAY_LOGIN_MAX_FAILURES_PER_CLIENT",
    "100",
    "Failed logins per client address in the window (an office NAT hides many users).",
)
LOGIN_WINDOW_S = _declare("LT_GATEWAY_LOGIN_WINDOW_S", "900", "Window of the login throttle (s).")
MAX_BODY_BYTES = _declare(
    "LT_GATEWAY_MAX_BODY_BYTES", "1048576", "Largest JSON request body (bytes); else 413."
)
MAX_UPLOAD_BYTES = _declare(
    "LT_GATEWAY_MAX_UPLOAD_BYTES", "52428800", "Largest file upload (bytes); else 413."
)
RPC_TIMEOUT_S = _declare(
    "LT_GATEWAY_RPC_TIMEOUT_S", "10", "Deadline of each gRPC call to a service (s)."
)
LIVE_ENABLED = _declare(
    "LT_GATEWAY_LIVE", "1", "Consume Kafka for the Server-Sent Events stream (1) or not (0)."
)
LIVE_HEARTBEAT_S = _declare(
    "LT_GATEWAY_LIVE_HEARTBEAT_S", "15", "Seconds between SSE keep-alive comments."
)
OIDC_ISSUER = _declare("LT_GATEWAY_OIDC_ISSUER", None, "Expected `iss` of OIDC tokens.")
OIDC_AUDIENCE = _declare("LT_GATEWAY_OIDC_AUDIENCE", None, "Expected `aud` of OIDC tokens.")
OIDC_JWKS_URL = _declare(
    "LT_GATEWAY_OIDC_JWKS_URL", None, "JWKS of the provider (https:// or file://)."
)
OIDC_AGENCY_CLAIM = _declare(
    "LT_GATEWAY_OIDC_AGENCY_CLAIM", "agency_code", "Claim holding the user's agency code."
)
OIDC_ROLES_CLAIM = _declare(
    "LT_GATEWAY_OIDC_ROLES_CLAIM", "roles", "Claim holding the user's roles (list of names)."
)
PLACE_NAME = _declare(
    "LT_GATEWAY_PLACE_NAME",
    "Lạc Hồng",
    "Địa danh written before the issue date when a clerk numbers a document without naming "
    'the place (NĐ 30/2020/NĐ-CP Phụ lục I: "<địa danh>, ngày … tháng … năm …").',
)
DEMO_PASSWORD = _declare(
    "LT_GATEWAY_DEMO_PASSWORD",
    "LienThong@2026",
    "Password `seed-users` gives the demo accounts (development profiles only).",
    secret=True,
)


@dataclass(frozen=True, slots=True)
class OidcSettings:
    issuer: str
    audience: str
    jwks_url: str
    agency_claim: str
    roles_claim: str


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    """Everything the app needs, read once at start-up."""

    auth_mode: str
    token_secret: bytes
    access_ttl_s: int
    refresh_ttl_s: int
    login_max_failures: int
    login_max_failures_per_client: int
    login_window_s: int
    max_body_bytes: int
    max_upload_bytes: int
    rpc_timeout_s: float
    live_enabled: bool
    live_heartbeat_s: float
    oidc: OidcSettings | None
    place_name: str = "Lạc Hồng"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> GatewaySettings:
        mode = get(AUTH_MODE, env).strip().lower()
        if mode not in {"local", "oidc"}:
            raise ConfigError(f"LT_GATEWAY_AUTH_MODE={mode!r} is neither 'local' nor 'oidc'")
        oidc = None
        if mode == "oidc":
            oidc = OidcSettings(
                issuer=get(OIDC_ISSUER, env),
                audience=get(OIDC_AUDIENCE, env),
                jwks_url=get(OIDC_JWKS_URL, env),
                agency_claim=get(OIDC_AGENCY_CLAIM, env),
                roles_claim=get(OIDC_ROLES_CLAIM, env),
            )
        return cls(
            auth_mode=mode,
            token_secret=_token_secret(env),
            access_ttl_s=get_int(ACCESS_TTL_S, env),
            refresh_ttl_s=get_int(REFRESH_TTL_S, env),
            login_max_failures=get_int(LOGIN_MAX_FAILURES, env),
            login_max_failures_per_client=get_int(LOGIN_MAX_FAILURES_PER_CLIENT, env),
            login_window_s=get_int(LOGIN_WINDOW_S, env),
            max_body_bytes=get_int(MAX_BODY_BYTES, env),
            max_upload_bytes=get_int(MAX_UPLOAD_BYTES, env),
            rpc_timeout_s=get_float(RPC_TIMEOUT_S, env),
            live_enabled=get_bool(LIVE_ENABLED, env),
            live_heartbeat_s=get_float(LIVE_HEARTBEAT_S, env),
            oidc=oidc,
            place_name=get(PLACE_NAME, env),
        )


def _token_secret(env: dict[str, str] | None) -> bytes:
    source = os.environ if env is None else env
    path = source.get(TOKEN_SECRET_FILE.name)
    raw = Path(path).read_text(encoding="utf-8").strip() if path else source.get(TOKEN_SECRET.name)
    if not raw:
        return secrets.token_bytes(32)
    if len(raw.encode()) < 32:
        raise ConfigError("LT_GATEWAY_TOKEN_SECRET must be at least 32 bytes long")
    return raw.encode()


def describe() -> list[tuple[str, str, str]]:
    """(name, shown value, help) for every gateway setting; secrets only as set / not set."""
    return describe_settings(SETTINGS)
