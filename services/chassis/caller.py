"""Who a call is made for: the end user's identity, carried from the gateway to every service.

The gateway authorises each HTTP request, then passes the user's identity to the services it
calls in the ``lt-caller`` metadata entry, signed with a key shared by the gateway and the
services (HMAC-SHA256, short expiry). The server interceptor verifies it and exposes it to the
call as :func:`current_caller`; a client channel made by :func:`services.chassis.clients.
channel_to` forwards it unchanged, so when distribution calls the registry while serving a
clerk, the registry sees that clerk too. Services then check agency scope themselves
(:func:`require_agency`) — the gateway's check is not the only one (issue #7: "authorised at
the gateway and again checked by the service for agency scope").

A call without ``lt-caller`` is a call by the platform itself (an event consumer, a worker, an
operator's CLI on the cluster network) and is not scope-restricted; a present but forged,
expired or unreadable one is refused with UNAUTHENTICATED. The network policy of the
deployment keeps the service ports private to the cluster.

The key: ``LT_CALLER_KEY`` (a Kubernetes secret in production); when unset, a random key kept
in ``$LT_VAR_DIR/secrets/caller.key`` (created once, mode 0600), which every process of one
local profile shares.
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from services.chassis import config
from services.chassis.errors import NotFound, PermissionDenied, Unauthenticated

CALLER_HEADER = "lt-caller"
TOKEN_VERSION = "v1"
#: Long enough for a slow call chain, short enough that a leaked header is soon worthless.
TOKEN_TTL_S = 300

PROVINCE_ADMIN_ROLE = "province_admin"


class CallerError(Unauthenticated):
    """The ``lt-caller`` entry is forged, expired or malformed."""


@dataclass(frozen=True, slots=True)
class Caller:
    """The end user a call is made for."""

    username: str
    agency_code: str
    roles: frozenset[str]

    @property
    def is_province_admin(self) -> bool:
        return PROVINCE_ADMIN_ROLE in self.roles

    def may_act_for(self, agency_code: str) -> bool:
        return self.is_province_admin or self.agency_code == agency_code


_current: contextvars.ContextVar[tuple[Caller, str] | None] = contextvars.ContextVar(
    "lt_caller", default=None
)


def current_caller() -> Caller | None:
    """The end user of the call being served, or None for a call by the platform itself."""
    value = _current.get()
    return value[0] if value else None


def current_token() -> str | None:
    """The signed header of the current call, to forward to the next service unchanged."""
    value = _current.get()
    return value[1] if value else None


def enter(caller: Caller | None, token: str | None) -> contextvars.Token:
    return _current.set((caller, token) if caller and token else None)


def leave(token: contextvars.Token) -> None:
    _current.reset(token)


# -- the key ------------------------------------------------------------------------------------
_key_cache: bytes | None = None


def caller_key() -> bytes:
    """The shared key: the setting, else the profile's key file (created on first use)."""
    global _key_cache
    if _key_cache is not None:
        return _key_cache
    configured = config.CALLER_KEY.value()
    if configured:
        if len(configured) < 32:
            raise config.ConfigError("LT_CALLER_KEY must be at least 32 characters")
        _key_cache = configured.encode()
        return _key_cache
    path = Path(config.get(config.VAR_DIR)) / "secrets" / "caller.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(temporary, path)  # first writer wins; the others read its key
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    _key_cache = path.read_text().strip().encode()
    return _key_cache


def reset_key_cache() -> None:
    """Forget the cached key (tests that change LT_CALLER_KEY or LT_VAR_DIR)."""
    global _key_cache
    _key_cache = None


# -- the token ------------------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_caller(caller: Caller, key: bytes | None = None, *, now: float | None = None) -> str:
    """The ``lt-caller`` value for ``caller``: ``v1.<payload>.<mac>``."""
    claims = {
        "u": caller.username,
        "a": caller.agency_code,
        "r": sorted(caller.roles),
        "exp": int((now if now is not None else time.time()) + TOKEN_TTL_S),
    }
    payload = _b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    signed = f"{TOKEN_VERSION}.{payload}"
    mac = hmac.new(key or caller_key(), signed.encode(), hashlib.sha256).digest()
    return f"{signed}.{_b64(mac)}"


def decode_caller(value: str, key: bytes | None = None, *, now: float | None = None) -> Caller:
    """Verify and read an ``lt-caller`` value; :class:`CallerError` says what is wrong."""
    parts = value.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_VERSION:
        raise CallerError("not a v1 caller token", field=CALLER_HEADER)
    try:
        mac = _unb64(parts[2])
    except ValueError as exc:
        raise CallerError("the signature is not base64url", field=CALLER_HEADER) from exc
    expected = hmac.new(
        key or caller_key(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256
    ).digest()
    if not hmac.compare_digest(mac, expected):
        raise CallerError("the signature does not verify", field=CALLER_HEADER)
    try:
        claims = json.loads(_unb64(parts[1]))
        caller = Caller(
            username=str(claims["u"]),
            agency_code=str(claims["a"]),
            roles=frozenset(str(role) for role in claims["r"]),
        )
        expires = int(claims["exp"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CallerError("the claims are unreadable", field=CALLER_HEADER) from exc
    if expires < (now if now is not None else time.time()):
        raise CallerError("the caller token has expired", field=CALLER_HEADER)
    return caller


# -- scope checks for services --------------------------------------------------------------------
def require_agency(agency_code: str, *, field: str = "agency_code", hide: bool = False) -> None:
    """Refuse the call unless its end user (if any) may act for ``agency_code``.

    ``hide=True`` for a resource looked up by id: answer NOT_FOUND, exactly as for an id that
    does not exist, so other agencies' ids cannot be probed.
    """
    caller = current_caller()
    if caller is None or caller.may_act_for(agency_code):
        return
    if hide:
        raise NotFound("no such record", field=field)
    raise PermissionDenied(
        f"{caller.username} of {caller.agency_code} may not act for agency {agency_code}",
        field=field,
    )


def require_role(*roles: str, field: str = "caller") -> None:
    """Refuse the call unless its end user (if any) holds one of ``roles``."""
    caller = current_caller()
    if caller is None or caller.is_province_admin or caller.roles & set(roles):
        return
    raise PermissionDenied(
        f"{caller.username} needs one of the roles {', '.join(sorted(roles))}", field=field
    )
